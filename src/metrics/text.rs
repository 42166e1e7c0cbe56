//! The OpenMetrics text exposition of a [`Snapshot`].
//!
//! Names follow OpenMetrics: counters are declared without and sampled with `_total`,
//! latencies are in seconds (the base unit) with a `# UNIT` line. Every sample carries the
//! run's labels (`profile`, `kprod_instance`, `kprod_instances`). The instance label is not
//! called `instance` because Prometheus sets `instance` to the scraped address itself and
//! would rename ours to `exported_instance`.

use super::{Quantiles, Snapshot};
use std::fmt::Write;

/// Label text for one run: `profile="...",kprod_instance="0",kprod_instances="1"`.
pub fn run_labels(profile: &str, instance: u32, instances: u32) -> String {
    format!(
        "profile=\"{}\",kprod_instance=\"{instance}\",kprod_instances=\"{instances}\"",
        escape(profile)
    )
}

/// Label values escape backslash, double quote and line feed.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

struct Out<'a> {
    text: String,
    labels: &'a str,
}

impl Out<'_> {
    fn family(&mut self, name: &str, kind: &str, unit: Option<&str>, help: &str) {
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
        if let Some(u) = unit {
            let _ = writeln!(self.text, "# UNIT {name} {u}");
        }
        let _ = writeln!(self.text, "# HELP {name} {help}");
    }

    fn sample(&mut self, name: &str, extra: &str, value: impl std::fmt::Display) {
        let sep = if extra.is_empty() { "" } else { "," };
        let _ = writeln!(self.text, "{name}{{{}{sep}{extra}}} {value}", self.labels);
    }

    fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, "counter", None, help);
        self.sample(&format!("{name}_total"), "", value);
    }

    fn gauge(&mut self, name: &str, unit: Option<&str>, help: &str, value: f64) {
        self.family(name, "gauge", unit, help);
        self.sample(name, "", num(value));
    }
}

/// A float as OpenMetrics wants it (Rust's `Display` never uses an exponent).
fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn seconds(us: u64) -> String {
    num(us as f64 / 1e6)
}

/// Renders the whole exposition, `# EOF` included.
pub fn render(s: &Snapshot, labels: &str, info: &str) -> String {
    let mut o = Out {
        text: String::with_capacity(4096),
        labels,
    };
    run_state(&mut o, s, info);
    records(&mut o, s);
    rates(&mut o, s);
    latency(&mut o, s);
    o.text.push_str("# EOF\n");
    o.text
}

/// Which run, whether it has finished, and how far it is.
fn run_state(o: &mut Out<'_>, s: &Snapshot, info: &str) {
    o.family(
        "kprod_run",
        "info",
        None,
        "The run this process measures (value always 1).",
    );
    o.sample("kprod_run_info", info, 1);
    o.gauge(
        "kprod_run_finished",
        None,
        "1 once the run has ended and the counts are final (they then equal report.json).",
        if s.finished { 1.0 } else { 0.0 },
    );
    o.gauge(
        "kprod_elapsed_seconds",
        Some("seconds"),
        "Seconds since t0 at the last update.",
        s.elapsed_s,
    );
}

/// Record counts, failures by error name included.
fn records(o: &mut Out<'_>, s: &Snapshot) {
    o.counter(
        "kprod_records_sent",
        "Records handed to the producer (produce() called), whether or not enqueued.",
        s.sent,
    );
    o.counter(
        "kprod_records_delivered",
        "Records with a successful delivery report (fire-and-forget: inferred at the end).",
        s.delivered,
    );
    o.counter(
        "kprod_records_failed",
        "Records that failed: a delivery error, or refused at enqueue.",
        s.failed,
    );
    o.counter(
        "kprod_records_unknown",
        "Records whose outcome is unknown (purged at the flush deadline); known at the end.",
        s.unknown,
    );
    o.family(
        "kprod_records_failed_by_error",
        "counter",
        None,
        "Failed records by librdkafka error name; producers hand these over when they finish.",
    );
    for (name, n) in &s.errors {
        o.sample(
            "kprod_records_failed_by_error_total",
            &format!("error=\"{}\"", escape(name)),
            n,
        );
    }
}

