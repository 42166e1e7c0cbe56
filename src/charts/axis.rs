//! Axes: value → pixel mapping (linear or log), tick choice and tick labels. One unit per
//! axis where a unit is shared (ms), and rate ticks written the same way everywhere
//! ("50k/s", "100k/s", "2.5k/s": the shortest exact form, never "50.0k/s").

/// One axis: the value range `lo..hi` drawn from pixel `p0` to pixel `p1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub p0: f64,
    pub p1: f64,
}

impl Axis {
    pub fn linear(lo: f64, hi: f64, p0: f64, p1: f64) -> Axis {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Axis {
            lo,
            hi,
            log: false,
            p0,
            p1,
        }
    }

    /// A log axis; `lo` must be positive (callers choose log only for positive data).
    pub fn log(lo: f64, hi: f64, p0: f64, p1: f64) -> Axis {
        let lo = if lo > 0.0 { lo } else { 1.0 };
        let hi = if hi > lo { hi } else { lo * 10.0 };
        Axis {
            lo,
            hi,
            log: true,
            p0,
            p1,
        }
    }

    /// Pixel of value `v` (values outside the range map outside the pixel span).
    pub fn px(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.p0 + t * (self.p1 - self.p0)
    }

    /// Tick values inside the range: 1-2-5 steps on a linear axis, 1-2-5 per decade on
    /// a log one (plain linear steps when the log range is too short for three).
    pub fn ticks(&self, target: usize) -> Vec<f64> {
        if self.log {
            let t = log_ticks(self.lo, self.hi);
            if t.len() >= 3 {
                return t;
            }
        }
        linear_ticks(self.lo, self.hi, target)
    }
}

/// A "nice" step (1, 2 or 5 × 10^e) giving about `target` ticks over `span`, as
/// (mantissa, e).
fn nice_step(span: f64, target: usize) -> (f64, i32) {
    let raw = span / target.max(1) as f64;
    let e = raw.log10().floor() as i32;
    let m = raw / 10f64.powi(e);
    match m {
        m if m <= 1.0 => (1.0, e),
        m if m <= 2.0 => (2.0, e),
        m if m <= 5.0 => (5.0, e),
        _ => (1.0, e + 1),
    }
}

/// Tick `k` of a step: dividing by a power of ten (rather than multiplying by 0.1) keeps
/// 0.6 from printing as 0.6000000000000001.
fn tick(k: i64, (m, e): (f64, i32)) -> f64 {
    if e >= 0 {
        k as f64 * m * 10f64.powi(e)
    } else {
        k as f64 * m / 10f64.powi(-e)
    }
}

pub fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let step = nice_step(hi - lo, target);
    let size = tick(1, step);
    let first = (lo / size - 1e-9).ceil() as i64;
    let last = (hi / size + 1e-9).floor() as i64;
    (first..=last).map(|k| tick(k, step)).collect()
}

pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if lo <= 0.0 || hi <= lo || hi.is_nan() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    for d in d0..=d1 {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(d);
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
    }
    out
}

/// The shortest exact decimal form of `v` with at most `max_decimals` decimals.
fn trimmed(v: f64, max_decimals: usize) -> String {
    let s = format!("{v:.max_decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A rate tick: "500/s", "2.5k/s", "50k/s", "100k/s", "1.2M/s".
pub fn rate_tick(v: f64) -> String {
    let a = v.abs();
    let (scaled, unit) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{unit}/s", trimmed(scaled, 2))
}

/// Labels for ticks sharing one unit (ms, s): the same number of decimals on every tick,
/// the fewest that write each tick exactly.
pub fn uniform_labels(ticks: &[f64]) -> Vec<String> {
    let decimals = (0..=3)
        .find(|d| {
            let f = 10f64.powi(*d as i32);
            ticks
                .iter()
                .all(|t| ((t * f).round() - t * f).abs() < 1e-6 * f.max(1.0))
        })
        .unwrap_or(3);
    ticks.iter().map(|t| format!("{t:.decimals$}")).collect()
}

/// `1/(1-p)` axis labels as percentiles: 10 -> "90%", 1000 -> "99.9%".
pub fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".into();
    }
    format!("{}%", trimmed(100.0 * (1.0 - 1.0 / x), 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_ticks_never_pad_decimals() {
        let labels: Vec<String> = [2500.0, 50_000.0, 100_000.0, 1_200_000.0, 500.0]
            .iter()
            .map(|v| rate_tick(*v))
            .collect();
        assert_eq!(labels, ["2.5k/s", "50k/s", "100k/s", "1.2M/s", "500/s"]);
    }

    #[test]
    fn log_ticks_are_1_2_5_per_decade() {
        assert_eq!(
            log_ticks(900.0, 60_000.0),
            [1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0, 50_000.0]
        );
        let a = Axis::log(1000.0, 100_000.0, 0.0, 200.0);
        assert!(
            (a.px(10_000.0) - 100.0).abs() < 1e-9,
            "a decade is half of two"
        );
    }

    #[test]
    fn short_log_ranges_fall_back_to_linear_ticks() {
        let a = Axis::log(1100.0, 1900.0, 0.0, 100.0);
        let t = a.ticks(5);
        assert!(t.len() >= 3, "{t:?}");
        assert!(t.iter().all(|v| (1100.0..=1900.0).contains(v)), "{t:?}");
    }

    #[test]
    fn shared_unit_labels_share_their_decimals() {
        assert_eq!(uniform_labels(&[0.0, 0.5, 1.0]), ["0.0", "0.5", "1.0"]);
        assert_eq!(uniform_labels(&[0.0, 10.0, 20.0]), ["0", "10", "20"]);
        assert_eq!(linear_ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    }

    #[test]
    fn percentile_axis_labels_read_as_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(2.0), "50%");
    }
}
