//! The run report: the one immutable result of a run, and the contract every exporter and
//! every later command (compare, check, sweep, merge) reads.
//!
//! Field names carry their units (`latency_us`, `bytes_per_sec`, `duration_s`). Changing a
//! name or meaning bumps `SCHEMA_VERSION`; adding fields does not. The parts that stages
//! below the report fill in (record counts, librdkafka statistics, `--verify` results) are
//! defined in `domain::results` and re-exported here: the schema is still read here whole.

pub use crate::domain::results::{Counts, LibrdkafkaStats, Verify, VerifyPartition, VerifyUnknown};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    Interrupted,
    /// A fatal client error, or every measured record failed.
    Failed,
    /// No record sent after the warm-up was delivered: nothing was measured.
    Empty,
    /// `--abort-on-breach` stopped the run: a threshold was broken for K consecutive
    /// seconds. The report covers the run until then, like an interrupted one.
    Aborted,
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
    /// `[consumers]`: intended send time (the value's stamp) -> record returned by the
    /// consumer poll, same clock, records intended after the warm-up, every group's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e: Option<Percentiles>,
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
    /// Measured window, seconds since the run's t0: [schedule slot of the first record
    /// after the warm-up (the end of the warm-up when none), the later of the delivery of
    /// the last of them and the end of generation (capped at the duration)].
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
    /// How long the interval really lasted: 1 s, less for the run's last one. Placed after
    /// the older counters and before `fault`, so positional readers of `intervals.csv`
    /// keep both their leading columns and `fault` as the last one.
    #[serde(default = "one_second")]
    pub length_s: f64,
    /// The run's last interval, shorter than a second: its rates cover `length_s` only.
    #[serde(default)]
    pub partial: bool,
    /// Corrected p99.9 of the records delivered in this interval (0 in reports written
    /// before it existed). Before `fault`, like `length_s`.
    #[serde(default)]
    pub p999_us: u64,
    /// The run directory's name (`runs.csv`'s `run`), so rows of several runs' files
    /// concatenated stay apart. Set in `intervals.csv` only; report.json leaves it out,
    /// the report being the run's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Index into `stages[]` of the load stage this second started in (None without
    /// stages). Before `fault`, like `length_s`.
    #[serde(default)]
    pub stage: Option<u32>,
    /// Mean corrected latency of the records delivered in this second; with the
    /// `breakdown_*_us` columns (librdkafka's windows filed under this second, µs per
    /// record; see `latency_breakdown_us`) what explains it. Before `fault`.
    #[serde(default)]
    pub mean_us: Option<f64>,
    #[serde(default)]
    pub breakdown_queue_wait_us: Option<f64>,
    #[serde(default)]
    pub breakdown_inflight_wait_us: Option<f64>,
    #[serde(default)]
    pub breakdown_broker_rtt_us: Option<f64>,
    #[serde(default)]
    pub breakdown_throttle_us: Option<f64>,
    /// `[consumers]`: records of this run consumed in this second, every group's (the
    /// last second also holds the drain after the flush). 0 without consumers.
    #[serde(default)]
    pub consumed: u64,
    /// `consumed` / `length_s`.
    #[serde(default)]
    pub consumed_per_sec: f64,
    /// Records delivered so far minus consumed so far by the slowest group, at the
    /// second's end (never below 0).
    #[serde(default)]
    pub consumer_lag: u64,
    /// End-to-end p99 of the records consumed in this second.
    #[serde(default)]
    pub e2e_p99_us: u64,
    /// The injected faults in force during this second (`--fault`), `; `-separated.
    #[serde(default)]
    pub fault: Option<String>,
}

/// Reports written before `length_s` existed held whole seconds but for the last one.
fn one_second() -> f64 {
    1.0
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
    /// `[consumers]`: what `latency_us.e2e` measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e: Option<String>,
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
    /// Why the run is interrupted, failed or empty.
    pub status_reason: Option<String>,
    /// Profile layers, in the order applied.
    pub profile: Vec<String>,
    pub description: String,
    /// `--name`, when given (also in the run directory's name and `runs.csv`).
    #[serde(default)]
    pub name: Option<String>,
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
    /// RFC 3339 UTC time at the end of the flush (t0 + `duration_s`); None in reports
    /// written before it existed.
    #[serde(default)]
    pub ended_at: Option<String>,
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
    /// The command line as given (argv, the program first), secret values redacted; None
    /// for a run built in-process without one and in reports older than the field.
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
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
    /// `[[workload.stages]]`: per-stage figures, in stage order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<super::stages::StageReport>,
    /// The mean corrected latency split into stages (`report::breakdown`); None without
    /// statistics windows after the warm-up and in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_breakdown_us: Option<super::breakdown::LatencyBreakdown>,
    /// `[consumers]`: what the consumers read during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumers: Option<super::consumers::ConsumersReport>,
    /// Many topics (`[[workload.topics]]`, `--topics N`): per-topic figures, in the
    /// profile's order; absent with one topic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<super::topics::TopicReport>,
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
