//! Renderings of a sweep: the progress line per step, the final table with the knee and
//! the found maximum, `sweep.csv`, `sweep.svg` and `report.html`.

use super::judge::parse_slo;
use super::{Step, SweepResult};
use crate::charts::{self, HLine, Line, Marker};
use crate::error::KprodError;
use crate::report;
use crate::report::{fmt_count, fmt_latency_us, fmt_rate};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::path::{Path, PathBuf};

fn what(s: &Step) -> String {
    match (&s.param_value, s.target_records_per_sec) {
        (Some(v), _) => v.clone(),
        (None, Some(t)) => fmt_rate(t),
        (None, None) => "unlimited".into(),
    }
}

fn verdict(s: &Step) -> String {
    if s.saturated {
        format!("saturated: {}", s.reasons.join("; "))
    } else {
        "ok".into()
    }
}

/// One line on stderr as each step ends.
pub fn step_line(s: &Step) -> String {
    format!(
        "sweep: step {} ({}) {}: achieved {}, p99 {}, errors {}: {}",
        s.index + 1,
        s.phase,
        what(s),
        fmt_rate(s.achieved_records_per_sec),
        fmt_latency_us(s.p99_us),
        fmt_count(s.errors),
        verdict(s)
    )
}

/// Whether the steps ran on different topics or partition counts: then the table shows
/// each step's (a `--param workload.partitions` sweep, fresh topics per step).
fn topology_varies(r: &SweepResult) -> bool {
    let shape = |s: &Step| (s.topic.clone(), s.partitions, s.topics);
    r.steps
        .first()
        .is_some_and(|f| r.steps.iter().any(|s| shape(s) != shape(f)))
}

/// `topic (P)`, or for a many-topic step `N topics (P partitions)` (P = all of theirs).
fn topic_cell(s: &Step) -> String {
    if let (Some(n), Some(p)) = (s.topics, s.partitions) {
        let noun = if n == 1 { "topic" } else { "topics" };
        return format!("{n} {noun} ({p} partitions)");
    }
    match (&s.topic, s.partitions) {
        (Some(t), Some(p)) => format!("{t} ({p})"),
        (Some(t), None) => t.clone(),
        (None, Some(p)) => format!("({p})"),
        (None, None) => String::new(),
    }
}

/// The sweep for a terminal: one row per step (knee marked), the rule and the result.
pub fn render_table(r: &SweepResult) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if t.width().is_none() {
        t.set_width(140);
    }
    let swept = r.param_key.clone().unwrap_or_else(|| "target".into());
    let shaped = topology_varies(r);
    let mut header = vec!["step", "phase", &swept];
    if shaped {
        header.push("topic (partitions)");
    }
    header.extend(["achieved", "p50", "p99", "p99.9", "errors", "result"]);
    t.set_header(header);
    for s in &r.steps {
        let mut result = verdict(s);
        if r.knee_index == Some(s.index) {
            result = format!("◀ knee; {result}");
        }
        let mut row = vec![(s.index + 1).to_string(), s.phase.clone(), what(s)];
        if shaped {
            row.push(topic_cell(s));
        }
        row.extend([
            fmt_rate(s.achieved_records_per_sec),
            fmt_latency_us(s.p50_us),
            fmt_latency_us(s.p99_us),
            fmt_latency_us(s.p999_us),
            fmt_count(s.errors),
            result,
        ]);
        t.add_row(row);
    }
    let mut out = format!("{t}\n");
    if !r.slo.is_empty() {
        out.push_str(&format!("SLO: {}\n", r.slo.join(", ")));
    }
    out.push_str(&format!("{}\n", r.saturation_rule));
    if r.mode == "find-max" {
        match (r.found_max_records_per_sec, r.final_bracket) {
            (Some(m), Some((_, hi))) => {
                out.push_str(&format!(
                    "found max: {} ({:.0} records/s){}",
                    fmt_rate(m),
                    m,
                    match hi {
                        Some(h) => format!("; {} failed", fmt_rate(h)),
                        None => " (capped by --max-rate; the limit may be higher)".into(),
                    }
                ));
                out.push_str(match r.confirmed {
                    Some(true) => "; confirmed by a hold just below it\n",
                    Some(false) => "; NOT confirmed: the hold just below it failed, treat the result as noisy\n",
                    None => "; not confirmed (sweep stopped)\n",
                });
            }
            _ => {
                out.push_str("found max: no step passed: even the lowest rate tried is saturated\n")
            }
        }
    } else if r.mode == "rates" {
        match r.knee_index.and_then(|i| r.steps.get(i)) {
            Some(k) => out.push_str(&format!(
                "knee: {} (highest passing target below the first saturated one)\n",
                what(k)
            )),
            None => out.push_str("knee: not found (no step saturated, or none passed)\n"),
        }
    }
    if r.interrupted {
        out.push_str("INTERRUPTED: the sweep stopped early; the steps above are complete\n");
    }
    if let Some(n) = &r.cluster_note {
        out.push_str(&format!("Cluster: {n}\n"));
    }
    out
}

