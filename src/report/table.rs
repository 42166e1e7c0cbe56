//! The full end-of-run table (`--details`: one comfy-table plus the lines stating what was
//! measured) and the number formatters every terminal output shares, so bench, compare,
//! sweep, check and the live progress line print a rate the same way (`"19.9k/s"`).
//!
//! Only fields that cannot hold secrets are printed: never `config.librdkafka` nor
//! `config.profile`, even though the report redacts them.

use super::{Counts, Percentiles, RunReport, Status};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

/// Scales to k/M/G/T with 3 significant digits; the unit is chosen after rounding so
/// 999.7 prints as "1.00k", not "1000".
fn si(v: f64, sep: &str) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    const UNITS: [&str; 5] = ["", "k", "M", "G", "T"];
    let sign = if v < 0.0 { "-" } else { "" };
    let mut x = v.abs();
    let mut unit = 0;
    while x >= 999.5 && unit < UNITS.len() - 1 {
        x /= 1000.0;
        unit += 1;
    }
    let decimals = if x < 9.995 {
        2
    } else if x < 99.95 {
        1
    } else {
        0
    };
    // Whole numbers below 1000 (counts, small rates) read better without ".00".
    let decimals = if unit == 0 && x.fract() == 0.0 {
        0
    } else {
        decimals
    };
    format!("{sign}{x:.decimals$}{sep}{}", UNITS[unit])
}

/// A rate in records per second: `"1.23M/s"`, `"850/s"`.
pub fn fmt_rate(per_sec: f64) -> String {
    if !per_sec.is_finite() {
        return "n/a".to_string();
    }
    format!("{}/s", si(per_sec, ""))
}

/// Bytes per second in decimal units (1 MB = 10^6 bytes): `"10.2 MB/s"`.
pub fn fmt_bytes_per_sec(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() {
        return "n/a".to_string();
    }
    format!("{}B/s", si(bytes_per_sec, " "))
}

/// Bytes per second as MB/s with two decimals (1 MB = 10^6 bytes): `"10.24 MB/s"`, the one
/// form the summary, the table, compare and the progress lines share.
pub fn fmt_mb_per_sec(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() {
        return "n/a".to_string();
    }
    let mb = bytes_per_sec / 1e6;
    // Two significant digits below 0.01 MB/s: a slow run must not read as "0.00".
    let decimals = match mb > 0.0 && mb < 0.01 {
        true => ((-mb.log10()).ceil() as usize + 1).min(9),
        false => 2,
    };
    format!("{mb:.decimals$} MB/s")
}

/// A byte size in decimal units: `"16.4 kB"`.
pub fn fmt_bytes(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "n/a".to_string();
    }
    format!("{}B", si(bytes, " "))
}

/// A latency in microseconds: `"850 µs"` below a millisecond, else milliseconds with 3
/// decimals (`"1.234 ms"`). Integer arithmetic, so the digits are exact.
pub fn fmt_latency_us(us: u64) -> String {
    if us < 1000 {
        format!("{us} µs")
    } else {
        format!("{}.{:03} ms", us / 1000, us % 1000)
    }
}

/// An integer with thousands separators: `"1,234,567"`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_latency_f64(us: Option<f64>) -> String {
    match us {
        Some(v) if v.is_finite() && v >= 0.0 => fmt_latency_us(v.round() as u64),
        _ => "n/a".to_string(),
    }
}

fn latency_row(p: &Percentiles) -> String {
    if p.count == 0 {
        return "no samples".to_string();
    }
    format!(
        "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({} samples)",
        fmt_latency_us(p.p50),
        fmt_latency_us(p.p90),
        fmt_latency_us(p.p99),
        fmt_latency_us(p.p999),
        fmt_latency_us(p.max),
        fmt_count(p.count)
    )
}

fn counts_row(c: &Counts) -> String {
    format!(
        "sent {}  delivered {}  failed {}  unknown {}",
        fmt_count(c.sent),
        fmt_count(c.delivered),
        fmt_count(c.failed),
        fmt_count(c.unknown)
    )
}

