//! Open-loop pacing: the intended send time of record `i` is fixed in advance
//! (`i / rate` after t0) and never depends on when earlier records actually went out, so
//! a stalled producer falls behind schedule (and latency measured from the intended time
//! shows it) instead of silently lowering the offered load (coordinated omission).
//!
//! The rate is held as an integer number of records per 10^9 seconds, so
//! `intended_ns(i) = i·10^18 / rate_nano` is exact integer math with no accumulated
//! drift, and any rate with up to 9 decimals (3, 0.5, 1234.5678) is represented exactly.

use super::curve::Curve;
use crate::profile::Rate;
use std::cell::Cell;
use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;
/// Gaps shorter than this are spun: sleeping would overshoot by more than the gap.
pub const SPIN_BELOW_NS: u64 = 50_000;
/// Gaps shorter than this (and at least [`SPIN_BELOW_NS`]) yield the CPU once.
pub const YIELD_BELOW_NS: u64 = 200_000;
/// Sleeps end this early so the last stretch is spun and the timer's overshoot is absorbed.
pub const SLEEP_MARGIN_NS: u64 = 100_000;

/// Per-producer schedule of intended send times.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    /// Records per 10^9 seconds ("nano-records per second"); None = unlimited.
    rate_nano: Option<u64>,
    /// Load stages: intended times follow this curve and `rate_nano` is unused.
    curve: Option<Curve>,
    /// The curve's piece where the last lookup ended (records come in order).
    cursor: Cell<usize>,
}

/// What a producer should do before sending its next record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The intended time has come (or passed): send now.
    Ready,
    /// Less than [`SPIN_BELOW_NS`] to go: busy-wait (polling librdkafka is fine).
    Spin,
    /// A little longer: yield the CPU once, then ask again.
    Yield,
    /// Sleep this long (the gap minus [`SLEEP_MARGIN_NS`]), then ask again.
    Sleep(Duration),
}

impl Pacer {
    /// `rate` is records per second for this producer; None means unlimited.
    ///
    /// Rates are validated (finite, > 0) when the profile is resolved; here +inf means
    /// unlimited, NaN and anything at or below 10^-9 records/s is raised to 10^-9/s, and
    /// rates above 1.8·10^10/s are capped there.
    pub fn new(rate: Option<f64>) -> Pacer {
        Pacer::fixed(rate.filter(|r| *r != f64::INFINITY).map(to_nano))
    }

    /// A pacer that follows a stage curve.
    pub fn staged(curve: Curve) -> Pacer {
        Pacer {
            rate_nano: None,
            curve: Some(curve),
            cursor: Cell::new(0),
        }
    }

    /// A fixed-rate pacer with `rate_nano` records per 10^9 s (None = unlimited).
    fn fixed(rate_nano: Option<u64>) -> Pacer {
        Pacer {
            rate_nano,
            curve: None,
            cursor: Cell::new(0),
        }
    }

    /// The share of a run-wide `rate` that producer `index` of `producers` paces at.
    /// Shares differ by at most one nano-record/s and add up exactly to `rate`.
    pub fn split(rate: Rate, producers: u32, index: u32) -> Pacer {
        match rate {
            Rate::Unlimited => Pacer::fixed(None),
            Rate::Fixed(r) if r == f64::INFINITY => Pacer::fixed(None),
            Rate::Fixed(r) => {
                let total = to_nano(r);
                let p = u64::from(producers.max(1));
                let extra = u64::from(u64::from(index) < total % p);
                Pacer::fixed(Some((total / p + extra).max(1)))
            }
        }
    }

    pub fn is_unlimited(&self) -> bool {
        self.rate_nano.is_none() && self.curve.is_none()
    }

    /// Records per second this pacer targets (None = unlimited).
    pub fn rate_per_sec(&self) -> Option<f64> {
        self.rate_nano.map(|n| n as f64 / 1e9)
    }

    /// Intended send time of record `i` in ns after t0 (record 0 is due at 0), or None
    /// when unlimited. Saturates at u64::MAX (≈ 584 years).
    #[inline]
    pub fn intended_ns(&self, i: u64) -> Option<u64> {
        if let Some(c) = &self.curve {
            let mut cursor = self.cursor.get();
            let t = c.intended_ns(i, &mut cursor);
            self.cursor.set(cursor);
            return Some(t);
        }
        let rate = self.rate_nano?;
        let t = u128::from(i) * NANOS_PER_SEC * NANOS_PER_SEC / u128::from(rate);
        Some(u64::try_from(t).unwrap_or(u64::MAX))
    }

    /// How many records should have been sent by `now_ns` (records with intended time
    /// `<= now_ns`); u64::MAX when unlimited. Handy to measure how far behind a producer is.
    #[inline]
    pub fn due_by(&self, now_ns: u64) -> u64 {
        if let Some(c) = &self.curve {
            return c.due_by(now_ns);
        }
        match self.rate_nano {
            None => u64::MAX,
            Some(rate) => {
                let n = u128::from(now_ns) * u128::from(rate) / (NANOS_PER_SEC * NANOS_PER_SEC);
                u64::try_from(n + 1).unwrap_or(u64::MAX)
            }
        }
    }
}

