//! `kprod profiles show`: a resolved profile as text, with units, warnings, the exact
//! librdkafka properties (secrets redacted) and where librdkafka's defaults differ from the
//! Java client's.

use super::librdkafka::{librdkafka_properties, redacted};
use super::model::*;
use crate::units::{format_count, format_duration, format_size, parse_count};
use std::fmt::Write;

/// A count as compact as possible without losing precision (`20k`, but `12345`).
fn exact_count(v: u64) -> String {
    let short = format_count(v as f64);
    if parse_count(&short) == Ok(v) {
        short
    } else {
        v.to_string()
    }
}

fn rate(r: &Rate) -> String {
    match r {
        Rate::Unlimited => "unlimited".into(),
        Rate::Fixed(v) if v.fract() == 0.0 && *v < u64::MAX as f64 => {
            format!("{}/s", exact_count(*v as u64))
        }
        Rate::Fixed(v) => format!("{v}/s"),
    }
}

/// A size setting in a few words (`profiles show`, a report's `topics[].size`).
pub fn size_dist(s: &SizeDist) -> String {
    let f = |b: u32| format_size(b.into());
    match s {
        SizeDist::Fixed { bytes } => f(*bytes),
        SizeDist::Uniform { min, max } => format!("uniform {}..{}", f(*min), f(*max)),
        SizeDist::Normal {
            mean,
            stddev,
            min,
            max,
        } => {
            format!(
                "normal mean {} stddev {}, clamped to {}..{}",
                f(*mean),
                f(*stddev),
                f(*min),
                f(*max)
            )
        }
        SizeDist::File { path } => format!("sizes from {}", path.display()),
    }
}

/// A key setting in a few words (`profiles show`, a report's `topics[].keys`).
pub fn keys(k: &KeyDist) -> String {
    match k {
        KeyDist::None => "none (no key: sticky partitioning)".into(),
        KeyDist::Sequential { count } => format!("sequential over {} keys", exact_count(*count)),
        KeyDist::Uniform { count } => format!("uniform over {} keys", exact_count(*count)),
        KeyDist::Zipf { count, s } => format!("zipf s={s} over {} keys", exact_count(*count)),
    }
}

fn value(v: &ValueGen) -> String {
    match v {
        ValueGen::Random => "random (incompressible)".into(),
        ValueGen::Text => "text (compresses like log lines)".into(),
        ValueGen::Json => "json (compresses like event payloads)".into(),
        ValueGen::File { path } => format!("lines of {}", path.display()),
    }
}

fn section(out: &mut String, name: &str, rows: &[(&str, String)]) {
    let _ = writeln!(out, "\n[{name}]");
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<24} {v}");
    }
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> String, none: &str) -> String {
    v.as_ref().map_or_else(|| none.to_string(), f)
}

/// Human-readable text for `kprod profiles show`.
pub fn render_show(p: &Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "profile: {}", p.names.join(" + "));
    let _ = writeln!(out, "  {}", p.description);
    let mut layers = vec!["built-in defaults (base)".to_string()];
    layers.extend(p.names.iter().filter(|n| n.as_str() != "base").cloned());
    let _ = writeln!(
        out,
        "layers: {} (then --set, flags and -X, if given)",
        layers.join(" < ")
    );
    client_sections(&mut out, p);
    workload_section(&mut out, p);
    let brokers = match &p.cluster.brokers {
        Some(b) => b.clone(),
        None => format!("(embedded cluster of {} brokers)", p.cluster.mock_brokers),
    };
    section(&mut out, "cluster", &[("brokers", brokers)]);
    // Only when on: profiles without consumers show exactly what they showed before.
    let c = &p.consumers;
    if !c.is_off() {
        let default = |v: &Option<u64>| opt(v, u64::to_string, "(librdkafka default)");
        section(
            &mut out,
            "consumers",
            &[
                ("count", c.count.to_string()),
                ("groups", c.groups.to_string()),
                ("fetch_min_bytes", default(&c.fetch_min_bytes)),
                (
                    "fetch_wait_max_ms",
                    match (c.fetch_wait_max_ms, &p.cluster.brokers) {
                        (None, None) => "10 (embedded cluster)".to_string(),
                        (v, _) => default(&v),
                    },
                ),
                (
                    "backlog",
                    opt(&c.backlog, |d| crate::units::format_duration(*d), "none"),
                ),
                ("cpus", opt(&c.cpus, String::clone, "(any)")),
            ],
        );
    }
    let planned = p.planned_memory().total();
    let _ = writeln!(
        out,
        "\nplanned memory: {:.1} MiB (kprod's cap: {} GiB)",
        planned as f64 / f64::from(1u32 << 20),
        super::limits::MAX_PLANNED_MEMORY >> 30
    );
    tail(&mut out, p);
    out
}

