//! Command-line conventions (issue 12 parts 4 and 5): help text, short flags and
//! kafka-producer-perf-test aliases, flags refused where they mean nothing, completions
//! and man pages, `--json`, run directory names, and the columns of runs.csv and
//! intervals.csv.

mod common;

use assert_cmd::Command;
use clap::Parser;
use kprod::cli::{BenchArgs, Cli, Command as Cmd};
use kprod::profile::{Rate, SizeDist};
use std::path::Path;
use std::time::Duration;

fn kprod() -> Command {
    Command::cargo_bin("kprod").expect("binary built")
}

fn stdout_of(args: &[&str]) -> String {
    // Help wraps to COLUMNS when stdout is no terminal: fixed, so snapshots are stable.
    let out = kprod()
        .env("COLUMNS", "100")
        .args(args)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

fn bench_args(args: &[&str]) -> BenchArgs {
    let argv = ["kprod", "bench"].iter().chain(args);
    match Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .command
    {
        Cmd::Bench(b) => b,
        _ => unreachable!(),
    }
}

fn resolved(args: &[&str]) -> kprod::profile::Profile {
    let a = bench_args(args);
    kprod::commands::bench::resolve(&a.profile, &std::env::current_dir().unwrap())
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn help_is_stable() {
    insta::assert_snapshot!("top_help", stdout_of(&["--help"]));
    insta::assert_snapshot!("bench_help", stdout_of(&["bench", "--help"]));
}

#[test]
fn bench_help_groups_flags_under_headings_with_examples() {
    let help = stdout_of(&["bench", "--help"]);
    for h in [
        "Producer:",
        "Workload:",
        "Cluster:",
        "Output:",
        "Verdict:",
        "Scale-out:",
        "Examples:",
    ] {
        assert!(help.contains(h), "no {h} in bench --help");
    }
    // Each heading lists its own flags: --rate sits under Workload, --instance under Scale-out.
    let at = |s: &str| help.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("Workload:") < at("-r, --rate") && at("-r, --rate") < at("Cluster:"));
    assert!(at("Scale-out:") < at("--instance <I/N>"));
    assert!(help.contains("[default: 30s]"), "defaults are shown");
    let show = stdout_of(&["profiles", "show", "--help"]);
    for flag in ["--java-config", "--set", "-X", "--producer-props"] {
        let line = show
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} missing from profiles show --help"));
        // `  --set <SECTION.KEY=VALUE>   Override one profile key, ...`: text after the
        // value name.
        let text = line
            .split_once('>')
            .map_or("", |(_, t)| t.trim_start_matches('.'));
        assert!(text.trim().len() > 20, "{flag} has no help text: {line}");
    }
}

#[test]
fn completions_are_stable_and_cover_every_shell() {
    let bash = stdout_of(&["completions", "bash"]);
    assert!(bash.contains("--num-records") && bash.contains("completions"));
    insta::assert_snapshot!("completions_bash", bash);
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let s = stdout_of(&["completions", shell]);
        assert!(s.contains("--rate"), "{shell} completion lacks --rate");
    }
}

#[test]
fn man_pages_come_from_the_same_flags() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") && page.contains(".TH kprod 1"),
        "{page:.200}"
    );
    let d = tempfile::tempdir().unwrap();
    kprod()
        .args(["man", "--out"])
        .arg(d.path())
        .assert()
        .success();
    let bench = std::fs::read_to_string(d.path().join("kprod-bench.1")).expect("kprod-bench.1");
    assert!(bench.contains("num\\-records"), "aliases in the man page");
    assert!(d.path().join("kprod.1").is_file());
    assert!(d.path().join("kprod-profiles-show.1").is_file());
}

