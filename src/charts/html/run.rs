//! The page of one run directory (bench or merge) and the "how it ran" blocks that every
//! page kind reuses: run shape, versions, host, command line, librdkafka properties and the
//! resolved profile.

use super::{rate_text, Cell, Fact, Page, Tone};
use crate::charts::GroupCharts;
use crate::report::{fmt_count, fmt_latency_us, RunReport, Status};
use std::path::Path;

/// The badge of a run status.
pub fn status_tone(s: Status) -> Tone {
    match s {
        Status::Complete => Tone::Good,
        Status::Interrupted | Status::Aborted => Tone::Warn,
        Status::Failed | Status::Empty => Tone::Bad,
    }
}

pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Complete => "COMPLETE",
        Status::Interrupted => "INTERRUPTED",
        Status::Failed => "FAILED",
        Status::Empty => "EMPTY",
        Status::Aborted => "ABORTED",
    }
}

/// The headline figures of one run: throughput against target, latency, record counts.
pub fn run_facts(r: &RunReport) -> Vec<Fact> {
    let t = &r.throughput;
    let target_note = match t.target_records_per_sec {
        Some(target) if target > 0.0 => format!(
            "{:.1}% of the {} target",
            100.0 * t.records_per_sec / target,
            rate_text(target)
        ),
        _ => "unlimited rate".into(),
    };
    let c = &r.latency_us.corrected;
    let rec = &r.records;
    vec![
        Fact::new("records/s (measured window)", rate_text(t.records_per_sec))
            .id("records-per-sec")
            .note(target_note),
        Fact::new("p99 corrected", fmt_latency_us(c.p99))
            .id("p99")
            .note(format!(
                "p50 {} · p99.9 {}",
                fmt_latency_us(c.p50),
                fmt_latency_us(c.p999)
            )),
        Fact::new("max corrected", fmt_latency_us(c.max)).id("max"),
        Fact::new("delivered", fmt_count(rec.delivered))
            .id("delivered")
            .note(format!(
                "of {} sent · {} failed · {} unknown{}",
                fmt_count(rec.sent),
                fmt_count(rec.failed),
                fmt_count(rec.unknown),
                if rec.identity_holds {
                    ""
                } else {
                    " · COUNTS DO NOT ADD UP"
                }
            )),
        Fact::new("MB/s", format!("{:.2}", t.bytes_per_sec / 1e6))
            .note("payload bytes, decimal MB"),
    ]
}

/// An argv as a POSIX shell would take it back: arguments made only of characters no
/// shell treats specially stay bare, anything else is single-quoted (`'` as `'\''`), so
/// a reader can paste the line. The report's argv is already secret-redacted.
pub fn shell_quote(argv: &[String]) -> String {
    shell_words(argv).join(" ")
}

/// Each argument of [`shell_quote`], quoted.
pub fn shell_words(argv: &[String]) -> Vec<String> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+^".contains(c);
    argv.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(safe) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect()
}

const NOT_RECORDED: &str = "not recorded (report written before kprod recorded it)";

/// The "how it ran" blocks: run shape, versions, host, command line, librdkafka
/// properties and the resolved profile. Secrets are already redacted in the report.
pub fn run_details(page: &mut Page, r: &RunReport, heading: &str) {
    page.heading(heading);
    if let Some(argv) = &r.command_line {
        page.code("command-line", "command line", &shell_words(argv));
    }
    let e = &r.environment;
    let mut rows: Vec<(&str, String)> = vec![
        ("profile", r.profile.join(" + ")),
        ("description", r.description.clone()),
        ("started", r.started_at.clone()),
        (
            "ended",
            r.ended_at.clone().unwrap_or_else(|| NOT_RECORDED.into()),
        ),
        ("duration", format!("{:.3} s", r.duration_s)),
        ("warm-up", format!("{} s", r.measurement.warmup_s)),
        ("topic", crate::report::topics::topic_label(r)),
        (
            "producers",
            format!("{} ({} send)", r.producers, r.send_mode),
        ),
        ("cluster", r.cluster.clone()),
        ("kprod", e.kprod_version.clone()),
        ("librdkafka", e.librdkafka_version.clone()),
        ("host", format!("{} · {} · {} CPUs", e.host, e.os, e.cpus)),
    ];
    if r.command_line.is_none() {
        rows.insert(0, ("command line", NOT_RECORDED.into()));
    }
    if let Some(n) = &r.name {
        rows.insert(0, ("name", n.clone()));
    }
    if let Some(note) = &r.cluster_note {
        rows.push(("cluster note", note.clone()));
    }
    if let Some(i) = r.instances {
        let which = r
            .instance
            .map_or("merged".to_string(), |k| format!("instance {k}"));
        rows.push(("instances", format!("{which} of {i}")));
    }
    page.kv_table("run-details", &rows);
    let props: Vec<Vec<Cell>> = r
        .config
        .librdkafka
        .iter()
        .map(|(k, v)| vec![k.clone().into(), v.clone().into()])
        .collect();
    page.heading("librdkafka properties (effective, secrets redacted)");
    page.text_table("librdkafka", &["property", "value"], &props);
    page.heading("resolved profile");
    let profile = serde_json::to_string_pretty(&r.config.profile).unwrap_or_else(|e| e.to_string());
    page.pre("profile", &profile);
}

/// The page of one bench or merged run directory.
pub fn run_page(dir: &Path, r: &RunReport, charts: &GroupCharts) -> String {
    run_page_with(dir, r, charts, &|_| {})
}

