//! The documented range of every count a profile sets, and the planned-memory estimate
//! with its cap. `kprod cluster` uses the same constants, so a topic it creates fits a
//! bench run and the other way round.
//!
//! Everything kprod allocates for a run is decided here, before any connection: the value
//! pool, the size table, the key space, the header pool, and per producer its threads and
//! librdkafka's queue (bounded by `backpressure.buffer_bytes` / `buffer_messages`) and
//! per-partition state; the embedded cluster's per-partition and per-broker state. A
//! profile whose estimate exceeds [`MAX_PLANNED_MEMORY`] fails validation (exit 2) naming
//! the key that contributes most, instead of growing until the OOM killer ends the run.

use super::V;
use crate::error::ConfigError;
use crate::profile::model::{KeyDist, Profile, SizeDist};
use crate::units::format_size;

/// Partitions of the benchmark topic (and of `kprod cluster --partitions`).
pub const MAX_PARTITIONS: u32 = 100_000;
/// Brokers of the embedded cluster (and of `kprod cluster --mock-brokers`): more only
/// costs threads and ports.
pub const MAX_MOCK_BROKERS: u32 = 64;
/// Producer threads of one process; more processes (`--instance`) scale further.
pub const MAX_PRODUCERS: u32 = 1024;
/// Distinct keys, all pre-rendered in memory (at most ~120 MB).
pub const MAX_KEY_COUNT: u64 = 10_000_000;
/// Generated headers per record.
pub const MAX_HEADERS: u32 = 1000;
/// Generated header bytes per record (`headers.count` × `headers.value_bytes`).
pub const MAX_HEADER_BYTES: u64 = 16 << 20;
/// One record's value.
pub const MAX_RECORD_BYTES: u64 = 1 << 30;
/// The planned-memory cap (8 GiB), stated in `kprod bench --help` and profiles/README.md.
pub const MAX_PLANNED_MEMORY: u64 = 8 << 30;

const MIB: u64 = 1 << 20;
/// librdkafka's own bookkeeping per queued record (its message struct and queue links).
const PER_QUEUED_RECORD: u64 = 256;
/// A producer thread: its stack, librdkafka's broker threads and the recorder's histograms.
const PER_PRODUCER: u64 = 8 * MIB;
/// librdkafka's per-partition state in one producer (toppar, queues, statistics).
const PER_PRODUCER_PARTITION: u64 = 4 << 10;
/// The mock cluster's per-partition-replica state before any record is stored.
const PER_MOCK_REPLICA: u64 = 4 << 10;
/// One mock broker: its threads and listener.
const PER_MOCK_BROKER: u64 = 4 * MIB;
/// Records from a size file are estimated at this size: the file is read when the run is
/// built (sizes.rs checks each against [`MAX_RECORD_BYTES`]).
const SIZE_FILE_ESTIMATE: u64 = MIB;

/// The planned memory of a run, in parts: (the key that sets it, bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMemory {
    pub parts: Vec<(&'static str, u64)>,
}

impl PlannedMemory {
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .map(|(_, b)| b)
            .fold(0u64, |a, b| a.saturating_add(*b))
    }
    /// The key behind the largest part: the one to change.
    pub fn largest(&self) -> &'static str {
        self.parts
            .iter()
            .max_by_key(|(_, b)| *b)
            .map_or("workload.producers", |(k, _)| k)
    }
}

