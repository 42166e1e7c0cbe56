//! The neutral core: what crosses stages, defined once, below every stage.
//!
//! The engine produces a [`RunOutcome`] and the report consumes it; producers count into
//! [`Counts`] and histograms that the collector, the report and `kprod merge` all read;
//! observers watch the engine from commands, the live writer, metrics and the start gate.
//! Keeping these types here, not in the stage that happens to produce them, is what lets
//! imports run one way (`scripts/check-layers.py` checks it): this module imports only
//! `units` and `error`.

pub mod breakdown;
pub mod console;
pub mod consumers;
pub mod errors;
pub mod histogram;
pub mod input;
pub mod measurements;
pub mod observer;
pub mod outcome;
pub mod results;
pub mod secrets;

pub use breakdown::{StageMeans, StageSums, WeightedSum};
pub use console::print_stderr;
pub(crate) use console::print_stdout;
pub use consumers::{ConsumedSecond, ConsumerOutcome};
pub use histogram::{new_histogram, HIST_HIGHEST_US, HIST_SIGFIG};
pub use measurements::{
    count_error, IntervalCounts, Measurements, MergedInterval, StatsSummary, Totals,
    PARTIAL_BELOW_S,
};
pub use observer::{Both, Observer, Silent};
pub use outcome::{AppliedFault, RunOutcome, EMBEDDED_NOTE, MOCK_RETAINED_BYTES_PER_PARTITION};
pub use results::{
    Counts, LibrdkafkaStats, StatsWeights, TopicCounts, Verify, VerifyPartition, VerifyUnknown,
};
pub use secrets::{register_secret, scrub, scrub_bytes};