#[test]
fn short_flags_and_perf_test_aliases_mean_the_long_flags() {
    let long = bench_args(&[
        "--brokers",
        "k:9092",
        "--topic",
        "t1",
        "--rate",
        "5k",
        "--duration",
        "3s",
        "--records",
        "100",
        "--size",
        "1KiB",
    ]);
    let short = bench_args(&[
        "-b", "k:9092", "-t", "t1", "-r", "5k", "-d", "3s", "-n", "100", "-s", "1KiB",
    ]);
    assert_eq!(
        long.profile.key_flag_values(),
        short.profile.key_flag_values()
    );
    let perf = bench_args(&[
        "--num-records",
        "100",
        "--record-size",
        "1KiB",
        "--throughput",
        "5k",
    ]);
    let ours = bench_args(&["--records", "100", "--size", "1KiB", "--rate", "5k"]);
    // The same keys and values; only the flag an error would name differs.
    let keys = |a: &BenchArgs| {
        let mut v: Vec<(&str, String)> = a
            .profile
            .key_flag_values()
            .into_iter()
            .map(|(_, k, v)| (k, v))
            .collect();
        v.sort();
        v
    };
    assert_eq!(keys(&perf), keys(&ours));
    assert!(
        perf.profile.key_flag_given("--rate"),
        "--throughput is --rate"
    );
    // A negative --rate is still an error; only perf-test's --throughput -1 is unlimited.
    let neg = kprod()
        .args(["bench", "--rate=-1", "--out", "/nonexistent/x"])
        .output()
        .unwrap();
    assert_eq!(neg.status.code(), Some(2));

    // perf-test's `--throughput -1` is no limit.
    let p = resolved(&[
        "--num-records",
        "100k",
        "--throughput",
        "-1",
        "--record-size",
        "100",
    ]);
    assert_eq!(p.workload.rate, Rate::Unlimited);
    assert_eq!(p.workload.records, Some(100_000));
    assert_eq!(p.workload.size, SizeDist::Fixed { bytes: 100 });

    // --producer-props: Java producer properties, several after one flag.
    let p = resolved(&["--producer-props", "acks=1", "linger.ms=7", "-r", "2k"]);
    assert_eq!(p.batching.linger, Duration::from_millis(7));
    assert_eq!(p.workload.rate, Rate::Fixed(2_000.0));
    let acks = serde_json::to_value(p.producer.acks).unwrap();
    assert_eq!(acks, serde_json::json!("one"));
}

#[test]
fn flags_that_mean_nothing_to_a_command_are_refused() {
    for argv in [
        vec!["check", "--baseline", "x", "--instance", "0/2"],
        vec!["check", "--baseline", "x", "--metrics-addr", "127.0.0.1:0"],
        vec!["check", "--baseline", "x", "--start-at", "0"],
        vec!["compare", "lz4", "zstd", "--instances", "2"],
        vec!["sweep", "--rates", "1k", "--metrics-linger", "1s"],
    ] {
        let out = kprod().args(&argv).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{argv:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("unexpected argument"), "{argv:?}: {err}");
    }
}

fn runs_csv(root: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_path(root.join("runs.csv")).expect("runs.csv");
    rdr.deserialize().collect::<Result<_, _>>().expect("rows")
}