/// Queue depth and the target, delivery and send rates.
fn rates(o: &mut Out<'_>, s: &Snapshot) {
    o.gauge(
        "kprod_queue_depth_records",
        None,
        "Records awaiting a delivery report at the end of the last second (all producers).",
        s.queue_depth as f64,
    );
    if let Some(t) = s.target_rate {
        o.gauge(
            "kprod_target_records_per_second",
            None,
            "Target send rate of this instance (absent when unlimited).",
            t,
        );
    }
    o.gauge(
        "kprod_achieved_records_per_second",
        None,
        "Delivery reports per second in the last second.",
        s.achieved_rate,
    );
    o.gauge(
        "kprod_send_records_per_second",
        None,
        "Records handed to the producer per second in the last second.",
        s.send_rate,
    );
}

/// Last second's latency percentiles and the run's latency summary.
fn latency(o: &mut Out<'_>, s: &Snapshot) {
    o.family(
        "kprod_interval_latency_seconds",
        "gauge",
        Some("seconds"),
        "Corrected latency of the records delivered in the last second.",
    );
    if let Some(q) = &s.interval {
        for (p, v) in percentile_rows(q) {
            o.sample(
                "kprod_interval_latency_seconds",
                &format!("percentile=\"{p}\""),
                seconds(v),
            );
        }
    }
    o.family(
        "kprod_latency_seconds",
        "summary",
        Some("seconds"),
        "Corrected latency of the records delivered after the warm-up so far (merged \
         per-second HDR histograms; report.json selects by intended send time instead).",
    );
    let r = &s.run;
    for (q, v) in [
        ("0.5", r.p50),
        ("0.9", r.p90),
        ("0.99", r.p99),
        ("0.999", r.p999),
        ("0.9999", r.p9999),
        ("1.0", r.max),
    ] {
        if r.count > 0 {
            o.sample(
                "kprod_latency_seconds",
                &format!("quantile=\"{q}\""),
                seconds(v),
            );
        }
    }
    o.sample("kprod_latency_seconds_sum", "", num(r.sum_us / 1e6));
    o.sample("kprod_latency_seconds_count", "", r.count);
}

fn percentile_rows(q: &Quantiles) -> [(&'static str, u64); 6] {
    [
        ("p50", q.p50),
        ("p90", q.p90),
        ("p99", q.p99),
        ("p99.9", q.p999),
        ("p99.99", q.p9999),
        ("max", q.max),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_openmetrics_shaped() {
        let mut s = Snapshot {
            sent: 10,
            delivered: 9,
            failed: 1,
            target_rate: Some(100.0),
            ..Snapshot::default()
        };
        s.errors.insert("MSG_SIZE_TOO_LARGE".into(), 1);
        let labels = run_labels("du\"r\\able\n", 1, 3);
        let text = render(&s, &labels, "topic=\"t\"");
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.contains("# TYPE kprod_records_sent counter\n"));
        assert!(text.contains(
            "kprod_records_sent_total{profile=\"du\\\"r\\\\able\\n\",kprod_instance=\"1\",kprod_instances=\"3\"} 10\n"
        ));
        assert!(text.contains("error=\"MSG_SIZE_TOO_LARGE\"} 1\n"));
        assert!(text.contains("kprod_target_records_per_second{"));
        // Every sample line names a declared family and carries the run labels.
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.push(rest.split(' ').next().unwrap_or_default().to_string());
            } else if !line.starts_with('#') {
                let name = line.split('{').next().unwrap_or_default();
                assert!(
                    families.iter().any(|f| name.starts_with(f.as_str())),
                    "undeclared sample {line}"
                );
                assert!(line.contains(&labels), "{line}");
            }
        }
        // No quantiles of an empty summary, but its count and sum.
        assert!(!text.contains("quantile="));
        assert!(text.contains("kprod_latency_seconds_count{"));
    }

    #[test]
    fn numbers_have_no_exponent() {
        assert_eq!(num(1e-7), "0.0000001");
        assert_eq!(num(f64::INFINITY), "+Inf");
        assert_eq!(seconds(1500), "0.0015");
    }
}
