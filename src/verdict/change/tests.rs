//! Statistical tests on simulated data; all seeded, so deterministic.

use super::*;

fn side(runs: &[f64]) -> Side<'_> {
    Side {
        runs,
        intervals: &[],
    }
}

/// Log-normal latencies: the usual shape of run-to-run p99 spread.
fn lognormal(rng: &mut Rng, median: f64, sigma: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| median * (sigma * rng.normal()).exp())
        .collect()
}

#[test]
fn identical_samples_give_a_zero_width_interval_at_zero() {
    let v = [10.0, 10.0, 10.0, 10.0, 10.0];
    let c = estimate(side(&v), side(&v), Scale::Relative, &Bootstrap::default()).unwrap();
    assert_eq!((c.change, c.ci_low, c.ci_high), (0.0, 0.0, 0.0));
    assert_eq!(c.method, Method::Runs);
}

#[test]
fn a_clear_shift_lies_wholly_outside_zero() {
    let mut rng = Rng::new(11);
    let b = lognormal(&mut rng, 100.0, 0.05, 5);
    let c = lognormal(&mut rng, 130.0, 0.05, 5);
    let ch = estimate(side(&b), side(&c), Scale::Relative, &Bootstrap::default()).unwrap();
    assert!(ch.ci_low > 15.0 && ch.ci_high < 60.0, "{ch:?}");
    assert!((ch.change - 30.0).abs() < 10.0, "{ch:?}");
}

#[test]
fn the_ninety_five_percent_interval_covers_the_true_ratio_nominally() {
    // 1000 simulated experiments of 25 runs per side, true ratio of medians 1.10.
    let cfg = Bootstrap {
        resamples: 400,
        ..Default::default()
    };
    let mut rng = Rng::new(2026);
    let mut covered = 0;
    for i in 0..1000 {
        let b = lognormal(&mut rng, 100.0, 0.2, 25);
        let c = lognormal(&mut rng, 110.0, 0.2, 25);
        let cfg = Bootstrap { seed: i, ..cfg };
        let ch = estimate(side(&b), side(&c), Scale::Relative, &cfg).unwrap();
        if ch.ci_low <= 10.0 && 10.0 <= ch.ci_high {
            covered += 1;
        }
    }
    assert!((920..=980).contains(&covered), "covered {covered} of 1000");
}

#[test]
fn fewer_than_three_runs_fall_back_to_the_intervals_and_say_so() {
    let b_int = vec![vec![100.0, 102.0, 98.0, 101.0, 99.0, 100.0]];
    let c_int = vec![vec![120.0, 122.0, 118.0, 121.0, 119.0, 120.0]];
    let base = Side {
        runs: &[100.0],
        intervals: &b_int,
    };
    let cur = Side {
        runs: &[120.0],
        intervals: &c_int,
    };
    let ch = estimate(base, cur, Scale::Relative, &Bootstrap::default()).unwrap();
    assert_eq!(ch.method, Method::WithinRun);
    assert!(ch.ci_low > 10.0 && ch.ci_high < 30.0, "{ch:?}");
    assert_eq!(ch.method.note(), Some("single-run: within-run noise only"));
    let point = estimate(
        side(&[1.0]),
        side(&[2.0]),
        Scale::Relative,
        &Bootstrap::default(),
    );
    assert_eq!(point.map(|c| c.method), Some(Method::Point));
}

#[test]
fn absolute_scale_handles_a_zero_baseline_and_relative_refuses_it() {
    let z = [0.0, 0.0, 0.0];
    let e = [4.0, 5.0, 6.0];
    let cfg = Bootstrap::default();
    let a = estimate(side(&z), side(&e), Scale::Absolute, &cfg).unwrap();
    assert_eq!(a.change, 5.0);
    assert!(a.ci_low >= 4.0 && a.ci_high <= 6.0);
    assert!(estimate(side(&z), side(&e), Scale::Relative, &cfg).is_none());
}

#[test]
fn the_same_inputs_give_the_same_interval() {
    let mut rng = Rng::new(5);
    let b = lognormal(&mut rng, 100.0, 0.3, 5);
    let c = lognormal(&mut rng, 100.0, 0.3, 5);
    let cfg = Bootstrap::default();
    assert_eq!(
        estimate(side(&b), side(&c), Scale::Relative, &cfg),
        estimate(side(&b), side(&c), Scale::Relative, &cfg)
    );
}

#[test]
fn median_ci_brackets_the_median_of_repeats() {
    let (m, lo, hi) = median_ci(&[9.0, 10.0, 11.0, 10.5, 9.5], &Bootstrap::default()).unwrap();
    assert_eq!(m, 10.0);
    assert!(lo <= m && m <= hi && lo >= 9.0 && hi <= 11.0);
    assert_eq!(
        median_ci(&[7.0], &Bootstrap::default()),
        Some((7.0, 7.0, 7.0))
    );
}
