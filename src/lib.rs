//! kprod: a load generator and benchmark for Kafka producers.
//!
//! Pipeline: profile layers -> resolved [`profile::Profile`] -> [`plan::Plan`] ->
//! [`engine`] -> immutable [`report::RunReport`] -> exporters. `src/main.rs` only parses
//! the command line and calls [`run`].

pub mod error;
pub mod profile;
pub mod report;
pub mod units;
pub mod workload;

pub use error::{ConfigError, KprodError, Result};
