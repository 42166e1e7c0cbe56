//! `--abort-on-breach K`: the thresholds that can be judged one second at a time (p50,
//! p99, p999 from the second's histogram, throughput from its rate, errors so far) are
//! checked as each measured second ends; once one of them is broken for K consecutive
//! seconds the watcher asks the run to stop, with the reason the report carries. It is an
//! [`Observer`] fed by the engine's collector thread: no thread, no clock, no I/O.

use super::slo::{SloFigure, Threshold};
use crate::domain::{MergedInterval, Observer};
use std::time::Duration;

/// The default K of a bare `--abort-on-breach`.
pub const DEFAULT_SECONDS: u32 = 3;

/// One threshold's run of consecutive breached seconds.
#[derive(Debug, Clone)]
struct Streak {
    threshold: Threshold,
    bound: f64,
    seconds: u32,
    /// Second (1-based end, as `intervals.csv` `t_s`) where the streak began.
    first: u64,
}

/// Watches finished seconds against per-second thresholds; see the module doc.
#[derive(Debug, Clone)]
pub struct BreachWatch {
    streaks: Vec<Streak>,
    k: u32,
    warmup_s: f64,
    /// Failed records of the measured seconds so far (`errors` thresholds count the run).
    errors: u64,
    reason: Option<String>,
}

impl BreachWatch {
    /// A watcher over `thresholds` (those with a bound it can compute: a `throughput>=N%`
    /// without a target rate is left out) that trips after `k` breached seconds. None when
    /// no threshold can be judged per second.
    pub fn new(
        thresholds: &[Threshold],
        k: u32,
        target_rate: Option<f64>,
        warmup: Duration,
    ) -> Option<Self> {
        let streaks: Vec<Streak> = thresholds
            .iter()
            .filter_map(|t| {
                Some(Streak {
                    threshold: t.clone(),
                    bound: t.bound_value(target_rate)?,
                    seconds: 0,
                    first: 0,
                })
            })
            .collect();
        (!streaks.is_empty()).then_some(BreachWatch {
            streaks,
            k: k.max(1),
            warmup_s: warmup.as_secs_f64(),
            errors: 0,
            reason: None,
        })
    }

    /// Why the run should stop, once it should.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Judges one finished second. Warm-up seconds and the short last one are not judged
    /// (the short one's rate would be extrapolated), and a second without deliveries has
    /// no latency to judge (its throughput still breaches).
    pub fn observe(&mut self, i: &MergedInterval) {
        let end = i.idx as f64 + i.length_s;
        if self.reason.is_some() || end <= self.warmup_s || i.partial() {
            return;
        }
        self.errors += i.counts.failed;
        let second = i.idx + 1;
        let rate = i.counts.delivered as f64 / i.length_s;
        let mut p999 = None;
        for s in &mut self.streaks {
            let value = match s.threshold.figure {
                _ if is_latency(s.threshold.figure) && i.counts.delivered == 0 => None,
                SloFigure::P50 => Some(i.p50_us as f64),
                SloFigure::P99 => Some(i.p99_us as f64),
                SloFigure::P999 => {
                    Some(*p999.get_or_insert_with(|| i.histogram().value_at_quantile(0.999)) as f64)
                }
                SloFigure::Throughput => Some(rate),
                SloFigure::Errors => Some(self.errors as f64),
            };
            let Some(v) = value.filter(|v| !s.threshold.op.holds(*v, s.bound)) else {
                s.seconds = 0;
                continue;
            };
            if s.seconds == 0 {
                s.first = second;
            }
            s.seconds += 1;
            if s.seconds >= self.k && self.reason.is_none() {
                self.reason = Some(reason(s, v, second));
            }
        }
    }
}

fn is_latency(f: SloFigure) -> bool {
    matches!(f, SloFigure::P50 | SloFigure::P99 | SloFigure::P999)
}

