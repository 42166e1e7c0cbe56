//! Validation of a resolved profile before any connection: rules from the producer
//! reference text and librdkafka's property ranges (CONFIGURATION.md of librdkafka 2.12).
//! Violations are errors that name the file, line and key that set the offending value;
//! findings that are legal but probably unintended become warnings.

mod brokers;
pub(crate) mod consumers;
mod sizes;
pub(crate) use sizes::size_problem;
mod limits;

use super::keys::closest;
use super::layer::Merged;
use super::librdkafka::PARTITIONERS;
use super::model::*;
use crate::error::ConfigError;
use crate::units::format_duration;
pub use limits::{
    out_of_range, PlannedMemory, MAX_HEADERS, MAX_HEADER_BYTES, MAX_KEY_COUNT, MAX_MOCK_BROKERS,
    MAX_PARTITIONS, MAX_PLANNED_MEMORY, MAX_PRODUCERS, MAX_RECORD_BYTES,
};
use std::time::Duration;

const GIB: u64 = 1 << 30;
const I32_MAX: u64 = i32::MAX as u64;
struct V<'a> {
    m: &'a Merged,
}

impl V<'_> {
    /// An error located where `key`'s final value was written.
    fn err(&self, key: &str, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        let e = ConfigError::new(message).fix(fix);
        match self.m.values.get(key) {
            Some(entry) => e
                .at(entry.origin.loc.clone())
                .key(entry.origin.label.clone()),
            None => e.key(key),
        }
    }
    /// Of two keys in conflict, the one set by the later (higher-precedence) layer: that is
    /// the change that broke the combination.
    fn blame<'k>(&self, a: &'k str, b: &'k str) -> &'k str {
        let rank = |k: &str| self.m.values.get(k).map_or(0, |e| e.origin.rank);
        if rank(b) > rank(a) {
            b
        } else {
            a
        }
    }
    fn whole_ms(&self, key: &str, d: Duration) -> Result<(), ConfigError> {
        if !d.subsec_nanos().is_multiple_of(1_000_000) {
            return Err(self.err(
                key,
                format!(
                    "{} is not a whole number of milliseconds (librdkafka takes integer ms)",
                    format_duration(d)
                ),
                format!(
                    "round {key} to whole milliseconds, e.g. \"{}ms\"",
                    d.as_millis().max(1)
                ),
            ));
        }
        Ok(())
    }
    fn ms_range(
        &self,
        key: &str,
        d: Duration,
        min_ms: u128,
        max_ms: u128,
        property: &str,
    ) -> Result<(), ConfigError> {
        self.whole_ms(key, d)?;
        let ms = d.as_millis();
        if ms < min_ms || ms > max_ms {
            return Err(self.err(
                key,
                format!(
                    "{} is outside librdkafka's range for {property} ({min_ms}..{max_ms} ms)",
                    format_duration(d)
                ),
                format!(
                    "set {key} between {} and {}",
                    fmt_ms(min_ms),
                    fmt_ms(max_ms)
                ),
            ));
        }
        Ok(())
    }
    fn range(&self, key: &str, v: u64, min: u64, max: u64, what: &str) -> Result<(), ConfigError> {
        if v < min || v > max {
            return Err(self.err(
                key,
                format!("{v} is out of range: {what} must be between {min} and {max}"),
                format!("set {key} to a value in {min}..={max}"),
            ));
        }
        Ok(())
    }
}

fn fmt_ms(ms: u128) -> String {
    format_duration(Duration::from_millis(ms.min(u64::MAX as u128) as u64))
}

/// Checks every rule; returns the warnings.
pub(crate) fn validate(p: &Profile, m: &Merged) -> Result<Vec<String>, ConfigError> {
    let v = V { m };
    producer(p, &v)?;
    batching_and_compression(p, &v)?;
    backpressure(p, &v)?;
    workload(p, &v)?;
    Ok(super::warnings::warnings(p))
}