fn status_text(r: &RunReport) -> String {
    let s = match r.status {
        Status::Complete => "complete",
        Status::Interrupted => "INTERRUPTED",
        Status::Failed => "FAILED",
        Status::Empty => "EMPTY",
        Status::Aborted => "ABORTED",
    };
    match &r.status_reason {
        Some(reason) => format!("{s}: {reason}"),
        None => s.to_string(),
    }
}

/// Rows of one section; the section name is printed on its first row only.
struct Section {
    name: &'static str,
    rows: Vec<(String, String)>,
}

impl Section {
    fn new(name: &'static str) -> Self {
        Section {
            name,
            rows: Vec::new(),
        }
    }
    fn row(&mut self, metric: impl Into<String>, value: impl Into<String>) {
        self.rows.push((metric.into(), value.into()));
    }
}

fn run_section(r: &RunReport) -> Section {
    let mut s = Section::new("run");
    s.row("profile", r.profile.join("+"));
    s.row("cluster", r.cluster.clone());
    s.row("status", status_text(r));
    s.row("duration", format!("{:.2} s", r.duration_s));
    let mut producers = format!("{} ({} send mode)", r.producers, r.send_mode);
    match (r.instance, r.instances) {
        (Some(i), Some(n)) => producers.push_str(&format!(", instance {i} of {n}")),
        (None, Some(n)) => producers.push_str(&format!(", {n} instances merged")),
        _ => {}
    }
    s.row("producers", producers);
    s.row("topic", super::topics::topic_label(r));
    s
}

fn records_section(r: &RunReport) -> Section {
    let rec = &r.records;
    let mut s = Section::new("records");
    s.row("sent", fmt_count(rec.sent));
    let mut delivered = fmt_count(rec.delivered);
    if rec.delivered_inferred {
        delivered.push_str(" (inferred: fire-and-forget reports only failures)");
    }
    s.row("delivered", delivered);
    s.row("failed", fmt_count(rec.failed));
    s.row("unknown", fmt_count(rec.unknown));
    // Recomputed from the counts rather than trusting `identity_holds`: the table must not
    // print a check mark the numbers beside it contradict.
    let holds = rec
        .delivered
        .checked_add(rec.failed)
        .and_then(|x| x.checked_add(rec.unknown))
        == Some(rec.sent);
    s.row(
        "identity",
        format!(
            "sent = delivered + failed + unknown {}  ({} {} {} + {} + {})",
            if holds { "✓" } else { "✗" },
            fmt_count(rec.sent),
            if holds { "=" } else { "≠" },
            fmt_count(rec.delivered),
            fmt_count(rec.failed),
            fmt_count(rec.unknown)
        ),
    );
    s.row("measured", counts_row(&rec.measured));
    s.row("warm-up", counts_row(&rec.warmup));
    s
}

fn throughput_section(r: &RunReport) -> Section {
    let t = &r.throughput;
    let mut s = Section::new("throughput");
    s.row("records/s", fmt_rate(t.records_per_sec));
    s.row("MB/s", fmt_mb_per_sec(t.bytes_per_sec));
    match t.target_records_per_sec {
        Some(target) if target > 0.0 => {
            s.row("target", fmt_rate(target));
            s.row(
                "achieved",
                format!("{:.2} % of target", t.records_per_sec / target * 100.0),
            );
        }
        _ => s.row("target", "unlimited"),
    }
    s.row("send rate", fmt_rate(t.send_records_per_sec));
    let window = if t.window_end_s > t.window_start_s && r.records.measured.delivered > 0 {
        format!(
            "{:.2} s .. {:.2} s after start",
            t.window_start_s, t.window_end_s
        )
    } else {
        "no samples".to_string()
    };
    s.row("window", window);
    s
}

