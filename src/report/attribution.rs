//! Where a latency change came from: each stage of `latency_breakdown_us` compared
//! between two sets of runs (medians over runs), and the stage whose mean moved most in
//! the direction of the mean's own change named in `compare` and `check` verdicts.
//!
//! The stages split means, so this attributes the change of the *mean* corrected
//! latency. A percentile's change is put down to the same stage as an estimate: a
//! stage that moved the mean by most of its change is the likeliest cause of a tail
//! move too, but nothing here measures the tail per stage.

use super::breakdown::{fmt_signed_us, LatencyBreakdown, STAGES};
use serde::{Deserialize, Serialize};

pub const METHOD: &str = "median over runs of each stage's mean (latency_breakdown_us), \
current − baseline; the stage with the largest change in the direction of the mean's \
change is named; percentile changes are attributed by this mean split (an estimate)";

/// One stage's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    /// `latency_breakdown_us` field name.
    pub stage: String,
    pub label: String,
    pub baseline_us: f64,
    pub current_us: f64,
    pub change_us: f64,
}

/// `compare.json`'s `versus[].attribution` and `check.json`'s `attribution`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub baseline_mean_us: f64,
    pub current_mean_us: f64,
    pub mean_change_us: f64,
    /// In `latency_breakdown_us` order (schedule lag … unexplained).
    pub stages: Vec<StageChange>,
    /// The stage named: label and field.
    pub main_label: String,
    pub main_stage: String,
    /// Its change over the mean's change (1 = all of it; can exceed 1 when others
    /// moved the other way).
    pub main_share: f64,
    pub method: String,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(match n % 2 {
        1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    })
}

/// Compares the breakdowns of two sets of runs; None when either side has none.
pub fn attribute(
    baseline: &[&LatencyBreakdown],
    current: &[&LatencyBreakdown],
) -> Option<Attribution> {
    let med = |side: &[&LatencyBreakdown], f: &dyn Fn(&LatencyBreakdown) -> f64| {
        median(side.iter().map(|b| f(b)).collect())
    };
    let b_mean = med(baseline, &|b| b.mean_corrected)?;
    let c_mean = med(current, &|b| b.mean_corrected)?;
    let mean_change = c_mean - b_mean;
    let stages: Vec<StageChange> = STAGES
        .iter()
        .enumerate()
        .filter_map(|(i, (key, label))| {
            let b = med(baseline, &|x| x.parts()[i])?;
            let c = med(current, &|x| x.parts()[i])?;
            Some(StageChange {
                stage: (*key).into(),
                label: (*label).into(),
                baseline_us: b,
                current_us: c,
                change_us: c - b,
            })
        })
        .collect();
    // In the mean's direction: a stage that fell while the mean rose explains nothing of
    // the rise.
    let sign = if mean_change < 0.0 { -1.0 } else { 1.0 };
    let main = stages
        .iter()
        .max_by(|a, b| (a.change_us * sign).total_cmp(&(b.change_us * sign)))?;
    Some(Attribution {
        baseline_mean_us: b_mean,
        current_mean_us: c_mean,
        mean_change_us: mean_change,
        main_label: main.label.clone(),
        main_stage: main.stage.clone(),
        main_share: if mean_change != 0.0 {
            main.change_us / mean_change
        } else {
            0.0
        },
        stages,
        method: METHOD.into(),
    })
}

fn plus(us: f64) -> String {
    match us >= 0.0 {
        true => format!("+{}", fmt_signed_us(us)),
        false => fmt_signed_us(us),
    }
}

impl Attribution {
    /// `mostly broker RTT (+2.1 ms of +2.6 ms mean change)`.
    pub fn phrase(&self) -> String {
        let main = self
            .stages
            .iter()
            .find(|s| s.stage == self.main_stage)
            .map_or(0.0, |s| s.change_us);
        let word = if self.main_share >= 0.5 {
            "mostly"
        } else {
            "largest part"
        };
        format!(
            "{word} {} ({} of {} mean change)",
            self.main_label,
            plus(main),
            plus(self.mean_change_us)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(rtt: f64, queue: f64, rest: f64) -> LatencyBreakdown {
        let mean = rtt + queue + rest;
        LatencyBreakdown {
            queue_wait: Some(queue),
            broker_rtt: Some(rtt),
            unexplained: rest,
            mean_corrected: mean,
            sum_explained: rtt + queue,
            ..LatencyBreakdown::default()
        }
    }

    #[test]
    fn the_stage_that_moved_the_mean_is_named_with_its_share() {
        let base = [b(100.0, 3_000.0, 200.0), b(120.0, 3_100.0, 250.0)];
        let cur = [b(21_000.0, 3_400.0, 300.0), b(22_000.0, 3_500.0, 260.0)];
        let a = attribute(
            &base.iter().collect::<Vec<_>>(),
            &cur.iter().collect::<Vec<_>>(),
        )
        .expect("both sides");
        assert_eq!(a.main_stage, "broker_rtt");
        assert!(
            (a.mean_change_us - (25_230.0 - 3_385.0)).abs() < 1e-6,
            "{a:?}"
        );
        assert!(a.main_share > 0.9 && a.main_share < 1.0, "{a:?}");
        assert_eq!(
            a.phrase(),
            "mostly broker RTT (+21.390 ms of +21.845 ms mean change)"
        );
    }

    #[test]
    fn a_fall_is_put_down_to_the_stage_that_fell_most() {
        let base = [b(5_000.0, 3_000.0, 0.0)];
        let cur = [b(1_000.0, 3_500.0, 0.0)];
        let a = attribute(&[&base[0]], &[&cur[0]]).expect("both sides");
        assert_eq!(a.main_stage, "broker_rtt");
        assert!(a
            .phrase()
            .starts_with("mostly broker RTT (−4.000 ms of −3.500 ms"));
        assert!(attribute(&[], &[&cur[0]]).is_none());
    }
}
