//! Tests of the results directory: run-directory creation, atomic writes, `write_run`'s
//! files and `runs.csv`, and `load_report`'s schema check.

use super::*;
use crate::report::csv_out::RUNS_CSV;
use crate::report::testing::sample_report;
use crate::report::{new_histogram, IntervalHistogram, RunsRow};
use std::time::{Duration, UNIX_EPOCH};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sanitize_label_strips_paths_and_odd_characters() {
    assert_eq!(sanitize_label("durable+zstd-1k"), "durable+zstd-1k");
    assert_eq!(
        sanitize_label("./profiles/my run.toml+/etc/passwd"),
        "my_run.toml+passwd"
    );
    assert_eq!(sanitize_label("a\\b\\c+x:y*z"), "c+x_y_z");
    assert_eq!(sanitize_label("é"), "_");
    assert_eq!(sanitize_label(""), "run");
    assert_eq!(sanitize_label("dir/"), "run");
    assert_eq!(sanitize_label(&"x".repeat(500)).len(), 80);
}

#[test]
fn create_run_dir_never_reuses_a_directory() {
    let root = tmp();
    let nested = root.path().join("results").join("deeper");
    let started = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let dirs: Vec<PathBuf> = (0..3)
        .map(|_| create_run_dir(&nested, started, "durable+zstd").expect("create"))
        .collect();
    let names: Vec<String> = dirs
        .iter()
        .map(|d| d.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "20231114T221320Z-durable+zstd",
            "20231114T221320Z-durable+zstd-2",
            "20231114T221320Z-durable+zstd-3"
        ]
    );
    assert!(dirs
        .iter()
        .all(|d| d.is_dir() && d.parent() == Some(nested.as_path())));

    let odd = create_run_dir(&nested, started, "../../etc/x y").expect("create");
    assert_eq!(odd.parent(), Some(nested.as_path()));
    assert_eq!(odd.file_name().expect("name"), "20231114T221320Z-x_y");
}

#[test]
fn create_run_dir_fails_with_path_when_root_is_a_file() {
    let root = tmp();
    let file = root.path().join("not-a-dir");
    fs::write(&file, "x").expect("seed");
    let err = create_run_dir(&file, SystemTime::now(), "p").expect_err("file root");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

/// Instances started together on one `--out` that does not exist yet: each checks it and
/// removes what it made, and each then makes its run directory. None may fail because
/// another removed the directory under it (CI saw "cannot create a file in results
/// directory: No such file or directory" from one of three kprod processes).
#[test]
fn instances_starting_together_on_a_new_out_all_get_their_run_directory() {
    for round in 0..40 {
        let t = tmp();
        let root = t.path().join("runs").join("nested");
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|i| {
                    let (root, barrier) = (&root, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        check_writable(root)?;
                        create_run_dir(root, UNIX_EPOCH, &format!("i{i}"))
                    })
                })
                .collect();
            for h in handles {
                let made = h.join().expect("thread");
                assert!(made.is_ok(), "round {round}: {made:?}");
            }
        });
        assert_eq!(listing(&root).len(), 6);
    }
}

#[test]
fn check_writable_creates_root_and_leaves_nothing_behind() {
    let root = tmp();
    let out = root.path().join("new").join("results");
    check_writable(&out).expect("writable");
    // The directories it made for the probe are gone again: a run refused after this
    // check leaves no empty results root.
    assert!(!root.path().join("new").exists());
    fs::create_dir_all(&out).expect("mkdir");
    check_writable(&out).expect("writable");
    assert!(out.is_dir() && listing(&out).is_empty());
}

#[test]
fn check_writable_refuses_a_file_and_a_foreign_runs_csv() {
    let root = tmp();
    let file = root.path().join("f");
    fs::write(&file, "x").expect("seed");
    let err = check_writable(&file).expect_err("a file");
    assert!(
        err.to_string().contains("is a file, not a directory"),
        "{err}"
    );
    fs::write(root.path().join("runs.csv"), "a,b\n1,2\n").expect("seed");
    let err = check_writable(root.path()).expect_err("foreign runs.csv");
    assert!(err.to_string().contains("columns differ"), "{err}");
}

#[cfg(unix)]
#[test]
fn check_writable_refuses_read_only_directory() {
    use std::os::unix::fs::PermissionsExt;
    let root = tmp();
    let ro = root.path().join("ro");
    fs::create_dir(&ro).expect("mkdir");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root ignores permission bits; only assert when the probe really cannot be created.
    let probe = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(ro.join("p"));
    if probe.is_err() {
        let err = check_writable(&ro).expect_err("read-only");
        assert!(err.to_string().contains("ro"), "{err}");
        let err = check_writable(&ro.join("sub")).expect_err("cannot create under read-only");
        assert!(err.to_string().contains("sub"), "{err}");
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).expect("chmod back");
}

