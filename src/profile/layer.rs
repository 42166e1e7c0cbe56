//! Layers: one profile file, the Java config, `--set`, the flags or `-X`, each turned into
//! typed values that remember where they were written (provenance), and the merge of all
//! layers in precedence order.

use super::keys::{self, closest, convert, lookup, Ctx, Kind, Locator, Raw, Val, KEYS, SECTIONS};
use super::librdkafka::{check_passthrough, property_alias};
use crate::error::{ConfigError, Location};
use std::collections::BTreeMap;
use std::path::Path;
use toml::de::DeTable;

/// Where a value came from: the place and the key as written there (which for a Java
/// config is the Java property name), and the layer's precedence rank (higher wins).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Origin {
    pub loc: Location,
    pub label: String,
    pub rank: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub val: Val,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PassThrough {
    pub value: String,
    pub origin: Origin,
}

/// One layer of settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layer {
    pub description: Option<String>,
    pub extends: Option<(String, Location)>,
    pub values: BTreeMap<&'static str, Entry>,
    pub librdkafka: BTreeMap<String, PassThrough>,
    /// `[[fault]]` tables; every layer's faults are kept (they add up, none replaces).
    pub faults: Vec<crate::faults::FaultSpec>,
    /// `[[workload.stages]]` of this layer and where they start (a later list replaces).
    pub stages: Option<(Vec<super::Stage>, Location)>,
    /// `[[workload.topics]]` of this layer (a later list replaces).
    pub topics: Option<(Vec<super::topics::TopicSpec>, Location)>,
}

impl Layer {
    pub fn set(&mut self, key: &'static str, val: Val, loc: Location, label: impl Into<String>) {
        let origin = Origin {
            loc,
            label: label.into(),
            rank: 0,
        };
        self.values.insert(key, Entry { val, origin });
    }
}

/// All layers collapsed: the final value of every key and where it came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Merged {
    pub values: BTreeMap<&'static str, Entry>,
    pub librdkafka: BTreeMap<String, PassThrough>,
    pub faults: Vec<crate::faults::FaultSpec>,
    /// The last layer's stages, where they were written and that layer's rank.
    pub stages: Option<(Vec<super::Stage>, Location, usize)>,
    /// The last layer's `[[workload.topics]]` and where they were written.
    pub topics: Option<(Vec<super::topics::TopicSpec>, Location)>,
}

/// Parses one profile file (or built-in profile text) into a layer.
pub(crate) fn from_toml(source: &str, text: &str, base_dir: &Path) -> Result<Layer, ConfigError> {
    let at = Locator {
        source: source.to_string(),
        text: Some(text),
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let loc = e.span().map_or_else(|| Location::flag(source), |s| at.loc(s.start));
        ConfigError::new(format!("TOML syntax error: {}", e.message().trim()))
            .at(loc)
            .fix("correct the TOML syntax at this position (strings need quotes, tables [section] brackets)")
    })?;
    let mut layer = Layer::default();
    for (k, v) in doc.get_ref().iter() {
        let key = k.get_ref().as_ref();
        let key_loc = at.loc(k.span().start);
        let loc = at.loc(v.span().start);
        if key == "fault" {
            layer.faults.extend(super::faults::from_toml(v, &at)?);
            continue;
        }
        let mut raw = keys::raw_from_toml(v, &at);
        super::env::expand_raw(&mut raw, key, &loc)?;
        match (key, raw) {
            ("description", Raw::Str(s)) => layer.description = Some(s),
            ("extends", Raw::Str(s)) => layer.extends = Some((s, loc)),
            ("description" | "extends", _) => {
                return Err(ConfigError::new("expected a string")
                    .at(loc)
                    .key(key)
                    .fix(format!("write {key} = \"...\"")))
            }
            ("librdkafka", Raw::Table(entries)) => {
                for e in entries {
                    let value = match e.value {
                        Raw::Str(s) => s,
                        Raw::Int(n) => n.to_string(),
                        Raw::Float(f) => f.to_string(),
                        Raw::Bool(b) => b.to_string(),
                        _ => {
                            return Err(ConfigError::new(
                                "librdkafka properties take string values",
                            )
                            .at(e.loc)
                            .key(format!("librdkafka.{}", e.key))
                            .fix(format!(
                                "quote the property name and value: \"{}\" = \"value\"",
                                e.key
                            )))
                        }
                    };
                    check_passthrough(&e.key, &e.key_loc)?;
                    let origin = Origin {
                        loc: e.key_loc,
                        label: format!("librdkafka.{}", e.key),
                        rank: 0,
                    };
                    layer
                        .librdkafka
                        .insert(e.key, PassThrough { value, origin });
                }
            }
            (s, Raw::Table(entries)) if SECTIONS.contains(&s) => {
                walk_section(&mut layer, s, entries, base_dir)?;
            }
            (s, _) if SECTIONS.contains(&s) => {
                return Err(ConfigError::new(format!("`{s}` is a section, not a value"))
                    .at(key_loc)
                    .key(s)
                    .fix(format!(
                        "write [{s}] on its own line and put its keys below it"
                    )))
            }
            (other, _) => return Err(unknown_key("", other, key_loc)),
        }
    }
    Ok(layer)
}

