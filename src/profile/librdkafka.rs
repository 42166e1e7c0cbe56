//! The mapping from a profile to librdkafka producer properties and the pass-through
//! table's rules (properties kprod manages must be set through their validated keys).
//! Which values are secrets is `crate::client`'s to say; it is re-exported here.

use super::model::Profile;
pub use crate::client::{is_secret, redacted};
use crate::error::{ConfigError, Location};
use std::collections::BTreeMap;
use std::time::Duration;

/// librdkafka's partitioner names.
pub(crate) const PARTITIONERS: &[&str] = &[
    "random",
    "consistent",
    "consistent_random",
    "murmur2",
    "murmur2_random",
    "fnv1a",
    "fnv1a_random",
];

/// librdkafka (and Java) property names that kprod sets from its own keys, with the key.
pub(crate) const PROPERTY_KEYS: &[(&str, &str)] = &[
    ("acks", "producer.acks"),
    ("request.required.acks", "producer.acks"),
    ("enable.idempotence", "producer.idempotence"),
    (
        "max.in.flight.requests.per.connection",
        "producer.max_in_flight",
    ),
    ("max.in.flight", "producer.max_in_flight"),
    ("retries", "producer.retries"),
    ("message.send.max.retries", "producer.retries"),
    ("delivery.timeout.ms", "producer.delivery_timeout"),
    ("message.timeout.ms", "producer.delivery_timeout"),
    ("request.timeout.ms", "producer.request_timeout"),
    ("retry.backoff.ms", "producer.retry_backoff"),
    ("transactional.id", "producer.transactional_id"),
    ("batch.size", "batching.batch_bytes"),
    ("batch.num.messages", "batching.batch_messages"),
    ("linger.ms", "batching.linger"),
    ("queue.buffering.max.ms", "batching.linger"),
    ("compression.codec", "compression.codec"),
    ("compression.type", "compression.codec"),
    ("compression.level", "compression.level"),
    ("queue.buffering.max.kbytes", "backpressure.buffer_bytes"),
    ("buffer.memory", "backpressure.buffer_bytes"),
    (
        "queue.buffering.max.messages",
        "backpressure.buffer_messages",
    ),
    ("max.block.ms", "backpressure.max_block"),
    ("partitioner", "workload.partitioner"),
    ("bootstrap.servers", "cluster.brokers"),
    ("metadata.broker.list", "cluster.brokers"),
];

/// The kprod key that owns a librdkafka/Java property name, if any.
pub(crate) fn property_alias(property: &str) -> Option<&'static str> {
    PROPERTY_KEYS
        .iter()
        .find(|(p, _)| *p == property)
        .map(|(_, k)| *k)
}

/// Refuses pass-through properties that would silently bypass kprod's validated keys or
/// fight with the engine.
pub(crate) fn check_passthrough(property: &str, loc: &Location) -> Result<(), ConfigError> {
    if property.is_empty() {
        return Err(ConfigError::new("empty librdkafka property name")
            .at(loc.clone())
            .fix("write property=value, e.g. socket.nagle.disable=true"));
    }
    if let Some(key) = property_alias(property) {
        return Err(ConfigError::new(format!(
            "`{property}` is set by kprod from `{key}`; a pass-through copy would bypass validation and the report"
        ))
        .at(loc.clone())
        .key(property)
        .fix(format!("use --set {key}=... or `{}` in the profile", key.rsplit_once('.').map_or(key, |k| k.1))));
    }
    if property == "statistics.interval.ms" {
        return Err(ConfigError::new(
            "`statistics.interval.ms` is set by kprod's engine, which reads the statistics",
        )
        .at(loc.clone())
        .key(property)
        .fix("remove it"));
    }
    Ok(())
}

/// Checks every pass-through property against librdkafka itself (name and value), so a
/// typo fails with the file and line that wrote it rather than later without a location.
/// Values of secret-looking properties never appear in the message.
pub(crate) fn check_values(
    props: &BTreeMap<String, super::layer::PassThrough>,
) -> Result<(), ConfigError> {
    for (k, p) in props {
        let mut c = rdkafka::config::ClientConfig::new();
        c.set(k, &p.value);
        if let Err(e) = c.create_native_config() {
            // rust-rdkafka's message ends with the key and the value; keep librdkafka's part.
            let why = match &e {
                rdkafka::error::KafkaError::ClientConfig(_, desc, _, _) => desc.clone(),
                other => other.to_string(),
            };
            let why = if is_secret(k) && !p.value.is_empty() {
                why.replace(p.value.as_str(), "[redacted]")
            } else {
                why
            };
            return Err(ConfigError::new(format!("librdkafka rejects `{k}`: {why}"))
                .at(p.origin.loc.clone())
                .key(p.origin.label.clone())
                .fix("check the property name and value in librdkafka's CONFIGURATION.md"));
        }
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

/// The exact librdkafka producer properties for this profile (before the engine adds
/// bootstrap.servers, client.id and statistics.interval.ms); the pass-through table last.
pub fn librdkafka_properties(p: &Profile) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_string(), v);
    };
    let pr = &p.producer;
    put("acks", pr.acks.librdkafka_value().to_string());
    put("enable.idempotence", pr.idempotence.to_string());
    put(
        "max.in.flight.requests.per.connection",
        pr.max_in_flight.to_string(),
    );
    put("message.send.max.retries", pr.retries.to_string());
    put("message.timeout.ms", ms(pr.delivery_timeout));
    put("request.timeout.ms", ms(pr.request_timeout));
    put("retry.backoff.ms", ms(pr.retry_backoff));
    if let Some(id) = &pr.transactional_id {
        put("transactional.id", id.clone());
        // librdkafka refuses an explicit message.timeout.ms above transaction.timeout.ms
        // (default 60s), so the delivery timeout is carried over (1s is its minimum).
        put(
            "transaction.timeout.ms",
            pr.delivery_timeout.as_millis().max(1000).to_string(),
        );
    }
    let b = &p.batching;
    put("batch.size", b.batch_bytes.to_string());
    put("batch.num.messages", b.batch_messages.to_string());
    // linger.ms is a float property in librdkafka: 500us is "0.5".
    put("linger.ms", (b.linger.as_nanos() as f64 / 1e6).to_string());
    put("compression.codec", p.compression.codec.name().to_string());
    if let Some(level) = p.compression.level {
        put("compression.level", level.to_string());
    }
    let bp = &p.backpressure;
    put(
        "queue.buffering.max.kbytes",
        (bp.buffer_bytes / 1024).max(1).to_string(),
    );
    put(
        "queue.buffering.max.messages",
        bp.buffer_messages.to_string(),
    );
    put("partitioner", p.workload.partitioner.clone());
    for (k, v) in &p.librdkafka {
        m.insert(k.clone(), v.clone());
    }
    m
}