#[test]
fn write_atomic_replaces_content_and_leaves_no_temp_files() {
    let root = tmp();
    let path = root.path().join("report.json");
    write_atomic(&path, b"first version, longer than the second").expect("write 1");
    write_atomic(&path, b"second").expect("write 2");
    assert_eq!(fs::read(&path).expect("read"), b"second");
    assert_eq!(listing(root.path()), ["report.json"]);
}

#[test]
fn write_atomic_failure_names_path_and_keeps_old_file() {
    let root = tmp();
    // Renaming a file over a non-empty directory fails: the temp file must be cleaned up.
    let target = root.path().join("occupied");
    fs::create_dir(&target).expect("mkdir");
    fs::write(target.join("keep"), "x").expect("seed");
    let err = write_atomic(&target, b"data").expect_err("rename over directory");
    assert!(err.to_string().contains("occupied"), "{err}");
    assert_eq!(listing(root.path()), ["occupied"]);
    let err = write_atomic(&root.path().join("missing").join("f"), b"x").expect_err("no dir");
    assert!(matches!(err, ReportError::Io { .. }), "{err:?}");
}

fn intervals() -> Vec<IntervalHistogram> {
    (0..3)
        .map(|i| {
            let mut hist = new_histogram();
            hist.record_n(1_000 + i * 10, 100).expect("in range");
            IntervalHistogram {
                start_s: i as f64,
                duration_s: 1.0,
                hist,
            }
        })
        .collect()
}

fn total(intervals: &[IntervalHistogram]) -> Histogram<u64> {
    let mut t = new_histogram();
    for iv in intervals {
        t.add(&iv.hist).expect("same settings");
    }
    t
}

#[test]
fn write_run_writes_files_and_appends_runs_csv() {
    let root = tmp();
    let report = sample_report();
    let ivs = intervals();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let dir = create_run_dir(root.path(), SystemTime::now(), "durable+zstd-1k").expect("dir");
        let written = write_run(root.path(), &dir, &report, &ivs, &total(&ivs)).expect("write");
        assert_eq!(
            written,
            [
                dir.join(REPORT_FILE),
                dir.join(INTERVALS_CSV_FILE),
                dir.join(HLOG_FILE),
                dir.join(HGRM_FILE),
                root.path().join(RUNS_CSV),
            ]
        );
        assert_eq!(
            listing(&dir),
            [
                "intervals.csv",
                "latency.hgrm",
                "latency.hlog",
                "report.json"
            ]
        );
        dirs.push(dir);
    }
    // No temp or lock files left in the root.
    let mut expected_root: Vec<String> = dirs
        .iter()
        .map(|d| d.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    expected_root.push(RUNS_CSV.to_string());
    expected_root.sort();
    assert_eq!(listing(root.path()), expected_root);

    let runs = fs::read_to_string(root.path().join(RUNS_CSV)).expect("runs.csv");
    assert_eq!(runs.lines().filter(|l| l.starts_with("run,")).count(), 1);
    let mut rdr = csv::Reader::from_reader(runs.as_bytes());
    let rows: Vec<RunsRow> = rdr.deserialize().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), 2);
    for (row, dir) in rows.iter().zip(&dirs) {
        assert_eq!(
            row,
            &RunsRow::from_report(&dir.file_name().expect("n").to_string_lossy(), &report)
        );
        assert_eq!(row.profile, "durable+zstd-1k");
        assert_eq!(
            row.latency_corrected_p99_us,
            report.latency_us.corrected.p99
        );
    }

    let dir = &dirs[0];
    let csv_text = fs::read_to_string(dir.join(INTERVALS_CSV_FILE)).expect("intervals.csv");
    assert_eq!(csv_text.lines().count(), 1 + report.intervals.len());

    let loaded = load_report(dir).expect("load dir");
    assert_eq!(loaded, report);
    assert_eq!(
        load_report(&dir.join(REPORT_FILE)).expect("load file"),
        report
    );

    let (start, back) = read_hlog_file(&dir.join(HLOG_FILE)).expect("hlog");
    assert_eq!(start, Some(1_700_000_000_000));
    assert_eq!(back.len(), ivs.len());
    assert_eq!(back[2].hist.len(), 100);

    let hgrm = fs::read_to_string(dir.join(HGRM_FILE)).expect("hgrm");
    assert!(hgrm.contains("Total count    =          300]"), "{hgrm}");
}

