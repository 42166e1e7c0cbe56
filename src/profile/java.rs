//! `--java-config producer.properties`: a Java client configuration translated into a layer.
//!
//! A Java properties file describes a Java producer, whose defaults differ from librdkafka's
//! (batch.size 16KiB vs 1MB, idempotence on since Kafka 3.0 vs off, 5 requests in flight vs
//! 1000000, buffer 32MiB vs 1GiB, delivery timeout 120s vs 300s). So for each of those
//! settings the file leaves out, the layer sets the Java default explicitly: the run then
//! reproduces that Java producer rather than whatever the profiles below said.

use super::keys::{convert, Ctx, Kind, Raw, Val};
use super::layer::Layer;
use super::model::{Acks, OnFull};
use crate::error::{ConfigError, Location};
use std::path::Path;
use std::time::Duration;

/// One `key=value` of a properties file, with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Property {
    pub key: String,
    pub value: String,
    pub line: usize,
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Parses Java `.properties` text: `key=value`, `key: value` or `key value`, `#`/`!`
/// comments, and backslash line continuations.
pub(crate) fn parse_properties(text: &str) -> Vec<Property> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((idx, first)) = lines.next() {
        let trimmed = first.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        let mut logical = trimmed.to_string();
        // An odd number of trailing backslashes continues the line.
        while logical.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1 {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let mut key_end = logical.len();
        let mut escaped = false;
        for (i, c) in logical.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '=' || c == ':' || c.is_whitespace() {
                key_end = i;
                break;
            }
        }
        let (key, rest) = logical.split_at(key_end);
        let rest = rest.trim_start();
        let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest).trim_start();
        out.push(Property {
            key: unescape(key),
            value: unescape(rest).trim_end().to_string(),
            line: idx + 1,
        });
    }
    out
}

/// Why a Java property has no translation, for the ones people actually write.
fn rejection(key: &str) -> String {
    let specific = match key {
        "interceptor.classes" => "Java-only, librdkafka has no interceptor classes",
        "partitioner.class" => "use workload.partitioner or workload.partition_map",
        "partitioner.ignore.keys" | "partitioner.adaptive.partitioning.enable" | "partitioner.availability.timeout.ms" => {
            "tuning of the Java built-in partitioner, which librdkafka does not have; choose workload.partitioner"
        }
        "client.id" => "kprod names its producers itself",
        "sasl.jaas.config" => "Java JAAS configuration; pass credentials with -X sasl.username=... -X sasl.password=...",
        "max.request.size" => "librdkafka's equivalent is message.max.bytes; pass -X message.max.bytes=...",
        "send.buffer.bytes" | "receive.buffer.bytes" => "pass -X socket.send.buffer.bytes / socket.receive.buffer.bytes",
        "schema.registry.url" | "auto.register.schemas" | "use.latest.version" => {
            "a Schema Registry serializer setting; kprod generates raw bytes"
        }
        "metric.reporters" | "enable.metrics.push" => "Java metrics plumbing; kprod measures and reports itself",
        _ => "",
    };
    if !specific.is_empty() {
        return specific.to_string();
    }
    if key.starts_with("ssl.truststore.") || key.starts_with("ssl.keystore.") {
        "a Java keystore setting; use -X ssl.ca.location / ssl.certificate.location / ssl.key.location".into()
    } else if key.starts_with("ssl.") || key.starts_with("sasl.") || key == "security.protocol" {
        "security settings are not translated; pass the librdkafka properties with -X (e.g. -X security.protocol=SASL_SSL)".into()
    } else if key.starts_with("metrics.") {
        "Java metrics plumbing; kprod measures and reports itself".into()
    } else {
        "kprod does not translate it; pass the librdkafka equivalent with -X, or remove it".into()
    }
}

/// The kprod key and kind of a translated Java property.
fn translation(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "acks" => ("producer.acks", Kind::Acks),
        "enable.idempotence" => ("producer.idempotence", Kind::Bool),
        "max.in.flight.requests.per.connection" => ("producer.max_in_flight", Kind::U32),
        "retries" => ("producer.retries", Kind::U32),
        "delivery.timeout.ms" => ("producer.delivery_timeout", Kind::Dur),
        "request.timeout.ms" => ("producer.request_timeout", Kind::Dur),
        "retry.backoff.ms" => ("producer.retry_backoff", Kind::Dur),
        "transactional.id" => ("producer.transactional_id", Kind::OptStr),
        "batch.size" => ("batching.batch_bytes", Kind::Size),
        "linger.ms" => ("batching.linger", Kind::Dur),
        "compression.type" => ("compression.codec", Kind::Codec),
        "buffer.memory" => ("backpressure.buffer_bytes", Kind::Size),
        "max.block.ms" => ("backpressure.max_block", Kind::Dur),
        "bootstrap.servers" => ("cluster.brokers", Kind::OptStr),
        _ => return None,
    })
}

/// Loads and translates a Java producer config. `shown` is the path as the user gave it.
pub(crate) fn load(shown: &Path, cwd: &Path) -> Result<Layer, ConfigError> {
    let source = shown.display().to_string();
    let text = crate::domain::input::read_text(&cwd.join(shown)).map_err(|e| {
        ConfigError::new(format!("cannot read Java config {source}: it {e}"))
            .at(Location {
                source: source.clone(),
                line: None,
                column: None,
            })
            .fix(format!("--java-config: {}", e.fix()))
    })?;
    translate(&source, &text, cwd)
}

