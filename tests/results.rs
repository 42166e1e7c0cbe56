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

fn kprod(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("kprod")
        .expect("binary built")
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("kprod ran")
}

fn only_run(root: &std::path::Path) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(root)
        .expect("out dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// A run whose warm-up takes every record is `empty`, says why in red-line form at the
/// end, exits 1, and is refused by every command that takes runs as inputs.
#[test]
fn a_run_that_measured_nothing_is_empty_exits_1_and_is_refused_as_input() {
    let out = tempfile::tempdir().unwrap();
    let root = out.path().join("runs");
    let root_s = root.to_str().unwrap();
    let o = kprod(&[
        "bench",
        "--quiet",
        "--duration",
        "1s",
        "--warmup",
        "1s",
        "--rate",
        "200",
        "--details",
        "--out",
        root_s,
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("run EMPTY: nothing measured: the warm-up"),
        "{stderr}"
    );
    // No samples: no window or schedule lag is invented.
    assert!(!stdout.contains(" s .. "), "{stdout}");
    assert!(stdout.contains("schedule lag ┆ no samples"), "{stdout}");
    let dir = only_run(&root);
    let r = kprod::report::load_report(&dir).expect("report written");
    assert_eq!(r.status, kprod::report::Status::Empty);
    assert!(r.status_reason.unwrap_or_default().contains("warm-up"));
    let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(json.contains("\"status\": \"empty\""), "{json}");

    let dir_s = dir.to_str().unwrap();
    let merged = out.path().join("merged");
    let m = kprod(&["merge", dir_s, "--out", merged.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&m.stderr);
    assert_eq!(m.status.code(), Some(2), "{err}");
    assert!(
        err.contains(dir_s) && err.contains("measured nothing"),
        "{err}"
    );
    assert!(!merged.exists(), "nothing merged");
    let c = kprod(&["check", "--baseline", dir_s, "--current", dir_s]);
    let err = String::from_utf8_lossy(&c.stderr);
    assert_eq!(c.status.code(), Some(2), "{err}");
    assert!(
        err.contains(dir_s) && err.contains("measured nothing"),
        "{err}"
    );
}

/// At a low rate the last record is delivered long before the generator stops: the
/// window still runs to the end of generation, so the rate is not overstated.
#[test]
fn a_low_rate_is_not_overstated_by_an_early_last_delivery() {
    let out = tempfile::tempdir().unwrap();
    let o = bench_in(
        out.path(),
        &["--rate", "2", "--duration", "3s", "--warmup", "1s"],
    )
    .expect("run");
    let t = &o.report.throughput;
    assert_eq!(o.report.records.measured.delivered, 4);
    assert!(t.window_end_s >= 2.99, "window ends with generation: {t:?}");
    // Nor understated by the gap between the warm-up's end and the first measured slot.
    assert!((t.records_per_sec - 2.0).abs() < 0.02, "{t:?}");
}

/// The run's last interval carries its real (partial) length in report.json and
/// intervals.csv; whole seconds say 1 s.
#[test]
fn the_last_partial_interval_carries_its_length() {
    let out = tempfile::tempdir().unwrap();
    let o = bench_in(
        out.path(),
        &["--rate", "500", "--duration", "2s", "--warmup", "0s"],
    )
    .expect("run");
    let iv = &o.report.intervals;
    let (last, whole) = iv.split_last().expect("intervals");
    assert!(
        whole.iter().all(|i| !i.partial && i.length_s == 1.0),
        "{iv:?}"
    );
    assert!(last.partial && last.length_s < 1.0, "{last:?}");
    let expect = last.delivered as f64 / last.length_s;
    assert!((last.records_per_sec - expect).abs() < 1e-6, "{last:?}");
    let csv = std::fs::read_to_string(o.dir.join("intervals.csv")).unwrap();
    let header = csv.lines().next().unwrap_or_default();
    assert!(
        header.ends_with(
            ",length_s,partial,p999_us,run_id,stage,mean_us,breakdown_queue_wait_us,\
             breakdown_inflight_wait_us,breakdown_broker_rtt_us,breakdown_throttle_us,\
             consumed,consumed_per_sec,consumer_lag,e2e_p99_us,fault"
        ),
        "{header}"
    );
    assert!(
        csv.lines().last().unwrap_or_default().contains(",true,"),
        "{csv}"
    );
}

/// Fire-and-forget gets no success reports; its byte rate counts what was sent.
#[test]
fn fire_and_forget_reports_the_bytes_it_sent() {
    let out = tempfile::tempdir().unwrap();
    let o = bench_in(
        out.path(),
        &[
            "--profile",
            "fire-and-forget",
            "--rate",
            "1000",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--size",
            "100B",
        ],
    )
    .expect("run");
    let r = &o.report;
    assert!(r.records.delivered_inferred);
    assert!(r.throughput.bytes_per_sec >= r.throughput.records_per_sec * 100.0 * 0.99);
    assert!(r
        .intervals
        .iter()
        .filter(|i| !i.partial)
        .all(|i| i.bytes_per_sec > 0.0));
    // Its per-second record rate is what was handed over and not failed (no delivery
    // report says delivered), not 0: a whole second at 1000/s reads about 1000/s, and the
    // seconds add up to the inferred delivered total.
    for i in r.intervals.iter().filter(|i| !i.partial) {
        assert_eq!(i.delivered, 0, "no success reports in fire-and-forget");
        let expect = (i.sent - i.failed) as f64 / i.length_s;
        assert!((i.records_per_sec - expect).abs() < 1e-9, "{i:?}");
        assert!(i.records_per_sec > 900.0, "{i:?}");
    }
    let counted: f64 = r
        .intervals
        .iter()
        .map(|i| i.records_per_sec * i.length_s)
        .sum();
    assert!(
        (counted - r.records.delivered as f64).abs() < 0.5,
        "{counted} vs {:?}",
        r.records
    );
}

/// Progress lines: fire-and-forget shows what it sent (no "0/s", no "p99 0 µs"), and the
/// short last interval shows its counts over its real length, not an extrapolated rate.
#[test]
fn progress_shows_what_was_sent_and_never_extrapolates_the_tail() {
    let out = tempfile::tempdir().unwrap();
    let o = kprod(&[
        "bench",
        "--profile",
        "fire-and-forget",
        "--rate",
        "1000",
        "--duration",
        "2s",
        "--warmup",
        "0s",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    let (tail, whole) = lines.split_last().expect("progress lines");
    assert!(!whole.is_empty(), "{stderr}");
    for l in whole {
        assert!(l.contains("] sent ") && !l.contains(" 0/s"), "{l}");
        assert!(!l.contains(" 0.00 MB/s") && !l.contains("p99"), "{l}");
    }
    assert!(tail.contains("(partial)") && !tail.contains("/s"), "{tail}");
}

/// Plain progress lines (stderr is not a terminal here): every warm-up second carries the
/// `(warm-up)` tag — the second one too, which the tag used to miss — and no measured
/// second does; the banner words a record-count run as such.
#[test]
fn every_warmup_second_is_tagged_and_the_banner_names_the_record_count() {
    let out = tempfile::tempdir().unwrap();
    let o = kprod(&[
        "bench",
        "--rate",
        "200",
        "--records",
        "700",
        "--duration",
        "10s",
        "--warmup",
        "2s",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "for 10s or until 700 records are sent, whichever comes first, warm-up 2s excluded"
        ),
        "{stderr}"
    );
    let line = |s: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(s))
            .unwrap_or_else(|| panic!("no {s} line: {stderr}"))
    };
    assert!(line("[   1s]").ends_with("(warm-up)"), "{stderr}");
    assert!(line("[   2s]").ends_with("(warm-up)"), "{stderr}");
    assert!(!line("[   3s]").contains("warm-up"), "{stderr}");
    assert!(!stderr.contains("\x1b["), "no colour on a pipe: {stderr:?}");
}