fn producer(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let pr = &p.producer;
    v.range(
        "producer.max_in_flight",
        pr.max_in_flight.into(),
        1,
        1_000_000,
        "max.in.flight.requests.per.connection",
    )?;
    v.range(
        "producer.retries",
        pr.retries.into(),
        0,
        I32_MAX,
        "message.send.max.retries",
    )?;
    if pr.transactional_id.is_some() && (!pr.idempotence || pr.acks != Acks::All) {
        let key = if !pr.idempotence {
            "producer.idempotence"
        } else {
            "producer.acks"
        };
        let key = v.blame(key, "producer.transactional_id");
        return Err(v.err(
            key,
            "transactional_id requires idempotence = true and acks = \"all\": transactional producers cannot use acks != all",
            "set idempotence = true and acks = \"all\" in [producer], or remove transactional_id",
        ));
    }
    if pr.idempotence {
        if pr.acks != Acks::All {
            return Err(v.err(
                v.blame("producer.acks", "producer.idempotence"),
                format!(
                    "idempotence requires acks = \"all\", but acks is \"{}\"",
                    pr.acks.librdkafka_value()
                ),
                "set acks = \"all\", or idempotence = false to use acks 0 or 1",
            ));
        }
        if pr.max_in_flight > 5 {
            return Err(v.err(
                v.blame("producer.max_in_flight", "producer.idempotence"),
                format!(
                    "idempotence allows at most 5 requests in flight per connection, got {}",
                    pr.max_in_flight
                ),
                "set max_in_flight = 5 (or less), or idempotence = false",
            ));
        }
        if pr.retries == 0 {
            return Err(v.err(
                v.blame("producer.retries", "producer.idempotence"),
                "idempotence requires retries ≥ 1 (its point is safe retries)",
                "set retries = 2147483647, or idempotence = false",
            ));
        }
    }
    if pr.transactional_id.is_some() && pr.records_per_transaction == 0 {
        return Err(v.err(
            "producer.records_per_transaction",
            "records_per_transaction must be at least 1",
            "set records_per_transaction = 1000",
        ));
    }
    timeouts(p, v)
}

/// librdkafka's timeout ranges, and the ordering delivery ≥ linger + request the retries need.
fn timeouts(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let pr = &p.producer;
    v.ms_range(
        "producer.delivery_timeout",
        pr.delivery_timeout,
        0,
        I32_MAX as u128,
        "message.timeout.ms",
    )?;
    v.ms_range(
        "producer.request_timeout",
        pr.request_timeout,
        1,
        900_000,
        "request.timeout.ms",
    )?;
    v.ms_range(
        "producer.retry_backoff",
        pr.retry_backoff,
        1,
        300_000,
        "retry.backoff.ms",
    )?;
    let floor = p.batching.linger + pr.request_timeout;
    if pr.delivery_timeout < floor {
        let key = v.blame("producer.delivery_timeout", "batching.linger");
        let key = v.blame(key, "producer.request_timeout");
        return Err(v.err(
            key,
            format!(
                "delivery_timeout ({}) must be ≥ linger ({}) + request_timeout ({}), or records time out before the first retry can complete",
                format_duration(pr.delivery_timeout),
                format_duration(p.batching.linger),
                format_duration(pr.request_timeout)
            ),
            format!("set delivery_timeout = \"{}\" or more", format_duration(floor)),
        ));
    }
    transaction_timeout(p, v)
}

/// An explicit transaction.timeout.ms may not be below the delivery timeout.
fn transaction_timeout(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let pr = &p.producer;
    if pr.transactional_id.is_some() {
        if let Some(t) = p.librdkafka.get("transaction.timeout.ms") {
            let ok = t
                .trim()
                .parse::<u128>()
                .is_ok_and(|t| t >= pr.delivery_timeout.as_millis());
            if !ok {
                let entry = v.m.librdkafka.get("transaction.timeout.ms");
                let e = ConfigError::new(format!(
                    "transaction.timeout.ms ({t}) must be an integer ≥ the delivery timeout ({} ms): librdkafka refuses message.timeout.ms above it",
                    pr.delivery_timeout.as_millis()
                ))
                .fix("remove transaction.timeout.ms (kprod sets it to the delivery timeout) or raise it");
                return Err(match entry {
                    Some(pt) => e.at(pt.origin.loc.clone()).key(pt.origin.label.clone()),
                    None => e.key("transaction.timeout.ms"),
                });
            }
        }
    }
    Ok(())
}

