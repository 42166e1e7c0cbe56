//! The outcome of a run: what the engine hands over when the last producer has flushed,
//! and what the report builder and `totals.json` are made from.

use super::measurements::Measurements;
use super::results::Verify;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Said wherever the embedded cluster was used.
pub const EMBEDDED_NOTE: &str = "embedded cluster (librdkafka mock brokers in this process): \
     absolute numbers do not predict a real cluster; compare ratios between runs";

/// What the embedded cluster keeps of each partition's log: librdkafka's mock broker trims
/// the oldest batches past 5 MiB (or 100,000 batches). The limit is fixed in
/// `rd_kafka_mock_partition_init` (librdkafka 2.12) with no property or `rd_kafka_mock_*`
/// call to raise it, so a long `--verify` run can only be told how to stay under it.
pub const MOCK_RETAINED_BYTES_PER_PARTITION: u64 = 5 * 1024 * 1024;

/// What happened to one injected fault, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedFault {
    pub spec: String,
    /// Seconds after t0 when it was applied / undone (None: never reached).
    pub applied_s: Option<f64>,
    pub ended_s: Option<f64>,
    /// Set when the mock cluster refused the operation.
    pub error: Option<String>,
}

/// What the engine hands to the report builder.
pub struct RunOutcome {
    pub measurements: Measurements,
    pub cluster: String,
    pub embedded: bool,
    pub partitions: u32,
    /// Many topics: each topic's partitions as metadata showed them, in the profile's
    /// order (`workload.topics`); empty with one topic.
    pub topic_partitions: Vec<u32>,
    pub started_at: SystemTime,
    /// t0 -> all producers finished flushing.
    pub duration: Duration,
    pub interrupted: bool,
    /// An observer stopped the run (`--abort-on-breach`): why.
    pub aborted: Option<String>,
    /// Effective producer properties of producer 0 (bootstrap and client id included).
    pub props: BTreeMap<String, String>,
    pub mean_record_bytes: f64,
    /// The clock source the producers read.
    pub clock: &'static str,
    /// What the fault schedule did (empty without faults).
    pub faults: Vec<AppliedFault>,
    /// `--verify`: what reading the records back found, or why it could not be done.
    /// `[consumers]`: what the consumers measured; None without consumers.
    pub consumers: Option<super::ConsumerOutcome>,
    pub verify: Option<Result<Verify, String>>,
}
