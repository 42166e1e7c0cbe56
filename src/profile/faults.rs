//! `[[fault]]` tables in a profile: either `spec = "broker-down:2@10s+5s"` (the `--fault`
//! grammar) or the same fault spelt out as keys:
//!
//! ```toml
//! [[fault]]
//! kind = "broker-down"    # broker-down | rtt | errors | leader
//! broker = 2              # or "*" for every broker
//! at = "10s"
//! for = "5s"
//! ```
//!
//! rtt takes `rtt = "50ms"`, errors `api = "produce"`, `error = "NOT_ENOUGH_REPLICAS"`,
//! `count = 20`, leader `partition = 0` and `broker = 3`.

use super::keys::{closest, raw_from_toml, Locator, Raw, RawEntry};
use crate::error::{ConfigError, Location};
use crate::faults::{self, FaultSpec, GRAMMAR};
use toml::de::DeValue;
use toml::Spanned;

const FIELDS: &[&str] = &[
    "spec",
    "kind",
    "broker",
    "partition",
    "rtt",
    "api",
    "error",
    "count",
    "at",
    "for",
];

fn text(e: &RawEntry) -> Result<String, ConfigError> {
    match &e.value {
        Raw::Str(s) => Ok(s.clone()),
        Raw::Int(n) => Ok(n.to_string()),
        other => Err(ConfigError::new(format!(
            "expected a string or an integer, found {}",
            match other {
                Raw::Float(_) => "a float",
                Raw::Bool(_) => "a boolean",
                Raw::Table(_) => "a table",
                _ => "another type",
            }
        ))
        .at(e.loc.clone())
        .key(format!("fault.{}", e.key))
        .fix(format!("write {} = \"...\"", e.key))),
    }
}

/// The faults of one `fault = [...]` value (written as `[[fault]]` tables).
pub(crate) fn from_toml(
    value: &Spanned<DeValue<'_>>,
    at: &Locator<'_>,
) -> Result<Vec<FaultSpec>, ConfigError> {
    let loc = at.loc(value.span().start);
    let DeValue::Array(items) = value.get_ref() else {
        return Err(ConfigError::new("`fault` is a list of tables")
            .at(loc)
            .key("fault")
            .fix("write each fault as a [[fault]] table with spec = \"broker-down:2@10s+5s\""));
    };
    let mut out = Vec::new();
    for item in items.iter() {
        let iloc = at.loc(item.span().start);
        let mut raw = raw_from_toml(item, at);
        super::env::expand_raw(&mut raw, "fault", &iloc)?;
        let Raw::Table(entries) = raw else {
            return Err(ConfigError::new("each fault is a table")
                .at(iloc)
                .key("fault")
                .fix("write [[fault]] on its own line, then spec = \"...\" below it"));
        };
        out.push(one(&entries, &iloc)?);
    }
    Ok(out)
}

fn one(entries: &[RawEntry], loc: &Location) -> Result<FaultSpec, ConfigError> {
    for e in entries {
        if !FIELDS.contains(&e.key.as_str()) {
            let hint = closest(&e.key, FIELDS.iter().copied()).map_or_else(
                || format!("keys: {}", FIELDS.join(", ")),
                |b| format!("did you mean `{b}`?"),
            );
            return Err(
                ConfigError::new(format!("unknown key `{}` in [[fault]]", e.key))
                    .at(e.key_loc.clone())
                    .key(format!("fault.{}", e.key))
                    .fix(hint),
            );
        }
    }
    let get = |k: &str| -> Result<Option<(String, Location)>, ConfigError> {
        entries
            .iter()
            .find(|e| e.key == k)
            .map(|e| text(e).map(|t| (t, e.loc.clone())))
            .transpose()
    };
    if let Some((spec, sloc)) = get("spec")? {
        if let Some(e) = entries.iter().find(|e| e.key != "spec") {
            return Err(ConfigError::new(format!(
                "`{}` next to `spec`: a fault is either a spec or spelt out in keys",
                e.key
            ))
            .at(e.key_loc.clone())
            .key(format!("fault.{}", e.key))
            .fix("keep only spec = \"...\", or drop spec"));
        }
        return faults::parse(&spec, &sloc);
    }
    let need = |k: &str| -> Result<String, ConfigError> {
        get(k)?.map(|(t, _)| t).ok_or_else(|| {
            ConfigError::new(format!("a [[fault]] needs `{k}`"))
                .at(loc.clone())
                .key(format!("fault.{k}"))
                .fix(format!(
                    "write spec = \"...\" ({GRAMMAR}), or the kind's keys"
                ))
        })
    };
    let kind = need("kind")?;
    let when = match get("for")? {
        Some((d, _)) => format!("@{}+{d}", need("at")?),
        None => format!("@{}", need("at")?),
    };
    let spec = match kind.as_str() {
        "broker-down" => format!("broker-down:{}{when}", need("broker")?),
        "rtt" => format!("rtt:{}={}{when}", need("broker")?, need("rtt")?),
        "errors" => {
            let count = get("count")?.map_or("1".to_string(), |(c, _)| c);
            format!("errors:{}={}*{count}{when}", need("api")?, need("error")?)
        }
        "leader" => format!("leader:{}={}{when}", need("partition")?, need("broker")?),
        other => format!("{other}:?{when}"),
    };
    faults::parse(&spec, loc)
}
