//! Order statistics and the percentile bootstrap over plain `f64` samples.

use super::rng::Rng;

/// Percentile `q` in [0, 1] of `sorted` by linear interpolation between closest ranks
/// (type 7, as R and numpy default). None when empty.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// Sorts a copy; NaNs (which no figure should hold) are dropped rather than poisoning it.
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    percentile_sorted(&sorted(values), q)
}

pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 0.5)
}

/// Median of `values` reordered in place (a resample buffer; avoids a copy per resample).
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    percentile_sorted(values, 0.5)
}

/// Draws `n` values from `from` with replacement into `into` (cleared first).
pub fn resample_into(rng: &mut Rng, from: &[f64], n: usize, into: &mut Vec<f64>) {
    into.clear();
    for _ in 0..n {
        into.push(from[rng.below(from.len())]);
    }
}

/// Two-stage (hierarchical) resample: draw `groups.len()` groups with replacement, then
/// each drawn group's values with replacement. Keeps between-run and within-run noise.
pub fn resample_groups_into(rng: &mut Rng, groups: &[Vec<f64>], into: &mut Vec<f64>) {
    into.clear();
    for _ in 0..groups.len() {
        let g = &groups[rng.below(groups.len())];
        for _ in 0..g.len() {
            into.push(g[rng.below(g.len())]);
        }
    }
}

/// The `(1-level)/2` and `(1+level)/2` percentiles of a bootstrap distribution.
pub fn interval(mut stats: Vec<f64>, level: f64) -> Option<(f64, f64)> {
    stats.retain(|x| x.is_finite());
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some((
        percentile_sorted(&stats, tail)?,
        percentile_sorted(&stats, 1.0 - tail)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistics_of_known_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.0), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0), Some(5.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), Some(2.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }

    #[test]
    fn uniform_sample_percentiles_match_the_distribution() {
        let mut rng = Rng::new(1);
        let v: Vec<f64> = (0..20_000).map(|_| rng.next_f64()).collect();
        for q in [0.1, 0.5, 0.9, 0.99] {
            let p = percentile(&v, q).unwrap();
            assert!((p - q).abs() < 0.01, "q={q} p={p}");
        }
    }

    #[test]
    fn two_stage_resample_keeps_the_total_size_and_draws_from_the_groups() {
        let groups = vec![vec![1.0, 1.0], vec![5.0, 5.0, 5.0]];
        let mut rng = Rng::new(3);
        let mut buf = Vec::new();
        let mut seen_five = false;
        for _ in 0..50 {
            resample_groups_into(&mut rng, &groups, &mut buf);
            assert!((4..=6).contains(&buf.len()));
            assert!(buf.iter().all(|x| *x == 1.0 || *x == 5.0));
            seen_five |= buf.contains(&5.0);
        }
        assert!(seen_five);
    }
}
