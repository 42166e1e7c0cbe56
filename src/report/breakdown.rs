//! `latency_breakdown_us` and the per-second `breakdown_*_us` columns: the run's mean
//! corrected latency split into the stages librdkafka's statistics windows measure.
//!
//! A record's corrected latency runs from its intended send time to its delivery report:
//! kprod's schedule lag (intended time → `produce()`), then librdkafka's `int_latency`
//! (enqueued → written into a produce request: queueing and `linger.ms`),
//! `outbuf_latency` (request queued → written to the socket: waiting for an in-flight
//! slot) and `rtt` (request sent → response), then the delivery report's trip back to
//! kprod's poll. The windows give means only, so this is a split of the *mean*; what
//! moved a percentile can only be estimated from how each stage's mean moved
//! (`report::attribution`). `throttle` is shown but not added: a throttling broker holds
//! the response or the client holds the next request, so that time is already inside
//! `broker_rtt` or `inflight_wait`.

use super::Interval;
use crate::domain::{RunOutcome, StageSums};
use serde::{Deserialize, Serialize};

pub const SOURCE: &str = "librdkafka statistics windows (1 s), weighted by message counts \
(int_latency) and by the records each broker carried in the window (outbuf_latency, rtt); \
schedule lag and the corrected mean from kprod's HDR histograms; means, not percentiles";

/// The run's mean corrected latency and the stages that explain it, µs per record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyBreakdown {
    /// Intended send time → `produce()` (kprod's schedule lag histogram).
    pub schedule_lag: f64,
    /// `int_latency`: enqueued → written into a produce request (queue, linger).
    pub queue_wait: Option<f64>,
    /// `outbuf_latency`: request queued → sent (waiting for an in-flight slot).
    pub inflight_wait: Option<f64>,
    /// `rtt`: request sent → response.
    pub broker_rtt: Option<f64>,
    /// Broker throttle felt per record; part of `broker_rtt`/`inflight_wait`, not added.
    pub throttle: Option<f64>,
    /// `mean_corrected − sum_explained`: the delivery report's way back, retries, and
    /// what the windows miss; negative when the windows over-explain.
    pub unexplained: f64,
    /// The figure explained: the mean corrected latency of the measured records.
    pub mean_corrected: f64,
    /// schedule_lag + queue_wait + inflight_wait + broker_rtt.
    pub sum_explained: f64,
    /// `records` (request waits weighted by the records of their window) or `requests`
    /// (per-request means: no partition counts could be tied to a broker).
    pub weighting: String,
    /// Statistics windows used (one per broker per emit, after the warm-up).
    pub windows: u64,
    /// `embedded` (librdkafka's in-process mock brokers: no network) or `brokers`.
    pub measured_on: String,
    pub source: String,
}

/// A stage as shown and attributed: key (report.json field), label.
pub const STAGES: [(&str, &str); 5] = [
    ("schedule_lag", "schedule lag"),
    ("queue_wait", "queue wait/linger"),
    ("inflight_wait", "in-flight wait"),
    ("broker_rtt", "broker RTT"),
    ("unexplained", "unexplained"),
];

impl LatencyBreakdown {
    /// The stages that add up to `mean_corrected`, in [`STAGES`] order (a stage the
    /// windows did not report counts as 0).
    pub fn parts(&self) -> [f64; 5] {
        [
            self.schedule_lag,
            self.queue_wait.unwrap_or(0.0),
            self.inflight_wait.unwrap_or(0.0),
            self.broker_rtt.unwrap_or(0.0),
            self.unexplained,
        ]
    }

    /// `(label, share of mean_corrected)` of the stages, largest first; a negative
    /// `unexplained` is left out (it is an over-explanation, not a stage).
    pub fn shares(&self) -> Vec<(&'static str, f64)> {
        if self.mean_corrected <= 0.0 {
            return Vec::new();
        }
        let mut v: Vec<(&'static str, f64)> = STAGES
            .iter()
            .zip(self.parts())
            .filter(|(_, us)| *us > 0.0)
            .map(|((_, label), us)| (*label, us / self.mean_corrected))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }

    /// The stage with the largest mean.
    pub fn dominant(&self) -> Option<&'static str> {
        self.shares().first().map(|(l, _)| *l)
    }
}

/// A signed latency, `fmt_latency_us`'s digits with a leading `−` when negative.
pub fn fmt_signed_us(us: f64) -> String {
    let mag = super::fmt_latency_us(us.abs().round() as u64);
    if us < -0.5 {
        format!("−{mag}")
    } else {
        mag
    }
}

