//! The profile schema: every key kprod understands and its type, plus the conversion of a
//! raw value (a TOML value from a file, or text from `--set`, a flag or a Java config) into
//! a typed value. Type errors are raised here, per layer, so they point at the exact place
//! that wrote the bad value even when a later layer would override it.

use super::model::{Acks, Codec, OnFull, Rate, SendMode, SizeDist, ValueGen};
pub(crate) use super::raw::{raw_from_toml, Locator, Raw, RawEntry};
use crate::error::{ConfigError, Location};
use crate::units;
use std::path::Path;
use std::time::Duration;
use toml::de::DeValue;

/// The type of a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    /// A string where `""` means "not set".
    OptStr,
    Bool,
    U32,
    U64,
    /// A count where `"none"` means "not set".
    OptU64,
    /// Bytes: an integer or a string with a unit.
    Size,
    Dur,
    /// A duration where `"none"` means "not set".
    OptDur,
    Acks,
    Codec,
    /// compression.level; `-1` or `"default"` means the codec default.
    Level,
    OnFull,
    SendMode,
    Rate,
    F64,
    SizeDist,
    ValueGen,
    Keys,
    /// Table of key prefix -> partition.
    PartitionMap,
    /// Table of string -> string.
    Pairs,
    /// A percentage written as a string, `"5%"`; held as the number of percent.
    Pct,
    /// A list of `--threshold` expressions: a TOML array of strings, or comma-separated
    /// text from `--set`.
    Thresholds,
}

impl Kind {
    /// What to write, for type errors.
    fn expected(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::OptStr => "a string (\"\" to unset)",
            Kind::Bool => "a boolean (true or false)",
            Kind::U32 | Kind::U64 => "a whole number (integer, or a string such as \"50k\")",
            Kind::OptU64 => "a whole number (integer or \"1m\"), or \"none\"",
            Kind::Size => "a size (integer bytes, or a string such as \"64KiB\")",
            Kind::Dur => "a duration string such as \"10ms\"",
            Kind::OptDur => "a duration string such as \"10s\", or \"none\"",
            Kind::Acks => "\"0\", \"1\", \"all\" or \"-1\"",
            Kind::Codec => "one of \"none\", \"gzip\", \"snappy\", \"lz4\", \"zstd\"",
            Kind::Level => "an integer compression level, or \"default\"",
            Kind::OnFull => "\"block\" or \"fail\"",
            Kind::SendMode => "\"async\", \"sync\" or \"fire-and-forget\"",
            Kind::Rate => "a rate such as \"20k\" or \"unlimited\"",
            Kind::F64 => "a number",
            Kind::SizeDist => "a size such as \"512B\", or a table such as { dist = \"uniform\", min = \"100B\", max = \"1KiB\" }",
            Kind::ValueGen => "\"random\", \"text\", \"json\", or { generator = \"file\", path = \"lines.txt\" }",
            Kind::Keys => "\"none\", \"sequential\", \"uniform\" or \"zipf\"",
            Kind::PartitionMap => "a table of key prefix = partition, e.g. { \"us-east\" = 0 }",
            Kind::Pairs => "a table of name = \"value\" strings",
            Kind::Pct => "a percentage such as \"5%\"",
            Kind::Thresholds => "a list of thresholds such as [\"p99<=20ms\", \"errors==0\", \"throughput>=95%\"]",
        }
    }
}

