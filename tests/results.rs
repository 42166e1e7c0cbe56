//! What a run leaves on disk: one new directory per run, every file parseable, runs.csv
//! growing by one row per run.

mod common;
use common::bench_in;

#[test]
fn two_runs_get_two_directories_and_two_rows() {
    let out = tempfile::tempdir().unwrap();
    let args = ["--duration", "1s", "--warmup", "0s", "--rate", "1000"];
    let a = bench_in(out.path(), &args).expect("first run");
    let b = bench_in(out.path(), &args).expect("second run");
    assert_ne!(
        a.dir, b.dir,
        "a run must never reuse another run's directory"
    );
    let runs = std::fs::read_to_string(out.path().join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 3, "header + 2 rows:\n{runs}");

    let json: kprod::report::RunReport =
        serde_json::from_slice(&std::fs::read(a.dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json, a.report, "report.json is the report");
    assert_eq!(json.schema_version, kprod::report::SCHEMA_VERSION);

    let intervals = std::fs::read_to_string(a.dir.join("intervals.csv")).unwrap();
    assert_eq!(intervals.lines().count(), 1 + a.report.intervals.len());
    let delivered: u64 = a.report.intervals.iter().map(|i| i.delivered).sum();
    assert_eq!(
        delivered, a.report.records.delivered,
        "intervals add up to the run"
    );

    let hlog = std::fs::read_to_string(a.dir.join("latency.hlog")).unwrap();
    assert!(hlog.contains("#[Histogram log format version 1.3]"));
    let (_, ivs) = kprod::report::read_hlog(hlog.as_bytes()).expect("hlog parses");
    let n: u64 = ivs.iter().map(|i| i.hist.len()).sum();
    assert_eq!(
        n, a.report.records.delivered,
        "every delivered record is in the interval log"
    );
}

#[test]
fn unwritable_out_fails_before_the_run() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let e = bench_in(&file, &["--duration", "1s"])
        .err()
        .expect("must fail");
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("--out"), "{e}");
}