fn walk_section(
    layer: &mut Layer,
    prefix: &str,
    entries: Vec<keys::RawEntry>,
    base_dir: &Path,
) -> Result<(), ConfigError> {
    for e in entries {
        let full = format!("{prefix}.{}", e.key);
        match (lookup(&full), e.value) {
            (Some((key, kind)), Raw::Table(t)) if !is_table_kind(kind) => {
                let sub = t.first().map_or(String::new(), |s| format!(".{}", s.key));
                return Err(ConfigError::new(format!(
                    "expected a single value, found a table (a dotted key such as `{}{sub}`?)",
                    e.key
                ))
                .at(e.key_loc)
                .key(key)
                .fix(format!(
                    "kprod keys have no dots: write {} = <value> in [{prefix}]",
                    e.key
                )));
            }
            (Some((key, kind)), raw) => {
                let val = convert(
                    kind,
                    &raw,
                    &Ctx {
                        key,
                        loc: &e.loc,
                        base_dir,
                    },
                )?;
                layer.set(key, val, e.loc, key);
            }
            (None, raw) if full == "workload.stages" => {
                layer.stages = Some((super::stages::from_raw(raw, &e.loc)?, e.loc));
            }
            (None, raw) if full == "workload.topics" => {
                layer.topics = Some((super::topics::from_raw(raw, &e.loc, base_dir)?, e.loc));
            }
            (None, Raw::Table(t)) if full == "workload.headers" => {
                walk_section(layer, &full, t, base_dir)?
            }
            (None, _) if full == "workload.headers" => {
                return Err(ConfigError::new("`headers` is a table, not a value")
                    .at(e.key_loc)
                    .key(full)
                    .fix("write a [workload.headers] section with count, value_bytes and fixed"));
            }
            (None, _) => return Err(unknown_key(prefix, &e.key, e.key_loc)),
        }
    }
    Ok(())
}

fn is_table_kind(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::SizeDist | Kind::ValueGen | Kind::PartitionMap | Kind::Pairs
    )
}

/// An unknown key in section `prefix` ("" = top level, "-" = a `--set` key), with the
/// most useful hint we can find: a librdkafka/Java name's kprod equivalent, the section a
/// known key belongs in, or the closest valid key.
pub(crate) fn unknown_key(prefix: &str, key: &str, loc: Location) -> ConfigError {
    let shown = if prefix.is_empty() || prefix == "-" {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    };
    let (message, fix) = unknown_key_hint(prefix, key);
    ConfigError::new(message).at(loc).key(shown).fix(fix)
}

fn unknown_key_hint(prefix: &str, key: &str) -> (String, String) {
    let place = match prefix {
        "" => "at the top level".to_string(),
        "-" => "in kprod's profile format".to_string(),
        p => format!("in [{p}]"),
    };
    let message = format!("unknown key `{key}` {place}");
    let local = key.rsplit_once('.').map_or(key, |(_, l)| l);
    if prefix != "-" {
        if let Some((full, _)) = KEYS
            .iter()
            .find(|(k, _)| k.rsplit_once('.').is_some_and(|(_, l)| l == key))
        {
            return (
                message,
                format!(
                    "`{key}` belongs in [{}]: `{full}`",
                    full.rsplit_once('.').map_or("", |p| p.0)
                ),
            );
        }
    }
    if let Some(kprod) = property_alias(key) {
        return (
            message,
            format!("`{key}` is the librdkafka/Java name; kprod's key is `{kprod}`"),
        );
    }
    let candidates: Vec<&str> = match prefix {
        "" => SECTIONS
            .iter()
            .copied()
            .chain(["description", "extends", "fault"])
            .collect(),
        "-" => KEYS.iter().map(|(k, _)| *k).collect(),
        p => KEYS
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(p)?.strip_prefix('.'))
            .collect(),
    };
    let target = if prefix == "-" { key } else { local };
    if let Some(best) = closest(target, candidates.iter().copied()) {
        let full = if prefix.is_empty() || prefix == "-" {
            best.to_string()
        } else {
            format!("{prefix}.{best}")
        };
        return (message, format!("did you mean `{full}`?"));
    }
    // A typo of a key of another section, e.g. `lingr` in [producer].
    let all_locals = KEYS
        .iter()
        .filter_map(|(k, _)| k.rsplit_once('.').map(|(_, l)| l));
    if let Some(best) = closest(local, all_locals) {
        if let Some((full, _)) = KEYS.iter().find(|(k, _)| k.ends_with(&format!(".{best}"))) {
            return (message, format!("did you mean `{full}`?"));
        }
    }
    (
        message,
        format!("valid keys here: {}", candidates.join(", ")),
    )
}