fn batching_and_compression(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let b = &p.batching;
    v.range(
        "batching.batch_bytes",
        b.batch_bytes,
        1,
        I32_MAX,
        "batch.size",
    )?;
    v.range(
        "batching.batch_messages",
        b.batch_messages,
        1,
        1_000_000,
        "batch.num.messages",
    )?;
    if b.linger > Duration::from_secs(900) {
        return Err(v.err(
            "batching.linger",
            format!(
                "{} is above librdkafka's linger.ms maximum of 900000 ms (15m)",
                format_duration(b.linger)
            ),
            "set linger to at most \"15m\" (typical values: 0 to 100ms)",
        ));
    }
    let c = &p.compression;
    if let Some(level) = c.level {
        // librdkafka's compression.level property is capped at 12 for every codec, so zstd's
        // own levels 13-22 (and the reference text's "up to 19") cannot be reached.
        let range = match c.codec {
            Codec::Gzip => Some((0, 9)),
            Codec::Lz4 => Some((0, 12)),
            Codec::Zstd => Some((1, 12)),
            Codec::None | Codec::Snappy => None,
        };
        let key = v.blame("compression.level", "compression.codec");
        match range {
            None => {
                return Err(v.err(
                    key,
                    format!("codec \"{}\" takes no compression level", c.codec.name()),
                    "remove level from [compression] (or set level = \"default\")",
                ))
            }
            Some((lo, hi)) if level < lo || level > hi => {
                return Err(v.err(
                    key,
                    format!(
                        "level {level} is out of range for {}: librdkafka accepts {lo}..={hi}",
                        c.codec.name()
                    ),
                    format!("set level between {lo} and {hi}, or remove it for the codec default"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn backpressure(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let bp = &p.backpressure;
    v.range(
        "backpressure.buffer_bytes",
        bp.buffer_bytes,
        1,
        I32_MAX * 1024,
        "the queue size in bytes",
    )?;
    v.range(
        "backpressure.buffer_messages",
        bp.buffer_messages,
        1,
        I32_MAX,
        "queue.buffering.max.messages",
    )?;
    if bp.max_in_flight_records == Some(0) {
        return Err(v.err(
            "backpressure.max_in_flight_records",
            "max_in_flight_records must be at least 1",
            "set max_in_flight_records = 10000, or \"none\" for no kprod-side limit",
        ));
    }
    Ok(())
}

/// Kafka's own rule for topic names.
pub fn valid_topic(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 249
        && t != "."
        && t != ".."
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn workload(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let w = &p.workload;
    if !valid_topic(&w.topic) {
        return Err(v.err(
            "workload.topic",
            format!("{:?} is not a valid Kafka topic name (1-249 characters of a-z, A-Z, 0-9, '.', '_', '-')", w.topic),
            "use a name such as \"kprod-bench\"",
        ));
    }
    limits::ranges(p, v)?;
    if let Some(list) = &p.cluster.brokers {
        brokers::check(list, v)?;
    }
    v.range(
        "workload.replication_factor",
        w.replication_factor.into(),
        1,
        i16::MAX as u64,
        "replication_factor",
    )?;
    if p.cluster.brokers.is_none() && w.replication_factor > p.cluster.mock_brokers {
        let key = v.blame("workload.replication_factor", "cluster.mock_brokers");
        return Err(v.err(
            key,
            format!(
                "replication_factor {} exceeds the {} brokers of the embedded cluster",
                w.replication_factor, p.cluster.mock_brokers
            ),
            format!(
                "set mock_brokers = {} in [cluster] or lower replication_factor",
                w.replication_factor
            ),
        ));
    }
    match (w.duration, w.records) {
        (None, None) => {
            return Err(v.err(
                "workload.duration",
                "neither duration nor records is set: the run would never stop",
                "set duration = \"10s\" and/or records = \"1m\" in [workload]",
            ))
        }
        (Some(d), _) if d.is_zero() => {
            return Err(v.err(
                "workload.duration",
                "duration must be greater than 0",
                "set duration = \"10s\", or duration = \"none\" with records set",
            ))
        }
        (_, Some(0)) => {
            return Err(v.err(
                "workload.records",
                "records must be at least 1",
                "set records = \"1m\", or records = \"none\" with duration set",
            ))
        }
        _ => {}
    }
    run_length(p, v)?;
    sizes(p, v)?;
    keys_and_partitions(p, v)?;
    limits::memory(p, v)
}

/// Each record's intended send time travels in its delivery opaque with room for ~19 hours
/// after t0; a longer run would report wrong latencies for the records past that point.
const MAX_RUN: Duration = Duration::from_secs(18 * 3600);
/// Far above any producer's reach; larger rates would be silently capped by the pacer while
/// the report still claimed them as the target.
const MAX_RATE: f64 = 1e9;

fn run_length(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let w = &p.workload;
    if let Rate::Fixed(r) = w.rate {
        if r > MAX_RATE {
            return Err(v.err(
                "workload.rate",
                format!("rate {r} records/s is above kprod's maximum of 1G records/s"),
                "set rate = \"unlimited\" to send as fast as the producer can",
            ));
        }
    }
    if let Some(d) = w.duration.filter(|d| *d > MAX_RUN) {
        return Err(v.err(
            "workload.duration",
            format!(
                "duration {} is longer than kprod's maximum run of 18h (per-record timing covers 19 hours)",
                format_duration(d)
            ),
            "set duration = \"18h\" or less; split longer soaks into several runs",
        ));
    }
    // Refused rather than shrinking the warm-up: a run that silently measures something
    // else than asked is worse than one that does not start. (Unlimited rates cannot be
    // judged up front; such runs end with status `empty`.)
    let warm = w.warmup.as_secs_f64();
    if let (Some(n), Rate::Fixed(r)) = (w.records, w.rate) {
        if warm > 0.0 && n as f64 <= r * warm {
            return Err(v.err(
                v.blame("workload.records", "workload.warmup"),
                format!("--records / records = {n} fit inside the warm-up: at {r} records/s, --warmup / warmup = {} sends {} records, so nothing would be measured", format_duration(w.warmup), (r * warm).ceil()),
                format!("raise --records above {}, or lower --warmup (e.g. --warmup 0s)", (r * warm).ceil()),
            ));
        }
    }
    if let (Some(n), Rate::Fixed(r), None) = (w.records, w.rate, w.duration) {
        if n as f64 / r > MAX_RUN.as_secs_f64() {
            let key = v.blame("workload.records", "workload.rate");
            return Err(v.err(
                key,
                format!(
                    "{n} records at {r} records/s would take longer than kprod's maximum run of 18h"
                ),
                "raise the rate, lower records, or set duration = \"18h\" to stop at whichever comes first",
            ));
        }
    }
    Ok(())
}

fn sizes(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    if let Some((message, fix)) = size_problem(&p.workload.size) {
        return Err(v.err("workload.size", message, fix));
    }
    let value_bytes = match v
        .m
        .values
        .get("workload.headers.value_bytes")
        .map(|e| &e.val)
    {
        Some(super::keys::Val::U64(b)) => *b,
        _ => p.workload.headers.value_bytes.into(),
    };
    v.range(
        "workload.headers.value_bytes",
        value_bytes,
        0,
        GIB,
        "headers.value_bytes",
    )
}

fn keys_and_partitions(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let w = &p.workload;
    match &w.keys {
        KeyDist::None => {}
        KeyDist::Sequential { count }
        | KeyDist::Uniform { count }
        | KeyDist::Zipf { count, .. } => {
            if *count == 0 {
                return Err(v.err(
                    "workload.key_count",
                    "key_count must be at least 1",
                    "set key_count = 10000",
                ));
            }
        }
    }
    if let KeyDist::Zipf { s, .. } = w.keys {
        if !(s > 0.0 && s.is_finite()) {
            return Err(v.err(
                "workload.zipf_s",
                format!("zipf_s must be a positive number, got {s}"),
                "set zipf_s = 1.1 (larger = hotter keys)",
            ));
        }
    }
    if !PARTITIONERS.contains(&w.partitioner.as_str()) {
        let fix = match closest(&w.partitioner, PARTITIONERS.iter().copied()) {
            Some(best) => format!(
                "did you mean \"{best}\"? (librdkafka partitioners: {})",
                PARTITIONERS.join(", ")
            ),
            None => format!(
                "use one of librdkafka's partitioners: {}",
                PARTITIONERS.join(", ")
            ),
        };
        return Err(v.err(
            "workload.partitioner",
            format!("unknown partitioner {:?}", w.partitioner),
            fix,
        ));
    }
    if let Some(entry) = v.m.values.get("workload.partition_map") {
        if let super::keys::Val::Map(entries) = &entry.val {
            for (prefix, partition, loc) in entries {
                let err = |msg: String, fix: String| {
                    ConfigError::new(msg)
                        .at(loc.clone())
                        .key(format!("workload.partition_map.{prefix}"))
                        .fix(fix)
                };
                if prefix.is_empty() || prefix.contains(':') {
                    return Err(err(
                        format!("key prefix {prefix:?} must be non-empty and contain no ':' (keys are <prefix>:<n>)"),
                        "use a prefix such as \"us-east\"".into(),
                    ));
                }
                if *partition < 0 || *partition >= i64::from(w.partitions) {
                    return Err(err(
                        format!("partition {partition} does not exist: the topic has {} partitions (0..{})", w.partitions, w.partitions),
                        format!("map {prefix:?} to a partition below {}, or raise workload.partitions", w.partitions),
                    ));
                }
            }
        }
    }
    Ok(())
}
