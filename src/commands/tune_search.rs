//! The pure half of `kprod tune`: the budgeted successive-halving plan (how many candidates,
//! which trial length and rate precision per rung, a cap on trials per rung), the per-
//! candidate search for the highest rate at the SLO as a step function over a bracket,
//! survivor selection, and the Pareto frontier. Nothing here runs a benchmark.

use serde::{Deserialize, Serialize};

/// A confirmed side that fails the majority of its repeats steps down to this share of
/// its rate, at most [`STEP_DOWNS`] times: the found rate is the highest of several noisy
/// passes, so it sits where a trial passes about half the time. Near its limit p99 climbs
/// steeply (base with rtt 100 ms on a loaded 2-core machine: 250 ms at 42k/s, 330-610 ms
/// at 54k/s), so 5% steps were not enough to leave the edge in two rounds.
pub const STEP_DOWN: f64 = 0.9;
pub const STEP_DOWNS: usize = 3;
/// Confirmation rounds (each `confirm_repeats` trials) the plan keeps time for: one per
/// side and two step-downs; a third runs only if the budget still allows.
pub const RESERVED_ROUNDS: usize = 4;

/// Survivors per rung: the best 1/ETA go on.
pub const ETA: usize = 3;
/// Rates are whole records per second; nothing below this is tried.
const MIN_RATE: f64 = 1.0;
/// Rate steps per candidate in the first rung and in the later ones.
const FIRST_STEPS: usize = 4;
const LATER_STEPS: usize = 3;

/// One rung of successive halving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    /// Candidates entering the rung (after the first: the survivors and the best
    /// built-in).
    pub candidates: usize,
    /// Each trial's `--duration`.
    pub trial_s: f64,
    /// The rate search stops when (hi - lo) / lo is at most this.
    pub precision: f64,
    /// Rate steps per candidate at most.
    pub max_steps: usize,
    /// Trials the rung may start at most (all candidates together).
    pub trial_cap: usize,
}

/// The whole plan, fixed before the first trial from the budget alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub budget_s: f64,
    /// Assumed cost of a trial beyond its duration (cluster start, preflight, flush,
    /// files); replaced by the measured mean once trials have run.
    pub overhead_s: f64,
    /// Built-in profiles in the pool (the baselines).
    pub baselines: usize,
    /// Sampled configurations in the pool.
    pub samples: usize,
    pub rungs: Vec<Rung>,
    /// Confirmation: runs per configuration (winner and best built-in), and their length.
    pub confirm_repeats: usize,
    pub confirm_trial_s: f64,
    /// Confirmation trials at most (two configurations, [`STEP_DOWNS`] each if needed).
    pub confirm_cap: usize,
    /// Upper bound on trials of the whole tune: the rung caps plus the confirmation cap.
    pub max_trials: usize,
    /// Estimated wall-clock time of `max_trials`.
    pub planned_s: f64,
}

fn cost(trial_s: f64, overhead_s: f64) -> f64 {
    trial_s + overhead_s
}

/// Rungs for a pool of `pool` candidates: trial length doubles and precision tightens per
/// rung; the last rung holds at most 2 finalists. With `carry`, every rung after the first
/// has one more place: the best built-in goes on to the end even when it is not among the
/// best third, so the ratio compares two rates found with the same trial length and
/// precision (a built-in left at the first rung's 25% bracket would be understated).
fn rungs(pool: usize, trial_s: f64, carry: bool) -> Vec<Rung> {
    let mut out = Vec::new();
    let mut n = pool;
    // The first rung starts from a guess and may need a step more to bracket; later rungs
    // start from the previous bracket.
    let shape = [
        (1.0, 0.25, FIRST_STEPS),
        (2.0, 0.10, LATER_STEPS),
        (2.0, 0.05, LATER_STEPS),
    ];
    for (k, (mult, precision, max_steps)) in shape.into_iter().enumerate() {
        if n == 0 {
            break;
        }
        let entering = if k > 0 && carry { n + 1 } else { n };
        out.push(Rung {
            candidates: entering,
            trial_s: trial_s * mult,
            precision,
            max_steps,
            // Every candidate may use all its steps: none late in a rung is starved by
            // earlier ones, and the caps still bound the plan.
            trial_cap: entering * max_steps,
        });
        if n <= 1 {
            break;
        }
        n = if k + 2 == shape.len() {
            n.div_ceil(ETA).min(2)
        } else {
            n.div_ceil(ETA)
        };
    }
    out
}