fn latency_section(r: &RunReport) -> Section {
    let l = &r.latency_us;
    let mut s = Section::new("latency");
    s.row("corrected", latency_row(&l.corrected));
    s.row("uncorrected", latency_row(&l.uncorrected));
    let lag = match l.schedule_lag.count {
        0 => "no samples".to_string(),
        _ => format!("p99 {}", fmt_latency_us(l.schedule_lag.p99)),
    };
    s.row("schedule lag", lag);
    s
}

fn breakdown_section(r: &RunReport) -> Option<Section> {
    let mut s = Section::new("latency breakdown");
    for (metric, value) in super::breakdown::table_rows(r.latency_breakdown_us.as_ref()?) {
        s.row(metric, value);
    }
    Some(s)
}

fn errors_section(r: &RunReport) -> Section {
    let mut s = Section::new("errors");
    if r.errors.is_empty() {
        s.row("", "none");
    }
    for (name, count) in &r.errors {
        let detail = r.error_details.get(name);
        let class = detail.map_or("unclassified", |d| d.class.as_str());
        let mut value = format!("{} ({class})", fmt_count(*count));
        if let Some(d) = detail.filter(|d| !d.description.is_empty()) {
            value.push_str(&format!(": {}", d.description));
        }
        s.row(name.clone(), value);
    }
    s
}

fn stats_section(r: &RunReport) -> Section {
    let st = &r.librdkafka_stats;
    let mut s = Section::new("librdkafka");
    if st.stats_samples == 0 {
        s.row("", "no statistics received");
        return s;
    }
    let batch_bytes = st.avg_batch_bytes.map_or("n/a".to_string(), fmt_bytes);
    let batch_records = st
        .avg_batch_records
        .map_or("n/a".to_string(), |v| format!("{v:.1}"));
    s.row(
        "avg batch",
        format!("{batch_bytes}, {batch_records} records"),
    );
    s.row(
        "compression",
        r.compression_ratio
            .map_or("n/a".to_string(), |c| format!("{c:.2}x")),
    );
    s.row(
        "broker rtt",
        format!(
            "avg {}  p99 {}",
            fmt_latency_f64(st.rtt_avg_us),
            fmt_latency_f64(st.rtt_p99_us)
        ),
    );
    s.row("requests", fmt_count(st.requests));
    s.row(
        "peak queue",
        format!(
            "{} records, {}",
            fmt_count(st.peak_queue_records),
            fmt_bytes(st.peak_queue_bytes as f64)
        ),
    );
    s.row("samples", fmt_count(st.stats_samples));
    s
}

fn faults_section(r: &RunReport) -> Option<Section> {
    if r.faults.is_empty() {
        return None;
    }
    let mut s = Section::new("faults");
    for f in &r.faults {
        let mut v = match (f.applied_s, f.ended_s) {
            (Some(a), Some(e)) => format!("applied at {a:.2} s, undone at {e:.2} s"),
            (Some(a), None) => format!("applied at {a:.2} s"),
            (None, _) => "not applied (the run ended first)".to_string(),
        };
        if let Some(e) = &f.error {
            v.push_str(&format!("; the embedded cluster refused: {e}"));
        }
        s.row(f.spec.clone(), v);
    }
    Some(s)
}

