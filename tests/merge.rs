//! `kprod merge`: separate kprod processes against one shared cluster merge into one exact
//! result; merging one run gives its own figures back; runs of different profiles or an
//! incomplete set of instances are refused unless --force.

mod common;
mod scale;

use kprod::report::{self, load_report, RunReport};
use scale::{kprod, run_dirs, totals_histogram, SharedCluster};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

fn merge(args: &[&str]) -> std::process::Output {
    kprod()
        .arg("merge")
        .args(args)
        .output()
        .expect("run kprod merge")
}

/// `kprod merge RUNS --out ROOT`, which must succeed: the merged run's directory and the
/// command's output.
fn merge_into(runs: &Path, root: &Path) -> (PathBuf, std::process::Output) {
    let out = merge(&[
        runs.to_str().expect("utf-8"),
        "--out",
        root.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (only_run(root), out)
}

fn only_run(root: &Path) -> PathBuf {
    let dirs = run_dirs(root);
    assert_eq!(dirs.len(), 1, "one run directory under {}", root.display());
    dirs.into_iter().next().expect("one")
}

/// The tests that start several kprod processes at a common `--start-at` run one at a
/// time: five processes starting together on a small machine can miss the start.
static PROCESSES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn processes() -> std::sync::MutexGuard<'static, ()> {
    PROCESSES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `n` instances as separate processes (sharing only the cluster) from a common
/// `--start-at` a few seconds ahead, so every instance is connected by then; returns that
/// start (Unix seconds) once all have ended successfully.
fn run_instances(n: u32, bootstrap: &str, runs: &Path, args: &[&str]) -> String {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 4;
    let start = start.to_string();
    let children: Vec<_> = (0..n)
        .map(|i| {
            kprod()
                .args(["bench", "--quiet", "--brokers", bootstrap])
                .args(["--instance", &format!("{i}/{n}"), "--start-at", &start])
                .args(args)
                .arg("--out")
                .arg(runs)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn bench")
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().expect("wait for bench");
        assert!(
            o.status.success(),
            "instance {i}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    start
}

fn sum(reports: &[RunReport], f: impl Fn(&RunReport) -> u64) -> u64 {
    reports.iter().map(f).sum()
}

#[test]
fn three_processes_on_one_cluster_merge_into_exact_sums_and_histograms() {
    const N: u32 = 3;
    let _one = processes();
    let mut cluster = SharedCluster::start("merge-test", 6);
    let tmp = tempfile::tempdir().expect("temp dir");
    let runs = tmp.path().join("runs");
    let start = run_instances(
        N,
        &cluster.bootstrap,
        &runs,
        &[
            "--topic",
            "merge-test",
            "--rate",
            "3000",
            "--duration",
            "3s",
            "--warmup",
            "1s",
        ],
    );
    let dirs = run_dirs(&runs);
    assert_eq!(dirs.len(), N as usize);
    let reports: Vec<RunReport> = dirs
        .iter()
        .map(|d| load_report(d).expect("report"))
        .collect();
    let start_ms = start.parse::<i64>().expect("secs") * 1000;
    for (i, (d, r)) in dirs.iter().zip(&reports).enumerate() {
        let i = i as u32;
        assert_eq!((r.instance, r.instances), (Some(i), Some(N)));
        let name = d.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(name.ends_with(&format!("-i{i}of{N}")), "{name}");
        assert_eq!(r.throughput.target_records_per_sec, Some(1000.0));
        assert_eq!(
            r.config.librdkafka.get("client.id").map(String::as_str),
            Some(format!("kprod-{i}-0").as_str())
        );
        // t0 never comes before the common start.
        let t0 = scale::json(&d.join("totals.json"))["t0_unix_us"]
            .as_i64()
            .expect("t0");
        assert!(t0 / 1000 >= start_ms, "instance {i} started early");
        // Each run's totals.json holds the histogram its report's percentiles came from.
        assert_eq!(
            report::percentiles(&totals_histogram(d, "corrected")),
            r.latency_us.corrected
        );
    }

    let merged_root = tmp.path().join("merged");
    let (mdir, out) = merge_into(&runs, &merged_root);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&mdir.display().to_string()));
    let m = load_report(&mdir).expect("merged report");

    // Counts are sums.
    assert_eq!(m.records.sent, sum(&reports, |r| r.records.sent));
    assert_eq!(m.records.delivered, sum(&reports, |r| r.records.delivered));
    assert_eq!(m.records.failed, sum(&reports, |r| r.records.failed));
    assert_eq!(m.records.unknown, sum(&reports, |r| r.records.unknown));
    assert_eq!(
        m.records.measured.sent,
        sum(&reports, |r| r.records.measured.sent)
    );
    assert_eq!(
        m.records.measured.delivered,
        sum(&reports, |r| r.records.measured.delivered)
    );
    assert_eq!(
        m.records.warmup.sent,
        sum(&reports, |r| r.records.warmup.sent)
    );
    assert!(m.records.identity_holds);
    assert!(m.records.delivered > 0);
    assert_eq!((m.instance, m.instances), (None, Some(N)));
    assert_eq!(m.producers, N);
    assert_eq!(m.throughput.target_records_per_sec, Some(3000.0));

    // Percentiles: those of one histogram built here from every instance's own file.
    for name in ["corrected", "uncorrected", "schedule_lag"] {
        let mut all = totals_histogram(&dirs[0], name);
        for d in &dirs[1..] {
            all.add(totals_histogram(d, name)).expect("add");
        }
        let got = match name {
            "corrected" => &m.latency_us.corrected,
            "uncorrected" => &m.latency_us.uncorrected,
            _ => &m.latency_us.schedule_lag,
        };
        assert_eq!(&report::percentiles(&all), got, "{name}");
        assert_eq!(all.len(), m.records.measured.delivered, "{name} count");
        assert_eq!(
            totals_histogram(&mdir, name),
            all,
            "merged totals.json {name}"
        );
    }

    // Intervals: nothing lost or counted twice, and the merged interval log holds every
    // instance's per-second histograms.
    let isum = |r: &RunReport| r.intervals.iter().map(|i| i.sent).sum::<u64>();
    assert_eq!(isum(&m), reports.iter().map(isum).sum::<u64>());
    let hlog_count = |d: &Path| {
        scale::hlog_histograms(d)
            .iter()
            .map(|h| h.len())
            .sum::<u64>()
    };
    assert_eq!(
        hlog_count(&mdir),
        dirs.iter().map(|d| hlog_count(d)).sum::<u64>()
    );
    assert_eq!(scale::hlog_histograms(&mdir).len(), m.intervals.len());
    for w in m.intervals.windows(2) {
        assert!(w[0].t_s < w[1].t_s && w[0].unix_ms < w[1].unix_ms);
    }
    for f in [
        "intervals.csv",
        "latency.hgrm",
        "latency.hlog",
        "totals.json",
    ] {
        assert!(mdir.join(f).is_file(), "{f}");
    }
    assert!(merged_root.join("runs.csv").is_file());

    assert_eq!(cluster.stop(), Some(0), "kprod cluster exits 0 on SIGTERM");
}

#[test]
fn merging_one_run_gives_back_its_own_figures() {
    let (tmp, o) = common::bench(&[
        "--rate",
        "2000",
        "--duration",
        "2500ms",
        "--warmup",
        "500ms",
    ]);
    let out = tmp.path().join("merged");
    // A plain run is not an instance: only --force merges it.
    let refused = merge(&[
        o.dir.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("key `instance`"));
    let forced = merge(&[
        o.dir.to_str().expect("utf-8"),
        "--force",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let m = load_report(&only_run(&out)).expect("merged");
    let r = &o.report;
    assert_eq!(m.records, r.records);
    assert_eq!(m.latency_us, r.latency_us);
    assert_eq!(m.throughput, r.throughput);
    assert_eq!(m.intervals, r.intervals);
    assert_eq!(m.errors, r.errors);
    assert_eq!(m.librdkafka_stats, r.librdkafka_stats);
    assert_eq!(m.compression_ratio, r.compression_ratio);
    assert_eq!(m.started_at, r.started_at);
    assert_eq!(m.duration_s, r.duration_s);
    // A merged run ends with its latest instance; its command line is the merge's.
    assert!(r.ended_at.is_some());
    assert_eq!(m.ended_at, r.ended_at);
    let argv = m.command_line.clone().expect("the merge's command line");
    assert_eq!(argv.get(1).map(String::as_str), Some("merge"), "{argv:?}");
    assert!(argv.iter().any(|a| a == "--force"), "{argv:?}");
    assert!(
        m.warnings.iter().any(|w| w.contains("--force")),
        "{:?}",
        m.warnings
    );
    // The merged directory gets its own page, titled as a merge, with the merged counts.
    let html = std::fs::read_to_string(only_run(&out).join("report.html")).expect("report.html");
    assert!(html.contains("<title>kprod merge: "), "title");
    let delivered = format!(
        "id=\"delivered\">{}<",
        kprod::report::fmt_count(m.records.delivered)
    );
    assert!(html.contains(&delivered), "{delivered}");
}

#[test]
fn a_staged_run_merges_into_its_own_stages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stages.toml");
    std::fs::write(
        &path,
        concat!(
            "[[workload.stages]]\nkind = \"hold\"\nrate = \"1k\"\nfor = \"1s\"\n",
            "[[workload.stages]]\nkind = \"ramp\"\nfrom = \"1k\"\nto = \"2k\"\nover = \"2s\"\n",
        ),
    )
    .expect("write profile");
    let (tmp, o) = common::bench(&["--profile", path.to_str().expect("utf-8"), "--warmup", "0s"]);
    let out = tmp.path().join("merged");
    let forced = merge(&[
        o.dir.to_str().expect("utf-8"),
        "--force",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let m = load_report(&only_run(&out)).expect("merged");
    assert_eq!(o.report.stages.len(), 2);
    // Counts, targets, rates and the percentiles of the merged per-second histograms.
    assert_eq!(m.stages, o.report.stages);
    let sent: u64 = m.stages.iter().map(|s| s.sent).sum();
    assert_eq!(sent, m.records.sent);
}

#[test]
fn different_profiles_are_refused_naming_the_field_unless_forced() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let runs = tmp.path().join("runs");
    for (i, rate) in [(0, "2000"), (1, "4000")] {
        common::bench_in(
            &runs,
            &[
                "--records",
                "400",
                "--warmup",
                "0s",
                "--rate",
                rate,
                "--instance",
                &format!("{i}/2"),
            ],
        )
        .expect("bench");
    }
    let out = tmp.path().join("merged");
    let (runs_s, out_s) = (runs.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let refused = merge(&[runs_s, "--out", out_s]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("key `config.profile.workload.rate.per_sec`"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written when refused");

    let forced = merge(&[runs_s, "--out", out_s, "--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let m = load_report(&only_run(&out)).expect("merged");
    assert_eq!(m.records.sent, 400);
    // With --force the target is the sum of what each run was asked for.
    assert_eq!(m.throughput.target_records_per_sec, Some(1000.0 + 2000.0));
    assert!(m
        .warnings
        .iter()
        .any(|w| w.contains("--force") && w.contains("workload.rate")));
}

#[test]
fn run_directories_without_totals_are_invalid_input() {
    let (tmp, o) = common::bench(&["--records", "50", "--warmup", "0s"]);
    std::fs::remove_file(o.dir.join("totals.json")).expect("remove");
    let merged = tmp.path().join("m");
    let out = merge(&[
        o.dir.to_str().expect("utf-8"),
        "--force",
        "--out",
        merged.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("totals.json"));
}

#[test]
fn instances_with_consumers_merge_their_end_to_end_latency_and_counts() {
    const N: u32 = 2;
    let _one = processes();
    let mut cluster = SharedCluster::start("merge-e2e", 4);
    let tmp = tempfile::tempdir().expect("temp dir");
    let runs = tmp.path().join("runs");
    run_instances(
        N,
        &cluster.bootstrap,
        &runs,
        &[
            "--topic",
            "merge-e2e",
            "--rate",
            "2000",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--consumers",
            "1",
        ],
    );
    cluster.stop();
    let dirs = run_dirs(&runs);
    let reports: Vec<RunReport> = dirs
        .iter()
        .map(|d| load_report(d).expect("report"))
        .collect();
    // Each instance's consumers count the records its own producers stamped.
    for r in &reports {
        let c = r.consumers.as_ref().expect("consumers section");
        assert_eq!(c.consumed, [r.records.delivered], "{c:?}");
    }
    let (mdir, _) = merge_into(&runs, &tmp.path().join("merged"));
    let m = load_report(&mdir).expect("merged report");
    let c = m.consumers.as_ref().expect("merged consumers section");
    assert_eq!(c.consumed, [m.records.delivered]);
    assert!(c.caught_up);
    // The merged percentiles are those of the instances' end-to-end histograms added.
    let mut sum = totals_histogram(&dirs[0], "e2e");
    sum.add(totals_histogram(&dirs[1], "e2e")).expect("add");
    assert!(!sum.is_empty());
    assert_eq!(m.latency_us.e2e, Some(report::percentiles(&sum)));
    assert_eq!(
        report::percentiles(&totals_histogram(&mdir, "e2e")),
        report::percentiles(&sum)
    );
    assert!(m.measurement.e2e.is_some());
    // Per second: each instance logs its end-to-end histograms, every record consumed in
    // exactly one of them, and a merged second's p99 is that of the seconds added, not the
    // higher of the two p99s.
    let e2e_log = |d: &std::path::Path| {
        report::read_hlog_file(&d.join(report::E2E_HLOG_FILE))
            .expect("latency-e2e.hlog")
            .1
    };
    let count = |log: &[report::IntervalHistogram]| log.iter().map(|i| i.hist.len()).sum::<u64>();
    for (d, r) in dirs.iter().zip(&reports) {
        let log = e2e_log(d);
        assert_eq!(count(&log), r.records.delivered, "{}", d.display());
    }
    let merged_log = e2e_log(&mdir);
    assert_eq!(count(&merged_log), m.records.delivered);
    assert_eq!(merged_log.len(), m.intervals.len());
    let mut nonempty = 0;
    for (row, i) in m.intervals.iter().zip(&merged_log) {
        let want = match i.hist.is_empty() {
            true => 0,
            false => i.hist.value_at_quantile(0.99),
        };
        nonempty += u32::from(!i.hist.is_empty());
        assert_eq!(row.e2e_p99_us, want, "second starting {}", i.start_s);
    }
    assert!(nonempty >= 2, "{merged_log:?}");
}

#[test]
fn two_instances_with_many_topics_merge_their_topics_by_name() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let runs = tmp.path().join("runs");
    let mut reports = Vec::new();
    for i in 0..2 {
        let o = common::bench_in(
            &runs,
            &[
                "--topics",
                "2",
                "--records",
                "800",
                "--warmup",
                "0s",
                "--rate",
                "4000",
                "--instance",
                &format!("{i}/2"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        reports.push(o.report);
    }
    let out = tmp.path().join("merged");
    let mut args: Vec<String> = run_dirs(&runs)
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    args.extend(["--out".into(), out.to_string_lossy().into_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let merged = merge(&args);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let m = load_report(&only_run(&out)).expect("merged");
    let names: Vec<&str> = m.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["kprod-bench-0", "kprod-bench-1"]);
    for t in &m.topics {
        let parts: Vec<_> = reports
            .iter()
            .map(|r| r.topics.iter().find(|x| x.name == t.name).expect("topic"))
            .collect();
        assert_eq!(
            t.counts.sent,
            parts.iter().map(|p| p.counts.sent).sum::<u64>()
        );
        assert_eq!(
            t.counts.delivered,
            parts.iter().map(|p| p.counts.delivered).sum::<u64>()
        );
        assert_eq!(t.counts.sent, 400, "each instance sent 200 to each topic");
    }
    let sent: u64 = m.topics.iter().map(|t| t.counts.sent).sum();
    assert_eq!(sent, m.records.sent);
}
