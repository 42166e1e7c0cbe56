//! The change of one figure between baseline and current samples, with a percentile
//! bootstrap confidence interval.
//!
//! Samples are one value per run (the run's own HDR figure). With at least
//! [`MIN_RUNS`] runs on both sides the bootstrap resamples runs: run-to-run noise
//! (scheduling, page cache, the other tenants of the machine) is what makes identical code
//! measure differently, and only repeats see it. With fewer runs on a side (an old
//! single-run baseline) it falls back to a two-stage bootstrap over each run's per-second
//! figures: that sees only the noise within a run, so the interval is too narrow for
//! between-run noise and the result says so ([`Method::WithinRun`]).

use super::rng::Rng;
use super::stats;
use serde::{Deserialize, Serialize};

/// Fewest runs per side for a bootstrap over runs.
pub const MIN_RUNS: usize = 3;

/// One side of a comparison: the figure of each run and, per run, its per-second figures
/// (empty when the figure has none, e.g. p99.9).
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub runs: &'a [f64],
    pub intervals: &'a [Vec<f64>],
}

/// How the interval was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Bootstrap over runs: between-run noise included.
    Runs,
    /// Two-stage bootstrap over per-second figures: within-run noise only.
    WithinRun,
    /// A single number per side and nothing to resample: no noise estimate at all.
    Point,
}

impl Method {
    pub fn note(self) -> Option<&'static str> {
        match self {
            Method::Runs => None,
            Method::WithinRun => Some("single-run: within-run noise only"),
            Method::Point => Some("single value: no noise estimate"),
        }
    }
}

/// Bootstrap settings; the fixed seed makes a verdict reproducible from its inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub resamples: usize,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 2000,
            level: 0.95,
            seed: 0x006b_7072_6f64,
        }
    }
}

/// How the change is expressed: relative (percent of the baseline) for rates and
/// latencies, absolute (a difference) for counts such as errors, whose baseline is often 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Relative,
    Absolute,
}

impl Scale {
    /// Change from `b` to `c`: percent for relative (None when the baseline is 0).
    fn of(self, b: f64, c: f64) -> Option<f64> {
        match self {
            Scale::Relative => {
                (b > 0.0 && b.is_finite() && c.is_finite()).then(|| (c / b - 1.0) * 100.0)
            }
            Scale::Absolute => (b.is_finite() && c.is_finite()).then_some(c - b),
        }
    }

    /// Moves a bootstrap draw `x` of the per-second estimate `from` onto the run figures'
    /// change `to`: the per-second figures give the interval's width, the runs' own
    /// figures its centre (a run's p99 is not the median of its per-second p99s).
    fn shift(self, x: f64, from: f64, to: f64) -> f64 {
        match self {
            Scale::Relative => {
                ((1.0 + to / 100.0) * (1.0 + x / 100.0) / (1.0 + from / 100.0) - 1.0) * 100.0
            }
            Scale::Absolute => to + (x - from),
        }
    }
}

/// An estimated change: point and interval, in percent (relative) or units (absolute).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    /// Median over runs of each side (what a reader compares by eye).
    pub baseline: f64,
    pub current: f64,
    pub change: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub method: Method,
}

/// One side's statistic for one resample; `buf` is reused across resamples.
fn draw(rng: &mut Rng, side: &Side, within: bool, buf: &mut Vec<f64>) -> Option<f64> {
    if within {
        stats::resample_groups_into(rng, side.intervals, buf);
    } else {
        stats::resample_into(rng, side.runs, side.runs.len(), buf);
    }
    stats::median_in_place(buf)
}

fn pooled(groups: &[Vec<f64>]) -> Vec<f64> {
    groups.iter().flatten().copied().collect()
}

fn has_intervals(s: &Side) -> bool {
    !s.intervals.is_empty() && s.intervals.iter().all(|g| !g.is_empty())
}

/// Estimates the change of the median from `base` to `cur`. None when either side has no
/// value or a relative change has a zero baseline.
pub fn estimate(base: Side, cur: Side, scale: Scale, cfg: &Bootstrap) -> Option<Change> {
    let (b, c) = (stats::median(base.runs)?, stats::median(cur.runs)?);
    let enough_runs = base.runs.len() >= MIN_RUNS && cur.runs.len() >= MIN_RUNS;
    let within = !enough_runs && has_intervals(&base) && has_intervals(&cur);
    let method = match (enough_runs, within) {
        (true, _) => Method::Runs,
        (false, true) => Method::WithinRun,
        (false, false) => Method::Point,
    };
    let point = scale.of(b, c)?;
    let centre = if within {
        scale.of(
            stats::median(&pooled(base.intervals))?,
            stats::median(&pooled(cur.intervals))?,
        )?
    } else {
        point
    };
    let (ci_low, ci_high) = if method == Method::Point {
        (point, point)
    } else {
        let mut rng = Rng::new(cfg.seed);
        let (mut bb, mut cb) = (Vec::new(), Vec::new());
        let draws: Vec<f64> = (0..cfg.resamples)
            .filter_map(|_| {
                let x = draw(&mut rng, &base, within, &mut bb)?;
                let y = draw(&mut rng, &cur, within, &mut cb)?;
                scale.of(x, y).map(|d| scale.shift(d, centre, point))
            })
            .collect();
        stats::interval(draws, cfg.level)?
    };
    Some(Change {
        baseline: b,
        current: c,
        change: point,
        ci_low,
        ci_high,
        method,
    })
}

/// The median of `runs` with a bootstrap interval (for absolute thresholds over repeats);
/// the interval is the point itself with fewer than [`MIN_RUNS`] runs.
pub fn median_ci(runs: &[f64], cfg: &Bootstrap) -> Option<(f64, f64, f64)> {
    let m = stats::median(runs)?;
    if runs.len() < MIN_RUNS {
        return Some((m, m, m));
    }
    let mut rng = Rng::new(cfg.seed);
    let mut buf = Vec::new();
    let draws: Vec<f64> = (0..cfg.resamples)
        .filter_map(|_| {
            stats::resample_into(&mut rng, runs, runs.len(), &mut buf);
            stats::median_in_place(&mut buf)
        })
        .collect();
    let (lo, hi) = stats::interval(draws, cfg.level)?;
    Some((m, lo, hi))
}

#[cfg(test)]
mod tests;
