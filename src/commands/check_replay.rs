//! Reproducing a baseline run for `kprod check`: the baseline report's `config.profile`
//! (the resolved profile, every key explicit) is written back as a kprod profile file and
//! resolved through the ordinary loader, and the result must serialise to the very same
//! profile before anything runs.
//!
//! Why not re-resolve the baseline's layer names: `--set`, `-X`, flags and the Java config
//! leave no name behind, and a profile file may have changed since. The resolved profile
//! in the report is what actually ran.

use serde_json::Value;
use toml::{Table, Value as Toml};

/// Keys whose JSON `null` has a spelling in the profile format; other nulls are left out
/// (the key stays unset, as it was when the report was written).
const NULL_WORDS: &[(&str, &str)] = &[
    ("producer.transactional_id", ""),
    ("cluster.brokers", ""),
    ("compression.level", "default"),
    ("workload.duration", "none"),
    ("workload.records", "none"),
    ("backpressure.max_in_flight_records", "none"),
];

/// Top-level fields of a resolved profile that describe it rather than configure it.
pub const NOT_SETTINGS: &[&str] = &["names", "description", "warnings"];

fn scalar(path: &str, v: &Value) -> Result<Option<Toml>, String> {
    Ok(Some(match v {
        Value::Null => {
            return Ok(NULL_WORDS
                .iter()
                .find(|(k, _)| *k == path)
                .map(|(_, w)| Toml::String((*w).to_string())))
        }
        Value::Bool(b) => Toml::Boolean(*b),
        Value::String(s) => Toml::String(s.clone()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Toml::Integer(i),
            (None, Some(f)) => Toml::Float(f),
            _ => return Err(format!("`{path}`: number {n} does not fit a profile value")),
        },
        Value::Array(_) | Value::Object(_) => {
            return Err(format!(
                "`{path}` holds a structure this kprod cannot replay"
            ))
        }
    }))
}

fn object<'a>(path: &str, v: &'a Value) -> Result<&'a serde_json::Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("`{path}` should be a table in the baseline's profile"))
}

/// `{ "kind": "fixed", "bytes": 512 }` -> `{ dist = "fixed", bytes = 512 }`; the file
/// variant keeps its (already resolved) path.
fn tagged(path: &str, v: &Value, tag_as: &str) -> Result<Toml, String> {
    let mut t = Table::new();
    for (k, x) in object(path, v)? {
        let name = if k == "kind" { tag_as } else { k.as_str() };
        if let Some(val) = scalar(&format!("{path}.{k}"), x)? {
            t.insert(name.to_string(), val);
        }
    }
    Ok(Toml::Table(t))
}