/// "p99 45.2 ms > 20 ms for 3 s (seconds 7..9)": the last breached second's value.
fn reason(s: &Streak, value: f64, last: u64) -> String {
    let f = s.threshold.figure;
    format!(
        "{} {} {} {} for {} s (seconds {}..{}; threshold {})",
        f.name(),
        figure_text(f, value),
        s.threshold.op.breach_text(),
        figure_text(f, s.bound),
        s.seconds,
        s.first,
        last,
        s.threshold.expr
    )
}

fn figure_text(f: SloFigure, v: f64) -> String {
    use crate::units::format_count;
    match f {
        SloFigure::P50 | SloFigure::P99 | SloFigure::P999 if v >= 1e6 => {
            format!("{} s", format_count(v / 1e6))
        }
        SloFigure::P50 | SloFigure::P99 | SloFigure::P999 if v >= 1e3 => {
            format!("{} ms", format_count(v / 1e3))
        }
        SloFigure::P50 | SloFigure::P99 | SloFigure::P999 => format!("{} µs", format_count(v)),
        SloFigure::Throughput => format!("{}/s", format_count(v)),
        SloFigure::Errors => format!("{v}"),
    }
}

impl Observer for BreachWatch {
    fn interval(&mut self, i: &MergedInterval, _elapsed: Duration) {
        self.observe(i);
    }
    fn stop_requested(&self) -> Option<&str> {
        self.reason()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::histogram::new_histogram;
    use crate::domain::IntervalCounts;

    fn second(idx: u64, p99_ms: u64, delivered: u64, failed: u64) -> MergedInterval {
        let mut h = new_histogram();
        for _ in 0..delivered {
            let _ = h.record(p99_ms * 1000);
        }
        let counts = IntervalCounts {
            sent: delivered + failed,
            delivered,
            failed,
            bytes: delivered * 100,
        };
        MergedInterval::new(idx, 1_000_000, &h, counts, 0)
    }

    fn watch(exprs: &[&str], k: u32, warmup_s: u64) -> BreachWatch {
        let t: Vec<Threshold> = exprs
            .iter()
            .map(|e| Threshold::parse(e, "--threshold").unwrap())
            .collect();
        BreachWatch::new(&t, k, Some(1000.0), Duration::from_secs(warmup_s)).unwrap()
    }

    #[test]
    fn trips_after_k_consecutive_breached_measured_seconds() {
        let mut w = watch(&["p99<=20ms"], 3, 2);
        // Warm-up seconds do not count, a good second resets the streak.
        for (idx, ms) in [(0, 90), (1, 90), (2, 45), (3, 45), (4, 5), (5, 45), (6, 45)] {
            w.observe(&second(idx, ms, 100, 0));
            assert_eq!(w.stop_requested(), None, "second {idx}");
        }
        w.observe(&second(7, 45, 100, 0));
        let why = w.stop_requested().unwrap();
        assert!(why.starts_with("p99 45"), "{why}");
        assert!(why.contains("> 20 ms for 3 s (seconds 6..8"), "{why}");
    }

    #[test]
    fn throughput_errors_and_quiet_seconds() {
        let mut w = watch(&["throughput>=95%", "errors==0"], 2, 0);
        w.observe(&second(0, 1, 990, 0));
        w.observe(&second(1, 1, 500, 0));
        assert_eq!(w.stop_requested(), None);
        w.observe(&second(2, 1, 400, 0));
        assert!(w
            .stop_requested()
            .unwrap()
            .starts_with("throughput 400/s < 950/s"));
        // Errors count the run so far: once one failed, every later second breaches.
        let mut w = watch(&["errors==0"], 2, 0);
        w.observe(&second(0, 1, 10, 1));
        w.observe(&second(1, 1, 10, 0));
        assert!(w.stop_requested().unwrap().starts_with("errors 1 != 0"));
        // No deliveries: no latency to judge, so no streak.
        let mut w = watch(&["p99<=1ms"], 1, 0);
        w.observe(&second(0, 5, 0, 0));
        assert_eq!(w.stop_requested(), None);
    }

    #[test]
    fn a_percentage_without_target_cannot_be_watched() {
        let t = [Threshold::parse("throughput>=95%", "--threshold").unwrap()];
        assert!(BreachWatch::new(&t, 3, None, Duration::ZERO).is_none());
    }
}