/// The `--details` table's "latency breakdown" rows: (metric, value).
pub fn table_rows(b: &LatencyBreakdown) -> Vec<(String, String)> {
    let pct = |us: f64| match b.mean_corrected > 0.0 {
        true => format!("{:>4.0}%", 100.0 * us / b.mean_corrected),
        false => String::new(),
    };
    let origin = [
        "kprod: intended time → produce()",
        "int_latency: produce() → in a request (queue, linger)",
        "outbuf_latency: request queued → sent (in-flight slot)",
        "rtt: request sent → response",
        "delivery report back to kprod, retries, uncovered windows",
    ];
    let mut rows = vec![(
        "mean corrected".to_string(),
        format!(
            "{}  = the stages below (means per record)",
            fmt_signed_us(b.mean_corrected)
        ),
    )];
    for (((_, label), us), what) in STAGES.iter().zip(b.parts()).zip(origin) {
        rows.push((
            (*label).to_string(),
            format!("{:>9} {}  {what}", fmt_signed_us(us), pct(us)),
        ));
    }
    if let Some(t) = b.throttle.filter(|t| *t > 0.0) {
        rows.push((
            "throttle".into(),
            format!(
                "{:>9}        inside broker RTT / in-flight wait",
                fmt_signed_us(t)
            ),
        ));
    }
    rows.push((
        "method".into(),
        format!(
            "means of librdkafka's 1 s windows ({} windows, request waits weighted by {}); \
             {} cluster; percentiles are not split",
            b.windows, b.weighting, b.measured_on
        ),
    ));
    rows
}

/// The compact summary's line: the stages' shares, largest first.
pub fn summary_line(b: &LatencyBreakdown) -> String {
    let parts: Vec<String> = b
        .shares()
        .iter()
        .take(4)
        .map(|(label, share)| format!("{:.0}% {label}", share * 100.0))
        .collect();
    format!(
        "mean {}: {}",
        fmt_signed_us(b.mean_corrected),
        parts.join(", ")
    )
}

/// Whether a window that began at `start_ms` (negative: before t0) can speak for
/// measured records: it began after the warm-up, or nothing was warm-up. A window that
/// began in the warm-up mixes its records in, and its means cannot be split.
fn measured_window(start_ms: i64, warmup_s: f64) -> bool {
    warmup_s <= 0.0 || start_ms as f64 >= warmup_s * 1e3 - 1e-6
}

/// The windows of the measured part: those that began after the warm-up.
fn measured_sums(out: &RunOutcome, warmup_s: f64) -> StageSums {
    let mut sums = StageSums::default();
    for (&(_, start), s) in &out.measurements.stage_windows {
        if measured_window(start, warmup_s) {
            sums.merge(s);
        }
    }
    sums
}

/// One second's windows (by their middle). A measured second leaves out a window that
/// began in the warm-up, so the measured seconds hold exactly the run's windows.
pub fn second_sums(out: &RunOutcome, second: u64, warmup_s: f64) -> Option<StageSums> {
    let in_warmup = (second + 1) as f64 <= warmup_s + 1e-9;
    let mut sums: Option<StageSums> = None;
    for (_, s) in (out.measurements.stage_windows)
        .range((second, i64::MIN)..=(second, i64::MAX))
        .filter(|((_, start), _)| in_warmup || measured_window(*start, warmup_s))
    {
        sums.get_or_insert_with(StageSums::default).merge(s);
    }
    sums
}

/// The run's breakdown; None when no statistics window began after the warm-up or
/// nothing was measured.
pub fn build(out: &RunOutcome, warmup_s: f64) -> Option<LatencyBreakdown> {
    let t = &out.measurements.totals;
    let sums = measured_sums(out, warmup_s);
    if sums.is_empty() || t.corrected.is_empty() {
        return None;
    }
    let m = sums.means();
    let schedule_lag = if t.schedule_lag.is_empty() {
        0.0
    } else {
        t.schedule_lag.mean()
    };
    let mean_corrected = t.corrected.mean();
    let sum_explained = schedule_lag
        + m.queue_wait.unwrap_or(0.0)
        + m.inflight_wait.unwrap_or(0.0)
        + m.broker_rtt.unwrap_or(0.0);
    Some(LatencyBreakdown {
        schedule_lag,
        queue_wait: m.queue_wait,
        inflight_wait: m.inflight_wait,
        broker_rtt: m.broker_rtt,
        throttle: m.throttle,
        unexplained: mean_corrected - sum_explained,
        mean_corrected,
        sum_explained,
        weighting: if m.by_record { "records" } else { "requests" }.into(),
        windows: sums.windows,
        measured_on: if out.embedded { "embedded" } else { "brokers" }.into(),
        source: SOURCE.into(),
    })
}

