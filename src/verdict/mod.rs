//! Verdicts you can gate on: the statistics behind `check`, `compare` and `--threshold`.
//! Pure: numbers in, estimates and verdicts out; no files, no clock, no engine.
//!
//! `rng` (a seeded PRNG, so a verdict is reproducible), `stats` (order statistics,
//! resampling), `change` (relative change with a percentile-bootstrap interval), `judge`
//! (pass / fail / inconclusive, polarity, exit codes), `slo` (absolute thresholds),
//! `breach` (`--abort-on-breach`: thresholds judged second by second while a run goes).

pub mod breach;
pub mod change;
pub mod judge;
pub mod rng;
pub mod slo;
pub mod stats;

pub use breach::BreachWatch;
pub use change::{estimate, Bootstrap, Change, Method, Scale, Side};
pub use judge::{
    judge, overall, FigureResult, InconclusivePolicy, Polarity, Verdict, EXIT_INCONCLUSIVE,
};
pub use slo::Threshold;
