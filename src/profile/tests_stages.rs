//! Tests of `[[workload.stages]]`: parsing, the curve they make, the run's duration and
//! rate, and every error naming file, line, key and fix.

use super::stages::{pieces, Piece};
use super::tests::{ok, resolve_in, tmp, write};
use super::*;
use std::time::Duration;

const ALL: &str = r#"[[workload.stages]]
kind = "ramp"
from = "0"
to = "200k"
over = "60s"

[[workload.stages]]
kind = "hold"
for = "2m"

[[workload.stages]]
kind = "spike"
factor = 3.0
for = "10s"

[[workload.stages]]
kind = "step"
by = "+20k"
every = "30s"
for = "1m"

[[workload.stages]]
kind = "hold"
rate = "50k"
for = "5s"
"#;

pub(super) fn resolve_text(text: &str, o: &Overrides) -> Result<Profile, String> {
    let d = tmp();
    write(d.path(), "profiles/t.toml", text);
    resolve_in(d.path(), &["t"], o).map_err(|e| e.to_string())
}

pub(super) fn fails(text: &str, o: &Overrides, line: usize, key: &str, what: &str) {
    let e = match resolve_text(text, o) {
        Ok(p) => panic!(
            "expected an error, got {:?} {:?}",
            p.workload.stages, p.workload.topics
        ),
        Err(e) => e,
    };
    assert!(
        e.starts_with(&format!("profiles/t.toml:{line}:")) || line == 0,
        "location missing in:\n{e}"
    );
    assert!(
        e.contains(&format!("key `{key}`")),
        "key `{key}` missing in:\n{e}"
    );
    assert!(e.contains(what), "`{what}` missing in:\n{e}");
    assert!(e.contains("\n  fix: "), "fix missing in:\n{e}");
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn every_kind_parses_into_one_curve() {
    let p = resolve_text(ALL, &Overrides::default()).expect("valid");
    let w = &p.workload;
    assert_eq!(w.stages.len(), 5);
    // The run lasts as long as the stages: 60 + 120 + 10 + 60 + 5 s.
    assert_eq!(w.duration, Some(secs(255)));
    let got = pieces(&w.stages);
    let want = [
        (0, 0, 60, 0.0, 200e3),
        (1, 60, 120, 200e3, 200e3),
        (2, 180, 10, 600e3, 600e3),
        // The spike ends where the load was; steps climb from there.
        (3, 190, 30, 220e3, 220e3),
        (3, 220, 30, 240e3, 240e3),
        (4, 250, 5, 50e3, 50e3),
    ];
    let want: Vec<Piece> = want
        .iter()
        .map(|&(stage, start, len, from, to)| Piece {
            stage,
            start: secs(start),
            len: secs(len),
            from,
            to,
        })
        .collect();
    assert_eq!(got, want);
    // The single-rate places see the stages' mean rate.
    let records = 6e6 + 24e6 + 6e6 + 6.6e6 + 7.2e6 + 0.25e6;
    match w.rate {
        Rate::Fixed(r) => assert!((r - records / 255.0).abs() < 1e-6, "{r}"),
        Rate::Unlimited => panic!("unlimited"),
    }
}

#[test]
fn duration_may_cut_stages_but_not_outlast_them() {
    let text = format!("[workload]\nduration = \"30s\"\n\n{ALL}");
    let p = resolve_text(&text, &Overrides::default()).expect("valid");
    assert_eq!(p.workload.duration, Some(secs(30)));
    let text = format!("[workload]\nduration = \"5m\"\n\n{ALL}");
    fails(
        &text,
        &Overrides::default(),
        2,
        "workload.duration",
        "longer than the stages",
    );
    // An inherited duration (the base profile's 10s) is replaced, not a cut.
    let d = tmp();
    write(d.path(), "profiles/t.toml", ALL);
    assert_eq!(
        ok(d.path(), &["t"], &Overrides::default())
            .workload
            .duration,
        Some(secs(255))
    );
}

#[test]
fn rate_and_stages_conflict() {
    let text = format!("[workload]\nrate = \"10k\"\n\n{ALL}");
    fails(
        &text,
        &Overrides::default(),
        2,
        "workload.rate",
        "together with [[workload.stages]]",
    );
    let o = Overrides {
        flags: vec![("--rate", "workload.rate", "5k".into())],
        ..Default::default()
    };
    fails(
        ALL,
        &o,
        0,
        "workload.rate",
        "together with [[workload.stages]]",
    );
}

#[test]
fn stage_errors_name_line_key_and_fix() {
    let o = Overrides::default();
    fails(
        "[[workload.stages]]\nkind = \"rampp\"\nfrom = \"0\"\n",
        &o,
        2,
        "workload.stages[0].kind",
        "unknown stage kind `rampp`",
    );
    fails(
        "[[workload.stages]]\nkind = \"ramp\"\nfrom = \"0\"\nto = \"1k\"\n",
        &o,
        1,
        "workload.stages[0].over",
        "stage 0 needs `over`",
    );
    fails(
        "[[workload.stages]]\nkind = \"hold\"\nrate = \"1k\"\nfor = \"1s\"\nover = \"2s\"\n",
        &o,
        5,
        "workload.stages[0].over",
        "does not belong in a hold stage",
    );
    fails(
        "[[workload.stages]]\nkind = \"hold\"\nfor = \"1s\"\n",
        &o,
        1,
        "workload.stages[0].rate",
        "needs a previous rate",
    );
    fails(
        "[[workload.stages]]\nkind = \"hold\"\nrate = \"fast\"\nfor = \"1s\"\n",
        &o,
        3,
        "workload.stages[0].rate",
        "invalid rate",
    );
    fails(
        "[[workload.stages]]\nkind = \"hold\"\nrate = \"1k\"\nfor = \"0s\"\n",
        &o,
        4,
        "workload.stages[0].for",
        "longer than 0",
    );
    fails(
        "[[workload.stages]]\nkind = \"hold\"\nrate = \"1k\"\nfor = \"1s\"\n[[workload.stages]]\nkind = \"spike\"\nfactor = \"x\"\nfor = \"1s\"\n",
        &o,
        7,
        "workload.stages[1].factor",
        "must be a number",
    );
    fails(
        "[workload]\nstages = 3\n",
        &o,
        2,
        "workload.stages",
        "a list of tables",
    );
}
