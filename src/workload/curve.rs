//! A producer's piecewise-linear rate curve (its share of `[[workload.stages]]`) and the
//! intended send time of its k-th record on it: the time at which the integral of the
//! rate reaches k. On a constant piece that is `k / rate`; on a linear ramp
//! `r(t) = r0 + 2a·t` the integral `r0·t + a·t²` is quadratic, solved in closed form. Like
//! the constant-rate pacer, record 0 is due at t0 and no time depends on when earlier
//! records actually went out.

use crate::profile::stages::Piece;
use std::sync::Arc;

/// One piece with the records due before it, in seconds and records/s.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seg {
    start: f64,
    len: f64,
    r0: f64,
    /// Half the slope: the rate is `r0 + 2·a·τ` at τ seconds into the piece.
    a: f64,
    /// Records due before the piece starts (the integral up to `start`).
    k0: f64,
    /// Records due within the piece.
    count: f64,
}

/// The rate curve of one producer, shared read-only; the cursor lives in the pacer.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    segs: Arc<[Seg]>,
    /// Rate after the last piece (0 = nothing more is due).
    tail: f64,
}

impl Curve {
    /// The curve of `pieces` (run-wide rates) scaled by `share` (this producer's fraction).
    pub fn new(pieces: &[Piece], share: f64) -> Curve {
        let mut k0 = 0.0;
        let segs: Vec<Seg> = pieces
            .iter()
            .map(|p| {
                let len = p.len.as_secs_f64();
                let (r0, r1) = (p.from * share, p.to * share);
                let count = (r0 + r1) / 2.0 * len;
                let s = Seg {
                    start: p.start.as_secs_f64(),
                    len,
                    r0,
                    a: if len > 0.0 {
                        (r1 - r0) / (2.0 * len)
                    } else {
                        0.0
                    },
                    k0,
                    count,
                };
                k0 += count;
                s
            })
            .collect();
        Curve {
            tail: pieces.last().map_or(0.0, |p| p.to * share),
            segs: segs.into(),
        }
    }

    /// Records due by `t` seconds after t0 (the integral of the rate; fractional).
    pub fn integral(&self, t: f64) -> f64 {
        let Some(last) = self.segs.last() else {
            return 0.0;
        };
        let i = self
            .segs
            .partition_point(|s| s.start <= t)
            .saturating_sub(1);
        let s = &self.segs[i];
        let tau = (t - s.start).max(0.0);
        if tau >= s.len && i + 1 == self.segs.len() {
            return last.k0 + last.count + (tau - s.len) * self.tail;
        }
        let tau = tau.min(s.len);
        s.k0 + s.r0 * tau + s.a * tau * tau
    }

    /// Intended time in ns of record `k`, with `cursor` the index of the piece where the
    /// previous lookup ended: records come in order, so the search moves a step at a time.
    /// u64::MAX when the record is never due (the curve ends at rate 0 before it).
    #[inline]
    pub fn intended_ns(&self, k: u64, cursor: &mut usize) -> u64 {
        let k = k as f64;
        let n = self.segs.len();
        let mut i = (*cursor).min(n.saturating_sub(1));
        while i > 0 && k < self.segs[i].k0 {
            i -= 1;
        }
        // Pieces with no records (rate 0) are stepped over: nothing is due in them.
        while i + 1 < n && k >= self.segs[i].k0 + self.segs[i].count {
            i += 1;
        }
        *cursor = i;
        let Some(s) = self.segs.get(i) else {
            return u64::MAX;
        };
        let x = k - s.k0;
        let secs = if x >= s.count {
            // Past the last piece: the tail rate holds.
            if self.tail <= 0.0 {
                return u64::MAX;
            }
            s.start + s.len + (x - s.count) / self.tail
        } else {
            s.start + solve(s.r0, s.a, x).min(s.len)
        };
        to_ns(secs)
    }

    /// Records due by `now_ns` (intended time ≤ now), like `Pacer::due_by`.
    pub fn due_by(&self, now_ns: u64) -> u64 {
        let due = self.integral(now_ns as f64 / 1e9);
        (due.floor() as u64).saturating_add(1)
    }

