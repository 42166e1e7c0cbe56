//! Many topics in one run: `[[workload.topics]]` and `--topics N` (`workload.topic_count`).
//!
//! ```toml
//! [[workload.topics]]
//! name = "orders-{i}"      # `{i}` is replaced by 0..count-1; without it, a literal name
//! count = 3                # default 1
//! partitions = 12          # default workload.partitions
//! replication_factor = 3   # default workload.replication_factor
//! share = 2                # relative share of every producer's records, default 1
//! config = { "retention.ms" = "3600000", "min.insync.replicas" = 2 }
//! size = { dist = "uniform", min = "100B", max = "2KiB" }   # default workload.size
//! keys = "zipf"            # default workload.keys; key_count, zipf_s likewise
//! key_count = 50000
//! ```
//!
//! Entries are parsed per layer with the location of every key (a later layer's list
//! replaces an earlier one's); [`resolve`] expands them once the profile's defaults are
//! known. Without either, the run has one topic, `workload.topic`, and `topics` is empty.
//! `size`, `keys`, `key_count` and `zipf_s` take what [workload] takes and are checked the
//! same way where they are written; a topic that sets none of them (or sets [workload]'s
//! values) shares [workload]'s record source lane, so per-topic settings cost a run only
//! the distinct settings it has.

use super::keys::{convert, Ctx, KeyKind, Kind, Val};
use super::model::{KeyDist, SizeDist};
use super::raw::{Raw, RawEntry};
use crate::error::{ConfigError, Location};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Topic configs kprod passes in CreateTopics: the ones a capacity plan varies.
pub const TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "compression.type",
    "max.message.bytes",
    "min.insync.replicas",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.ms",
];

/// Most topics in one run (each producer holds a handle per topic).
pub const MAX_TOPICS: usize = 1_000;
/// Most total share weight: the routing cycle has one entry per unit of share.
pub const MAX_SHARE_SUM: u64 = 65_536;

/// One topic of the run, expanded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicCfg {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u32,
    /// Relative share of every producer's records.
    pub share: u32,
    /// Topic configs applied when kprod creates the topic.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// This topic's record sizes when its entry sets `size`; None = `workload.size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<SizeDist>,
    /// This topic's keys when its entry sets `keys`, `key_count` or `zipf_s` (the others
    /// from [workload]); None = `workload.keys`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeyDist>,
}

impl TopicCfg {
    /// A topic of `name` with the workload's shape and records.
    pub fn plain(name: String, partitions: u32, replication_factor: u32) -> TopicCfg {
        TopicCfg {
            name,
            partitions,
            replication_factor,
            share: 1,
            config: BTreeMap::new(),
            size: None,
            keys: None,
        }
    }
}

/// One `[[workload.topics]]` entry as written.
#[derive(Debug, Clone)]
pub(crate) struct TopicSpec {
    name: String,
    count: u32,
    partitions: Option<u32>,
    replication_factor: Option<u32>,
    share: u32,
    config: BTreeMap<String, String>,
    /// `size` and where it was written (validation of `[consumers]` blames it there).
    pub(crate) size: Option<(SizeDist, Location)>,
    keys: Option<KeyKind>,
    key_count: Option<u64>,
    zipf_s: Option<f64>,
    loc: Location,
}

const KEYS: &[&str] = &[
    "name",
    "count",
    "partitions",
    "replication_factor",
    "share",
    "config",
    "size",
    "keys",
    "key_count",
    "zipf_s",
];