/// `{ "kind": "zipf", "count": 10, "s": 1.5 }` -> `keys`, `key_count`, `zipf_s`.
fn keys(path: &str, v: &Value, t: &mut Table) -> Result<(), String> {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{path}`: unknown key distribution {v}"))?;
    t.insert("keys".into(), Toml::String(kind.to_string()));
    for (field, key) in [("count", "key_count"), ("s", "zipf_s")] {
        if let Some(x) = v.get(field) {
            if let Some(x) = scalar(path, x)? {
                t.insert(key.into(), x);
            }
        }
    }
    Ok(())
}

/// The headers table; `fixed` is stored as `[name, value]` pairs and written as a table.
fn headers(path: &str, v: &Value) -> Result<Toml, String> {
    let mut h = Table::new();
    for (hk, hv) in object(path, v)? {
        if hk == "fixed" {
            let mut fixed = Table::new();
            for pair in hv.as_array().into_iter().flatten() {
                if let (Some(n), Some(x)) = (
                    pair.get(0).and_then(Value::as_str),
                    pair.get(1).and_then(Value::as_str),
                ) {
                    fixed.insert(n.to_string(), Toml::String(x.to_string()));
                }
            }
            h.insert(hk.clone(), Toml::Table(fixed));
        } else if let Some(val) = scalar(&format!("{path}.{hk}"), hv)? {
            h.insert(hk.clone(), val);
        }
    }
    Ok(Toml::Table(h))
}

fn workload(w: &serde_json::Map<String, Value>) -> Result<Table, String> {
    let mut t = Table::new();
    for (k, v) in w {
        let path = format!("workload.{k}");
        match k.as_str() {
            "rate" => {
                let kind = v.get("kind").and_then(Value::as_str);
                let val = match (kind, v.get("per_sec")) {
                    (Some("unlimited"), _) => Toml::String("unlimited".into()),
                    (Some("fixed"), Some(n)) => {
                        scalar(&path, n)?.ok_or_else(|| format!("`{path}` has no per_sec"))?
                    }
                    _ => return Err(format!("`{path}`: unknown rate {v}")),
                };
                t.insert(k.clone(), val);
            }
            "size" => {
                t.insert(k.clone(), tagged(&path, v, "dist")?);
            }
            "value" => match v.get("kind").and_then(Value::as_str) {
                Some("file") => {
                    t.insert(k.clone(), tagged(&path, v, "generator")?);
                }
                Some(g) => {
                    t.insert(k.clone(), Toml::String(g.to_string()));
                }
                None => return Err(format!("`{path}`: unknown value generator {v}")),
            },
            "keys" => keys(&path, v, &mut t)?,
            "partition_map" => {
                let mut m = Table::new();
                for (prefix, p) in object(&path, v)? {
                    if let Some(p) = scalar(&path, p)? {
                        m.insert(prefix.clone(), p);
                    }
                }
                t.insert(k.clone(), Toml::Table(m));
            }
            "headers" => {
                t.insert(k.clone(), headers(&path, v)?);
            }
            // `[[workload.topics]]`, expanded: each topic with its literal name.
            "topics" => {
                let mut list = Vec::new();
                for (i, topic) in v.as_array().into_iter().flatten().enumerate() {
                    let mut tt = Table::new();
                    for (tk, tv) in object(&format!("{path}[{i}]"), topic)? {
                        let tpath = format!("{path}[{i}].{tk}");
                        // A topic's own records take [workload]'s forms.
                        match tk.as_str() {
                            "size" => {
                                tt.insert(tk.clone(), tagged(&tpath, tv, "dist")?);
                                continue;
                            }
                            "keys" => {
                                keys(&tpath, tv, &mut tt)?;
                                continue;
                            }
                            _ => {}
                        }
                        let val = match tv {
                            Value::Object(c) => Toml::Table(
                                c.iter()
                                    .filter_map(|(n, x)| {
                                        x.as_str().map(|x| (n.clone(), Toml::String(x.into())))
                                    })
                                    .collect(),
                            ),
                            x => match scalar(&tpath, x)? {
                                Some(x) => x,
                                None => continue,
                            },
                        };
                        tt.insert(tk.clone(), val);
                    }
                    list.push(Toml::Table(tt));
                }
                t.insert(k.clone(), Toml::Array(list));
            }
            _ => {
                if let Some(val) = scalar(&path, v)? {
                    t.insert(k.clone(), val);
                }
            }
        }
    }
    Ok(t)
}

/// The resolved profile of a report (`config.profile`) as profile-file TOML.
pub fn profile_toml(profile: &Value, description: &str) -> Result<String, String> {
    let top = object("profile", profile)?;
    let mut doc = Table::new();
    doc.insert(
        "description".into(),
        Toml::String(format!(
            "kprod check: replay of the baseline run ({description})"
        )),
    );
    for (section, v) in top {
        if NOT_SETTINGS.contains(&section.as_str()) {
            continue;
        }
        if section == "faults" {
            // Each fault is stored as its canonical spec, which `[[fault]] spec = ...` reads.
            let specs = v
                .as_array()
                .ok_or_else(|| "`faults` should be a list in the baseline's profile".to_string())?;
            let mut list = Vec::new();
            for f in specs {
                let spec = f
                    .as_str()
                    .ok_or_else(|| format!("fault {f} is not a spec string"))?;
                let mut t = Table::new();
                t.insert("spec".into(), Toml::String(spec.to_string()));
                list.push(Toml::Table(t));
            }
            if !list.is_empty() {
                doc.insert("fault".into(), Toml::Array(list));
            }
            continue;
        }
        let fields = object(section, v)?;
        let table = match section.as_str() {
            "workload" => workload(fields)?,
            _ => {
                let mut t = Table::new();
                for (k, x) in fields {
                    let path = format!("{section}.{k}");
                    let val = match (section.as_str(), x) {
                        // Percent thresholds are written "5%" in a profile.
                        ("check", Value::Number(n)) if k != "errors" => {
                            Some(Toml::String(format!("{}%", n.as_f64().unwrap_or(0.0))))
                        }
                        ("check", Value::Array(items)) if k == "thresholds" => Some(Toml::Array(
                            items
                                .iter()
                                .filter_map(Value::as_str)
                                .map(|e| Toml::String(e.to_string()))
                                .collect(),
                        )),
                        _ => scalar(&path, x)?,
                    };
                    if let Some(val) = val {
                        t.insert(k.clone(), val);
                    }
                }
                t
            }
        };
        doc.insert(section.clone(), Toml::Table(table));
    }
    toml::to_string(&doc).map_err(|e| format!("cannot write the profile: {e}"))
}

/// Settings that differ between two resolved profiles (JSON, as reports hold them), as
/// `section.key: a -> b`, ignoring `ignore` sections and the descriptive fields.
pub fn differences(a: &Value, b: &Value, ignore: &[&str]) -> Vec<String> {
    let skip = |k: &str| {
        let top = k.split('.').next().unwrap_or(k);
        NOT_SETTINGS.contains(&top) || ignore.contains(&top)
    };
    let mut diffs: Vec<crate::report::ProfileDiff> = crate::report::diff_profiles(a, b)
        .into_iter()
        .filter(|d| !skip(&d.path) && !d.both_unset())
        .collect();
    // Listed in the order of the full dotted keys.
    diffs.sort_by(|x, y| x.path.cmp(&y.path));
    diffs
        .iter()
        .map(|d| {
            let show = crate::report::ProfileDiff::show;
            format!("{}: {} -> {}", d.path, show(&d.left), show(&d.right))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_the_key_and_both_values() {
        let a = json!({"names": ["a"], "compression": {"codec": "lz4"}, "check": {"p99": 1.0}});
        let b = json!({"names": ["b"], "compression": {"codec": "zstd"}, "check": {"p99": 2.0}});
        assert_eq!(
            differences(&a, &b, &["check"]),
            ["compression.codec: \"lz4\" -> \"zstd\""]
        );
        let old = json!({"compression": {"codec": "lz4"}});
        let new = json!({"compression": {"codec": "lz4"}, "check": {"p99": null}});
        assert!(differences(&old, &new, &[]).is_empty());
    }

    #[test]
    fn tagged_tables_and_nulls_translate_to_profile_spellings() {
        let p = json!({
            "workload": {
                "rate": {"kind": "unlimited"},
                "size": {"kind": "uniform", "min": 10, "max": 20},
                "duration": null,
                "records": 500,
                "keys": {"kind": "zipf", "count": 10, "s": 1.5},
                "headers": {"count": 1, "value_bytes": 4, "fixed": [["a", "b"]]}
            },
            "check": {"p99": 12.5, "errors": 3, "p50": null},
            "faults": ["broker-down:2@10s+5s"]
        });
        let text = profile_toml(&p, "x").unwrap();
        let doc: Table = toml::from_str(&text).unwrap();
        let w = doc["workload"].as_table().unwrap();
        assert_eq!(w["rate"].as_str(), Some("unlimited"));
        assert_eq!(w["size"]["dist"].as_str(), Some("uniform"));
        assert_eq!(w["duration"].as_str(), Some("none"));
        assert_eq!(w["keys"].as_str(), Some("zipf"));
        assert_eq!(w["zipf_s"].as_float(), Some(1.5));
        assert_eq!(w["headers"]["fixed"]["a"].as_str(), Some("b"));
        let c = doc["check"].as_table().unwrap();
        assert_eq!(c["p99"].as_str(), Some("12.5%"));
        assert_eq!(c["errors"].as_integer(), Some(3));
        assert!(!c.contains_key("p50"));
        let f = doc["fault"].as_array().unwrap();
        assert_eq!(f[0]["spec"].as_str(), Some("broker-down:2@10s+5s"));
    }

    #[test]
    fn many_topics_replay_to_the_same_profile() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("t.toml");
        std::fs::write(
            &src,
            "[[workload.topics]]\nname = \"o-{i}\"\ncount = 2\nshare = 3\n\
             config = { \"retention.ms\" = 1000 }\n[[workload.topics]]\nname = \"b\"\n\
             size = { dist = \"uniform\", min = \"20B\", max = \"40B\" }\n\
             keys = \"zipf\"\nkey_count = 50\n",
        )
        .unwrap();
        let resolve = |p: &std::path::Path| {
            let arg = p.display().to_string();
            let prof = crate::profile::resolve(&[arg], &Default::default(), d.path()).unwrap();
            serde_json::to_value(&prof).unwrap()
        };
        let first = resolve(&src);
        let text = profile_toml(&first, "x").unwrap();
        let again = d.path().join("replay.toml");
        std::fs::write(&again, text).unwrap();
        let second = resolve(&again);
        assert!(differences(&first, &second, &[]).is_empty());
        assert_eq!(second["workload"]["topics"][1]["name"], "o-1");
        assert_eq!(
            second["workload"]["topics"][0]["config"]["retention.ms"],
            "1000"
        );
        let b = &second["workload"]["topics"][2];
        assert_eq!(b["size"]["min"], 20);
        assert_eq!(b["keys"]["count"], 50);
        assert_eq!(b["keys"]["kind"], "zipf");
        assert!(second["workload"]["topics"][0].get("size").is_none());
    }
}