fn rungs_cost(r: &[Rung], overhead_s: f64) -> f64 {
    r.iter()
        .map(|g| g.trial_cap as f64 * cost(g.trial_s, overhead_s))
        .sum()
}

/// The plan that fits `budget_s`: confirmation reserved first, then as many sampled
/// candidates as the rungs' trial caps allow beside the `baselines`. Err when not even the
/// baselines and the confirmation fit.
pub fn plan(
    budget_s: f64,
    trial_s: f64,
    overhead_s: f64,
    baselines: usize,
    confirm_repeats: usize,
) -> Result<Plan, String> {
    let confirm_trial_s = trial_s * 2.0;
    let confirm_cap = 2 * confirm_repeats * (1 + STEP_DOWNS);
    let confirm_s = (RESERVED_ROUNDS * confirm_repeats) as f64 * cost(confirm_trial_s, overhead_s);
    let mut samples = 0usize;
    let carry = baselines > 0;
    let fits = |samples: usize| {
        let r = rungs(baselines + samples, trial_s, carry);
        confirm_s + rungs_cost(&r, overhead_s) <= budget_s
    };
    if !fits(0) {
        let need = confirm_s + rungs_cost(&rungs(baselines, trial_s, carry), overhead_s);
        return Err(format!(
            "{budget_s:.0} s does not fit the {baselines} built-in baselines and the \
             confirmation (about {need:.0} s with {trial_s} s trials)"
        ));
    }
    while samples < 500 && fits(samples + 1) {
        samples += 1;
    }
    let r = rungs(baselines + samples, trial_s, carry);
    let max_trials = r.iter().map(|g| g.trial_cap).sum::<usize>() + confirm_cap;
    let planned_s = confirm_s + rungs_cost(&r, overhead_s);
    Ok(Plan {
        budget_s,
        overhead_s,
        baselines,
        samples,
        rungs: r,
        confirm_repeats,
        confirm_trial_s,
        confirm_cap,
        max_trials,
        planned_s,
    })
}

/// A trial waits for its last deliveries this many times the SLO's largest limit...
const FLUSH_SLO_MULTIPLE: f64 = 5.0;
/// ...and at least this long (seconds), at most `--flush-timeout`.
const MIN_FLUSH_S: f64 = 2.0;

/// The flush deadline of a trial (seconds), from the SLO's largest limit. A record still
/// undelivered after it is counted unknown, so the trial is saturated, which it is: waiting
/// out the backlog of a configuration far past its capacity learns nothing more and cost
/// tens of seconds a trial (durable at 50k/s with a 100 ms round trip: 23 s), the budget
/// of several trials of others.
pub fn flush_deadline_s(worst_limit_us: u64, flush_timeout_s: f64) -> f64 {
    (worst_limit_us as f64 / 1e6 * FLUSH_SLO_MULTIPLE)
        .max(MIN_FLUSH_S)
        .min(flush_timeout_s)
}

/// What the rate search knows of one candidate: the highest rate that passed and the
/// lowest that failed.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bracket {
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Bracket {
    pub fn record(&mut self, rate: f64, passed: bool) {
        if passed {
            self.lo = Some(self.lo.map_or(rate, |l| l.max(rate)));
        } else {
            self.hi = Some(self.hi.map_or(rate, |h| h.min(rate)));
        }
        // A noisy pass above a failure: the failure bounds the search, the pass stands.
        if let (Some(l), Some(h)) = (self.lo, self.hi) {
            if l >= h {
                self.hi = None;
            }
        }
    }
}

