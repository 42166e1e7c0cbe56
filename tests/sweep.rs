//! `kprod sweep` on the embedded cluster. Steps are short (1-2 s) and rates tiny: a
//! synchronous producer with a 20 ms linger cannot exceed ~50 records/s, which gives a
//! real saturation point without loading the machine.

mod outputs;

use kprod::charts;
use kprod::cli::Command;
use kprod::commands::{report_cmd, sweep};
use kprod::engine::Silent;
use kprod::report::load_report;
use outputs::{command, cwd, Svg};
use std::path::Path;

/// The capacity-limiting workload shared by these tests.
const SLOW: &[&str] = &[
    "--set",
    "workload.send_mode=sync",
    "--set",
    "batching.linger=20ms",
    "--warmup",
    "700ms",
    "--quiet",
];

fn run_sweep(out: &Path, args: &[&str]) -> sweep::SweepOutcome {
    let mut argv = vec!["sweep", "--out", out.to_str().unwrap()];
    argv.extend_from_slice(args);
    let Command::Sweep(a) = command(&argv) else {
        unreachable!()
    };
    sweep::execute(&a, &cwd(), Some(&mut Silent)).expect("sweep runs")
}

fn assert_step_files(root: &Path, s: &sweep::SweepResult) {
    for step in &s.steps {
        // Each step's directory says which step it is (not 25 siblings named `-base`).
        let tag = format!("-sweep-step{:02}-", step.index + 1);
        assert!(step.run_dir.contains(&tag), "{} lacks {tag}", step.run_dir);
        let dir = root.join(&step.run_dir);
        for f in [
            "report.json",
            "intervals.csv",
            "latency.hlog",
            "latency.hgrm",
        ] {
            assert!(dir.join(f).is_file(), "step {}: {f} missing", step.index);
        }
        let r = load_report(&dir).unwrap();
        assert_eq!(r.throughput.records_per_sec, step.achieved_records_per_sec);
        assert_eq!(r.latency_us.corrected.p99, step.p99_us);
    }
}

#[test]
fn find_max_returns_a_rate_inside_the_final_bracket() {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--find-max",
        "--slo",
        "p99<=500ms",
        "--start-rate",
        "16",
        "--max-rate",
        "1000",
        "--precision",
        "25%",
        "--step-duration",
        "2s",
    ];
    args.extend_from_slice(SLOW);
    let o = run_sweep(out.path(), &args);
    let s = &o.result;
    assert_eq!(o.exit_code(), 0);
    let (lo, hi) = match s.final_bracket {
        Some((Some(lo), Some(hi))) => (lo, hi),
        other => panic!("no closed bracket: {other:?}\n{}", sweep::render_table(s)),
    };
    let found = s.found_max_records_per_sec.expect("a max");
    assert!(lo <= found && found < hi, "{found} outside [{lo}, {hi})");
    assert!(
        (hi - lo) / lo <= 0.25,
        "bisected to the precision: [{lo}, {hi}]"
    );
    // The bracket's ends are steps that really passed and failed.
    let step_at = |rate: f64| {
        s.steps
            .iter()
            .find(|st| st.target_records_per_sec == Some(rate) && st.phase != "confirm")
            .unwrap_or_else(|| panic!("no step at {rate}"))
    };
    assert!(!step_at(lo).saturated);
    assert!(step_at(hi).saturated, "{:?}", step_at(hi).reasons);
    // A synchronous producer with a 20 ms linger tops out near 50 records/s.
    assert!((10.0..=200.0).contains(&found), "found {found}");
    assert_eq!(s.steps.last().unwrap().phase, "confirm");
    // The knee is the highest pass below the lowest failure. A step below the bracket can
    // fail on a busy machine, so the knee is a passing step at or below the bracket's low end.
    let knee_index = s.knee_index.expect("a knee");
    let knee = s
        .steps
        .iter()
        .find(|st| st.index == knee_index)
        .expect("knee step");
    assert!(!knee.saturated, "{knee:?}");
    assert!(
        knee.target_records_per_sec.is_some_and(|r| r <= lo),
        "{knee:?}"
    );
    assert_step_files(out.path(), s);

    let stored = sweep::load(&o.dir).unwrap();
    assert_eq!(&stored, s);
    let csv = std::fs::read_to_string(o.dir.join(sweep::SWEEP_CSV)).unwrap();
    assert_eq!(csv.lines().count(), 1 + s.steps.len());
    let svg = Svg::read(&o.dir.join(charts::SWEEP_SVG));
    for label in ["p50", "p99", "p99.9", "SLO p99<=500.000 ms"] {
        assert!(svg.has_text(label), "{label}: {:?}", svg.texts());
    }
    assert!(svg.texts().iter().any(|t| t.starts_with("knee:")));
    let p99_line = svg
        .polylines(&charts::color_hex(1))
        .into_iter()
        .max()
        .unwrap_or(0);
    assert_eq!(p99_line, s.steps.len(), "one p99 point per step");
    assert!(
        sweep::render_table(s).contains(&format!("found max: {}", kprod::report::fmt_rate(found)))
    );
}

