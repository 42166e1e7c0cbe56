//! The one differ of resolved profiles (`config.profile` of a report, as JSON): which
//! settings two runs did not share. `kprod merge` refuses on the first difference,
//! `kprod check` lists them all.

use serde_json::Value;
use std::collections::BTreeSet;

/// One setting that differs: its dotted path (`workload.rate.per_sec`) and both values,
/// `None` where a side lacks the key. Lists are compared as one value.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileDiff {
    pub path: String,
    pub left: Option<Value>,
    pub right: Option<Value>,
}

impl ProfileDiff {
    /// A side as it is printed: its JSON, or `(absent)`.
    pub fn show(side: &Option<Value>) -> String {
        side.as_ref()
            .map_or_else(|| "(absent)".to_string(), Value::to_string)
    }

    /// True when neither side sets the key (absent or `null`): an older report lacks a field
    /// that, by construction, was not set.
    pub fn both_unset(&self) -> bool {
        let unset = |v: &Option<Value>| v.as_ref().is_none_or(Value::is_null);
        unset(&self.left) && unset(&self.right)
    }
}

/// Every setting where `a` and `b` differ, tables walked key by key in sorted order (so the
/// first difference is the same whoever asks).
pub fn diff_profiles(a: &Value, b: &Value) -> Vec<ProfileDiff> {
    let mut out = Vec::new();
    walk("", Some(a), Some(b), &mut out);
    out
}

fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<ProfileDiff>) {
    // A table one side lacks is walked as an empty one, so each of its keys is named (and
    // a key that is `null` there counts as unset, as in an older report).
    match (table(a), table(b)) {
        (Some(x), Some(y)) if x.is_some() || y.is_some() => {
            let keys: BTreeSet<&String> = x.into_iter().chain(y).flat_map(|m| m.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&p, x.and_then(|m| m.get(k)), y.and_then(|m| m.get(k)), out);
            }
        }
        _ if a == b => {}
        _ => out.push(ProfileDiff {
            path: path.to_string(),
            left: a.cloned(),
            right: b.cloned(),
        }),
    }
}

type Table = serde_json::Map<String, Value>;

/// `Some(Some(table))`, `Some(None)` for an absent value, `None` for any other value.
fn table(v: Option<&Value>) -> Option<Option<&Table>> {
    match v {
        Some(Value::Object(m)) => Some(Some(m)),
        None => Some(None),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_differing_setting_in_path_order() {
        let a = json!({"workload": {"rate": {"kind": "fixed", "per_sec": 100.0}, "seed": 1},
                       "faults": ["a", "b"]});
        let b = json!({"workload": {"rate": {"kind": "fixed", "per_sec": 200.0}},
                       "faults": ["a", "c"]});
        let d = diff_profiles(&a, &b);
        let paths: Vec<&str> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["faults", "workload.rate.per_sec", "workload.seed"]);
        assert_eq!(
            (
                ProfileDiff::show(&d[1].left),
                ProfileDiff::show(&d[1].right)
            ),
            ("100.0".to_string(), "200.0".to_string())
        );
        assert_eq!(ProfileDiff::show(&d[2].right), "(absent)");
        assert!(!d[2].both_unset());
        assert!(diff_profiles(&a, &a.clone()).is_empty());
        let nulls = diff_profiles(&json!({"x": null}), &json!({}));
        assert_eq!(nulls.len(), 1);
        assert!(nulls[0].both_unset());
        // A table one side lacks is named key by key.
        let new = diff_profiles(&json!({}), &json!({"check": {"p99": null, "p50": 1}}));
        let paths: Vec<&str> = new.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["check.p50", "check.p99"]);
        assert!(new[1].both_unset() && !new[0].both_unset());
    }
}
