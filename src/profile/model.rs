//! The resolved profile: every knob kprod understands, with concrete values.
//!
//! A `Profile` is what all layers (built-in defaults < extends chain < profile files <
//! `--set` < explicit flags) collapse into. Everything downstream (plan, engine, report)
//! reads only this type, never raw TOML.

pub use crate::units::Rate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// acks setting of the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Acks {
    /// acks=0: fire-and-forget at the protocol level.
    Zero,
    /// acks=1: leader only.
    One,
    /// acks=all (-1): full ISR.
    All,
}

impl Acks {
    /// Value for librdkafka's `acks` property.
    pub fn librdkafka_value(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFull {
    /// Wait (up to `max_block`) for room in the producer's buffer.
    Block,
    /// Drop the record at once and count it as failed (`QUEUE_FULL`).
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendMode {
    /// Enqueue and learn the outcome from the delivery report (default).
    Async,
    /// Wait for each record's delivery report before sending the next.
    Sync,
    /// Enqueue and never look at the outcome; only enqueue counts are kept.
    FireAndForget,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum SizeDist {
    Fixed {
        bytes: u32,
    },
    Uniform {
        min: u32,
        max: u32,
    },
    /// Normal distribution clamped to [min, max].
    Normal {
        mean: u32,
        stddev: u32,
        min: u32,
        max: u32,
    },
    /// One size per line of a file; sampled uniformly.
    File {
        path: PathBuf,
    },
}

impl SizeDist {
    /// Largest size this distribution can produce (for File: unknown until loaded).
    pub fn max_bytes(&self) -> Option<u32> {
        match self {
            SizeDist::Fixed { bytes } => Some(*bytes),
            SizeDist::Uniform { max, .. } | SizeDist::Normal { max, .. } => Some(*max),
            SizeDist::File { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum ValueGen {
    /// Incompressible bytes.
    Random,
    /// English-like words: compresses like log lines.
    Text,
    /// JSON objects with repeating field names: compresses like event payloads.
    Json,
    /// Lines of a user file, cycled.
    File { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum KeyDist {
    /// No key: librdkafka's sticky partitioning.
    None,
    /// Keys 0, 1, 2, ... cycling over `count` distinct keys.
    Sequential { count: u64 },
    /// Uniform over `count` distinct keys.
    Uniform { count: u64 },
    /// Zipf with exponent `s` over `count` distinct keys (hot keys).
    Zipf { count: u64, s: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadersCfg {
    /// Number of generated headers per record (in addition to `fixed`).
    pub count: u32,
    /// Value size in bytes of each generated header.
    pub value_bytes: u32,
    /// Fixed name=value pairs added to every record.
    pub fixed: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProducerCfg {
    pub acks: Acks,
    pub idempotence: bool,
    /// max.in.flight.requests.per.connection
    pub max_in_flight: u32,
    pub retries: u32,
    #[serde(with = "crate::units::serde_duration")]
    pub delivery_timeout: Duration,
    #[serde(with = "crate::units::serde_duration")]
    pub request_timeout: Duration,
    #[serde(with = "crate::units::serde_duration")]
    pub retry_backoff: Duration,
    pub transactional_id: Option<String>,
    /// Records per transaction when `transactional_id` is set.
    pub records_per_transaction: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchingCfg {
    /// batch.size in bytes.
    pub batch_bytes: u64,
    /// batch.num.messages.
    pub batch_messages: u64,
    #[serde(with = "crate::units::serde_duration")]
    pub linger: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompressionCfg {
    pub codec: Codec,
    /// compression.level; None = codec default.
    pub level: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackpressureCfg {
    /// queue.buffering.max.kbytes, in bytes.
    pub buffer_bytes: u64,
    /// queue.buffering.max.messages.
    pub buffer_messages: u64,
    pub on_full: OnFull,
    /// How long a blocked send waits for room before failing with QUEUE_FULL.
    #[serde(with = "crate::units::serde_duration")]
    pub max_block: Duration,
    /// kprod's own semaphore: at most this many records awaiting a delivery report per
    /// producer (the reference text's "rate limiting upstream"). None = only librdkafka's limits.
    pub max_in_flight_records: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadCfg {
    pub topic: String,
    pub partitions: u32,
    pub replication_factor: u32,
    pub rate: Rate,
    /// Stop after this long (measured window + warm-up). At least one of duration/records is set.
    #[serde(with = "crate::units::serde_opt_duration")]
    pub duration: Option<Duration>,
    /// Stop after this many records in total (warm-up included).
    pub records: Option<u64>,
    #[serde(with = "crate::units::serde_duration")]
    pub warmup: Duration,
    pub producers: u32,
    pub size: SizeDist,
    pub value: ValueGen,
    pub keys: KeyDist,
    /// Key prefix -> partition (the reference text's region partitioner). When non-empty,
    /// generated keys are `<prefix>:<n>` with prefixes taken in turn, and records whose
    /// prefix is mapped go to that partition explicitly; others fall back to `partitioner`.
    pub partition_map: BTreeMap<String, i32>,
    /// librdkafka partitioner name (murmur2_random, consistent_random, random, ...).
    pub partitioner: String,
    pub headers: HeadersCfg,
    pub send_mode: SendMode,
    pub seed: u64,
    /// `[[workload.stages]]`; when given, `rate` is their mean and `duration` at most their total.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<super::Stage>,
    /// `[[workload.topics]]` or `--topics N`, expanded; empty = the one topic `topic`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<super::TopicCfg>,
}

impl WorkloadCfg {
    /// The run's topics: `topics`, or the one topic `topic` with the workload's shape.
    pub fn topic_list(&self) -> Vec<super::TopicCfg> {
        if !self.topics.is_empty() {
            return self.topics.clone();
        }
        vec![super::TopicCfg::plain(
            self.topic.clone(),
            self.partitions,
            self.replication_factor,
        )]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterCfg {
    /// Bootstrap list of a real cluster; None = embedded mock cluster.
    pub brokers: Option<String>,
    /// Broker count of the embedded cluster.
    pub mock_brokers: u32,
}

/// `kprod check` regression thresholds from a `[check]` table: how much worse than the
/// baseline a figure may get, in percent (errors: how many more failed + unknown records).
/// None = not set by any layer; `kprod check` then uses its documented default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct CheckCfg {
    pub throughput: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub errors: Option<u64>,
    /// Absolute thresholds (`--threshold` expressions, checked at load); the command
    /// line's `--threshold`s are added to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
}

/// `[consumers]`: consumer threads reading the benchmark topic during the run, for
/// end-to-end latency and consumer lag. `count = 0` (the default) runs none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConsumersCfg {
    /// Consumer threads per group.
    pub count: u32,
    /// Consumer groups; each reads every record.
    pub groups: u32,
    /// librdkafka `fetch.min.bytes`; None = librdkafka's default.
    pub fetch_min_bytes: Option<u64>,
    /// librdkafka `fetch.wait.max.ms`; None = 10 on the embedded cluster (its mock broker
    /// holds every Fetch for the whole wait), librdkafka's default elsewhere.
    pub fetch_wait_max_ms: Option<u64>,
    /// `--backlog`: consumers stay paused this long after the warm-up, then resume.
    #[serde(with = "crate::units::serde_opt_duration")]
    pub backlog: Option<Duration>,
    /// `--consumer-cpus`: the CPUs the consumers (their threads and librdkafka's) run on,
    /// as `taskset -c` writes them (`1`, `2-3`); None = wherever the process may run.
    pub cpus: Option<String>,
}

impl ConsumersCfg {
    /// No consumers: the section is left out of the serialized profile, so profiles and
    /// reports from before it existed serialize exactly as they did.
    pub fn is_off(&self) -> bool {
        self.count == 0
    }
}

/// A fully resolved profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Names (or paths) of the profile layers applied, in order.
    pub names: Vec<String>,
    pub description: String,
    pub producer: ProducerCfg,
    pub batching: BatchingCfg,
    pub compression: CompressionCfg,
    pub backpressure: BackpressureCfg,
    pub workload: WorkloadCfg,
    pub cluster: ClusterCfg,
    pub check: CheckCfg,
    /// Pass-through librdkafka properties (profile `[librdkafka]` table, then `-X`).
    pub librdkafka: BTreeMap<String, String>,
    /// Non-fatal findings of validation, printed before the run and kept in the report.
    pub warnings: Vec<String>,
    /// Faults injected into the embedded cluster (`[[fault]]` tables, then `--fault`).
    pub faults: Vec<crate::faults::FaultSpec>,
    /// `[consumers]` (off by default).
    #[serde(skip_serializing_if = "ConsumersCfg::is_off")]
    pub consumers: ConsumersCfg,
}
