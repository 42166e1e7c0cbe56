//! The binary: the README's command, exit codes for bad input and unreachable brokers.

use assert_cmd::Command;
use predicates::prelude::*;
use std::time::{Duration, Instant};

fn kprod() -> Command {
    Command::cargo_bin("kprod").expect("binary built")
}

#[test]
fn readme_quick_start_runs_a_real_benchmark() {
    // README: `cargo run --release -- bench --profile durable`, here with its results in a temp dir.
    let out = tempfile::tempdir().unwrap();
    let assert = kprod()
        .args(["bench", "--profile", "durable", "--out"])
        .arg(out.path())
        .assert()
        .success()
        // The compact summary: the identity line checked, the cluster named.
        .stdout(
            predicate::str::is_match(
                r"records +[\d,]+ sent = [\d,]+ delivered \+ 0 failed \+ 0 unknown  ✓",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("embedded cluster"))
        .stdout(predicate::str::contains(
            "Measured: latency in µs from intended send time",
        ));
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    // The whole summary fits a terminal: 15 lines of 100 columns (the path may be longer).
    assert!(stdout.lines().count() <= 15, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with("results: ") || l.chars().count() <= 100),
        "{stdout}"
    );
    assert!(stdout.starts_with("COMPLETE  durable"), "{stdout}");
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("results: "))
        .expect("results line");
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(std::path::Path::new(dir).join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["status"], "complete");
    assert_eq!(report["cluster"], "embedded");
    assert_eq!(report["records"]["identity_holds"], true);
    assert!(report["records"]["delivered"].as_u64().unwrap() > 0);
    assert_eq!(report["config"]["librdkafka"]["enable.idempotence"], "true");
    for f in [
        "report.json",
        "intervals.csv",
        "latency.hlog",
        "latency.hgrm",
    ] {
        assert!(std::path::Path::new(dir).join(f).is_file(), "{f} missing");
    }
    assert!(out.path().join("runs.csv").is_file());
}

#[test]
fn a_bad_profile_exits_2_naming_file_line_and_key() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.toml");
    std::fs::write(&p, "description = \"bad\"\n\n[producer]\nacks = \"2\"\n").unwrap();
    kprod()
        .args(["bench", "--profile"])
        .arg(&p)
        .args(["--out"])
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:4"))
        .stderr(predicate::str::contains("acks"));
}

#[test]
fn an_unknown_key_gets_a_did_you_mean() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("typo.toml");
    std::fs::write(&p, "[batching]\nlinger_ms = \"5ms\"\n").unwrap();
    kprod()
        .args(["profiles", "show"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("typo.toml:2"))
        .stderr(predicate::str::contains("linger"));
}

#[test]
fn an_unreachable_broker_exits_3_within_the_preflight_deadline() {
    let d = tempfile::tempdir().unwrap();
    let start = Instant::now();
    kprod()
        .args([
            "bench",
            "--brokers",
            "127.0.0.1:1",
            "--duration",
            "2s",
            "--out",
        ])
        .arg(d.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("127.0.0.1:1"));
    // Fail fast: the 10 s preflight, never librdkafka's 5-minute message timeout.
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    assert!(!d.path().join("runs.csv").exists(), "no run was recorded");
}

#[test]
fn profiles_lists_every_builtin() {
    let a = kprod().arg("profiles").assert().success();
    let s = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    for n in [
        "base",
        "durable",
        "throughput",
        "latency",
        "fire-and-forget",
        "idempotent",
        "transactional",
        "none",
        "gzip",
        "snappy",
        "lz4",
        "zstd",
        "block",
        "fail-fast",
    ] {
        assert!(
            s.lines().any(|l| l.trim_start().starts_with(n)),
            "{n} missing from:\n{s}"
        );
    }
}

#[test]
fn profiles_show_prints_the_exact_librdkafka_properties() {
    kprod()
        .args(["profiles", "show", "durable", "zstd"])
        .assert()
        .success()
        .stdout(predicate::str::contains("compression.codec"))
        .stdout(predicate::str::contains("zstd"))
        .stdout(predicate::str::contains("enable.idempotence"));
}

#[test]
fn the_profile_list_is_stable() {
    // The built-in names and descriptions are part of the interface users script against;
    // a change shows up here as a snapshot diff to review.
    let a = kprod().arg("profiles").assert().success();
    insta::assert_snapshot!(String::from_utf8_lossy(&a.get_output().stdout));
}

/// Colour: none on a pipe (tests run without a terminal) nor with NO_COLOR or
/// `--color never`; `--color always` and CLICOLOR_FORCE=1 force it, even on a pipe.
#[test]
fn colour_only_where_asked() {
    let out = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = kprod();
        c.args([
            "bench",
            "--quiet",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--rate",
            "200",
        ])
        .args(extra)
        .arg("--out")
        .arg(out.path())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().expect("kprod ran");
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    for (extra, env) in [
        (&[][..], &[][..]),
        (&[][..], &[("NO_COLOR", "1")][..]),
        (&["--color", "never"][..], &[("CLICOLOR_FORCE", "1")][..]),
    ] {
        let s = run(extra, env);
        assert!(s.contains("COMPLETE"), "{s}");
        assert!(
            !s.contains("\x1b["),
            "escape codes with {extra:?} {env:?}: {s:?}"
        );
    }
    for (extra, env) in [
        (&["--color", "always"][..], &[("NO_COLOR", "1")][..]),
        (&[][..], &[("CLICOLOR_FORCE", "1")][..]),
    ] {
        let s = run(extra, env);
        assert!(
            s.contains("\x1b[1m\x1b[32mCOMPLETE"),
            "no colour with {extra:?} {env:?}: {s:?}"
        );
    }
}