/// `--set section.key=value`, in order (a later one wins).
pub(crate) fn from_sets(sets: &[String], cwd: &Path) -> Result<Layer, ConfigError> {
    let loc = Location::flag("--set");
    let mut layer = Layer::default();
    for s in sets {
        let Some((key, value)) = s.split_once('=') else {
            return Err(ConfigError::new(format!("--set {s:?} has no `=`"))
                .at(loc.clone())
                .fix("write --set section.key=value, e.g. --set workload.rate=50k"));
        };
        let key = key.trim();
        if let Some(prop) = key.strip_prefix("librdkafka.") {
            check_passthrough(prop, &loc)?;
            let origin = Origin {
                loc: loc.clone(),
                label: key.to_string(),
                rank: 0,
            };
            layer.librdkafka.insert(
                prop.to_string(),
                PassThrough {
                    value: value.to_string(),
                    origin,
                },
            );
            continue;
        }
        if key == "description" || key == "extends" {
            return Err(
                ConfigError::new(format!("`{key}` can only be set inside a profile file"))
                    .at(loc.clone())
                    .key(key)
                    .fix("pass another --profile instead"),
            );
        }
        set_text(&mut layer, key, value, loc.clone(), cwd)?;
    }
    Ok(layer)
}

/// Set one key of `layer` from command-line text (`--set` and the explicit flags).
fn set_text(
    layer: &mut Layer,
    key: &str,
    value: &str,
    loc: Location,
    cwd: &Path,
) -> Result<(), ConfigError> {
    let (key, kind) = lookup(key).ok_or_else(|| unknown_key("-", key, loc.clone()))?;
    let val = convert(
        kind,
        &Raw::Text(value.to_string()),
        &Ctx {
            key,
            loc: &loc,
            base_dir: cwd,
        },
    )?;
    layer.set(key, val, loc, key);
    Ok(())
}

/// The explicit flags (`--rate 50k` ...): (flag name, key, value).
pub(crate) fn from_flags(
    flags: &[(&'static str, &'static str, String)],
    cwd: &Path,
) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for (flag, key, value) in flags {
        set_text(&mut layer, key, value, Location::flag(flag), cwd)?;
    }
    Ok(layer)
}

/// `-X prop=value` pass-through properties.
pub(crate) fn from_x(props: &[String]) -> Result<BTreeMap<String, PassThrough>, ConfigError> {
    let loc = Location::flag("-X");
    let mut out = BTreeMap::new();
    for p in props {
        let Some((key, value)) = p.split_once('=') else {
            // The text is not echoed: it might be a secret typed without its key.
            return Err(ConfigError::new("-X argument has no `=`")
                .at(loc)
                .fix("write -X property=value, e.g. -X socket.nagle.disable=true"));
        };
        let key = key.trim();
        check_passthrough(key, &loc)?;
        let origin = Origin {
            loc: loc.clone(),
            label: format!("-X {key}"),
            rank: 0,
        };
        out.insert(
            key.to_string(),
            PassThrough {
                value: value.to_string(),
                origin,
            },
        );
    }
    Ok(out)
}

/// Collapses layers, lowest precedence first. Two pairs of keys act as one setting:
/// a layer that sets only one of duration/records replaces the whole stop condition (so
/// `--records 1m` means "until 1M records", not "1M records or 10s, whichever first"), and
/// a layer that switches codec without a level drops the old codec's level.
pub(crate) fn merge(layers: Vec<Layer>) -> Merged {
    let mut m = Merged::default();
    for (rank, mut layer) in layers.into_iter().enumerate() {
        let pairs = [
            ("workload.duration", "workload.records"),
            ("workload.records", "workload.duration"),
        ];
        for (set, other) in pairs {
            if let (Some(e), false) = (layer.values.get(set), layer.values.contains_key(other)) {
                let cleared = if other == "workload.duration" {
                    Val::OptDur(None)
                } else {
                    Val::OptU64(None)
                };
                let origin = Origin {
                    label: format!("{other} (cleared by {set})"),
                    ..e.origin.clone()
                };
                layer.values.insert(
                    other,
                    Entry {
                        val: cleared,
                        origin,
                    },
                );
            }
        }
        if let (Some(new), false) = (
            layer.values.get("compression.codec"),
            layer.values.contains_key("compression.level"),
        ) {
            if m.values
                .get("compression.codec")
                .is_some_and(|old| old.val != new.val)
            {
                let origin = Origin {
                    label: "compression.level (reset by compression.codec)".into(),
                    ..new.origin.clone()
                };
                layer.values.insert(
                    "compression.level",
                    Entry {
                        val: Val::Level(None),
                        origin,
                    },
                );
            }
        }
        for (k, mut e) in layer.values {
            e.origin.rank = rank;
            m.values.insert(k, e);
        }
        for (k, mut p) in layer.librdkafka {
            p.origin.rank = rank;
            m.librdkafka.insert(k, p);
        }
        m.faults.extend(layer.faults);
        if let Some((s, loc)) = layer.stages {
            m.stages = Some((s, loc, rank));
        }
        if let Some(t) = layer.topics {
            m.topics = Some(t);
        }
    }
    m
}