/// The next rate to try, or None when the bracket is narrow enough (or capped). Without a
/// pass or a failure yet it starts at `start`; with only passes it multiplies by `grow`
/// (at most `max_rate`), with only failures it divides; then it bisects geometrically.
pub fn next_rate(b: &Bracket, start: f64, grow: f64, precision: f64, max_rate: f64) -> Option<f64> {
    let r = match (b.lo, b.hi) {
        (None, None) => start.min(max_rate),
        (Some(lo), None) => {
            if lo >= max_rate {
                return None;
            }
            (lo * grow).min(max_rate)
        }
        (None, Some(hi)) => {
            if hi <= MIN_RATE {
                return None;
            }
            hi / grow
        }
        (Some(lo), Some(hi)) => {
            if (hi - lo) / lo <= precision {
                return None;
            }
            (lo * hi).sqrt()
        }
    };
    let r = r.round().max(MIN_RATE);
    let tried = |x: Option<f64>| x == Some(r);
    (!tried(b.lo) && !tried(b.hi)).then_some(r)
}

/// The `keep` best of `(id, score)` (higher first; ties by id, so the choice is stable).
pub fn survivors(scores: &[(usize, f64)], keep: usize) -> Vec<usize> {
    let mut s = scores.to_vec();
    s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.into_iter().take(keep).map(|(id, _)| id).collect()
}

/// The `keep` best of `(id, score)`, among them the best of those `is_builtin` marks when
/// there is one: it takes the last place if it did not earn one.
pub fn survivors_with_builtin(
    scores: &[(usize, f64)],
    keep: usize,
    is_builtin: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut out = survivors(scores, keep);
    let best = survivors(
        &scores
            .iter()
            .copied()
            .filter(|(id, _)| is_builtin(*id))
            .collect::<Vec<_>>(),
        1,
    );
    if let Some(&b) = best.first() {
        if !out.contains(&b) && keep > 0 {
            out.truncate(keep - 1);
            out.push(b);
        }
    }
    out
}

/// A measured point: a trial that met the SLO and kept up with its rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub trial: usize,
    pub group: String,
    pub records_per_sec: f64,
    pub p99_us: u64,
}