/// Every key of the profile format, as `section.key`.
pub(crate) const KEYS: &[(&str, Kind)] = &[
    ("producer.acks", Kind::Acks),
    ("producer.idempotence", Kind::Bool),
    ("producer.max_in_flight", Kind::U32),
    ("producer.retries", Kind::U32),
    ("producer.delivery_timeout", Kind::Dur),
    ("producer.request_timeout", Kind::Dur),
    ("producer.retry_backoff", Kind::Dur),
    ("producer.transactional_id", Kind::OptStr),
    ("producer.records_per_transaction", Kind::U64),
    ("batching.batch_bytes", Kind::Size),
    ("batching.batch_messages", Kind::U64),
    ("batching.linger", Kind::Dur),
    ("compression.codec", Kind::Codec),
    ("compression.level", Kind::Level),
    ("backpressure.buffer_bytes", Kind::Size),
    ("backpressure.buffer_messages", Kind::U64),
    ("backpressure.on_full", Kind::OnFull),
    ("backpressure.max_block", Kind::Dur),
    ("backpressure.max_in_flight_records", Kind::OptU64),
    ("workload.topic", Kind::Str),
    ("workload.topic_count", Kind::OptU64),
    ("workload.partitions", Kind::U32),
    ("workload.replication_factor", Kind::U32),
    ("workload.rate", Kind::Rate),
    ("workload.duration", Kind::OptDur),
    ("workload.records", Kind::OptU64),
    ("workload.warmup", Kind::Dur),
    ("workload.producers", Kind::U32),
    ("workload.size", Kind::SizeDist),
    ("workload.value", Kind::ValueGen),
    ("workload.keys", Kind::Keys),
    ("workload.key_count", Kind::U64),
    ("workload.zipf_s", Kind::F64),
    ("workload.partitioner", Kind::Str),
    ("workload.send_mode", Kind::SendMode),
    ("workload.seed", Kind::U64),
    ("workload.partition_map", Kind::PartitionMap),
    ("workload.headers.count", Kind::U32),
    ("workload.headers.value_bytes", Kind::Size),
    ("workload.headers.fixed", Kind::Pairs),
    ("cluster.brokers", Kind::OptStr),
    ("cluster.mock_brokers", Kind::U32),
    // `kprod check` regression thresholds; unset = the command's documented defaults.
    ("check.throughput", Kind::Pct),
    ("check.p50", Kind::Pct),
    ("check.p99", Kind::Pct),
    ("check.p999", Kind::Pct),
    ("check.errors", Kind::U64),
    ("check.thresholds", Kind::Thresholds),
    // Consumers during the run (end-to-end latency); all optional, off by default.
    ("consumers.count", Kind::U32),
    ("consumers.groups", Kind::U32),
    ("consumers.fetch_min_bytes", Kind::Size),
    ("consumers.fetch_wait_max_ms", Kind::U64),
    ("consumers.backlog", Kind::OptDur),
    ("consumers.cpus", Kind::OptStr),
];

pub(crate) const SECTIONS: &[&str] = &[
    "producer",
    "batching",
    "compression",
    "backpressure",
    "workload",
    "cluster",
    "check",
    "librdkafka",
    "consumers",
];

/// The schema entry of a dotted key, with its `'static` name.
pub(crate) fn lookup(key: &str) -> Option<(&'static str, Kind)> {
    KEYS.iter().find(|(k, _)| *k == key).copied()
}

/// Closest candidate by edit similarity, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input.to_ascii_lowercase(), c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Which key generation a profile asked for (combined with key_count and zipf_s later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    None,
    Sequential,
    Uniform,
    Zipf,
}

/// A typed value of one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    OptStr(Option<String>),
    Bool(bool),
    U32(u32),
    U64(u64),
    OptU64(Option<u64>),
    Dur(Duration),
    OptDur(Option<Duration>),
    Acks(Acks),
    Codec(Codec),
    Level(Option<i32>),
    OnFull(OnFull),
    SendMode(SendMode),
    Rate(Rate),
    F64(f64),
    Size(SizeDist),
    Value(ValueGen),
    Keys(KeyKind),
    /// (prefix, partition, where it was written)
    Map(Vec<(String, i64, Location)>),
    Pairs(Vec<(String, String)>),
    /// Threshold expressions, each checked.
    List(Vec<String>),
}

/// What a conversion needs to know about where the value came from.
pub(crate) struct Ctx<'a> {
    /// The key as the user wrote it (e.g. `workload.size` or `linger.ms`).
    pub key: &'a str,
    pub loc: &'a Location,
    /// Relative file paths (size/value files) are resolved against this directory.
    pub base_dir: &'a Path,
}

impl Ctx<'_> {
    pub fn err(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(message).at(self.loc.clone()).key(self.key)
    }
    fn type_err(&self, kind: Kind, raw: &Raw) -> ConfigError {
        self.err(format!(
            "expected {}, found {}",
            kind.expected(),
            raw.type_name()
        ))
        .fix(format!("write {} as {}", self.key, kind.expected()))
    }
}

