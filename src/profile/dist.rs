//! Record size distributions (`workload.size`) and value generators (`workload.value`):
//! the two keys that take either a plain value or a small table.

use super::keys::{choice, closest, Ctx, Raw, RawEntry};
use super::model::{SizeDist, ValueGen};
use crate::error::ConfigError;
use crate::units;
use std::path::PathBuf;

const DISTS: &[(&str, &str)] = &[
    ("fixed", "bytes"),
    ("uniform", "min, max"),
    (
        "normal",
        "mean, stddev, min (default 1B), max (default mean + 4*stddev)",
    ),
    ("file", "path"),
];

pub(crate) fn size_dist(raw: &Raw, cx: &Ctx<'_>) -> Result<SizeDist, ConfigError> {
    let entries = match raw {
        Raw::Table(entries) => entries,
        other => {
            return Ok(SizeDist::Fixed {
                bytes: size_of(other, cx.key, cx)?,
            })
        }
    };
    let dist = string_entry(entries, "dist", cx)?.ok_or_else(|| {
        cx.err("a size table needs `dist`").fix(format!(
            "write {} = {{ dist = \"uniform\", min = \"100B\", max = \"1KiB\" }}",
            cx.key
        ))
    })?;
    let names: Vec<(&str, &str)> = DISTS.iter().map(|(n, _)| (*n, *n)).collect();
    let dist = choice(&dist, &names, cx)?;
    let allowed: Vec<&str> = match dist {
        "fixed" => vec!["dist", "bytes"],
        "uniform" => vec!["dist", "min", "max"],
        "normal" => vec!["dist", "mean", "stddev", "min", "max"],
        _ => vec!["dist", "path"],
    };
    reject_unknown(entries, &allowed, cx)?;
    let size = |name: &str| -> Result<Option<u32>, ConfigError> {
        entries
            .iter()
            .find(|e| e.key == name)
            .map(|e| {
                let key = format!("{}.{name}", cx.key);
                size_of(
                    &e.value,
                    &key,
                    &Ctx {
                        key: &key,
                        loc: &e.loc,
                        base_dir: cx.base_dir,
                    },
                )
            })
            .transpose()
    };
    let need = |name: &str, v: Option<u32>| {
        v.ok_or_else(|| {
            let forms = DISTS
                .iter()
                .find(|(n, _)| *n == dist)
                .map_or("", |(_, f)| *f);
            cx.err(format!("dist = \"{dist}\" needs `{name}` (keys: {forms})"))
                .fix(format!("add {name} = \"512B\" to {}", cx.key))
        })
    };
    Ok(match dist {
        "fixed" => SizeDist::Fixed {
            bytes: need("bytes", size("bytes")?)?,
        },
        "uniform" => SizeDist::Uniform {
            min: need("min", size("min")?)?,
            max: need("max", size("max")?)?,
        },
        "normal" => {
            let mean = need("mean", size("mean")?)?;
            let stddev = need("stddev", size("stddev")?)?;
            let max = size("max")?.unwrap_or_else(|| mean.saturating_add(stddev.saturating_mul(4)));
            SizeDist::Normal {
                mean,
                stddev,
                min: size("min")?.unwrap_or(1),
                max,
            }
        }
        _ => SizeDist::File {
            path: file_entry(entries, cx)?,
        },
    })
}

pub(crate) fn value_gen(raw: &Raw, cx: &Ctx<'_>) -> Result<ValueGen, ConfigError> {
    const GENS: &[(&str, &str)] = &[
        ("random", "random"),
        ("text", "text"),
        ("json", "json"),
        ("file", "file"),
    ];
    let (name, entries) = match raw {
        Raw::Str(t) | Raw::Text(t) => (choice(t, GENS, cx)?, None),
        Raw::Table(entries) => {
            let g = string_entry(entries, "generator", cx)?.ok_or_else(|| {
                cx.err("a value table needs `generator`").fix(format!(
                    "write {} = {{ generator = \"file\", path = \"lines.txt\" }}",
                    cx.key
                ))
            })?;
            (choice(&g, GENS, cx)?, Some(entries))
        }
        other => {
            return Err(cx
                .err(format!(
                    "expected \"random\", \"text\", \"json\" or a table, found {}",
                    kind_name(other)
                ))
                .fix(format!("write {} = \"text\"", cx.key)))
        }
    };
    if let Some(entries) = entries {
        let allowed: &[&str] = if name == "file" {
            &["generator", "path"]
        } else {
            &["generator"]
        };
        reject_unknown(entries, allowed, cx)?;
    }
    Ok(match (name, entries) {
        ("random", _) => ValueGen::Random,
        ("text", _) => ValueGen::Text,
        ("json", _) => ValueGen::Json,
        (_, Some(entries)) => ValueGen::File {
            path: file_entry(entries, cx)?,
        },
        (_, None) => {
            return Err(cx.err("the file generator needs a path").fix(format!(
                "write {} = {{ generator = \"file\", path = \"lines.txt\" }}",
                cx.key
            )))
        }
    })
}