/// Records per second to records per 10^9 s. `as` saturates: NaN and negatives become
/// 0 (then 1), huge values u64::MAX.
fn to_nano(rate: f64) -> u64 {
    ((rate * 1e9).round() as u64).max(1)
}

/// How to wait from `now_ns` until `next_ns` (both on the same clock as t0).
#[inline]
pub fn wait_strategy(now_ns: u64, next_ns: u64) -> Wait {
    let gap = next_ns.saturating_sub(now_ns);
    if gap == 0 {
        Wait::Ready
    } else if gap < SPIN_BELOW_NS {
        Wait::Spin
    } else if gap < YIELD_BELOW_NS {
        Wait::Yield
    } else {
        Wait::Sleep(Duration::from_nanos(gap - SLEEP_MARGIN_NS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_three_is_exact() {
        let p = Pacer::new(Some(3.0));
        let t: Vec<u64> = (0..4).map(|i| p.intended_ns(i).unwrap()).collect();
        assert_eq!(t, [0, 333_333_333, 666_666_666, 1_000_000_000]);
        assert_eq!(
            p.intended_ns(3_000_000_000),
            Some(1_000_000_000_000_000_000)
        );
    }

    #[test]
    fn million_per_second_has_no_drift() {
        let p = Pacer::new(Some(1e6));
        assert_eq!(p.intended_ns(1), Some(1_000));
        assert_eq!(p.intended_ns(999_999_999), Some(999_999_999_000));
        assert_eq!(p.intended_ns(1_000_000_000), Some(1_000_000_000_000));
        // Spot-check the whole range: every intended time is exactly i µs.
        for i in (0..=1_000_000_000u64).step_by(7_919_993) {
            assert_eq!(p.intended_ns(i), Some(i * 1_000));
        }
        // Gaps never wander: consecutive records stay exactly 1 µs apart at the end too.
        let end = 1_000_000_000u64;
        let gap = p.intended_ns(end).unwrap() - p.intended_ns(end - 1).unwrap();
        assert_eq!(gap, 1_000);
    }

    #[test]
    fn fractional_rates() {
        let p = Pacer::new(Some(0.5));
        assert_eq!(p.intended_ns(1), Some(2_000_000_000));
        assert_eq!(p.intended_ns(7), Some(14_000_000_000));
        let p = Pacer::new(Some(1234.5678));
        // 10^13 records at 1234.5678/s take exactly 8_100_005_913.0... s.
        assert_eq!(
            p.intended_ns(10_000_000_000_000),
            Some((10u128.pow(13) * 10u128.pow(18) / 1_234_567_800_000) as u64)
        );
    }

    #[test]
    fn unlimited_and_extremes() {
        let p = Pacer::new(None);
        assert!(p.is_unlimited());
        assert_eq!(p.intended_ns(5), None);
        assert_eq!(p.due_by(0), u64::MAX);
        assert_eq!(
            Pacer::new(Some(1e-12)).intended_ns(u64::MAX),
            Some(u64::MAX)
        );
        assert!(Pacer::new(Some(f64::INFINITY)).is_unlimited());
        assert!(Pacer::split(Rate::Fixed(f64::INFINITY), 2, 0).is_unlimited());
        assert_eq!(
            Pacer::new(Some(1e30)).rate_per_sec(),
            Some(u64::MAX as f64 / 1e9)
        );
        assert_eq!(Pacer::new(Some(f64::NAN)).rate_per_sec(), Some(1e-9));
    }

    #[test]
    fn due_by_inverts_schedule() {
        let p = Pacer::new(Some(3.0));
        assert_eq!(p.due_by(0), 1);
        assert_eq!(p.due_by(333_333_332), 1);
        assert_eq!(p.due_by(333_333_334), 2);
        assert_eq!(p.due_by(1_000_000_000), 4);
    }

    #[test]
    fn split_adds_up() {
        let parts: Vec<Pacer> = (0..7)
            .map(|i| Pacer::split(Rate::Fixed(100.0), 7, i))
            .collect();
        let total: u64 = parts.iter().map(|p| p.rate_nano.unwrap()).sum();
        assert_eq!(total, 100_000_000_000);
        assert_eq!(parts[0].rate_nano, Some(14_285_714_286));
        assert_eq!(parts[6].rate_nano, Some(14_285_714_285));
        assert!(Pacer::split(Rate::Unlimited, 4, 0).is_unlimited());
        assert_eq!(
            Pacer::split(Rate::Fixed(5.0), 0, 0).rate_per_sec(),
            Some(5.0)
        );
    }

    #[test]
    fn wait_thresholds() {
        assert_eq!(wait_strategy(100, 100), Wait::Ready);
        assert_eq!(wait_strategy(200, 100), Wait::Ready);
        assert_eq!(wait_strategy(0, 49_999), Wait::Spin);
        assert_eq!(wait_strategy(0, 50_000), Wait::Yield);
        assert_eq!(
            wait_strategy(1_000, 1_000 + 5_000_000),
            Wait::Sleep(Duration::from_nanos(4_900_000))
        );
    }
}