/// Converts `raw` to the typed value of `kind`.
pub(crate) fn convert(kind: Kind, raw: &Raw, cx: &Ctx<'_>) -> Result<Val, ConfigError> {
    // Command-line text such as `{ dist = "uniform", ... }` is TOML for table-valued keys.
    if let Raw::Text(t) = raw {
        if t.trim_start().starts_with('{') {
            let parsed = DeValue::parse(t).map_err(|e| {
                cx.err(format!("invalid inline table {t:?}: {}", e.message()))
                    .fix("write an inline TOML table, e.g. {dist=\"uniform\",min=\"100B\",max=\"1KiB\"}")
            })?;
            let at = Locator {
                source: cx.loc.source.clone(),
                text: None,
            };
            return convert(kind, &raw_from_toml(&parsed, &at), cx);
        }
    }
    let unit_err = |e: String| {
        cx.err(e)
            .fix(format!("write {} as {}", cx.key, kind.expected()))
    };
    let none_word = |t: &str| t.trim().eq_ignore_ascii_case("none");
    Ok(match (kind, raw) {
        (Kind::Str, r) => Val::Str(r.text().ok_or_else(|| cx.type_err(kind, r))?.to_string()),
        (Kind::OptStr, r) => {
            let t = r.text().ok_or_else(|| cx.type_err(kind, r))?;
            Val::OptStr((!t.is_empty()).then(|| t.to_string()))
        }
        (Kind::Bool, Raw::Bool(b)) => Val::Bool(*b),
        (Kind::Bool, Raw::Text(t)) => match t.trim() {
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            _ => return Err(cx.type_err(kind, raw)),
        },
        (Kind::U32, r) => {
            let n = whole(r, kind, cx)?;
            let (message, fix) = super::validate::out_of_range(cx.key, n);
            Val::U32(u32::try_from(n).map_err(|_| cx.err(message).fix(fix))?)
        }
        (Kind::U64, r) => Val::U64(whole(r, kind, cx)?),
        (Kind::Thresholds, r) => Val::List(thresholds(r, kind, cx)?),
        (Kind::OptU64, r) if r.text().is_some_and(none_word) => Val::OptU64(None),
        (Kind::OptU64, r) => Val::OptU64(Some(whole(r, kind, cx)?)),
        (Kind::Size, Raw::Int(n)) => Val::U64(non_negative(*n, cx)?),
        (Kind::Size, r) => Val::U64(
            units::parse_size(r.text().ok_or_else(|| cx.type_err(kind, r))?).map_err(unit_err)?,
        ),
        (Kind::Dur, r) => Val::Dur(duration(r, kind, cx)?),
        (Kind::OptDur, r) if r.text().is_some_and(none_word) => Val::OptDur(None),
        (Kind::OptDur, r) => Val::OptDur(Some(duration(r, kind, cx)?)),
        (
            Kind::Acks | Kind::Codec | Kind::Level | Kind::OnFull | Kind::SendMode | Kind::Keys,
            r,
        ) => convert_choice(kind, r, cx)?,
        (Kind::Rate, Raw::Int(n)) => Val::Rate(positive_rate(*n as f64, cx)?),
        (Kind::Rate, Raw::Float(f)) => Val::Rate(positive_rate(*f, cx)?),
        (Kind::Rate, r) => {
            let t = r.text().ok_or_else(|| cx.type_err(kind, r))?;
            Val::Rate(units::parse_rate(t).map_err(|e| {
                cx.err(e).fix(format!(
                    "set {} = \"20k\" (records per second) or \"unlimited\"",
                    cx.key
                ))
            })?)
        }
        (Kind::F64, Raw::Float(f)) => Val::F64(*f),
        (Kind::F64, Raw::Int(n)) => Val::F64(*n as f64),
        (Kind::F64, Raw::Text(t)) => {
            Val::F64(t.trim().parse().map_err(|_| cx.type_err(kind, raw))?)
        }
        (Kind::SizeDist, r) => Val::Size(super::dist::size_dist(r, cx)?),
        (Kind::ValueGen, r) => Val::Value(super::dist::value_gen(r, cx)?),
        (Kind::PartitionMap | Kind::Pairs, Raw::Table(entries)) => {
            convert_table(kind, entries, cx)?
        }
        (Kind::Pct, r) => Val::F64(percent(r, kind, cx)?),
        (kind, r) => return Err(cx.type_err(kind, r)),
    })
}