impl Profile {
    /// What a run of this profile allocates at most (see the module doc), computed with
    /// saturating arithmetic so that absurd values give a huge number, never a panic.
    pub fn planned_memory(&self) -> PlannedMemory {
        let w = &self.workload;
        let record_of = |s: &SizeDist| s.max_bytes().map_or(SIZE_FILE_ESTIMATE, u64::from);
        let keys_of = |k: &KeyDist| match k {
            KeyDist::None => 0,
            KeyDist::Sequential { count }
            | KeyDist::Uniform { count }
            | KeyDist::Zipf { count, .. } => count.saturating_mul(12 + 64 + 1),
        };
        // Per-topic settings: one value pool for the largest record, and a size table and
        // key space per distinct setting (`workload::lanes`).
        let mut settings: Vec<(&SizeDist, &KeyDist)> = vec![(&w.size, &w.keys)];
        for t in &w.topics {
            let s = (
                t.size.as_ref().unwrap_or(&w.size),
                t.keys.as_ref().unwrap_or(&w.keys),
            );
            if !settings.contains(&s) {
                settings.push(s);
            }
        }
        let record = settings
            .iter()
            .map(|(s, _)| record_of(s))
            .max()
            .unwrap_or(0);
        // values::pool_len: four records or 4 MiB, at most one record + 4 MiB.
        let pool = (4 * record).max(4 * MIB).min(record + 4 * MIB);
        let tables = (settings.len() as u64).saturating_mul(256 << 10);
        let keys = settings
            .iter()
            .map(|(_, k)| keys_of(k))
            .fold(0u64, u64::saturating_add);
        let header_bytes = u64::from(w.headers.count) * u64::from(w.headers.value_bytes);
        let headers = header_bytes.saturating_add(header_bytes.min(1 << 16));
        let producers = u64::from(w.producers);
        let bp = &self.backpressure;
        let per_record = record + header_bytes + 12 + 64 + PER_QUEUED_RECORD;
        let queue = bp
            .buffer_bytes
            .min(bp.buffer_messages.saturating_mul(per_record));
        let partitions = u64::from(w.partitions);
        let mut parts = vec![
            ("workload.size", pool.saturating_add(tables)),
            ("workload.key_count", keys),
            ("workload.headers.value_bytes", headers),
            ("backpressure.buffer_bytes", producers.saturating_mul(queue)),
            ("workload.producers", producers * PER_PRODUCER),
            (
                "workload.partitions",
                partitions
                    .saturating_mul(producers)
                    .saturating_mul(PER_PRODUCER_PARTITION),
            ),
        ];
        if self.cluster.brokers.is_none() {
            let replicas = partitions.saturating_mul(w.replication_factor.into());
            parts.push((
                "cluster.mock_brokers",
                u64::from(self.cluster.mock_brokers) * PER_MOCK_BROKER,
            ));
            parts.push((
                "workload.partitions",
                replicas.saturating_mul(PER_MOCK_REPLICA),
            ));
        }
        PlannedMemory { parts }
    }
}

/// The documented range of a count key, for a value too large even for its type (caught
/// while converting, before [`ranges`] sees it): the message names the same range.
fn documented_range(key: &str) -> Option<(u64, u64)> {
    Some(match key {
        "workload.partitions" => (1, MAX_PARTITIONS.into()),
        "cluster.mock_brokers" => (1, MAX_MOCK_BROKERS.into()),
        "workload.producers" => (1, MAX_PRODUCERS.into()),
        "workload.key_count" => (1, MAX_KEY_COUNT),
        "workload.headers.count" => (0, MAX_HEADERS.into()),
        _ => return None,
    })
}

/// Message and fix for `n` outside `key`'s documented range (a count type's own range
/// when the key has none documented).
pub fn out_of_range(key: &str, n: u64) -> (String, String) {
    let (lo, hi) = documented_range(key).unwrap_or((0, u32::MAX.into()));
    (
        format!("{n} is out of range: {key} must be {lo}..={hi}"),
        format!("set {key} to a value in {lo}..={hi}"),
    )
}

