//! `kprod merge`'s refusals: why a set of run directories is not the instances of one
//! distributed run. Every difference names the field (`profile`, `topic`, ..., or the
//! first differing path inside `config.profile`) so the error can say what to fix.

use super::merge::Input;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Why these runs are not one distributed run: (field, message), the field first.
pub(super) fn differences(inputs: &[Input]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(first) = inputs.first() else {
        return out;
    };
    let a = &first.report;
    for other in &inputs[1..] {
        let b = &other.report;
        let plain: [(&str, Value, Value); 6] = [
            (
                "profile",
                a.profile.clone().into(),
                b.profile.clone().into(),
            ),
            ("topic", a.topic.clone().into(), b.topic.clone().into()),
            (
                "send_mode",
                a.send_mode.clone().into(),
                b.send_mode.clone().into(),
            ),
            ("partitions", a.partitions.into(), b.partitions.into()),
            ("producers", a.producers.into(), b.producers.into()),
            ("instances", a.instances.into(), b.instances.into()),
        ];
        for (field, x, y) in plain {
            if x != y {
                out.push((
                    field.to_string(),
                    format!(
                        "`{field}` differs: {x} in {} but {y} in {}",
                        first.name(),
                        other.name()
                    ),
                ));
            }
        }
        if let Some((path, x, y)) =
            json_diff("config.profile", &a.config.profile, &b.config.profile)
        {
            out.push((
                path.clone(),
                format!(
                    "`{path}` differs: {x} in {} but {y} in {}",
                    first.name(),
                    other.name()
                ),
            ));
        }
    }
    let mut seen: BTreeMap<u32, &Input> = BTreeMap::new();
    for i in inputs {
        match i.report.instance {
            None => out.push((
                "instance".into(),
                format!(
                    "{} is not an instance of a distributed run (its report.json has no \
                     `instance`; run it with --instance I/N)",
                    i.dir.display()
                ),
            )),
            Some(k) => {
                if let Some(prev) = seen.insert(k, i) {
                    out.push((
                        "instance".into(),
                        format!(
                            "instance {k} is given twice: {} and {}",
                            prev.dir.display(),
                            i.dir.display()
                        ),
                    ));
                }
            }
        }
    }
    if let Some(n) = a.instances.filter(|_| !seen.is_empty()) {
        let missing: Vec<String> = (0..n)
            .filter(|k| !seen.contains_key(k))
            .map(|k| k.to_string())
            .collect();
        if !missing.is_empty() {
            out.push((
                "instance".into(),
                format!(
                    "instance(s) {} of a run of {n} are missing",
                    missing.join(", ")
                ),
            ));
        }
    }
    // The most telling field first: a different profile explains the rest.
    out.sort_by_key(|(f, _)| match f.as_str() {
        "profile" => 0,
        f if f.starts_with("config.profile") => 1,
        "instance" | "instances" => 3,
        _ => 2,
    });
    out
}

/// The first place where two JSON values differ: (path, left, right).
fn json_diff(path: &str, a: &Value, b: &Value) -> Option<(String, String, String)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => json_diff(&p, u, v),
                    (u, v) => Some((p, show(u), show(v))),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| json_diff(&format!("{path}[{i}]"), u, v)),
        _ if a == b => None,
        _ => Some((path.to_string(), a.to_string(), b.to_string())),
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".to_string(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_diff_names_the_first_differing_path() {
        let a = json!({"workload": {"rate": {"kind": "fixed", "per_sec": 100.0}, "seed": 1}});
        let b = json!({"workload": {"rate": {"kind": "fixed", "per_sec": 200.0}, "seed": 1}});
        let (path, x, y) = json_diff("config.profile", &a, &b).expect("differs");
        assert_eq!(path, "config.profile.workload.rate.per_sec");
        assert_eq!((x.as_str(), y.as_str()), ("100.0", "200.0"));
        assert_eq!(json_diff("p", &a, &a.clone()), None);
        let c = json!({"workload": {"rate": {"kind": "fixed", "per_sec": 100.0}}});
        let (path, _, y) = json_diff("p", &a, &c).expect("differs");
        assert_eq!((path.as_str(), y.as_str()), ("p.workload.seed", "(absent)"));
        let (path, _, _) = json_diff("p", &json!([1, 2]), &json!([1, 3])).expect("differs");
        assert_eq!(path, "p[1]");
    }
}