pub(crate) fn translate(source: &str, text: &str, cwd: &Path) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    let mut level: Option<(String, Property)> = None;
    for prop in parse_properties(text) {
        let loc = Location {
            source: source.to_string(),
            line: Some(prop.line),
            column: None,
        };
        let k = prop.key.as_str();
        if matches!(k, "key.serializer" | "value.serializer") {
            continue; // kprod generates the bytes itself; nothing to translate.
        }
        if let Some(codec) = k
            .strip_prefix("compression.")
            .and_then(|r| r.strip_suffix(".level"))
        {
            level = Some((codec.to_string(), prop.clone()));
            continue;
        }
        let Some((key, kind)) = translation(k) else {
            // The value is not shown: unknown keys may well hold credentials.
            return Err(
                ConfigError::new(format!("`{k}` cannot be used: {}", rejection(k)))
                    .at(loc)
                    .key(k)
                    .fix(format!("remove `{k}` from {source}")),
            );
        };
        let label = format!("{k} ({key})");
        let val = match kind {
            Kind::Dur => Val::Dur(Duration::from_millis(integer(&prop, &loc, &label)?)),
            Kind::Size => Val::U64(integer(&prop, &loc, &label)?),
            _ => convert(
                kind,
                &Raw::Text(prop.value.clone()),
                &Ctx {
                    key: &label,
                    loc: &loc,
                    base_dir: cwd,
                },
            )?,
        };
        if k == "max.block.ms" {
            // Java's send() always blocks up to max.block.ms; 0 is its fail-fast mode.
            let on_full = if val == Val::Dur(Duration::ZERO) {
                OnFull::Fail
            } else {
                OnFull::Block
            };
            layer.set(
                "backpressure.on_full",
                Val::OnFull(on_full),
                loc.clone(),
                label.clone(),
            );
        }
        layer.set(key, val, loc, label);
    }
    if let Some((codec, prop)) = level {
        codec_level(&mut layer, &codec, &prop, source, cwd)?;
    }
    java_defaults(&mut layer, source);
    Ok(layer)
}

/// `compression.<codec>.level`, applied once the codec it names is known to be the one set.
fn codec_level(
    layer: &mut Layer,
    codec: &str,
    prop: &Property,
    source: &str,
    cwd: &Path,
) -> Result<(), ConfigError> {
    let loc = Location {
        source: source.to_string(),
        line: Some(prop.line),
        column: None,
    };
    let label = format!("{} (compression.level)", prop.key);
    let current = match layer.values.get("compression.codec").map(|e| &e.val) {
        Some(Val::Codec(c)) => c.name(),
        _ => "none",
    };
    if codec != current {
        return Err(ConfigError::new(format!(
            "`{}` applies to {codec}, but compression.type is {current}",
            prop.key
        ))
        .at(loc)
        .key(prop.key.as_str())
        .fix(format!(
            "set compression.type={codec}, or remove `{}`",
            prop.key
        )));
    }
    let val = convert(
        Kind::Level,
        &Raw::Text(prop.value.clone()),
        &Ctx {
            key: &label,
            loc: &loc,
            base_dir: cwd,
        },
    )?;
    layer.set("compression.level", val, loc, label);
    Ok(())
}

fn integer(prop: &Property, loc: &Location, label: &str) -> Result<u64, ConfigError> {
    prop.value.trim().parse().map_err(|_| {
        ConfigError::new(format!("{:?} is not a non-negative integer", prop.value))
            .at(loc.clone())
            .key(label)
            .fix(format!("write {}=<integer>", prop.key))
    })
}

/// Fills in the Java client's defaults (Kafka 3.0+) where they differ from librdkafka's and
/// the file is silent.
fn java_defaults(layer: &mut Layer, source: &str) {
    let loc = Location {
        source: source.to_string(),
        line: None,
        column: None,
    };
    let has = |layer: &Layer, k: &str| layer.values.contains_key(k);
    let fill = |layer: &mut Layer, key: &'static str, java: &str, val: Val| {
        if !has(layer, key) {
            layer.set(
                key,
                val,
                loc.clone(),
                format!("{java} (Java default; not in {source})"),
            );
        }
    };
    fill(layer, "producer.acks", "acks", Val::Acks(Acks::All));
    fill(
        layer,
        "producer.max_in_flight",
        "max.in.flight.requests.per.connection",
        Val::U32(5),
    );
    fill(
        layer,
        "batching.batch_bytes",
        "batch.size",
        Val::U64(16_384),
    );
    fill(
        layer,
        "backpressure.buffer_bytes",
        "buffer.memory",
        Val::U64(32 << 20),
    );
    fill(
        layer,
        "producer.delivery_timeout",
        "delivery.timeout.ms",
        Val::Dur(Duration::from_secs(120)),
    );
    // Java enables idempotence by default only when nothing conflicts with it; otherwise it
    // quietly turns it off (Kafka 3.2+). The same decision is made here, explicitly.
    let conflicts = layer
        .values
        .get("producer.acks")
        .is_some_and(|e| e.val != Val::Acks(Acks::All))
        || layer
            .values
            .get("producer.max_in_flight")
            .is_some_and(|e| matches!(e.val, Val::U32(n) if n > 5))
        || layer
            .values
            .get("producer.retries")
            .is_some_and(|e| e.val == Val::U32(0));
    fill(
        layer,
        "producer.idempotence",
        "enable.idempotence",
        Val::Bool(!conflicts),
    );
}
