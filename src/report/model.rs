//! The run report: the one immutable result of a run, and the contract every exporter and
//! every later command (compare, check, sweep, merge) reads.
//!
//! Field names carry their units (`latency_us`, `bytes_per_sec`, `duration_s`). Changing a
//! name or meaning bumps `SCHEMA_VERSION`; adding fields does not.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    Interrupted,
    Failed,
}

/// Latency percentiles of one HDR histogram, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
    pub mean: f64,
    pub stddev: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Intended send time (t0 + i/rate) -> delivery report: the headline, free of
    /// coordinated omission.
    pub corrected: Percentiles,
    /// Enqueue (produce() accepted the record) -> delivery report.
    pub uncorrected: Percentiles,
    /// Intended send time -> enqueue: how far the generator fell behind its schedule.
    pub schedule_lag: Percentiles,
    /// Duration of each commit_transaction call (transactional profiles only).
    pub commit: Option<Percentiles>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Records handed to the producer (produce() called), whether or not enqueued.
    pub sent: u64,
    /// Records with a successful delivery report.
    pub delivered: u64,
    /// Records that failed: delivery report with an error, or refused at enqueue.
    pub failed: u64,
    /// Records whose outcome is unknown: still queued or in flight when the flush deadline
    /// ended (purged), so neither delivered nor failed can be claimed.
    pub unknown: u64,
}

impl Counts {
    pub fn identity_holds(&self) -> bool {
        self.sent == self.delivered + self.failed + self.unknown
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Records {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub unknown: u64,
    /// `sent == delivered + failed + unknown`, checked, never assumed.
    pub identity_holds: bool,
    /// True in fire-and-forget send mode: only failures are reported by librdkafka, so
    /// `delivered` is sent minus failed minus unknown after the flush.
    pub delivered_inferred: bool,
    /// Records due before the end of the run that were never sent because the generator
    /// was behind schedule (not part of `sent`).
    #[serde(default)]
    pub behind_schedule: u64,
    /// The same counts for records whose intended send time fell after the warm-up.
    pub measured: Counts,
    /// The same counts for records sent during the warm-up.
    pub warmup: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Records sent after the warm-up and delivered, per second of the measured window.
    pub records_per_sec: f64,
    /// Payload bytes (key + value + headers) of those records, per second.
    pub bytes_per_sec: f64,
    /// Target rate across all producers; None = unlimited.
    pub target_records_per_sec: Option<f64>,
    /// Rate at which records were handed to the producer during the measured window.
    pub send_records_per_sec: f64,
    /// Measured window, seconds since the run's t0: [end of warm-up, delivery of the last
    /// record sent after the warm-up].
    pub window_start_s: f64,
    pub window_end_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub count: u64,
    /// "retriable" (retries exhausted), "fatal", or "local" (never reached a broker).
    pub class: String,
    pub description: String,
}

/// Figures derived from librdkafka's statistics JSON (parsed off the hot path).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LibrdkafkaStats {
    pub stats_samples: u64,
    /// Average produce batch size after compression, bytes (weighted by batch count).
    pub avg_batch_bytes: Option<f64>,
    /// Average records per produce batch (weighted by batch count).
    pub avg_batch_records: Option<f64>,
    /// Produce requests sent to brokers.
    pub requests: u64,
    /// Broker round-trip time, mean over samples weighted by count, microseconds.
    pub rtt_avg_us: Option<f64>,
    pub rtt_p99_us: Option<f64>,
    /// Time records spent in librdkafka's internal queue, mean, microseconds.
    pub int_latency_avg_us: Option<f64>,
    /// Broker throttle time, mean, milliseconds.
    pub throttle_avg_ms: Option<f64>,
    /// Highest number of records / bytes held in the producer queue.
    pub peak_queue_records: u64,
    pub peak_queue_bytes: u64,
    /// Uncompressed key+value bytes of produced batches (partition `txbytes`).
    pub uncompressed_bytes: u64,
    /// Bytes of produced batches on the wire (sum of `batchsize` windows).
    pub wire_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transactions {
    pub committed: u64,
    pub aborted: u64,
    pub records_per_transaction: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// End of the interval, seconds since t0.
    pub t_s: f64,
    /// Wall-clock end of the interval, Unix milliseconds (aligns several instances).
    pub unix_ms: u64,
    pub in_warmup: bool,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub records_per_sec: f64,
    pub bytes_per_sec: f64,
    /// Corrected latency of records delivered in this interval.
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Records waiting for a delivery report at the end of the interval (all producers).
    pub queue_depth: u64,
    /// The injected faults in force during this second (`--fault`), `; `-separated.
    #[serde(default)]
    pub fault: Option<String>,
}

/// What the numbers mean: printed with the table and stored with the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub clock: String,
    pub latency_unit: String,
    pub corrected_from: String,
    pub uncorrected_from: String,
    pub latency_to: String,
    pub warmup_s: f64,
    pub warmup_excluded: bool,
    pub histogram: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub kprod_version: String,
    pub librdkafka_version: String,
    pub host: String,
    pub os: String,
    pub cpus: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Effective librdkafka properties of the producers, secrets redacted.
    pub librdkafka: BTreeMap<String, String>,
    /// The resolved kprod profile, as `kprod profiles show` prints it.
    pub profile: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub status: Status,
    /// Why the run is interrupted or failed.
    pub status_reason: Option<String>,
    /// Profile layers, in the order applied.
    pub profile: Vec<String>,
    pub description: String,
    /// "embedded" or the bootstrap list.
    pub cluster: String,
    /// Printed wherever the embedded cluster was used.
    pub cluster_note: Option<String>,
    pub topic: String,
    pub partitions: u32,
    pub producers: u32,
    pub send_mode: String,
    pub instance: Option<u32>,
    pub instances: Option<u32>,
    /// RFC 3339 UTC time at t0.
    pub started_at: String,
    /// t0 -> end of flush, seconds.
    pub duration_s: f64,
    pub measurement: Measurement,
    pub records: Records,
    pub throughput: Throughput,
    pub latency_us: Latency,
    /// librdkafka error name -> records that failed with it.
    pub errors: BTreeMap<String, u64>,
    pub error_details: BTreeMap<String, ErrorInfo>,
    /// Uncompressed bytes / bytes on the wire; None when statistics gave no batches.
    pub compression_ratio: Option<f64>,
    pub librdkafka_stats: LibrdkafkaStats,
    pub transactions: Option<Transactions>,
    pub config: Config,
    pub environment: Environment,
    pub warnings: Vec<String>,
    pub intervals: Vec<Interval>,
    /// Faults injected into the embedded cluster (`--fault`), in schedule order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultRecord>,
    /// `--verify`: what reading the records back found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
}

/// One injected fault and when it was really applied and undone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    /// Canonical spec, e.g. `broker-down:2@10s+5s`.
    pub spec: String,
    /// Seconds after t0 when the embedded cluster applied it; None if the run ended first.
    pub applied_s: Option<f64>,
    /// Seconds after t0 when it was undone (end of FOR, or the end of the run).
    pub ended_s: Option<f64>,
    /// Set when the embedded cluster refused the operation.
    pub error: Option<String>,
}