fn verify_section(r: &RunReport) -> Option<Section> {
    let v = r.verify.as_ref()?;
    let mut s = Section::new("verify");
    s.row("acknowledged", fmt_count(v.acknowledged));
    let read = match &v.error {
        Some(e) => format!("{} (INCOMPLETE: {e})", fmt_count(v.read)),
        None => format!(
            "{} (read while producing, then every partition to its end)",
            fmt_count(v.read)
        ),
    };
    s.row("read back", read);
    let no_loss = matches!(
        r.config.librdkafka.get("acks").map(String::as_str),
        Some("all" | "-1")
    );
    let mut lost = fmt_count(v.lost);
    if v.lost > 0 && no_loss {
        lost.push_str("  ✗ acks=all promises no loss");
    }
    s.row("lost", lost);
    s.row("duplicated", fmt_count(v.duplicated));
    s.row("reordered", fmt_count(v.reordered));
    s.row(
        "unknown outcome",
        format!(
            "{}: {} written, {} not",
            fmt_count(v.unknown.total),
            fmt_count(v.unknown.found),
            fmt_count(v.unknown.not_found)
        ),
    );
    if v.failed_found > 0 {
        s.row("failed, yet written", fmt_count(v.failed_found));
    }
    if v.expired > 0 {
        s.row(
            "expired",
            format!(
                "{} not read back from logs truncated by retention (lost or deleted: cannot tell)",
                fmt_count(v.expired)
            ),
        );
    }
    for p in &v.partitions {
        let odd = p.lost + p.duplicated + p.reordered + p.unknown_found + p.unknown_not_found;
        if odd + p.failed_found + p.expired > 0 {
            let name = p
                .partition
                .map_or("partition ?".to_string(), |n| format!("partition {n}"));
            s.row(
                name,
                format!(
                    "lost {}  duplicated {}  reordered {}  unknown {} written / {} not",
                    p.lost, p.duplicated, p.reordered, p.unknown_found, p.unknown_not_found
                ),
            );
        }
    }
    Some(s)
}

fn transactions_section(r: &RunReport) -> Option<Section> {
    let t = r.transactions.as_ref()?;
    let mut s = Section::new("transactions");
    s.row(
        "committed",
        format!(
            "{}  aborted {}  ({} records each)",
            fmt_count(t.committed),
            fmt_count(t.aborted),
            fmt_count(t.records_per_transaction)
        ),
    );
    if let Some(c) = &r.latency_us.commit {
        s.row("commit latency", latency_row(c));
    }
    Some(s)
}