/// The producer's own settings: `[producer]`, `[batching]`, `[compression]`, `[backpressure]`.
fn client_sections(out: &mut String, p: &Profile) {
    let pr = &p.producer;
    section(
        out,
        "producer",
        &[
            ("acks", pr.acks.librdkafka_value().into()),
            ("idempotence", pr.idempotence.to_string()),
            ("max_in_flight", pr.max_in_flight.to_string()),
            ("retries", pr.retries.to_string()),
            ("delivery_timeout", format_duration(pr.delivery_timeout)),
            ("request_timeout", format_duration(pr.request_timeout)),
            ("retry_backoff", format_duration(pr.retry_backoff)),
            (
                "transactional_id",
                opt(&pr.transactional_id, |s| s.clone(), "(none)"),
            ),
            (
                "records_per_transaction",
                exact_count(pr.records_per_transaction),
            ),
        ],
    );
    let b = &p.batching;
    section(
        out,
        "batching",
        &[
            ("batch_bytes", format_size(b.batch_bytes)),
            ("batch_messages", exact_count(b.batch_messages)),
            ("linger", format_duration(b.linger)),
        ],
    );
    section(
        out,
        "compression",
        &[
            ("codec", p.compression.codec.name().into()),
            (
                "level",
                opt(&p.compression.level, |l| l.to_string(), "(codec default)"),
            ),
        ],
    );
    let bp = &p.backpressure;
    section(
        out,
        "backpressure",
        &[
            ("buffer_bytes", format_size(bp.buffer_bytes)),
            ("buffer_messages", exact_count(bp.buffer_messages)),
            ("on_full", format!("{:?}", bp.on_full).to_lowercase()),
            ("max_block", format_duration(bp.max_block)),
            (
                "max_in_flight_records",
                opt(&bp.max_in_flight_records, |n| exact_count(*n), "(none)"),
            ),
        ],
    );
}

fn workload_section(out: &mut String, p: &Profile) {
    let w = &p.workload;
    let h = &w.headers;
    let mut headers = format!(
        "{} generated x {}",
        h.count,
        format_size(h.value_bytes.into())
    );
    for (k, v) in &h.fixed {
        let _ = write!(headers, ", {k}={v}");
    }
    let map = if w.partition_map.is_empty() {
        "(none)".to_string()
    } else {
        w.partition_map
            .iter()
            .map(|(k, v)| format!("{k}->{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let send_mode = match w.send_mode {
        SendMode::Async => "async",
        SendMode::Sync => "sync",
        SendMode::FireAndForget => "fire-and-forget",
    };
    section(
        out,
        "workload",
        &[
            ("topic", w.topic.clone()),
            ("partitions", w.partitions.to_string()),
            ("replication_factor", w.replication_factor.to_string()),
            ("rate", rate(&w.rate)),
            (
                "duration",
                opt(
                    &w.duration,
                    |d| format_duration(*d),
                    "(none: stop on records)",
                ),
            ),
            (
                "records",
                opt(&w.records, |n| exact_count(*n), "(none: stop on duration)"),
            ),
            ("warmup", format_duration(w.warmup)),
            ("producers", w.producers.to_string()),
            ("size", size_dist(&w.size)),
            ("value", value(&w.value)),
            ("keys", keys(&w.keys)),
            ("partitioner", w.partitioner.clone()),
            ("partition_map", map),
            ("headers", headers),
            ("send_mode", send_mode.into()),
            ("seed", w.seed.to_string()),
        ],
    );
    if !w.topics.is_empty() {
        let rows: Vec<(&str, String)> = w
            .topics
            .iter()
            .map(|t| {
                let configs: Vec<String> =
                    t.config.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let configs = match configs.is_empty() {
                    true => String::new(),
                    false => format!(", {}", configs.join(", ")),
                };
                let mut records = String::new();
                if let Some(s) = &t.size {
                    records += &format!(", size {}", size_dist(s));
                }
                if let Some(k) = &t.keys {
                    records += &format!(", keys {}", keys(k));
                }
                let shape = format!(
                    "{} partitions, rf {}, share {}{records}{configs}",
                    t.partitions, t.replication_factor, t.share
                );
                (t.name.as_str(), shape)
            })
            .collect();
        section(out, "workload.topics", &rows);
    }
}

/// Warnings, the exact librdkafka properties and the Java comparison.
fn tail(out: &mut String, p: &Profile) {
    let _ = writeln!(out, "\nwarnings:");
    if p.warnings.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for warning in &p.warnings {
        let _ = writeln!(out, "  - {warning}");
    }

    let props = redacted(&librdkafka_properties(p));
    let _ = writeln!(
        out,
        "\nlibrdkafka properties (the engine adds bootstrap.servers, client.id and statistics.interval.ms):"
    );
    for (k, v) in &props {
        let _ = writeln!(out, "  {k}={v}");
    }
    java_note(out, p);
}

fn java_note(out: &mut String, p: &Profile) {
    let _ = writeln!(
        out,
        "\nlibrdkafka's defaults differ from the Java client's; kprod sets each of these explicitly:"
    );
    let rows = [
        (
            "batch.size",
            "1000000 (~1MB)",
            "16384 (16KiB)",
            format_size(p.batching.batch_bytes),
        ),
        (
            "enable.idempotence",
            "false",
            "true (since Kafka 3.0)",
            p.producer.idempotence.to_string(),
        ),
        (
            "max.in.flight.requests.per.connection",
            "1000000",
            "5",
            p.producer.max_in_flight.to_string(),
        ),
        (
            "queue.buffering.max.kbytes / buffer.memory",
            "1GiB",
            "32MiB",
            format_size(p.backpressure.buffer_bytes),
        ),
        (
            "message.timeout.ms / delivery.timeout.ms",
            "300s",
            "120s",
            format_duration(p.producer.delivery_timeout),
        ),
    ];
    for (name, rdk, java, here) in rows {
        let _ = writeln!(
            out,
            "  {name}: librdkafka {rdk}, Java {java}; this profile: {here}"
        );
    }
    for java in p.names.iter().filter_map(|n| n.strip_prefix("java:")) {
        let _ = writeln!(
            out,
            "  Java config {java}: settings above that it leaves out were set to the Java client's defaults (not librdkafka's), so the run reproduces that Java producer; linger.ms is Java's 5ms only since Kafka 4.0 (0 before) and keeps kprod's value unless the file sets it"
        );
    }
}
