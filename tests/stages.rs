//! Load stages on the embedded cluster: each full second's offered load follows the stage
//! curve within 1% (issue 13's "a ramp's per-second rate follows the curve").

mod common;
use common::{assert_accounted, bench};

/// Runs `stages` (TOML tables) and returns each full second's records sent, by second.
fn per_second(stages: &str) -> Vec<(f64, u64)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stages.toml");
    std::fs::write(&path, stages).expect("write profile");
    let path = path.to_str().expect("utf-8 path");
    let (_d, o) = bench(&["--profile", path, "--warmup", "0s"]);
    assert_accounted(&o);
    assert_eq!(o.report.records.failed, 0, "{:?}", o.report.records);
    o.report
        .intervals
        .iter()
        .filter(|i| !i.partial && (i.length_s - 1.0).abs() < 1e-9)
        .map(|i| (i.t_s, i.sent))
        .collect()
}

/// Each full second's count is within 1% of `expect(end of second)`.
fn follows(got: &[(f64, u64)], seconds: usize, expect: impl Fn(f64) -> f64) {
    assert!(got.len() >= seconds, "too few full seconds: {got:?}");
    for &(t, sent) in got {
        let want = expect(t.round());
        let err = (sent as f64 - want).abs() / want;
        assert!(
            err < 0.01,
            "second ending {t}: sent {sent}, curve says {want} ({got:?})"
        );
    }
}

#[test]
fn a_ramp_follows_the_curve_each_second() {
    let got = per_second(
        "[[workload.stages]]\nkind = \"ramp\"\nfrom = \"1k\"\nto = \"3k\"\nover = \"4s\"\n",
    );
    // r(t) = 1000 + 500t: the second ending at e carries 1000 + 500(e − 0.5) records.
    follows(&got, 4, |e| 1000.0 + 500.0 * (e - 0.5));
}

#[test]
fn hold_spike_and_hold_again() {
    let got = per_second(concat!(
        "[[workload.stages]]\nkind = \"hold\"\nrate = \"2k\"\nfor = \"2s\"\n",
        "[[workload.stages]]\nkind = \"spike\"\nfactor = 2.0\nfor = \"1s\"\n",
        "[[workload.stages]]\nkind = \"hold\"\nfor = \"1s\"\n",
    ));
    follows(&got, 4, |e| if e == 3.0 { 4000.0 } else { 2000.0 });
}
