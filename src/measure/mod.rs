//! Measurement: per-producer recorders, the collector that merges them, error classes
//! and librdkafka statistics.
pub mod clock;
pub mod collector;
pub mod errors;
pub mod recorder;
pub mod stats;