/// Every count in its documented range.
pub(super) fn ranges(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let w = &p.workload;
    v.range(
        "workload.partitions",
        w.partitions.into(),
        1,
        MAX_PARTITIONS.into(),
        "partitions",
    )?;
    v.range(
        "cluster.mock_brokers",
        p.cluster.mock_brokers.into(),
        1,
        MAX_MOCK_BROKERS.into(),
        "mock_brokers",
    )?;
    v.range(
        "workload.producers",
        w.producers.into(),
        1,
        MAX_PRODUCERS.into(),
        "producers",
    )?;
    if let KeyDist::Sequential { count }
    | KeyDist::Uniform { count }
    | KeyDist::Zipf { count, .. } = w.keys
    {
        v.range(
            "workload.key_count",
            count,
            1,
            MAX_KEY_COUNT,
            "key_count (keys are pre-rendered in memory)",
        )?;
    }
    v.range(
        "workload.headers.count",
        w.headers.count.into(),
        0,
        MAX_HEADERS.into(),
        "headers.count",
    )?;
    let header_bytes = u64::from(w.headers.count) * u64::from(w.headers.value_bytes);
    if header_bytes > MAX_HEADER_BYTES {
        let key = v.blame("workload.headers.value_bytes", "workload.headers.count");
        return Err(v.err(
            key,
            format!(
                "{} headers of {} are {} per record, above kprod's maximum of {}",
                w.headers.count,
                format_size(w.headers.value_bytes.into()),
                format_size(header_bytes),
                format_size(MAX_HEADER_BYTES)
            ),
            "lower headers.count or headers.value_bytes so their product is at most 16MiB",
        ));
    }
    Ok(())
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// The planned memory under its cap; runs after every other rule, so the estimate is made
/// of values already known to be in range.
pub(super) fn memory(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let plan = p.planned_memory();
    let total = plan.total();
    if total <= MAX_PLANNED_MEMORY {
        return Ok(());
    }
    let largest = plan.largest();
    let bytes_of = |key: &str| {
        plan.parts
            .iter()
            .filter(|(k, _)| *k == key)
            .fold(0u64, |a, (_, b)| a.saturating_add(*b))
    };
    // Blame the latest-set key among the big parts: that is the change that crossed the cap
    // (`--producers 1000` names the flag, not the built-in queue size it multiplies).
    let key = plan
        .parts
        .iter()
        .filter(|(k, _)| bytes_of(k) >= total / 20)
        .fold(largest, |a, (k, _)| v.blame(a, k));
    let queue = "backpressure.buffer_bytes";
    let queue_hint = match (key == queue, largest == queue) {
        (true, _) => " or backpressure.buffer_messages (librdkafka's queue per producer), or use fewer producers",
        (false, true) => ", or backpressure.buffer_messages (librdkafka's queue per producer)",
        (false, false) => "",
    };
    Err(v.err(
        key,
        format!(
            "this run would plan {} of memory, above kprod's cap of {} (largest part: {largest}, {})",
            gib(total),
            gib(MAX_PLANNED_MEMORY),
            gib(bytes_of(largest))
        ),
        format!("lower {key}{queue_hint}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::tests::{err, ok, sets, tmp};

    #[test]
    fn counts_above_their_range_name_the_key_and_the_range() {
        let d = tmp();
        for (set, key, range) in [
            (
                "workload.partitions=100000000",
                "workload.partitions",
                "1..=100000",
            ),
            (
                "cluster.mock_brokers=100000",
                "cluster.mock_brokers",
                "1..=64",
            ),
            ("workload.producers=1025", "workload.producers", "1..=1024"),
        ] {
            let e = err(d.path(), &[], &sets(&[set]));
            assert!(e.contains(&format!("key `{key}`")), "{e}");
            assert!(e.contains(range), "{e}");
        }
        let e = err(
            d.path(),
            &[],
            &sets(&["workload.keys=uniform", "workload.key_count=10000001"]),
        );
        assert!(
            e.contains("workload.key_count") && e.contains("1..=10000000"),
            "{e}"
        );
        let e = err(
            d.path(),
            &[],
            &sets(&[
                "workload.headers.count=1000",
                "workload.headers.value_bytes=1MiB",
            ]),
        );
        assert!(
            e.contains("workload.headers.value_bytes") && e.contains("16MiB"),
            "{e}"
        );
    }

    #[test]
    fn planned_memory_is_capped_and_names_the_largest_part() {
        let d = tmp();
        let base = ok(d.path(), &[], &sets(&[]));
        let plan = base.planned_memory();
        assert!(
            plan.total() > 0 && plan.total() < MAX_PLANNED_MEMORY,
            "{plan:?}"
        );
        // The queue of one default producer is its largest part.
        assert_eq!(plan.largest(), "backpressure.buffer_bytes");
        // Each producer adds its queue: enough of them cross the cap.
        let e = err(d.path(), &[], &sets(&["workload.producers=500"]));
        assert!(e.contains("above kprod's cap of 8.0 GiB"), "{e}");
        assert!(e.contains("backpressure.buffer_bytes"), "{e}");
        // A smaller queue brings the same producer count back under it.
        let p = ok(
            d.path(),
            &[],
            &sets(&[
                "workload.producers=500",
                "backpressure.buffer_messages=1000",
            ]),
        );
        assert!(p.planned_memory().total() <= MAX_PLANNED_MEMORY);
    }
}