#[test]
fn load_report_rejects_newer_unknown_and_foreign_files() {
    let root = tmp();
    let mut value = serde_json::to_value(sample_report()).expect("json");
    value["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
    let newer = root.path().join("newer.json");
    fs::write(&newer, value.to_string()).expect("write");
    let err = load_report(&newer).expect_err("newer");
    assert!(
        matches!(err, ReportError::Schema { found, .. } if found == u64::from(SCHEMA_VERSION) + 1)
    );
    assert!(err.to_string().contains("newer.json"), "{err}");

    value["schema_version"] = serde_json::json!(0);
    fs::write(&newer, value.to_string()).expect("write");
    assert!(matches!(
        load_report(&newer),
        Err(ReportError::Schema { found: 0, .. })
    ));

    let foreign = root.path().join("foreign.json");
    fs::write(&foreign, "{\"hello\": 1}").expect("write");
    let err = load_report(&foreign).expect_err("foreign");
    assert!(err.to_string().contains("foreign.json") && err.to_string().contains("schema_version"));

    let broken = root.path().join("broken.json");
    fs::write(&broken, "{\"schema_version\": 1, \"status\": \"complete\"}").expect("write");
    let err = load_report(&broken).expect_err("incomplete");
    assert!(matches!(err, ReportError::Invalid { .. }), "{err:?}");

    let err = load_report(&root.path().join("absent")).expect_err("missing");
    let kerr: crate::error::KprodError = err.into();
    assert!(kerr.to_string().contains("absent"), "{kerr}");
    assert_eq!(kerr.exit_code(), 1);
}

/// Floats that a parser with two roundings gets one ulp wrong, the extremes and a
/// subnormal: serde_json (built with `float_roundtrip`) must give each back bit-exactly.
const AWKWARD: [f64; 9] = [
    0.1 + 0.2,
    2.0 / 3.0,
    1e-300,
    f64::MAX,
    5e-324,
    f64::MIN_POSITIVE / 3.0,
    1283.1000000000001,
    10_238_259.2,
    123_456_789.123_456_79,
];

#[test]
fn awkward_floats_round_trip_bit_exactly() {
    let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut report = sample_report();
    report.duration_s = AWKWARD[0];
    report.throughput.records_per_sec = AWKWARD[1];
    report.throughput.bytes_per_sec = AWKWARD[2];
    report.throughput.send_records_per_sec = AWKWARD[3];
    report.compression_ratio = Some(AWKWARD[4]);
    report.latency_us.corrected.mean = AWKWARD[5];
    report.latency_us.corrected.stddev = AWKWARD[6];
    report.librdkafka_stats.avg_batch_records = Some(AWKWARD[7]);
    report.intervals[0].bytes_per_sec = AWKWARD[8];
    report.config.profile = serde_json::json!({ "floats": AWKWARD });
    let text = serde_json::to_vec_pretty(&report).expect("serialise");

    let typed: RunReport = serde_json::from_slice(&text).expect("typed");
    let got = [
        typed.duration_s,
        typed.throughput.records_per_sec,
        typed.throughput.bytes_per_sec,
        typed.throughput.send_records_per_sec,
        typed.compression_ratio.unwrap_or(f64::NAN),
        typed.latency_us.corrected.mean,
        typed.latency_us.corrected.stddev,
        typed.librdkafka_stats.avg_batch_records.unwrap_or(f64::NAN),
        typed.intervals[0].bytes_per_sec,
    ];
    assert_eq!(bits(&got), bits(&AWKWARD));
    assert_eq!(typed, report);

    let value: serde_json::Value = serde_json::from_slice(&text).expect("value");
    let floats: Vec<f64> = value["config"]["profile"]["floats"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(bits(&floats), bits(&AWKWARD));
    assert_eq!(
        value["duration_s"].as_f64().map(f64::to_bits),
        Some(AWKWARD[0].to_bits())
    );

    // And through the file reader the other commands use.
    let root = tmp();
    let file = root.path().join(REPORT_FILE);
    fs::write(&file, &text).expect("write");
    let loaded = load_report(&file).expect("load");
    assert_eq!(loaded, report);
    assert_eq!(
        loaded.throughput.records_per_sec.to_bits(),
        AWKWARD[1].to_bits()
    );
}
