//! `kprod merge`'s refusals: why a set of run directories is not the instances of one
//! distributed run. Every difference names the field (`profile`, `topic`, ..., or the
//! first differing path inside `config.profile`) so the error can say what to fix.

use crate::report::merge::MergeInput;
use crate::report::{diff_profiles, ProfileDiff};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why these runs are not one distributed run: (field, message), the field first.
pub(super) fn differences(inputs: &[MergeInput]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(first) = inputs.first() else {
        return out;
    };
    for other in &inputs[1..] {
        shape_differences(first, other, &mut out);
    }
    instance_differences(inputs, &mut out);
    // The most telling field first: a different profile explains the rest.
    out.sort_by_key(|(f, _)| match f.as_str() {
        "profile" => 0,
        f if f.starts_with("config.profile") => 1,
        "instance" | "instances" => 3,
        _ => 2,
    });
    out
}

/// What must be the same in every instance: the run shape and the resolved profile.
fn shape_differences(first: &MergeInput, other: &MergeInput, out: &mut Vec<(String, String)>) {
    let (a, b) = (&first.report, &other.report);
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
    let mut differs = |field: String, x: String, y: String| {
        let m = format!(
            "`{field}` differs: {x} in {} but {y} in {}",
            first.name(),
            other.name()
        );
        out.push((field, m));
    };
    for (field, x, y) in plain {
        if x != y {
            differs(field.to_string(), x.to_string(), y.to_string());
        }
    }
    if let Some(d) = diff_profiles(&a.config.profile, &b.config.profile).first() {
        differs(
            format!("config.profile.{}", d.path),
            ProfileDiff::show(&d.left),
            ProfileDiff::show(&d.right),
        );
    }
}

/// Each instance exactly once: none missing, none repeated, no plain run among them.
fn instance_differences(inputs: &[MergeInput], out: &mut Vec<(String, String)>) {
    let mut seen: BTreeMap<u32, &MergeInput> = BTreeMap::new();
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
    let n = inputs.first().and_then(|i| i.report.instances);
    if let Some(n) = n.filter(|_| !seen.is_empty()) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Histograms, RunTotals};
    use serde_json::json;

    fn input(instance: u32, rate: f64) -> MergeInput {
        let mut report = crate::report::testing::sample_report();
        report.instance = Some(instance);
        report.instances = Some(2);
        report.config.profile = json!({"workload": {"rate": {"kind": "fixed", "per_sec": rate}}});
        let hists = Histograms::default();
        MergeInput {
            dir: format!("run-{instance}").into(),
            report,
            totals: RunTotals {
                schema_version: crate::report::TOTALS_VERSION,
                t0_unix_us: 0,
                throughput: Default::default(),
                stats: Default::default(),
                histograms: hists.encode().expect("encodes"),
            },
            hists,
            intervals: Vec::new(),
            e2e_intervals: None,
        }
    }

    #[test]
    fn a_profile_difference_names_its_config_path_first() {
        assert!(differences(&[input(0, 100.0), input(1, 100.0)]).is_empty());
        let d = differences(&[input(0, 100.0), input(1, 200.0), input(1, 100.0)]);
        assert_eq!(d[0].0, "config.profile.workload.rate.per_sec");
        assert!(d[0].1.contains("100.0 in instance 0/2") && d[0].1.contains("200.0 in"));
        assert_eq!(d.last().map(|x| x.0.as_str()), Some("instance"));
        assert!(d
            .iter()
            .any(|(_, m)| m.contains("instance 1 is given twice")));
    }
}