/// [`run_page`] with `extra` blocks under the headline: the `--threshold` verdict rows
/// that `kprod bench` judges after the run (this module knows no verdict types).
pub fn run_page_with(
    dir: &Path,
    r: &RunReport,
    charts: &GroupCharts,
    extra: &dyn Fn(&mut Page),
) -> String {
    let label = if r.profile.is_empty() {
        "base".to_string()
    } else {
        r.profile.join(" + ")
    };
    let kind = if r.instances.is_some() && r.instance.is_none() {
        "merge"
    } else {
        "bench"
    };
    let title = match &r.name {
        Some(n) => format!("kprod {kind}: {n} ({label})"),
        None => format!("kprod {kind}: {label}"),
    };
    let mut page = Page::new(
        &title,
        &format!(
            "{} · started {}",
            dir.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            r.started_at
        ),
    );
    page.headline(
        status_word(r.status),
        status_tone(r.status),
        r.status_reason.as_deref().unwrap_or(""),
        &run_facts(r),
    );
    page.list(&r.warnings, true);
    extra(&mut page);
    page.chart("Latency spectrum", &charts.spectrum);
    page.chart("Throughput and latency over time", &charts.timeline);
    if let Some(b) = &r.latency_breakdown_us {
        page.chart(
            "Where the mean latency went",
            &crate::charts::breakdown::breakdown_svg(b),
        );
    }
    if let Some(svg) = crate::charts::breakdown::breakdown_timeline_svg(r) {
        page.chart("Latency breakdown per second", &svg);
    }
    let c = &r.latency_us;
    let lat_rows: Vec<Vec<Cell>> = [
        ("corrected", &c.corrected),
        ("uncorrected", &c.uncorrected),
        ("schedule lag", &c.schedule_lag),
    ]
    .iter()
    .map(|(n, p)| {
        let mut row: Vec<Cell> = vec![(*n).into()];
        row.extend(
            [p.min, p.p50, p.p90, p.p99, p.p999, p.p9999, p.max]
                .iter()
                .map(|v| Cell::from(fmt_latency_us(*v))),
        );
        row
    })
    .collect();
    page.heading("Latency (records sent after the warm-up)");
    page.table(
        "latency",
        &["", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max"],
        &lat_rows,
    );
    super::stages::stages_block(&mut page, r);
    super::topics::topics_block(&mut page, r);
    if !r.error_details.is_empty() {
        page.heading("Errors");
        let rows: Vec<Vec<Cell>> = r
            .error_details
            .iter()
            .map(|(name, e)| {
                vec![
                    name.clone().into(),
                    fmt_count(e.count).into(),
                    e.class.clone().into(),
                    e.description.clone().into(),
                ]
            })
            .collect();
        page.table(
            "errors",
            &["error", "records", "class", "description"],
            &rows,
        );
    }
    if !r.faults.is_empty() {
        page.heading("Faults");
        let s = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3} s"));
        let rows: Vec<Vec<Cell>> = r
            .faults
            .iter()
            .map(|f| {
                vec![
                    f.spec.clone().into(),
                    s(f.applied_s).into(),
                    s(f.ended_s).into(),
                    f.error.clone().unwrap_or_default().into(),
                ]
            })
            .collect();
        page.table("faults", &["fault", "applied", "undone", "error"], &rows);
    }
    if let Some(v) = &r.verify {
        page.heading("Verification (--verify)");
        page.pre(
            "verify",
            &serde_json::to_string_pretty(v).unwrap_or_else(|e| e.to_string()),
        );
    }
    run_details(&mut page, r, "How it ran");
    page.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_from_a_report_are_escaped() {
        let mut r = crate::report::testing::sample_report();
        r.profile = vec!["<script>alert(1)</script>".into()];
        r.topic = "t&\"x\"".into();
        r.warnings = vec!["<b>bold</b>".into()];
        let c = GroupCharts {
            spectrum: "<svg></svg>".into(),
            timeline: "<svg></svg>".into(),
        };
        let page = run_page(Path::new("/nonexistent"), &r, &c);
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<b>bold"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("t&amp;&quot;x&quot;"));
    }

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let argv = [
            "kprod",
            "bench",
            "-X",
            "client.id=a b",
            "--name",
            "it's",
            "",
        ]
        .map(String::from);
        assert_eq!(
            shell_quote(&argv),
            r#"kprod bench -X 'client.id=a b' --name 'it'\''s' ''"#
        );
    }

    #[test]
    fn the_run_page_shows_name_command_line_and_end() {
        let mut r = crate::report::testing::sample_report();
        r.name = Some("nightly".into());
        r.ended_at = Some("2023-11-14T22:14:20Z".into());
        let c = GroupCharts {
            spectrum: String::new(),
            timeline: String::new(),
        };
        let page = run_page(Path::new("/x"), &r, &c);
        assert!(page.contains("<title>kprod bench: nightly ("), "{page}");
        let at = page
            .find("<code id=\"command-line\">")
            .expect("command line");
        let code = &page[at..at + page[at..].find("</code>").unwrap()];
        let text: String = code
            .split('<')
            .map(|p| p.find('>').map_or(p, |i| &p[i + 1..]))
            .collect();
        assert_eq!(text, "kprod bench --profile durable --profile zstd-1k");
        assert!(page.contains("2023-11-14T22:14:20Z"));
        r.command_line = None;
        r.ended_at = None;
        let page = run_page(Path::new("/x"), &r, &c);
        assert_eq!(page.matches("not recorded").count(), 2, "{page}");
    }
}
