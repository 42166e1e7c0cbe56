//! Result types that stages below the report fill in and the report carries unchanged:
//! record counts (recorders), librdkafka statistics and their weights (the statistics
//! aggregator), and what `--verify` found (the verifier). They are part of the
//! `report.json` / `totals.json` schema, so every field name is a file format.

use serde::{Deserialize, Serialize};

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
    /// Idempotent producers: when the last of them got its producer id, ms after t0
    /// (negative: before it). librdkafka holds every record until then, and asks for the
    /// id on a 500 ms timer after the client starts, so this is start-up, not load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer_id_assigned_ms: Option<f64>,
}

impl LibrdkafkaStats {
    /// Uncompressed bytes / bytes on the wire, when any batch was seen.
    pub fn compression_ratio(&self) -> Option<f64> {
        (self.wire_bytes > 0 && self.uncompressed_bytes > 0)
            .then(|| self.uncompressed_bytes as f64 / self.wire_bytes as f64)
    }
}

/// Counts behind the weighted averages of `librdkafka_stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsWeights {
    pub batches: f64,
    pub batch_records: f64,
    pub wire_bytes: f64,
    pub rtt_count: f64,
    pub int_latency_count: f64,
    pub throttle_count: f64,
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

/// One topic's records (many-topics runs): the whole run's outcomes (warm-up included,
/// like `records.*`) and the measured records' deliveries and bytes for its rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicCounts {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Records sent after the warm-up and delivered (fire-and-forget: not failed).
    pub measured_delivered: u64,
    /// Their key + value + header bytes.
    pub measured_bytes: u64,
}

impl TopicCounts {
    pub fn add(&mut self, o: &TopicCounts) {
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.failed += o.failed;
        self.unknown += o.unknown;
        self.measured_delivered += o.measured_delivered;
        self.measured_bytes += o.measured_bytes;
    }
}