/// `--verify`: the produced records read back and compared with their delivery reports.
/// Each record carries `kprod-verify` = instance, producer and sequence number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verify {
    /// Records the client confirmed (successful delivery report; fire-and-forget: enqueued
    /// and never reported failed, since it reports nothing else).
    pub acknowledged: u64,
    /// Records of this run read back, copies included.
    pub read: u64,
    /// Acknowledged but not read back.
    pub lost: u64,
    /// Extra copies read back (a record read three times counts 2).
    pub duplicated: u64,
    /// Records read after a later record of the same producer in the same partition.
    pub reordered: u64,
    /// Records whose outcome the client could not tell (timed out or purged).
    pub unknown: VerifyUnknown,
    /// Records reported failed that were written all the same.
    pub failed_found: u64,
    /// Not read back from a partition whose log start moved past where the run began
    /// (retention deleted records; the embedded cluster keeps 5 MB per partition): lost
    /// or deleted cannot be told apart, so they are neither counted lost nor found.
    #[serde(default)]
    pub expired: u64,
    /// Every partition was read from where the run began to the end offset it had after
    /// the run, and no log was truncated.
    pub complete: bool,
    /// The same counts per partition, plus the offset range read.
    pub partitions: Vec<VerifyPartition>,
    /// Why the read-back stopped early, if it did (counts cover what was read).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyUnknown {
    pub total: u64,
    /// Written after all.
    pub found: u64,
    pub not_found: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyPartition {
    /// None: records whose partition the client never reported (fire-and-forget without
    /// an explicit partition).
    pub partition: Option<i32>,
    pub start_offset: i64,
    pub end_offset: i64,
    pub read: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub unknown_found: u64,
    pub unknown_not_found: u64,
    pub failed_found: u64,
    #[serde(default)]
    pub expired: u64,
    /// First offset still in the log after the run; above `start_offset` means truncated.
    #[serde(default)]
    pub log_start_offset: i64,
    /// The first few lost records as `producer:sequence`, to look for in client logs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_records: Vec<String>,
}