#[test]
fn param_sweep_runs_one_step_per_value() {
    let out = tempfile::tempdir().unwrap();
    let o = run_sweep(
        out.path(),
        &[
            "--param",
            "batching.linger=0ms,10ms,25ms",
            "--rate",
            "300",
            "--step-duration",
            "1s",
            "--warmup",
            "0s",
            "--quiet",
        ],
    );
    let s = &o.result;
    let values: Vec<&str> = s
        .steps
        .iter()
        .map(|st| st.param_value.as_deref().unwrap())
        .collect();
    assert_eq!(values, ["0ms", "10ms", "25ms"]);
    assert_eq!(s.param_key.as_deref(), Some("batching.linger"));
    let lingers: Vec<String> = s
        .steps
        .iter()
        .map(|st| {
            load_report(&out.path().join(&st.run_dir))
                .unwrap()
                .config
                .librdkafka["linger.ms"]
                .clone()
        })
        .collect();
    assert_eq!(lingers, ["0", "10", "25"]);
    assert_step_files(out.path(), s);
    let svg = Svg::read(&o.dir.join(charts::SWEEP_SVG));
    for v in ["0ms", "10ms", "25ms", "batching.linger"] {
        assert!(svg.has_text(v), "{v}: {:?}", svg.texts());
    }
}

#[test]
fn rate_steps_mark_the_knee_and_report_rerenders_them() {
    let out = tempfile::tempdir().unwrap();
    // 10/s is a quarter of what a sync producer with a 20 ms linger can do, so the first
    // step passes even on a loaded machine (20/s had ~100% vs the 98% rule: one late slot
    // failed it); 120/s is beyond it.
    let mut args = vec!["--rates", "10,120", "--step-duration", "2500ms"];
    args.extend_from_slice(SLOW);
    let o = run_sweep(out.path(), &args);
    let s = &o.result;
    assert_eq!(s.steps.len(), 2);
    assert!(!s.steps[0].saturated, "{:?}", s.steps[0].reasons);
    assert!(s.steps[1].saturated);
    assert!(
        s.steps[1]
            .reasons
            .iter()
            .any(|r| r.contains("of the target")),
        "{:?}",
        s.steps[1].reasons
    );
    assert_eq!(s.knee_index, Some(0));

    let csv_path = o.dir.join(sweep::SWEEP_CSV);
    let csv = std::fs::read(&csv_path).unwrap();
    let svg = std::fs::read(o.dir.join(charts::SWEEP_SVG)).unwrap();
    let html = std::fs::read_to_string(o.dir.join(charts::REPORT_HTML)).unwrap();
    // The page inlines the chart and names the knee step's achieved rate.
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains("id=\"knee\""), "knee in the headline");
    std::fs::remove_file(&csv_path).unwrap();
    std::fs::remove_file(o.dir.join(charts::SWEEP_SVG)).unwrap();
    std::fs::remove_file(o.dir.join(charts::REPORT_HTML)).unwrap();
    let Command::Report(a) = command(&["report", o.dir.to_str().unwrap()]) else {
        unreachable!()
    };
    let table = report_cmd::execute(&a, &cwd()).unwrap();
    assert_eq!(std::fs::read(&csv_path).unwrap(), csv);
    assert_eq!(std::fs::read(o.dir.join(charts::SWEEP_SVG)).unwrap(), svg);
    assert_eq!(
        std::fs::read_to_string(o.dir.join(charts::REPORT_HTML)).unwrap(),
        html
    );
    assert!(table.contains("◀ knee"), "{table}");
}