/// The keys whose values are one of a fixed set of words (or a level number).
fn convert_choice(kind: Kind, raw: &Raw, cx: &Ctx<'_>) -> Result<Val, ConfigError> {
    Ok(match (kind, raw) {
        (Kind::Acks, r) => Val::Acks(acks(r).ok_or_else(|| {
            cx.err(format!(
                "invalid acks {}: must be 0, 1, all or -1",
                show_raw(r)
            ))
            .fix("set acks = \"all\" (durable), \"1\" (leader only) or \"0\" (fire-and-forget)")
        })?),
        (Kind::Codec, r) => {
            let t = r.text().ok_or_else(|| cx.type_err(kind, r))?;
            Val::Codec(choice(t, CODECS, cx)?)
        }
        (Kind::Level, Raw::Int(-1)) => Val::Level(None),
        (Kind::Level, r)
            if r.text()
                .is_some_and(|t| t.trim() == "default" || t.trim() == "-1") =>
        {
            Val::Level(None)
        }
        (Kind::Level, r) => {
            let n = match r {
                Raw::Int(n) => *n,
                Raw::Text(t) => t.trim().parse().map_err(|_| cx.type_err(kind, r))?,
                _ => return Err(cx.type_err(kind, r)),
            };
            Val::Level(Some(i32::try_from(n).map_err(|_| cx.type_err(kind, r))?))
        }
        (Kind::OnFull, r) => Val::OnFull(choice(
            r.text().ok_or_else(|| cx.type_err(kind, r))?,
            ON_FULL,
            cx,
        )?),
        (Kind::SendMode, r) => Val::SendMode(choice(
            r.text().ok_or_else(|| cx.type_err(kind, r))?,
            SEND_MODES,
            cx,
        )?),
        (Kind::Keys, r) => Val::Keys(choice(
            r.text().ok_or_else(|| cx.type_err(kind, r))?,
            KEY_KINDS,
            cx,
        )?),
        (kind, r) => return Err(cx.type_err(kind, r)),
    })
}