/// The lines printed under the table: what was measured, the cluster disclaimer, warnings.
fn footnotes(r: &RunReport) -> Vec<String> {
    let m = &r.measurement;
    let mut lines = vec![format!(
        "Measured: latency in {unit}; corrected = {cfrom} -> {to}; uncorrected = {ufrom} -> {to}; \
         clock {clock}; {hist}; warm-up {warm:.1} s {excl}.",
        unit = m.latency_unit,
        cfrom = m.corrected_from,
        ufrom = m.uncorrected_from,
        to = m.latency_to,
        clock = m.clock,
        hist = m.histogram,
        warm = m.warmup_s,
        excl = if m.warmup_excluded {
            "excluded from throughput and latency"
        } else {
            "included"
        }
    )];
    if let Some(e2e) = &m.e2e {
        lines.push(format!("Measured: {e2e}."));
    }
    if let Some(note) = &m.note {
        lines.push(format!("Note: {note}"));
    }
    if let Some(note) = &r.cluster_note {
        lines.push(format!("Cluster: {note}"));
    }
    lines.extend(r.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}

/// The final summary: a table with run, records, throughput, latency, errors, librdkafka
/// statistics and transactions sections, followed by the lines stating what was measured.
pub fn summary_table(report: &RunReport) -> String {
    let mut sections = vec![
        run_section(report),
        records_section(report),
        throughput_section(report),
        latency_section(report),
    ];
    sections.extend(breakdown_section(report));
    sections.extend([errors_section(report), stats_section(report)]);
    sections.extend(transactions_section(report));
    sections.extend(faults_section(report));
    sections.extend(verify_section(report));
    let topics = super::topics::detail_rows(report);
    if !topics.is_empty() {
        sections.push(Section {
            name: "topics",
            rows: topics,
        });
    }

    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    // Piped output has no terminal width; wrap long cells (descriptions) at a readable one.
    if table.width().is_none() {
        table.set_width(120);
    }
    for section in &sections {
        for (i, (metric, value)) in section.rows.iter().enumerate() {
            let name = if i == 0 { section.name } else { "" };
            table.add_row(vec![name, metric.as_str(), value.as_str()]);
        }
    }
    // The description is prose of any length: above the table, not wrapped inside it.
    let mut out = match report.description.is_empty() {
        true => String::new(),
        false => format!("{}: {}\n", report.profile.join("+"), report.description),
    };
    out.push_str(&table.to_string());
    for line in footnotes(report) {
        out.push('\n');
        out.push_str(&line);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{sample_report, SAMPLE_SECRET};

    #[test]
    fn formatters() {
        assert_eq!(fmt_rate(1_234_567.0), "1.23M/s");
        assert_eq!(fmt_rate(850.0), "850/s");
        assert_eq!(fmt_rate(999.7), "1.00k/s");
        assert_eq!(fmt_rate(12_345.0), "12.3k/s");
        assert_eq!(fmt_rate(0.5), "0.50/s");
        assert_eq!(fmt_rate(f64::NAN), "n/a");
        assert_eq!(fmt_bytes_per_sec(10_238_259.2), "10.2 MB/s");
        assert_eq!(fmt_bytes_per_sec(0.0), "0 B/s");
        assert_eq!(fmt_mb_per_sec(10_238_259.2), "10.24 MB/s");
        assert_eq!(fmt_mb_per_sec(512_000.0), "0.51 MB/s");
        assert_eq!(fmt_mb_per_sec(5_120.0), "0.0051 MB/s");
        assert_eq!(fmt_mb_per_sec(1_000.0), "0.0010 MB/s");
        assert_eq!(fmt_mb_per_sec(0.0), "0.00 MB/s");
        assert_eq!(fmt_bytes(16_384.5), "16.4 kB");
        assert_eq!(fmt_latency_us(850), "850 µs");
        assert_eq!(fmt_latency_us(999), "999 µs");
        assert_eq!(fmt_latency_us(1_000), "1.000 ms");
        assert_eq!(fmt_latency_us(1_234), "1.234 ms");
        assert_eq!(fmt_latency_us(61_000_007), "61000.007 ms");
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1_000), "1,000");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
    }

    #[test]
    fn summary_contains_identity_status_note_and_measurement() {
        let r = sample_report();
        let out = summary_table(&r);
        assert!(
            out.contains("sent = delivered + failed + unknown ✓"),
            "{out}"
        );
        assert!(out.contains("100,000 = 99,983 + 7 + 10"), "{out}");
        assert!(out.contains("complete"));
        assert!(out.contains("durable+zstd-1k"));
        assert!(out.contains(r.cluster_note.as_deref().expect("note")));
        assert!(out.contains("Measured: latency in us"));
        assert!(out.contains("warning: librdkafka queue was full"));
        assert!(out.contains("p99 6.170 ms"), "corrected p99: {out}");
        assert!(out.contains("MSG_TIMED_OUT") && out.contains("(retriable)"));
        assert!(out.contains("3.21x"));
        assert!(
            out.contains("10.0k/s"),
            "one rate formatter everywhere: {out}"
        );
        assert!(
            out.starts_with("durable+zstd-1k: acks=all, zstd, 1 KiB records\n"),
            "the description sits above the table: {out}"
        );
        assert!(out.contains("99.98 % of target"), "{out}");
        assert!(out.contains("10.24 MB/s"), "{out}");
        assert!(out.contains("transactions"));
    }

    #[test]
    fn summary_never_prints_librdkafka_config() {
        let out = summary_table(&sample_report());
        assert!(!out.contains(SAMPLE_SECRET), "secret leaked:\n{out}");
        assert!(!out.contains("sasl"), "config keys printed:\n{out}");
    }

    #[test]
    fn summary_flags_broken_identity_and_interruption() {
        let mut r = sample_report();
        r.records.unknown = 0;
        r.status = Status::Interrupted;
        r.status_reason = Some("Ctrl-C".to_string());
        r.cluster_note = None;
        r.transactions = None;
        let out = summary_table(&r);
        assert!(
            out.contains("sent = delivered + failed + unknown ✗"),
            "{out}"
        );
        assert!(out.contains("100,000 ≠ 99,983 + 7 + 0"), "{out}");
        assert!(out.contains("INTERRUPTED: Ctrl-C"));
        assert!(!out.contains("Cluster:"));
        assert!(!out.contains("transactions"));
    }
}