#[test]
fn conflicting_flags_are_invalid_input() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    for argv in [
        vec!["sweep", "--out", o, "--rates", "1k", "--rate", "2k"],
        vec!["sweep", "--out", o, "--rates", "1k", "--duration", "5s"],
        vec![
            "sweep",
            "--out",
            o,
            "--param",
            "workload.producers=1,2",
            "--producers",
            "3",
        ],
        vec!["sweep", "--out", o, "--find-max", "--slo", "p99<20ms"],
        vec!["sweep", "--out", o, "--param", "batching.linger=5ms,fast"],
    ] {
        let Command::Sweep(a) = command(&argv) else {
            unreachable!()
        };
        let e = sweep::execute(&a, &cwd(), Some(&mut Silent))
            .err()
            .expect("refused");
        assert_eq!(e.exit_code(), 2, "{argv:?}: {e}");
    }
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");
}

/// A stand-alone mock cluster reached through `--brokers`, with `topics` (name,
/// partitions) created. It lacks CreateTopics (its controller is none of its brokers), as
/// a cluster that may not create topics would.
fn mock_with(
    topics: &[(&str, i32)],
) -> (
    rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    String,
) {
    let m = rdkafka::mocking::MockCluster::new(1).expect("mock cluster");
    for (t, p) in topics {
        m.create_topic(t, *p, 1).expect("topic");
    }
    let b = m.bootstrap_servers();
    (m, b)
}

fn sweep_err(out: &Path, args: &[&str]) -> kprod::KprodError {
    let mut argv = vec!["sweep", "--out", out.to_str().unwrap()];
    argv.extend_from_slice(args);
    let Command::Sweep(a) = command(&argv) else {
        unreachable!()
    };
    sweep::execute(&a, &cwd(), Some(&mut Silent))
        .err()
        .expect("refused")
}

const TOPO_STEP: &[&str] = &[
    "--rate",
    "200",
    "--step-duration",
    "1s",
    "--warmup",
    "0s",
    "--set",
    "workload.replication_factor=1",
    "--quiet",
];

#[test]
fn a_partitions_sweep_against_a_cluster_that_cannot_create_topics_refuses_before_any_step() {
    let (_m, brokers) = mock_with(&[("topo-a", 4)]);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--param",
        "workload.partitions=3,6",
        "--brokers",
        &brokers,
        "--topic",
        "topo-a",
    ];
    args.extend_from_slice(TOPO_STEP);
    let e = sweep_err(out.path(), &args);
    assert_eq!(e.exit_code(), 3, "{e}");
    let msg = e.to_string();
    for part in [
        "--param workload.partitions",
        "topo-a-s01 (3 partitions)",
        "topo-a-s02 (6 partitions)",
        "create the topics yourself",
        "no controller",
    ] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");
}

#[test]
fn a_partitions_sweep_runs_each_step_on_its_own_topic_and_never_on_another_shape() {
    // Topics of the right shape (made by hand, as the refusal's fix says) are used.
    let (_m, brokers) = mock_with(&[("topo-b", 4), ("topo-b-s01", 3), ("topo-b-s02", 6)]);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--param",
        "workload.partitions=3,6",
        "--brokers",
        &brokers,
        "--topic",
        "topo-b",
    ];
    args.extend_from_slice(TOPO_STEP);
    let o = run_sweep(out.path(), &args);
    let got: Vec<(Option<&str>, Option<u32>)> = o
        .result
        .steps
        .iter()
        .map(|s| (s.topic.as_deref(), s.partitions))
        .collect();
    assert_eq!(
        got,
        [(Some("topo-b-s01"), Some(3)), (Some("topo-b-s02"), Some(6))]
    );
    for s in &o.result.steps {
        let r = load_report(&out.path().join(&s.run_dir)).unwrap();
        assert_eq!(
            (Some(r.topic.as_str()), Some(r.partitions)),
            (s.topic.as_deref(), s.partitions)
        );
        assert!(r.records.delivered > 0);
        assert!(
            r.warnings
                .iter()
                .all(|w| !w.contains("partition(s), not the")),
            "{:?}",
            r.warnings
        );
    }
    let table = sweep::render_table(&o.result);
    assert!(table.contains("topo-b-s02 (6)"), "{table}");
    let csv = std::fs::read_to_string(o.dir.join(sweep::SWEEP_CSV)).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",topic,partitions"),
        "{csv}"
    );
    assert!(csv.contains(",topo-b-s01,3"), "{csv}");

    // A step topic of another partition count is refused before the first step.
    let (_m2, brokers) = mock_with(&[("topo-c-s01", 3), ("topo-c-s02", 5)]);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--param",
        "workload.partitions=3,6",
        "--brokers",
        &brokers,
        "--topic",
        "topo-c",
    ];
    args.extend_from_slice(TOPO_STEP);
    let e = sweep_err(out.path(), &args);
    assert_eq!(e.exit_code(), 3, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("topo-c-s02") && msg.contains("exists with 5 and 1"),
        "{msg}"
    );
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");
}