/// Parses the `topics` value of `[workload]` (an array of tables); size files are
/// relative to `base_dir`, as [workload]'s are.
pub(crate) fn from_raw(
    raw: Raw,
    loc: &Location,
    base_dir: &Path,
) -> Result<Vec<TopicSpec>, ConfigError> {
    let Raw::List(items) = raw else {
        return Err(ConfigError::new("`topics` is a list of tables")
            .at(loc.clone())
            .key("workload.topics")
            .fix("write each topic as a [[workload.topics]] table with name = \"...\""));
    };
    if items.is_empty() {
        return Err(ConfigError::new("`topics` is empty")
            .at(loc.clone())
            .key("workload.topics")
            .fix("add at least one [[workload.topics]] table, or drop `topics`"));
    }
    let mut out = Vec::new();
    for (n, (item, iloc)) in items.into_iter().enumerate() {
        let Raw::Table(entries) = item else {
            return Err(ConfigError::new("each topic is a table")
                .at(iloc)
                .key("workload.topics")
                .fix("write [[workload.topics]] on its own line, then name = \"...\" below it"));
        };
        out.push(one(&entries, iloc, n, base_dir)?);
    }
    Ok(out)
}

fn one(
    entries: &[RawEntry],
    loc: Location,
    n: usize,
    base_dir: &Path,
) -> Result<TopicSpec, ConfigError> {
    let key = |k: &str| format!("workload.topics[{n}].{k}");
    if let Some(e) = entries.iter().find(|e| !KEYS.contains(&e.key.as_str())) {
        let hint = super::keys::closest(&e.key, KEYS.iter().copied())
            .map_or_else(String::new, |b| format!("did you mean `{b}`? "));
        return Err(
            ConfigError::new(format!("unknown key `{}` in a topic", e.key))
                .at(e.key_loc.clone())
                .key(key(&e.key))
                .fix(format!("{hint}a topic takes {}", KEYS.join(", "))),
        );
    }
    let find = |k: &str| entries.iter().find(|e| e.key == k);
    let Some(name_e) = find("name") else {
        return Err(ConfigError::new(format!("topic {n} needs `name`"))
            .at(loc)
            .key(key("name"))
            .fix("add name = \"orders\" (or a pattern such as \"orders-{i}\" with count)"));
    };
    let name = match &name_e.value {
        Raw::Str(s) | Raw::Text(s) => s.clone(),
        other => {
            return Err(ConfigError::new(format!(
                "expected a string, found a {}",
                other.type_name()
            ))
            .at(name_e.loc.clone())
            .key(key("name"))
            .fix("write name = \"orders\""))
        }
    };
    let whole = |k: &str, min: u64, max: u64| -> Result<Option<u32>, ConfigError> {
        let Some(e) = find(k) else { return Ok(None) };
        let v = match &e.value {
            Raw::Int(i) => u64::try_from(*i).ok(),
            Raw::Str(s) | Raw::Text(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match v.filter(|v| (min..=max).contains(v)) {
            Some(v) => Ok(Some(v as u32)),
            None => Err(ConfigError::new(format!(
                "`{k}` must be a whole number from {min} to {max}"
            ))
            .at(e.loc.clone())
            .key(key(k))
            .fix(format!("write {k} = {min} or more"))),
        }
    };
    let count = whole("count", 1, MAX_TOPICS as u64)?.unwrap_or(1);
    if count > 1 && !name.contains("{i}") {
        return Err(
            ConfigError::new(format!("count = {count} needs a name pattern with `{{i}}`"))
                .at(name_e.loc.clone())
                .key(key("name"))
                .fix(format!("write name = \"{name}-{{i}}\", or drop count")),
        );
    }
    let config = match find("config") {
        None => BTreeMap::new(),
        Some(e) => configs(e, &key("config"))?,
    };
    let records = records(entries, n, base_dir)?;
    Ok(TopicSpec {
        name,
        count,
        partitions: whole("partitions", 1, u64::from(super::limits::MAX_PARTITIONS))?,
        replication_factor: whole("replication_factor", 1, i16::MAX as u64)?,
        share: whole("share", 1, MAX_SHARE_SUM)?.unwrap_or(1),
        config,
        size: records.size,
        keys: records.keys,
        key_count: records.key_count,
        zipf_s: records.zipf_s,
        loc,
    })
}

/// A topic entry's record settings as written, each checked where it stands.
#[derive(Default)]
struct Records {
    size: Option<(SizeDist, Location)>,
    keys: Option<KeyKind>,
    key_count: Option<u64>,
    zipf_s: Option<f64>,
}

/// `size`, `keys`, `key_count`, `zipf_s` of topic `n`: the [workload] keys' conversions and
/// rules, blamed on the topic's line and key.
fn records(entries: &[RawEntry], n: usize, base_dir: &Path) -> Result<Records, ConfigError> {
    let mut out = Records::default();
    for e in entries {
        let key = format!("workload.topics[{n}].{}", e.key);
        let kind = match e.key.as_str() {
            "size" => Kind::SizeDist,
            "keys" => Kind::Keys,
            "key_count" => Kind::U64,
            "zipf_s" => Kind::F64,
            _ => continue,
        };
        let cx = Ctx {
            key: &key,
            loc: &e.loc,
            base_dir,
        };
        let bad = |(message, fix): (String, String)| {
            ConfigError::new(message)
                .at(e.loc.clone())
                .key(key.clone())
                .fix(fix)
        };
        match convert(kind, &e.value, &cx)? {
            Val::Size(d) => {
                if let Some(p) = super::validate::size_problem(&d) {
                    return Err(bad(p));
                }
                out.size = Some((d, e.loc.clone()));
            }
            Val::Keys(k) => out.keys = Some(k),
            Val::U64(c) => {
                let max = super::limits::MAX_KEY_COUNT;
                if c == 0 || c > max {
                    return Err(bad((
                        format!("key_count must be from 1 to {max}, not {c}"),
                        "set key_count = 10000 (keys are pre-rendered in memory)".into(),
                    )));
                }
                out.key_count = Some(c);
            }
            Val::F64(s) => {
                if !(s > 0.0 && s.is_finite()) {
                    return Err(bad((
                        format!("zipf_s must be a positive number, got {s}"),
                        "set zipf_s = 1.1 (larger = hotter keys)".into(),
                    )));
                }
                out.zipf_s = Some(s);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The keys of a kind, a count and an exponent.
pub(crate) fn key_dist(kind: KeyKind, count: u64, s: f64) -> KeyDist {
    match kind {
        KeyKind::None => KeyDist::None,
        KeyKind::Sequential => KeyDist::Sequential { count },
        KeyKind::Uniform => KeyDist::Uniform { count },
        KeyKind::Zipf => KeyDist::Zipf { count, s },
    }
}

/// The `config` table: names on the allow-list, values as strings. Unquoted dotted names
/// (`retention.ms = 1000`) arrive as nested tables and are joined back.
fn configs(e: &RawEntry, key: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let Raw::Table(entries) = &e.value else {
        return Err(ConfigError::new("`config` is a table of topic configs")
            .at(e.loc.clone())
            .key(key.to_string())
            .fix("write config = { \"retention.ms\" = \"3600000\" }"));
    };
    let mut out = BTreeMap::new();
    let mut flat = Vec::new();
    flatten("", entries, &mut flat);
    for (name, value, loc) in flat {
        if !TOPIC_CONFIGS.contains(&name.as_str()) {
            let hint = super::keys::closest(&name, TOPIC_CONFIGS.iter().copied())
                .map_or_else(String::new, |b| format!("did you mean `{b}`? "));
            return Err(
                ConfigError::new(format!("`{name}` is not a topic config kprod sets"))
                    .at(loc)
                    .key(format!("{key}.{name}"))
                    .fix(format!("{hint}kprod sets {}", TOPIC_CONFIGS.join(", "))),
            );
        }
        let text = match value {
            Raw::Str(s) | Raw::Text(s) => s.clone(),
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
            other => {
                return Err(ConfigError::new(format!(
                    "expected a string or a number, found a {}",
                    other.type_name()
                ))
                .at(loc)
                .key(format!("{key}.{name}"))
                .fix(format!("write \"{name}\" = \"value\"")))
            }
        };
        out.insert(name, text);
    }
    Ok(out)
}

fn flatten<'a>(prefix: &str, entries: &'a [RawEntry], out: &mut Vec<(String, &'a Raw, Location)>) {
    for e in entries {
        let name = match prefix {
            "" => e.key.clone(),
            p => format!("{p}.{}", e.key),
        };
        match &e.value {
            Raw::Table(t) => flatten(&name, t, out),
            v => out.push((name, v, e.key_loc.clone())),
        }
    }
}

/// Where the many-topics settings came from, for [`resolve`].
pub(crate) struct Sources<'a> {
    /// `[[workload.topics]]` of the last layer that gave them.
    pub list: Option<&'a (Vec<TopicSpec>, Location)>,
    /// `workload.topic_count` (`--topics N`) and where it was set.
    pub count: Option<(u64, &'a Location)>,
    pub topic: &'a str,
    pub partitions: u32,
    pub replication_factor: u32,
    /// [workload]'s key settings, the defaults of a topic's `keys`, `key_count`, `zipf_s`.
    pub keys: KeyKind,
    pub key_count: u64,
    pub zipf_s: f64,
}

/// The run's topics, expanded; empty for the single-topic run (`workload.topic`).
pub(crate) fn resolve(s: Sources<'_>) -> Result<Vec<TopicCfg>, ConfigError> {
    let out = match (s.list, s.count) {
        (None, None) => return Ok(Vec::new()),
        (Some((_, at)), Some((_, loc))) => {
            return Err(ConfigError::new(
                "`workload.topic_count` (--topics) and [[workload.topics]] both name the topics",
            )
            .at(loc.clone())
            .key("workload.topic_count")
            .fix(format!(
                "drop --topics (or workload.topic_count), or drop the [[workload.topics]] at {at}"
            )))
        }
        (None, Some((n, loc))) => {
            if n == 0 || n > MAX_TOPICS as u64 {
                return Err(ConfigError::new(format!(
                    "topic_count must be from 1 to {MAX_TOPICS}, not {n}"
                ))
                .at(loc.clone())
                .key("workload.topic_count")
                .fix("give --topics 3, for example"));
            }
            (0..n)
                .map(|i| {
                    TopicCfg::plain(
                        format!("{}-{i}", s.topic),
                        s.partitions,
                        s.replication_factor,
                    )
                })
                .collect()
        }
        (Some((specs, _)), None) => {
            let mut out: Vec<TopicCfg> = Vec::new();
            for spec in specs {
                for i in 0..spec.count {
                    let name = spec.name.replace("{i}", &i.to_string());
                    if !super::valid_topic(&name) {
                        return Err(ConfigError::new(format!(
                            "{name:?} is not a valid Kafka topic name (1-249 characters of \
                             a-z, A-Z, 0-9, '.', '_', '-')"
                        ))
                        .at(spec.loc.clone())
                        .key("workload.topics.name")
                        .fix("use a name such as \"orders-{i}\""));
                    }
                    if out.iter().any(|t| t.name == name) {
                        return Err(ConfigError::new(format!("topic `{name}` is listed twice"))
                            .at(spec.loc.clone())
                            .key("workload.topics.name")
                            .fix("give every topic its own name"));
                    }
                    out.push(TopicCfg {
                        name,
                        partitions: spec.partitions.unwrap_or(s.partitions),
                        replication_factor: spec.replication_factor.unwrap_or(s.replication_factor),
                        share: spec.share,
                        config: spec.config.clone(),
                        size: spec.size.as_ref().map(|(d, _)| d.clone()),
                        keys: topic_keys(spec, &s)?,
                    });
                }
            }
            if out.len() > MAX_TOPICS {
                return Err(ConfigError::new(format!(
                    "{} topics: at most {MAX_TOPICS}",
                    out.len()
                ))
                .at(specs[0].loc.clone())
                .key("workload.topics")
                .fix("lower the counts"));
            }
            let sum: u64 = out.iter().map(|t| u64::from(t.share)).sum();
            if sum > MAX_SHARE_SUM {
                return Err(ConfigError::new(format!(
                    "the topics' shares add up to {sum}: at most {MAX_SHARE_SUM}"
                ))
                .at(specs[0].loc.clone())
                .key("workload.topics.share")
                .fix("use smaller share weights (only their ratios matter)"));
            }
            out
        }
    };
    Ok(out)
}

/// `<topic>-<suffix>`, cut so it stays a valid topic name (249 characters at most): the
/// name of a topic in one step of a sweep or compare that gets fresh topics per step.
pub fn step_topic_name(topic: &str, suffix: &str) -> String {
    let suffix: String = suffix
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                true => c,
                false => '_',
            },
        )
        .collect();
    let room = 249usize.saturating_sub(suffix.len() + 1);
    let base: String = topic.chars().take(room).collect();
    format!("{base}-{suffix}")
}

/// Gives `workload.topic` and every expanded topic the step suffix
/// ([`step_topic_name`]), so a sweep or compare step produces to its own fresh topics.
/// Applied after expansion: the suffix follows `{i}`, so `orders-{i}` becomes
/// `orders-0-s01`. An error when cutting long names to 249 characters makes two equal.
pub(crate) fn apply_suffix(w: &mut super::WorkloadCfg, suffix: &str) -> Result<(), ConfigError> {
    w.topic = step_topic_name(&w.topic, suffix);
    for i in 0..w.topics.len() {
        let name = step_topic_name(&w.topics[i].name, suffix);
        if w.topics[..i].iter().any(|t| t.name == name) {
            return Err(ConfigError::new(format!(
                "with the step suffix `{suffix}` two topic names cut to 249 characters \
                 become the same `{name}`"
            ))
            .key("workload.topics.name")
            .fix("use shorter topic names, so they differ within their first 240 characters"));
        }
        w.topics[i].name = name;
    }
    Ok(())
}

/// A topic's keys when its entry sets any key setting: the rest from [workload], whose
/// `key_count` and `zipf_s` are checked only when [workload] itself is keyed.
fn topic_keys(spec: &TopicSpec, s: &Sources<'_>) -> Result<Option<KeyDist>, ConfigError> {
    if spec.keys.is_none() && spec.key_count.is_none() && spec.zipf_s.is_none() {
        return Ok(None);
    }
    let kind = spec.keys.unwrap_or(s.keys);
    let count = spec.key_count.unwrap_or(s.key_count);
    let zipf_s = spec.zipf_s.unwrap_or(s.zipf_s);
    let max = super::limits::MAX_KEY_COUNT;
    if kind != KeyKind::None && (count == 0 || count > max) {
        return Err(ConfigError::new(format!(
            "this topic's keys take workload.key_count = {count}: it must be from 1 to {max}"
        ))
        .at(spec.loc.clone())
        .key("workload.topics.key_count")
        .fix("set key_count = 10000 in the topic (or in [workload])"));
    }
    if kind == KeyKind::Zipf && !(zipf_s > 0.0 && zipf_s.is_finite()) {
        return Err(ConfigError::new(format!(
            "this topic's zipf keys take workload.zipf_s = {zipf_s}: it must be positive"
        ))
        .at(spec.loc.clone())
        .key("workload.topics.zipf_s")
        .fix("set zipf_s = 1.1 in the topic (or in [workload])"));
    }
    Ok(Some(key_dist(kind, count, zipf_s)))
}

/// The routing cycle: topic indices in smooth weighted round-robin order over one period
/// (the shares divided by their gcd), so any run of a cycle's length holds each topic's
/// exact share, spread out rather than in blocks.
pub fn route_cycle(shares: &[u32]) -> Vec<u16> {
    let g = shares.iter().fold(0u32, |a, &b| gcd(a, b)).max(1);
    let w: Vec<i64> = shares.iter().map(|&s| i64::from(s / g)).collect();
    let total: i64 = w.iter().sum();
    let mut current = vec![0i64; w.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, wi) in w.iter().enumerate() {
            current[i] += wi;
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        out.push(best as u16);
    }
    out
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