/// Indexes of the points on the Pareto frontier of their own group (higher throughput
/// and lower p99 both better): a point stays unless another of its group is at least as
/// good in both and better in one. Identical points keep the first.
pub fn frontier(points: &[Point]) -> Vec<usize> {
    let dominates = |a: &Point, b: &Point| {
        a.records_per_sec >= b.records_per_sec
            && a.p99_us <= b.p99_us
            && (a.records_per_sec > b.records_per_sec || a.p99_us < b.p99_us)
    };
    (0..points.len())
        .filter(|&i| {
            let p = &points[i];
            !points.iter().enumerate().any(|(j, q)| {
                q.group == p.group
                    && (dominates(q, p)
                        || (j < i
                            && q.records_per_sec == p.records_per_sec
                            && q.p99_us == p.p99_us))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_fits_the_budget_and_grows_with_it() {
        let small = plan(120.0, 2.0, 1.5, 3, 2).unwrap();
        assert!(small.planned_s <= 120.0, "{small:?}");
        let big = plan(600.0, 2.0, 1.5, 3, 2).unwrap();
        assert!(big.planned_s <= 600.0);
        assert!(big.samples > small.samples, "{small:?} {big:?}");
        assert_eq!(big.rungs[0].candidates, big.baselines + big.samples);
        // Halving: each rung keeps a third, the last at most two finalists, and the best
        // built-in is carried beside them.
        let mut n = big.rungs[0].candidates;
        for w in big.rungs.windows(2) {
            n = n
                .div_ceil(ETA)
                .min(if w[1].precision < 0.1 { 2 } else { usize::MAX });
            assert_eq!(w[1].candidates, n + 1);
            assert_eq!(w[1].trial_cap, w[1].candidates * w[1].max_steps);
            assert!(w[1].trial_s >= w[0].trial_s && w[1].precision < w[0].precision);
        }
        assert!(big.rungs.last().unwrap().candidates <= 3);
        // Without baselines nothing is carried.
        let none = plan(600.0, 2.0, 1.5, 0, 2).unwrap();
        assert_eq!(
            none.rungs[1].candidates,
            none.rungs[0].candidates.div_ceil(ETA)
        );
        assert!(plan(5.0, 2.0, 1.5, 3, 2).is_err());
        // Time is kept for the confirmation of both sides and one step-down round.
        assert_eq!(big.confirm_cap, 2 * 2 * (1 + STEP_DOWNS));
        let rungs_s: f64 = big
            .rungs
            .iter()
            .map(|g| g.trial_cap as f64 * (g.trial_s + 1.5))
            .sum();
        let confirm_s = (RESERVED_ROUNDS * 2) as f64 * (big.confirm_trial_s + 1.5);
        assert!(
            (big.planned_s - rungs_s - confirm_s).abs() < 1e-6,
            "{big:?}"
        );
    }

    fn search(capacity: f64, start: f64) -> (Bracket, usize) {
        let mut b = Bracket::default();
        let mut n = 0;
        while let Some(r) = next_rate(&b, start, 2.0, 0.1, 1e7) {
            b.record(r, r <= capacity);
            n += 1;
            assert!(n < 50);
        }
        (b, n)
    }

    #[test]
    fn the_rate_search_closes_on_the_capacity_from_either_side() {
        for start in [1000.0, 500_000.0] {
            let (b, _) = search(37_000.0, start);
            let (lo, hi) = (b.lo.unwrap(), b.hi.unwrap());
            assert!(
                lo <= 37_000.0 && hi > 37_000.0 && (hi - lo) / lo <= 0.1,
                "{b:?}"
            );
        }
        let (b, n) = search(1e9, 1e6);
        assert_eq!((b.lo, b.hi), (Some(1e7), None));
        assert!(n <= 5);
    }

    #[test]
    fn a_trial_waits_for_its_last_deliveries_a_few_slos_within_the_flush_timeout() {
        assert_eq!(flush_deadline_s(400_000, 30.0), 2.0);
        assert_eq!(flush_deadline_s(2_000_000, 30.0), 10.0);
        assert_eq!(flush_deadline_s(2_000_000, 4.0), 4.0);
        assert_eq!(flush_deadline_s(5_000, 30.0), MIN_FLUSH_S);
    }

    #[test]
    fn survivors_are_the_best_scores_with_stable_ties() {
        assert_eq!(
            survivors(&[(0, 5.0), (1, 9.0), (2, 5.0), (3, 1.0)], 3),
            [1, 0, 2]
        );
    }

    #[test]
    fn the_best_builtin_is_carried_in_the_last_place() {
        let scores = [(0, 50.0), (1, 40.0), (5, 90.0), (6, 80.0), (7, 70.0)];
        let builtin = |id: usize| id < 2;
        assert_eq!(survivors_with_builtin(&scores, 3, builtin), [5, 6, 0]);
        // A built-in that earned its place keeps it; nothing else is displaced.
        let scores = [(0, 95.0), (1, 40.0), (5, 90.0), (6, 80.0)];
        assert_eq!(survivors_with_builtin(&scores, 2, builtin), [0, 5]);
        // No built-in scored: the plain survivors.
        assert_eq!(
            survivors_with_builtin(&[(5, 1.0), (6, 2.0)], 1, builtin),
            [6]
        );
    }

    #[test]
    fn the_frontier_holds_only_non_dominated_points_per_group() {
        let p = |trial, g: &str, r, p99| Point {
            trial,
            group: g.into(),
            records_per_sec: r,
            p99_us: p99,
        };
        let pts = [
            p(0, "lz4", 100.0, 10),
            p(1, "lz4", 200.0, 20),
            p(2, "lz4", 150.0, 25),  // dominated by 1
            p(3, "none", 150.0, 25), // other group: stays
            p(4, "lz4", 200.0, 20),  // duplicate of 1
        ];
        assert_eq!(frontier(&pts), [0, 1, 3]);
    }
}