#[test]
fn a_partitions_sweep_on_the_embedded_cluster_records_each_steps_partitions() {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["--param", "workload.partitions=2,5"];
    args.extend_from_slice(TOPO_STEP);
    let o = run_sweep(out.path(), &args);
    let parts: Vec<Option<u32>> = o.result.steps.iter().map(|s| s.partitions).collect();
    assert_eq!(parts, [Some(2), Some(5)]);
    // Each embedded run starts its own cluster: the profile's topic, no suffix.
    assert!(o
        .result
        .steps
        .iter()
        .all(|s| s.topic.as_deref() == Some("kprod-bench")));
    assert!(sweep::render_table(&o.result).contains("kprod-bench (5)"));
    // The page's step table names each step's topic and partitions too.
    let html = std::fs::read_to_string(o.dir.join(charts::REPORT_HTML)).unwrap();
    assert!(html.contains("topic (partitions)"), "column header");
    assert!(html.contains("kprod-bench (2)") && html.contains("kprod-bench (5)"));
}

#[test]
fn a_step_topic_of_the_right_partitions_but_another_replication_factor_is_refused() {
    let m = rdkafka::mocking::MockCluster::new(3).expect("mock cluster");
    m.create_topic("topo-r-s01", 3, 1).expect("topic");
    let brokers = m.bootstrap_servers();
    let out = tempfile::tempdir().unwrap();
    let e = sweep_err(
        out.path(),
        &[
            "--param",
            "workload.replication_factor=3",
            "--set",
            "workload.partitions=3",
            "--brokers",
            &brokers,
            "--topic",
            "topo-r",
            "--step-duration",
            "1s",
            "--quiet",
        ],
    );
    assert_eq!(e.exit_code(), 3, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("replication factor 3, but it exists with 3 and 1"),
        "{msg}"
    );
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");
}

#[test]
fn a_topic_count_sweep_against_a_cluster_that_cannot_create_topics_lists_every_step_topic() {
    let (_m, brokers) = mock_with(&[]);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--param",
        "workload.topic_count=1,2",
        "--partitions",
        "3",
        "--brokers",
        &brokers,
        "--topic",
        "topo-n",
    ];
    args.extend_from_slice(TOPO_STEP);
    let e = sweep_err(out.path(), &args);
    assert_eq!(e.exit_code(), 3, "{e}");
    let msg = e.to_string();
    for part in [
        "--param workload.topic_count",
        "topo-n-0-s01 (3 partitions)",
        "topo-n-0-s02 (3 partitions)",
        "topo-n-1-s02 (3 partitions)",
        "create the topics yourself",
        "no controller",
    ] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");
}

#[test]
fn a_sweep_of_a_many_topic_profile_runs_each_step_on_its_own_suffixed_topics() {
    // The step topics made by hand (as the refusal's fix says): the runs must produce to
    // them, every topic of the step with the step's suffix, and leave them in place.
    let (_m, brokers) = mock_with(&[
        ("topo-m-0-s01", 2),
        ("topo-m-0-s02", 2),
        ("topo-m-1-s02", 2),
    ]);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--param",
        "workload.topic_count=1,2",
        "--partitions",
        "2",
        "--brokers",
        &brokers,
        "--topic",
        "topo-m",
    ];
    args.extend_from_slice(TOPO_STEP);
    let o = run_sweep(out.path(), &args);
    let mut produced = Vec::new();
    for s in &o.result.steps {
        let r = load_report(&out.path().join(&s.run_dir)).unwrap();
        assert!(
            r.records.delivered > 0 && r.records.failed == 0,
            "{:?}",
            r.records
        );
        for t in &r.topics {
            assert!(t.counts.delivered > 0, "{t:?}");
            assert_eq!(t.partitions, 2, "{t:?}");
        }
        produced.push(r.topics.iter().map(|t| t.name.clone()).collect::<Vec<_>>());
    }
    assert_eq!(
        produced,
        [
            vec!["topo-m-0-s01".to_string()],
            vec!["topo-m-0-s02".to_string(), "topo-m-1-s02".to_string()]
        ]
    );
    let rows: Vec<(Option<u32>, Option<u32>)> = o
        .result
        .steps
        .iter()
        .map(|s| (s.topics, s.partitions))
        .collect();
    assert_eq!(rows, [(Some(1), Some(2)), (Some(2), Some(4))]);
    assert!(sweep::render_table(&o.result).contains("2 topics (4 partitions)"));
}