fn kind_name(r: &Raw) -> &'static str {
    r.type_name()
}

/// A record size in bytes; sizes past u32 cannot be generated (the 1GiB cap is checked later).
fn size_of(raw: &Raw, key: &str, cx: &Ctx<'_>) -> Result<u32, ConfigError> {
    let bytes = match raw {
        Raw::Int(n) => u64::try_from(*n).map_err(|_| {
            cx.err(format!("{key}: {n} is negative"))
                .fix(format!("write {key} as a size such as \"512B\""))
        })?,
        Raw::Str(t) | Raw::Text(t) => units::parse_size(t).map_err(|e| {
            cx.err(e).fix(format!(
                "write {key} as a size such as \"512B\" or \"4KiB\""
            ))
        })?,
        other => {
            return Err(cx
                .err(format!(
                    "expected a size such as \"512B\", found {}",
                    kind_name(other)
                ))
                .fix(format!("write {key} = \"512B\"")))
        }
    };
    u32::try_from(bytes).map_err(|_| {
        cx.err(format!(
            "record size {} is above the 1GiB limit",
            units::format_size(bytes)
        ))
        .fix("use a record size of at most 1GiB")
    })
}

fn string_entry(
    entries: &[RawEntry],
    name: &str,
    cx: &Ctx<'_>,
) -> Result<Option<String>, ConfigError> {
    match entries.iter().find(|e| e.key == name) {
        None => Ok(None),
        Some(RawEntry {
            value: Raw::Str(s) | Raw::Text(s),
            ..
        }) => Ok(Some(s.clone())),
        Some(e) => Err(ConfigError::new(format!(
            "expected a string, found {}",
            kind_name(&e.value)
        ))
        .at(e.loc.clone())
        .key(format!("{}.{name}", cx.key))
        .fix(format!("quote the value of {name}"))),
    }
}

fn file_entry(entries: &[RawEntry], cx: &Ctx<'_>) -> Result<PathBuf, ConfigError> {
    let path = string_entry(entries, "path", cx)?.ok_or_else(|| {
        cx.err("a file source needs `path`")
            .fix("add path = \"file.txt\" (relative to the profile)")
    })?;
    let loc = entries
        .iter()
        .find(|e| e.key == "path")
        .map_or_else(|| cx.loc.clone(), |e| e.loc.clone());
    let full = cx.base_dir.join(&path);
    // Checked now so a typo fails before any cluster is touched, not minutes into a run.
    if !full.is_file() {
        return Err(ConfigError::new(format!(
            "file {} does not exist or is not a file",
            full.display()
        ))
        .at(loc)
        .key(format!("{}.path", cx.key))
        .fix("give a path relative to the profile file (or to the current directory for --set)"));
    }
    Ok(full)
}

fn reject_unknown(entries: &[RawEntry], allowed: &[&str], cx: &Ctx<'_>) -> Result<(), ConfigError> {
    for e in entries {
        if !allowed.contains(&e.key.as_str()) {
            let fix = match closest(&e.key, allowed.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("allowed keys here: {}", allowed.join(", ")),
            };
            return Err(
                ConfigError::new(format!("unknown key `{}` in {}", e.key, cx.key))
                    .at(e.key_loc.clone())
                    .key(format!("{}.{}", cx.key, e.key))
                    .fix(fix),
            );
        }
    }
    Ok(())
}
