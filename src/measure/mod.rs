//! Measurement: per-producer recorders, the collector that merges them, and librdkafka
//! statistics. What they produce (`Totals`, `Measurements`, error names and classes) is
//! defined in `domain`, where the report can read it without importing measurement.
pub mod breakdown;
pub mod clock;
pub mod collector;
pub mod recorder;
pub mod stats;