    /// The run-wide-equivalent rate at `t` seconds (this producer's share of it).
    pub fn rate_at(&self, t: f64) -> f64 {
        let i = self
            .segs
            .partition_point(|s| s.start <= t)
            .saturating_sub(1);
        match self.segs.get(i) {
            Some(s) if t - s.start <= s.len => s.r0 + 2.0 * s.a * (t - s.start).max(0.0),
            _ => self.tail,
        }
    }
}

/// τ ≥ 0 with `r0·τ + a·τ² = x`. The root is written `2x / (r0 + √(r0² + 4ax))`, which
/// does not cancel when `a` is tiny and is exact for a ramp from 0 (`√(x/a)`).
#[inline]
fn solve(r0: f64, a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let d = (r0 * r0 + 4.0 * a * x).max(0.0).sqrt();
    let den = r0 + d;
    if den <= 0.0 {
        return f64::INFINITY;
    }
    2.0 * x / den
}

fn to_ns(secs: f64) -> u64 {
    // `as` saturates: ∞ becomes u64::MAX.
    (secs * 1e9).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn piece(stage: usize, start: u64, len: u64, from: f64, to: f64) -> Piece {
        Piece {
            stage,
            start: Duration::from_secs(start),
            len: Duration::from_secs(len),
            from,
            to,
        }
    }

    #[test]
    fn ramp_matches_the_closed_form() {
        // 1k → 3k over 4 s: r(t) = 1000 + 500t, integral 1000t + 250t².
        let c = Curve::new(&[piece(0, 0, 4, 1000.0, 3000.0)], 1.0);
        let mut cur = 0;
        for k in [0u64, 1, 999, 1000, 1250, 4000, 7999] {
            let k_f = k as f64;
            let t = (-1000.0 + (1e6 + 1000.0 * k_f).sqrt()) / 500.0;
            let got = c.intended_ns(k, &mut cur) as f64 / 1e9;
            assert!((got - t).abs() < 2e-9, "k={k}: {got} vs {t}");
        }
        // 1250 records are due at exactly 1 s, 8000 at the end (4 s).
        assert_eq!(c.intended_ns(1250, &mut cur), 1_000_000_000);
        assert_eq!(c.intended_ns(8000, &mut cur), 4_000_000_000);
        assert_eq!(c.due_by(1_000_000_000), 1251);
    }

    #[test]
    fn ramp_from_zero_and_down() {
        let c = Curve::new(&[piece(0, 0, 10, 0.0, 100.0)], 1.0);
        let mut cur = 0;
        // integral 5t²: k = 20 at 2 s.
        assert_eq!(c.intended_ns(20, &mut cur), 2_000_000_000);
        let c = Curve::new(&[piece(0, 0, 10, 100.0, 0.0)], 1.0);
        // integral 100t − 5t²: 500 records in all, then nothing more is due.
        assert_eq!(c.intended_ns(375, &mut cur), 5_000_000_000);
        assert_eq!(c.intended_ns(500, &mut cur), u64::MAX);
    }

    #[test]
    fn pieces_chain_and_the_cursor_goes_both_ways() {
        // hold 10/s 2 s, spike 30/s 1 s, hold 0 for 1 s, hold 10/s.
        let c = Curve::new(
            &[
                piece(0, 0, 2, 10.0, 10.0),
                piece(1, 2, 1, 30.0, 30.0),
                piece(2, 3, 1, 0.0, 0.0),
                piece(3, 4, 2, 20.0, 20.0),
            ],
            0.5,
        );
        let mut cur = 0;
        let t: Vec<u64> = [0u64, 9, 10, 24, 25, 26, 35, 40]
            .iter()
            .map(|&k| c.intended_ns(k, &mut cur))
            .collect();
        assert_eq!(
            t,
            [
                0,
                1_800_000_000,
                2_000_000_000,
                2_933_333_333,
                4_000_000_000,
                4_100_000_000,
                5_000_000_000,
                5_500_000_000
            ]
        );
        // Backwards (a batch looks ahead, the next one starts earlier).
        assert_eq!(c.intended_ns(5, &mut cur), 1_000_000_000);
        assert_eq!(c.integral(3.5), 25.0);
        assert_eq!(c.rate_at(2.5), 15.0);
    }
}
