//! `--abort-on-breach`: a run whose per-second threshold breaks for K consecutive measured
//! seconds stops early like at a first Ctrl-C, with a partial report marked `aborted`,
//! the reason, the red status line and exit code 6; the aborted run is no input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kprod(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kprod"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("kprod runs")
}

fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let mut d: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    d.sort();
    d
}

#[test]
fn a_breached_threshold_aborts_the_run_with_status_reason_and_exit_6() {
    let out = tempfile::tempdir().expect("temp dir");
    let o = kprod(
        &[
            "bench",
            "--threshold",
            "p99<=1us",
            "--abort-on-breach",
            "2",
            "--duration",
            "20s",
            "--warmup",
            "0s",
            "--rate",
            "2000",
        ],
        out.path(),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("run ABORTED: p99 "), "{stderr}");
    let dirs = run_dirs(out.path());
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let r = kprod::report::load_report(&dirs[0]).expect("the partial report is written");
    assert_eq!(r.status, kprod::report::Status::Aborted);
    let why = r.status_reason.as_deref().unwrap_or_default();
    assert!(why.starts_with("p99 "), "{why}");
    assert!(why.contains("> 1 µs for 2 s (seconds 1..2"), "{why}");
    assert!(r.duration_s < 15.0, "stopped early: {}", r.duration_s);
    assert!(r.records.identity_holds, "{:?}", r.records);
    assert!(dirs[0].join("intervals.csv").is_file());

    // As a saved input it is refused (exit 2) with the reason, and check writes nothing.
    let base = dirs[0].to_string_lossy().to_string();
    let o = kprod(
        &["check", "--baseline", &base, "--current", &base],
        out.path(),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("was aborted (p99 "), "{stderr}");
    assert_eq!(run_dirs(out.path()).len(), 1);
}

#[test]
fn a_profiles_check_thresholds_are_watched_too() {
    // No --threshold: the profile's `[check] thresholds` list alone is what breaks.
    let out = tempfile::tempdir().expect("temp dir");
    let profile = out.path().join("breach.toml");
    std::fs::write(
        &profile,
        "extends = \"base\"\n[check]\nthresholds = [\"p99<=1us\"]\n",
    )
    .expect("profile written");
    let runs = out.path().join("runs");
    let o = kprod(
        &[
            "bench",
            "--profile",
            profile.to_str().expect("utf-8 path"),
            "--abort-on-breach",
            "1",
            "--duration",
            "20s",
            "--warmup",
            "0s",
            "--rate",
            "1000",
        ],
        &runs,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{stderr}");
    let dirs = run_dirs(&runs);
    let r = kprod::report::load_report(&dirs[0]).expect("the partial report is written");
    let why = r.status_reason.as_deref().unwrap_or_default();
    assert!(why.contains("threshold p99<=1us"), "{why}");
}

#[test]
fn abort_on_breach_needs_a_threshold_and_is_refused_by_sweep_and_compare() {
    let out = tempfile::tempdir().expect("temp dir");
    for (args, flag) in [
        (
            &["bench", "--abort-on-breach", "--duration", "2s"][..],
            "--abort-on-breach",
        ),
        (
            &["bench", "--abort-on-breach", "0", "--threshold", "p99<=1ms"][..],
            "--abort-on-breach",
        ),
        (
            &["sweep", "--rates", "1k", "--threshold", "p99<=1ms"][..],
            "--threshold",
        ),
        (&["sweep", "--rates", "1k", "--repeat", "3"][..], "--repeat"),
        (
            &[
                "compare",
                "lz4",
                "gzip",
                "--abort-on-breach",
                "--threshold",
                "p99<=1ms",
            ][..],
            "--abort-on-breach",
        ),
    ] {
        let o = kprod(args, out.path());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(
            run_dirs(out.path()).is_empty(),
            "{args:?} wrote a directory"
        );
    }
}