/// The table-valued keys: `partition_map` (prefix -> partition) and header pairs.
fn convert_table(kind: Kind, entries: &[RawEntry], cx: &Ctx<'_>) -> Result<Val, ConfigError> {
    Ok(match kind {
        Kind::PartitionMap => Val::Map(
            entries
                .iter()
                .map(|e| match e.value {
                    Raw::Int(p) => Ok((e.key.clone(), p, e.loc.clone())),
                    _ => Err(ConfigError::new(format!(
                        "partition of key prefix {:?} must be an integer, found {}",
                        e.key,
                        e.value.type_name()
                    ))
                    .at(e.loc.clone())
                    .key(format!("{}.{}", cx.key, e.key))
                    .fix(format!("write \"{}\" = 0", e.key))),
                })
                .collect::<Result<_, _>>()?,
        ),
        Kind::Pairs => Val::Pairs(
            entries
                .iter()
                .map(|e| match &e.value {
                    Raw::Str(v) => Ok((e.key.clone(), v.clone())),
                    other => Err(ConfigError::new(format!(
                        "expected a string, found {}",
                        other.type_name()
                    ))
                    .at(e.loc.clone())
                    .key(format!("{}.{}", cx.key, e.key))
                    .fix(format!("quote the value: \"{}\" = \"...\"", e.key))),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(cx.err(format!("{} is not a table", cx.key))),
    })
}

/// `"5%"` -> 5.0. A bare number is refused: 0.05 and 5 would both be plausible readings.
fn percent(r: &Raw, kind: Kind, cx: &Ctx<'_>) -> Result<f64, ConfigError> {
    let t = r.text().ok_or_else(|| cx.type_err(kind, r))?;
    let v = t
        .trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .ok_or_else(|| cx.type_err(kind, r))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(cx
            .err(format!("{t:?} is not a percentage of 0 or more"))
            .fix(format!("write {} = \"5%\"", cx.key)))
    }
}

fn show_raw(r: &Raw) -> String {
    match r {
        Raw::Str(s) | Raw::Text(s) => format!("{s:?}"),
        Raw::Int(n) => n.to_string(),
        Raw::Float(f) => f.to_string(),
        Raw::Bool(b) => b.to_string(),
        other => other.type_name().to_string(),
    }
}

fn non_negative(n: i64, cx: &Ctx<'_>) -> Result<u64, ConfigError> {
    u64::try_from(n).map_err(|_| {
        cx.err(format!("{n} is negative"))
            .fix(format!("use a value ≥ 0 for {}", cx.key))
    })
}

fn whole(r: &Raw, kind: Kind, cx: &Ctx<'_>) -> Result<u64, ConfigError> {
    match r {
        Raw::Int(n) => non_negative(*n, cx),
        Raw::Str(t) | Raw::Text(t) => units::parse_count(t).map_err(|e| {
            cx.err(e)
                .fix(format!("write {} as {}", cx.key, kind.expected()))
        }),
        _ => Err(cx.type_err(kind, r)),
    }
}

/// Each expression checked where it was written, so a bad one names its file:line.
fn thresholds(r: &Raw, kind: Kind, cx: &Ctx<'_>) -> Result<Vec<String>, ConfigError> {
    let items: Vec<(Raw, Location)> = match r {
        Raw::List(items) => items.clone(),
        Raw::Text(t) => t
            .split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|x| (Raw::Str(x.trim().to_string()), cx.loc.clone()))
            .collect(),
        _ => return Err(cx.type_err(kind, r)),
    };
    let fix = format!("write {} as {}", cx.key, kind.expected());
    let mut out = Vec::with_capacity(items.len());
    for (item, at) in &items {
        let Some(expr) = item.text() else {
            return Err(cx.type_err(kind, item).at(at.clone()));
        };
        let t = crate::verdict::Threshold::parse(expr, &at.source).map_err(|e| {
            ConfigError::new(e.message)
                .at(at.clone())
                .key(cx.key)
                .fix(fix.clone())
        })?;
        out.push(t.expr);
    }
    Ok(out)
}

fn duration(r: &Raw, kind: Kind, cx: &Ctx<'_>) -> Result<Duration, ConfigError> {
    match r {
        Raw::Int(0) => Ok(Duration::ZERO),
        Raw::Int(n) => Err(cx
            .err(format!("{n} has no unit"))
            .fix(format!("write {} = \"{n}ms\" or \"{n}s\"", cx.key))),
        Raw::Str(t) | Raw::Text(t) => units::parse_duration(t).map_err(|e| {
            cx.err(e)
                .fix(format!("write {} as {}", cx.key, kind.expected()))
        }),
        _ => Err(cx.type_err(kind, r)),
    }
}

fn positive_rate(v: f64, cx: &Ctx<'_>) -> Result<Rate, ConfigError> {
    if v > 0.0 && v.is_finite() {
        Ok(Rate::Fixed(v))
    } else {
        Err(cx
            .err(format!("rate must be greater than 0, got {v}"))
            .fix(format!("set {} = \"20k\" or \"unlimited\"", cx.key)))
    }
}

fn acks(r: &Raw) -> Option<Acks> {
    match r {
        Raw::Int(0) => Some(Acks::Zero),
        Raw::Int(1) => Some(Acks::One),
        Raw::Int(-1) => Some(Acks::All),
        Raw::Str(t) | Raw::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "0" => Some(Acks::Zero),
            "1" => Some(Acks::One),
            "all" | "-1" => Some(Acks::All),
            _ => None,
        },
        _ => None,
    }
}

const CODECS: &[(&str, Codec)] = &[
    ("none", Codec::None),
    ("gzip", Codec::Gzip),
    ("snappy", Codec::Snappy),
    ("lz4", Codec::Lz4),
    ("zstd", Codec::Zstd),
];
const ON_FULL: &[(&str, OnFull)] = &[("block", OnFull::Block), ("fail", OnFull::Fail)];
const SEND_MODES: &[(&str, SendMode)] = &[
    ("async", SendMode::Async),
    ("sync", SendMode::Sync),
    ("fire-and-forget", SendMode::FireAndForget),
];
const KEY_KINDS: &[(&str, KeyKind)] = &[
    ("none", KeyKind::None),
    ("sequential", KeyKind::Sequential),
    ("uniform", KeyKind::Uniform),
    ("zipf", KeyKind::Zipf),
];

/// Picks a named choice, with a did-you-mean on a miss.
pub(crate) fn choice<T: Copy>(
    t: &str,
    options: &[(&str, T)],
    cx: &Ctx<'_>,
) -> Result<T, ConfigError> {
    let wanted = t.trim().to_ascii_lowercase();
    if let Some((_, v)) = options.iter().find(|(n, _)| *n == wanted) {
        return Ok(*v);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let fix = match closest(&wanted, names.iter().copied()) {
        Some(best) => format!("did you mean \"{best}\"? set {} = \"{best}\"", cx.key),
        None => format!("use one of: {}", names.join(", ")),
    };
    Err(cx
        .err(format!(
            "unknown value {t:?}: expected one of {}",
            names.join(", ")
        ))
        .fix(fix))
}