#[test]
fn a_named_run_says_what_differs_in_its_directory_and_index() {
    let out = tempfile::tempdir().unwrap();
    let o = common::bench_in(
        out.path(),
        &[
            "-p",
            "durable",
            "-r",
            "4k",
            "-d",
            "2s",
            "--warmup",
            "1s",
            "--set",
            "producer.acks=1",
            "--set",
            "producer.idempotence=false",
            "--producers",
            "2",
            "--name",
            "smoke",
        ],
    )
    .expect("runs");
    let name = o.dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.ends_with("-durable-rate4k-dur2s-warm1s-p2-acks1-idempotencefalse-smoke"),
        "{name}"
    );
    assert_eq!(o.report.name.as_deref(), Some("smoke"));

    let rows = runs_csv(out.path());
    let row = &rows[0];
    assert_eq!(row["run"], name);
    for (k, v) in [
        ("target_records_per_sec", "4000.0"),
        ("producers", "2"),
        ("size", "512"),
        ("codec", "lz4"),
        ("acks", "1"),
        ("idempotence", "false"),
        ("send_mode", "async"),
        ("name", "smoke"),
    ] {
        assert_eq!(row[k], v, "runs.csv {k}");
    }
    let header = std::fs::read_to_string(out.path().join("runs.csv")).unwrap();
    assert!(header.starts_with("run,started_at,status,profile,cluster,records_sent,"));

    // intervals.csv: p99.9 per second and the run id on every row.
    let mut rdr = csv::Reader::from_path(o.dir.join("intervals.csv")).unwrap();
    let rows: Vec<std::collections::BTreeMap<String, String>> =
        rdr.deserialize().collect::<Result<_, _>>().unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["run_id"], name);
        let p99: u64 = r["p99_us"].parse().unwrap();
        let p999: u64 = r["p999_us"].parse().unwrap();
        let max: u64 = r["max_us"].parse().unwrap();
        assert!(p99 <= p999 && p999 <= max, "{r:?}");
    }
    assert!(rows.iter().any(|r| r["p999_us"] != "0"));
}

#[test]
fn json_prints_the_report_and_command_line_hides_secrets() {
    let out = tempfile::tempdir().unwrap();
    let secret = "hunter2-conventions-secret";
    let run = kprod()
        .args([
            "bench", "-q", "--json", "-r", "3k", "-d", "2s", "--warmup", "1s",
        ])
        .args(["-X", &format!("sasl.password={secret}"), "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let printed: serde_json::Value = serde_json::from_slice(&run.stdout).expect("stdout is JSON");
    let dirs: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1);
    let written = std::fs::read(dirs[0].join("report.json")).unwrap();
    assert_eq!(run.stdout, written, "stdout is report.json byte for byte");
    assert!(printed["throughput"]["records_per_sec"].as_f64().unwrap() > 0.0);
    // The summary went to stderr.
    assert!(String::from_utf8_lossy(&run.stderr).contains("results: "));

    let argv: Vec<String> = serde_json::from_value(printed["command_line"].clone()).unwrap();
    assert_eq!(argv[1], "bench");
    assert!(
        argv.contains(&"sasl.password=[redacted]".to_string()),
        "{argv:?}"
    );
    for f in ["report.json", "intervals.csv", "totals.json"] {
        let text = std::fs::read_to_string(dirs[0].join(f)).unwrap();
        assert!(!text.contains(secret), "{f} holds the secret");
    }
    assert!(!String::from_utf8_lossy(&run.stderr).contains(secret));
    let started = printed["started_at"].as_str().unwrap();
    let ended = printed["ended_at"].as_str().unwrap();
    assert!(
        ended.ends_with('Z') && ended > started,
        "{started} .. {ended}"
    );
}

#[test]
fn compare_json_prints_compare_json() {
    let out = tempfile::tempdir().unwrap();
    let run = kprod()
        .args([
            "compare", "lz4", "zstd", "--repeat", "1", "--json", "-q", "--name", "codecs",
        ])
        .args(["-d", "1s", "--warmup", "0s", "-r", "2k", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let dir = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("-compare-codecs"))
        .expect("the compare directory carries --name");
    let written = std::fs::read(dir.join("compare.json")).unwrap();
    assert_eq!(run.stdout, written, "stdout is compare.json byte for byte");
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["kind"], "compare");
    // Each variant's run directory is named after its variant profile and the name.
    let runs: Vec<String> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_dir"].as_str().unwrap().to_string())
        .collect();
    assert!(
        runs[0].contains("-lz4-rate2k") && runs[0].ends_with("-codecs"),
        "{runs:?}"
    );
    assert!(runs[1].contains("-zstd-rate2k"), "{runs:?}");
}