/// Fill one `intervals[]` row's breakdown columns from its second's stage sums and its
/// corrected histogram's mean. Schedule lag has no per-second histogram, so per second
/// it stays inside the remainder (`mean_us` − the stages).
pub fn fill_interval(row: &mut Interval, mean_us: Option<f64>, sums: Option<&StageSums>) {
    let m = sums.map(StageSums::means).unwrap_or_default();
    row.mean_us = mean_us;
    row.breakdown_queue_wait_us = m.queue_wait;
    row.breakdown_inflight_wait_us = m.inflight_wait;
    row.breakdown_broker_rtt_us = m.broker_rtt;
    row.breakdown_throttle_us = m.throttle;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(lag: f64, q: f64, inflight: f64, rtt: f64, mean: f64) -> LatencyBreakdown {
        let sum = lag + q + inflight + rtt;
        LatencyBreakdown {
            schedule_lag: lag,
            queue_wait: Some(q),
            inflight_wait: Some(inflight),
            broker_rtt: Some(rtt),
            unexplained: mean - sum,
            mean_corrected: mean,
            sum_explained: sum,
            ..LatencyBreakdown::default()
        }
    }

    /// One window per (middle second, start ms) with the given queue wait over 1000
    /// records.
    fn outcome(windows: &[((u64, i64), f64)]) -> RunOutcome {
        let mut m = crate::domain::Measurements::default();
        for &(key, q) in windows {
            let s = m.stage_windows.entry(key).or_default();
            s.queue_wait.add(q, 1000.0);
            s.windows += 1;
        }
        RunOutcome {
            measurements: m,
            ..crate::report::testing::empty_outcome()
        }
    }

    /// The failure this rule fixes: the start-up held the warm-up's records until just
    /// after the first emit, so the second window (begun at 0.98 s, middle in second 1)
    /// carried a 400 ms queue wait that no measured record had.
    #[test]
    fn a_window_begun_in_the_warm_up_speaks_for_no_measured_second() {
        let o = outcome(&[
            ((0, -20), 120_000.0),
            ((1, 980), 400_000.0),
            ((2, 1_980), 3_000.0),
            ((3, 2_980), 5_000.0),
        ]);
        let q = |w: f64| measured_sums(&o, w).means().queue_wait;
        assert_eq!(q(1.0), Some(4_000.0));
        assert_eq!(measured_sums(&o, 1.0).windows, 2);
        // A warm-up shorter than a window: the window begun at 0.98 s speaks for records
        // that came after it.
        assert_eq!(measured_sums(&o, 0.5).windows, 3);
        assert_eq!(q(1.98), Some(4_000.0));
        assert_eq!(q(2.0), Some(5_000.0));
        // No warm-up: the start-up is measured, and so are its windows.
        assert_eq!(measured_sums(&o, 0.0).windows, 4);
        // The warm-up's second keeps its own window; the first measured one has none.
        let mean = |s: u64| second_sums(&o, s, 1.0).map(|s| s.means().queue_wait);
        assert_eq!(mean(0), Some(Some(120_000.0)));
        assert_eq!(mean(1), None);
        assert_eq!(mean(2), Some(Some(3_000.0)));
        assert_eq!(second_sums(&o, 1, 0.0).map(|s| s.windows), Some(1));
    }

    #[test]
    fn shares_are_of_the_mean_largest_first_and_skip_an_over_explanation() {
        let x = b(10.0, 400.0, 10.0, 380.0, 1000.0);
        let s = x.shares();
        assert_eq!(s[0], ("queue wait/linger", 0.4));
        assert_eq!(s[1], ("broker RTT", 0.38));
        assert_eq!(s[2].0, "unexplained");
        assert_eq!(x.dominant(), Some("queue wait/linger"));
        let over = b(0.0, 600.0, 0.0, 500.0, 1000.0);
        assert!(over.shares().iter().all(|(l, _)| *l != "unexplained"));
        assert_eq!(over.parts().iter().sum::<f64>(), 1000.0);
    }
}
