//! Warnings: settings that are legal but probably not what was meant, mostly the gotchas
//! of the producer reference text (reordering, oversized records, uncompressed headers).

use super::model::*;
use crate::units::{format_duration, format_size};
use std::time::Duration;

/// librdkafka's (and, roughly, the broker's) default message.max.bytes.
const DEFAULT_MESSAGE_MAX_BYTES: u64 = 1_000_000;

/// Largest record size (value plus headers) the workload can produce, if known.
fn header_bytes(p: &Profile) -> u64 {
    let h = &p.workload.headers;
    // Generated header names are short ("h0".."h999"); count them as 4 bytes each.
    let generated = u64::from(h.count) * (u64::from(h.value_bytes) + 4);
    let fixed: u64 = h
        .fixed
        .iter()
        .map(|(k, v)| (k.len() + v.len()) as u64)
        .sum();
    generated + fixed
}

fn mean_size(size: &SizeDist) -> Option<u64> {
    match size {
        SizeDist::Fixed { bytes } => Some((*bytes).into()),
        SizeDist::Uniform { min, max } => Some((u64::from(*min) + u64::from(*max)) / 2),
        SizeDist::Normal { mean, .. } => Some((*mean).into()),
        SizeDist::File { .. } => None,
    }
}

/// Legal settings that are probably unintended, in the order the reference text lists them.
pub(crate) fn warnings(p: &Profile) -> Vec<String> {
    let mut w = Vec::new();
    delivery(p, &mut w);
    sizes(p, &mut w);
    queue(p, &mut w);
    w
}

/// Acknowledgement, ordering and timing.
fn delivery(p: &Profile, w: &mut Vec<String>) {
    let pr = &p.producer;
    if pr.max_in_flight > 1 && !pr.idempotence && pr.retries > 0 && pr.acks != Acks::Zero {
        w.push(format!(
            "max_in_flight = {} without idempotence: a retried batch can land after a later one, reordering records within a partition (set max_in_flight = 1 or enable idempotence if order matters)",
            pr.max_in_flight
        ));
    }
    if pr.acks == Acks::Zero && pr.retries > 0 {
        w.push("acks = 0 with retries > 0: the producer never learns of failures, so retries have no effect (set retries = 0)".into());
    }
    if pr.acks == Acks::All && p.workload.replication_factor == 1 {
        w.push("acks = all with replication_factor = 1: only the leader acknowledges, the same durability as acks = 1".into());
    }
    if pr.transactional_id.is_some() && pr.delivery_timeout > Duration::from_secs(900) {
        w.push(format!(
            "delivery_timeout {} becomes transaction.timeout.ms, above the broker's default transaction.max.timeout.ms (15m): init_transactions will fail unless the broker allows it",
            format_duration(pr.delivery_timeout)
        ));
    }
    // A warning, not an error: `--duration 2s` on top of base's 2s warm-up is a natural
    // smoke test (e.g. of connectivity) even though nothing gets measured.
    if let Some(d) = p.workload.duration {
        if p.workload.warmup >= d {
            w.push(format!(
                "warmup ({}) covers the whole duration ({}): nothing will be measured (lower warmup, e.g. --warmup 0, or raise duration)",
                format_duration(p.workload.warmup),
                format_duration(d)
            ));
        }
    }
}

/// Record, header and batch sizes, and compression.
fn sizes(p: &Profile, w: &mut Vec<String>) {
    let message_max = p
        .librdkafka
        .get("message.max.bytes")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_MESSAGE_MAX_BYTES);
    let headers = header_bytes(p);
    if let Some(max) = p.workload.size.max_bytes() {
        let largest = u64::from(max) + headers;
        if largest > message_max {
            w.push(format!(
                "records up to {} exceed message.max.bytes ({}; the broker default is also about 1MB): they will fail with MSG_SIZE_TOO_LARGE unless you raise message.max.bytes (-X) and the topic's max.message.bytes",
                format_size(largest),
                format_size(message_max)
            ));
        }
        if u64::from(max) > p.batching.batch_bytes {
            w.push(format!(
                "records up to {} are larger than batch_bytes ({}): such batches carry a single record",
                format_size(max.into()),
                format_size(p.batching.batch_bytes)
            ));
        }
    }
    let compressed = p.compression.codec != Codec::None;
    if headers > 1024
        || (compressed
            && headers > 0
            && mean_size(&p.workload.size).is_some_and(|m| headers * 2 >= m))
    {
        w.push(format!(
            "headers add {} per record and are not compressed: large headers are per-message overhead that batch compression does not reduce",
            format_size(headers)
        ));
    }
    if compressed && p.batching.linger.is_zero() {
        w.push(format!(
            "{} with linger = 0: compression works per batch and batches stay small without linger, so the ratio will be poor",
            p.compression.codec.name()
        ));
    }
}

/// The producer's queue.
fn queue(p: &Profile, w: &mut Vec<String>) {
    let bp = &p.backpressure;
    if bp.on_full == OnFull::Fail && !bp.max_block.is_zero() {
        w.push(format!(
            "on_full = \"fail\" ignores max_block ({}): a full queue fails the send at once",
            format_duration(bp.max_block)
        ));
    }
    if !bp.buffer_bytes.is_multiple_of(1024) {
        w.push(format!(
            "buffer_bytes {} is not a whole number of KiB: librdkafka's queue.buffering.max.kbytes gets {}KiB",
            format_size(bp.buffer_bytes),
            (bp.buffer_bytes / 1024).max(1)
        ));
    }
    if bp.buffer_bytes < p.batching.batch_bytes {
        w.push(format!(
            "buffer_bytes ({}) is smaller than batch_bytes ({}): batches can never fill",
            format_size(bp.buffer_bytes),
            format_size(p.batching.batch_bytes)
        ));
    }
}