/// A CSV document: `header`, then one record per row (`sweep.csv`, `compare.csv`).
pub fn csv_doc(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    w.write_record(header).map_err(e)?;
    for row in rows {
        w.write_record(row).map_err(e)?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// `sweep.csv`: one row per step.
pub fn sweep_csv(r: &SweepResult) -> Result<Vec<u8>, String> {
    let header = [
        "step",
        "phase",
        "param",
        "target_records_per_sec",
        "achieved_records_per_sec",
        "p50_us",
        "p99_us",
        "p999_us",
        "max_us",
        "errors",
        "queue_growing",
        "slo_met",
        "saturated",
        "knee",
        "run_dir",
        "reasons",
        // Appended later: positional readers keep their columns.
        "topic",
        "partitions",
    ];
    let rows = r.steps.iter().map(|s| {
        vec![
            s.index.to_string(),
            s.phase.clone(),
            s.param_value.clone().unwrap_or_default(),
            s.target_records_per_sec
                .map_or(String::new(), |t| t.to_string()),
            s.achieved_records_per_sec.to_string(),
            s.p50_us.to_string(),
            s.p99_us.to_string(),
            s.p999_us.to_string(),
            s.max_us.to_string(),
            s.errors.to_string(),
            s.queue_growing.to_string(),
            s.slo_met.to_string(),
            s.saturated.to_string(),
            (r.knee_index == Some(s.index)).to_string(),
            s.run_dir.clone(),
            s.reasons.join("; "),
            s.topic.clone().unwrap_or_default(),
            s.partitions.map_or(String::new(), |p| p.to_string()),
        ]
    });
    csv_doc(&header, rows)
}

/// `report.html` of a sweep: the knee / found maximum first, the curve, every step, and
/// how the knee step (else the first step) ran. `root` holds the step run directories.
pub fn html_page(s: &SweepResult, chart: &str, root: &std::path::Path) -> String {
    use crate::charts::html::{rate_text, run_details, Cell, Fact, Page, Tone};
    let what_swept = match &s.param_key {
        Some(k) => format!("{k} ({})", s.mode),
        None => format!("{} sweep", s.mode),
    };
    let mut page = Page::new(
        &format!("kprod sweep: {what_swept}"),
        &format!(
            "{} · {} steps of {} s · profiles: {}",
            s.created_at,
            s.steps.len(),
            s.step_duration_s,
            if s.profiles.is_empty() {
                "base".to_string()
            } else {
                s.profiles.join(" + ")
            }
        ),
    );
    let (badge, tone) = if s.interrupted {
        ("INTERRUPTED", Tone::Warn)
    } else {
        ("COMPLETE", Tone::Good)
    };
    let knee = s
        .knee_index
        .and_then(|k| s.steps.iter().find(|st| st.index == k));
    let saturated = s.steps.iter().filter(|st| st.saturated).count();
    let mut facts = vec![Fact::new(
        "knee (best step meeting the SLO)",
        knee.map_or("none".into(), |k| rate_text(k.achieved_records_per_sec)),
    )
    .id("knee")
    .note(knee.map_or(String::new(), |k| {
        format!("step {} · p99 {}", k.index + 1, fmt_latency_us(k.p99_us))
    }))];
    if let Some(m) = s.found_max_records_per_sec {
        facts.push(
            Fact::new("found max", rate_text(m))
                .id("found-max")
                .note(match s.confirmed {
                    Some(true) => "confirmed by a hold just below",
                    Some(false) => "NOT confirmed by the hold just below",
                    None => "",
                }),
        );
    }
    facts
        .push(Fact::new("steps", s.steps.len().to_string()).note(format!("{saturated} saturated")));
    if !s.slo.is_empty() {
        facts.push(Fact::new("SLO", s.slo.join(", ")));
    }
    page.headline(badge, tone, "", &facts);
    page.chart("Latency against rate", chart);
    // A topology sweep names each step's own topic, as the terminal table does.
    let shaped = topology_varies(s);
    let rows: Vec<Vec<Cell>> = s
        .steps
        .iter()
        .map(|st| {
            let v = if st.saturated {
                Cell::toned(verdict(st), Tone::Bad)
            } else {
                Cell::toned("ok", Tone::Good)
            };
            let mut row = vec![
                Cell::from((st.index + 1).to_string()),
                st.phase.clone().into(),
                // Tick-style rates ("1k/s", "64k/s"), never "1.00k/s" beside "500/s".
                match (&st.param_value, st.target_records_per_sec) {
                    (Some(v), _) => v.clone(),
                    (None, Some(t)) => crate::charts::rate_tick(t),
                    (None, None) => "unlimited".into(),
                }
                .into(),
            ];
            if shaped {
                row.push(topic_cell(st).into());
            }
            row.extend([
                rate_text(st.achieved_records_per_sec).into(),
                fmt_latency_us(st.p50_us).into(),
                fmt_latency_us(st.p99_us).into(),
                fmt_latency_us(st.p999_us).into(),
                fmt_count(st.errors).into(),
                if Some(st.index) == s.knee_index {
                    Cell::toned("knee", Tone::Good)
                } else {
                    Cell::from("")
                },
                v,
                st.run_dir.clone().into(),
            ]);
            row
        })
        .collect();
    page.heading("Steps");
    let mut header = vec!["step", "phase", "target"];
    if shaped {
        header.push("topic (partitions)");
    }
    header.extend([
        "achieved", "p50", "p99", "p99.9", "errors", "knee", "verdict", "run",
    ]);
    page.table("steps", &header, &rows);
    page.paragraph(&format!("Saturation rule: {}", s.saturation_rule));
    if let Some(note) = &s.cluster_note {
        page.paragraph(&format!("Cluster: {note}"));
    }
    let shown = knee.or(s.steps.first());
    if let Some(st) = shown {
        let dir = root.join(&st.run_dir);
        if let Ok(r) = crate::report::load_report(&dir) {
            run_details(
                &mut page,
                &r,
                &format!("How it ran: step {} ({})", st.index + 1, st.run_dir),
            );
        }
    }
    page.finish()
}

/// Draws `sweep.svg`: latency percentiles against the achieved rate (or, for `--param`,
/// against the swept values), with the SLO lines, the knee and the saturated steps, and
/// writes `report.html` with it.
pub fn write_chart(dir: &Path, s: &SweepResult) -> Result<PathBuf, KprodError> {
    let param = s.mode == "param";
    let mut order: Vec<&Step> = s.steps.iter().collect();
    if !param {
        order.sort_by(|a, b| {
            a.target_records_per_sec
                .unwrap_or(0.0)
                .total_cmp(&b.target_records_per_sec.unwrap_or(0.0))
        });
    }
    let x = |k: usize, st: &Step| {
        if param {
            k as f64
        } else {
            st.achieved_records_per_sec
        }
    };
    let line = |label: &str, color: usize, f: fn(&Step) -> u64| Line {
        label: label.into(),
        legend: true,
        color,
        points: order
            .iter()
            .enumerate()
            .map(|(k, st)| (x(k, st), f(st) as f64 / 1000.0))
            .collect(),
    };
    let lines = [
        line("p50", 0, |st| st.p50_us),
        line("p99", 1, |st| st.p99_us),
        line("p99.9", 3, |st| st.p999_us),
    ];
    let slo: Vec<HLine> = s
        .slo
        .iter()
        .filter_map(|t| {
            let terms = parse_slo(t).ok()?;
            let term = terms.first()?;
            Some(HLine {
                label: format!("SLO {}", t),
                y: term.limit_us as f64 / 1000.0,
            })
        })
        .collect();
    let knee = s.knee_index.and_then(|i| {
        let (k, st) = order.iter().enumerate().find(|(_, st)| st.index == i)?;
        Some(Marker {
            label: format!(
                "knee: {} achieved",
                report::fmt_rate(st.achieved_records_per_sec)
            ),
            x: x(k, st),
            y: st.p99_us as f64 / 1000.0,
        })
    });
    let labels: Vec<String> = order
        .iter()
        .map(|st| st.param_value.clone().unwrap_or_default())
        .collect();
    let title = match &s.param_key {
        Some(k) => format!("sweep of {k}: corrected latency"),
        None => "sweep: corrected latency against achieved rate".to_string(),
    };
    let x_desc = match &s.param_key {
        Some(k) => k.clone(),
        None => "achieved records/s".to_string(),
    };
    let saturated: Vec<Marker> = order
        .iter()
        .enumerate()
        .filter(|(_, st)| st.saturated)
        .map(|(k, st)| Marker {
            label: "saturated".into(),
            x: x(k, st),
            y: st.p99_us as f64 / 1000.0,
        })
        .collect();
    let subtitle = sweep_subtitle(s);
    let svg = charts::sweep_chart(&charts::SweepChart {
        title: &title,
        subtitle: &subtitle,
        x_desc: &x_desc,
        lines: &lines,
        slo: &slo,
        knee: knee.as_ref(),
        saturated: &saturated,
        x_labels: param.then_some(labels.as_slice()),
    });
    let path = dir.join(charts::SWEEP_SVG);
    report::write_atomic(&path, svg.as_bytes())?;
    let root = dir.parent().unwrap_or(Path::new("."));
    charts::write_html(dir, &html_page(s, &svg, root))?;
    Ok(path)
}

/// Under the sweep chart's title: mode, profiles, step length, SLO and date.
fn sweep_subtitle(s: &SweepResult) -> String {
    let mut parts = vec![format!("{} sweep", s.mode)];
    if !s.profiles.is_empty() {
        parts.push(s.profiles.join(" + "));
    }
    parts.push(format!("{} s per step", s.step_duration_s));
    if !s.slo.is_empty() {
        parts.push(format!("SLO {}", s.slo.join(", ")));
    }
    parts.push(
        s.created_at
            .get(..16)
            .unwrap_or(&s.created_at)
            .replace('T', " ")
            + " UTC",
    );
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::super::knee;
    use super::*;
    use crate::report::Status;

    fn step(index: usize, target: f64, saturated: bool) -> Step {
        Step {
            index,
            phase: "search".into(),
            param_value: None,
            target_records_per_sec: Some(target),
            achieved_records_per_sec: target,
            p50_us: 1,
            p99_us: 2,
            p999_us: 3,
            max_us: 4,
            errors: 0,
            queue_growing: false,
            slo_met: !saturated,
            saturated,
            reasons: Vec::new(),
            status: Status::Complete,
            run_dir: format!("d{index}"),
            topic: None,
            partitions: None,
            topics: None,
        }
    }

    #[test]
    fn many_topic_steps_show_their_topic_count_and_all_partitions() {
        let mut one = step(0, 100.0, false);
        (one.topic, one.partitions) = (Some("t-s01".into()), Some(3));
        let mut two = step(1, 100.0, false);
        (two.topic, two.partitions, two.topics) = (Some("t-s02".into()), Some(6), Some(2));
        assert_eq!(topic_cell(&one), "t-s01 (3)", "one topic: unchanged");
        assert_eq!(topic_cell(&two), "2 topics (6 partitions)");
        let mut single = two.clone();
        single.topics = Some(1);
        assert_eq!(topic_cell(&single), "1 topic (6 partitions)");
        let mut r: SweepResult = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "kind": "sweep", "created_at": "2026-12-03T07:00:00Z",
            "mode": "param", "param_key": "workload.topic_count", "profiles": [], "slo": [],
            "step_duration_s": 1.0, "saturation_rule": "r", "steps": [],
            "interrupted": false
        }))
        .expect("sweep result");
        r.steps = vec![one, two];
        let table = render_table(&r);
        assert!(
            table.contains("2 topics (6 partitions)") && table.contains("t-s01 (3)"),
            "{table}"
        );
    }

    #[test]
    fn knee_is_the_highest_pass_below_the_lowest_failure_in_any_order() {
        // find-max order: 1k ok, 2k ok, 4k fail, 3k fail, 2.5k ok, then a noisy 5k pass.
        let steps = [
            step(0, 1000.0, false),
            step(1, 2000.0, false),
            step(2, 4000.0, true),
            step(3, 3000.0, true),
            step(4, 2500.0, false),
            step(5, 5000.0, false),
        ];
        assert_eq!(knee(&steps), Some(4));
        assert_eq!(knee(&steps[..2]), None, "nothing saturated: no knee");
        assert_eq!(knee(&[step(0, 10.0, true)]), None, "nothing passed");
    }
}
