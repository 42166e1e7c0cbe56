//! Many topics in one run on the embedded cluster (issue 13 part 3): records routed to
//! topics in exact share, per-topic counts adding up to the totals, every topic created
//! with its partitions, consumers reading all of them.

mod common;
use common::{assert_accounted, bench};
use kprod::report::RunReport;

const SHARES: &str = r#"[workload]
topic = "many"

[[workload.topics]]
name = "t-a"
partitions = 2

[[workload.topics]]
name = "t-b"
partitions = 3
share = 2

[[workload.topics]]
name = "t-c"
partitions = 1
"#;

/// Runs the 1:2:1 profile with a fixed record count (4000 per producer, a multiple of
/// the 4-record cycle) and returns its report.
fn run(extra: &[&str]) -> RunReport {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("topics.toml");
    std::fs::write(&path, SHARES).expect("write profile");
    let path = path.to_str().expect("utf-8 path");
    let mut args = vec![
        "--profile",
        path,
        "--records",
        "8000",
        "--producers",
        "2",
        "--warmup",
        "0s",
        "--duration",
        "30s",
        "--rate",
        "8000",
    ];
    args.extend_from_slice(extra);
    let (_d, o) = bench(&args);
    assert_accounted(&o);
    o.report
}

/// Per-topic sent in exact 1:2:1 ratio; per-topic sums = the totals; each topic has the
/// partitions it was created with.
fn assert_topics(r: &RunReport) {
    let names: Vec<&str> = r.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t-a", "t-b", "t-c"]);
    assert_eq!(r.records.sent, 8000);
    let sent: Vec<u64> = r.topics.iter().map(|t| t.counts.sent).collect();
    assert_eq!(sent, [2000, 4000, 2000]);
    let parts: Vec<u32> = r.topics.iter().map(|t| t.partitions).collect();
    assert_eq!(parts, [2, 3, 1]);
    let sum =
        |f: fn(&kprod::report::topics::TopicReport) -> u64| -> u64 { r.topics.iter().map(f).sum() };
    assert_eq!(sum(|t| t.counts.sent), r.records.sent);
    assert_eq!(sum(|t| t.counts.delivered), r.records.delivered);
    assert_eq!(sum(|t| t.counts.failed), r.records.failed);
    assert_eq!(sum(|t| t.counts.unknown), r.records.unknown);
    assert_eq!(r.records.delivered, 8000, "{:?}", r.records);
    for t in &r.topics {
        let c = &t.counts;
        assert_eq!(c.sent, c.delivered + c.failed + c.unknown, "{t:?}");
    }
    let rate: f64 = r.topics.iter().map(|t| t.records_per_sec).sum();
    assert!(
        (rate - r.throughput.records_per_sec).abs() < 1e-6 * r.throughput.records_per_sec.max(1.0),
        "per-topic rates {rate} vs {}",
        r.throughput.records_per_sec
    );
    assert_eq!(r.partitions, 6, "the run's partitions: every topic's");
    assert!(
        !r.warnings.iter().any(|w| w.contains("partition")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn keyless_records_split_by_share_on_the_batched_path() {
    let r = run(&[]);
    assert_topics(&r);
    // `--details` lists them.
    let details = kprod::report::summary_table(&r);
    assert!(
        details.contains("t-b") && details.contains("share 2"),
        "{details}"
    );
}

#[test]
fn keyed_records_split_by_share() {
    let r = run(&["--set", "workload.keys=uniform"]);
    assert_topics(&r);
}

#[test]
fn records_with_headers_take_the_one_record_path_and_split_by_share() {
    let r = run(&["--set", "workload.headers.count=1"]);
    assert_topics(&r);
}

#[test]
fn fire_and_forget_infers_each_topics_deliveries() {
    let r = run(&["--set", "workload.send_mode=fire-and-forget"]);
    assert!(r.records.delivered_inferred);
    assert_topics(&r);
}

#[test]
fn transactional_records_split_by_share() {
    let r = run(&["--profile", "transactional"]);
    assert!(r.transactions.is_some());
    assert_topics(&r);
}

#[test]
fn consumers_read_every_topic() {
    let r = run(&["--consumers", "2", "--consumer-groups", "2"]);
    assert_topics(&r);
    let c = r.consumers.as_ref().expect("a consumers section");
    assert_eq!(c.consumed, vec![r.records.delivered; 2], "{:?}", r.warnings);
    assert!(c.caught_up, "{c:?}");
    // Per topic, each group read exactly what that topic was delivered (1:2:1, so a
    // record counted under the wrong topic would show), and the topics add up per group.
    for t in &r.topics {
        assert_eq!(t.consumed, vec![t.counts.delivered; 2], "{}", t.name);
    }
    assert_eq!(
        r.topics.iter().map(|t| t.consumed[0]).sum::<u64>(),
        c.consumed[0]
    );
    let json = serde_json::to_value(&r).expect("serialises");
    assert_eq!(
        json["topics"][1]["consumed"][1],
        r.topics[1].counts.delivered
    );
}

#[test]
fn topics_flag_makes_n_equal_topics_and_one_topic_reports_none() {
    let (_d, o) = bench(&[
        "--topics",
        "3",
        "--partitions",
        "2",
        "--records",
        "3000",
        "--rate",
        "6000",
        "--warmup",
        "0s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    let names: Vec<&str> = r.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["kprod-bench-0", "kprod-bench-1", "kprod-bench-2"]);
    assert!(r
        .topics
        .iter()
        .all(|t| t.counts.sent == 1000 && t.partitions == 2 && t.consumed.is_empty()));
    let json = serde_json::to_value(r).unwrap();
    assert!(json.get("topics").is_some());
    assert!(json["topics"][0].get("consumed").is_none());

    let (_d, o) = bench(&["--records", "100", "--rate", "1000", "--warmup", "0s"]);
    assert!(o.report.topics.is_empty());
    let json = serde_json::to_value(&o.report).unwrap();
    assert!(
        json.get("topics").is_none(),
        "single-topic report.json unchanged"
    );
}

#[test]
fn one_listed_topic_is_counted_like_the_run() {
    // `--topics 1` produces to the one listed topic: its row carries the run's figures.
    let (_d, o) = bench(&[
        "--topics",
        "1",
        "--partitions",
        "3",
        "--records",
        "1200",
        "--rate",
        "4000",
        "--warmup",
        "0s",
        "--consumers",
        "1",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    let names: Vec<&str> = r.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["kprod-bench-0"]);
    // Its consumed count is the group's own (consumers count per topic only among several).
    assert_eq!(r.topics[0].consumed, [r.records.delivered]);
    let t = &r.topics[0];
    assert_eq!(
        (
            t.counts.sent,
            t.counts.delivered,
            t.counts.failed,
            t.counts.unknown
        ),
        (
            r.records.sent,
            r.records.delivered,
            r.records.failed,
            r.records.unknown
        )
    );
    assert_eq!(t.counts.sent, 1200);
    assert_eq!(t.partitions, 3, "as metadata showed it");
    assert_eq!(r.partitions, 3);
    assert!(
        (t.records_per_sec - r.throughput.records_per_sec).abs()
            < 1e-6 * r.throughput.records_per_sec.max(1.0),
        "topic rate {} vs run {}",
        t.records_per_sec,
        r.throughput.records_per_sec
    );
    assert!(t.records_per_sec > 0.0);
}

#[test]
fn topic_configs_on_the_embedded_cluster_warn_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cfg.toml");
    std::fs::write(
        &path,
        "[[workload.topics]]\nname = \"c-{i}\"\ncount = 2\nconfig = { \"retention.ms\" = 60000 }\n",
    )
    .expect("write profile");
    let (_d, o) = bench(&[
        "--profile",
        path.to_str().unwrap(),
        "--records",
        "200",
        "--rate",
        "1000",
        "--warmup",
        "0s",
    ]);
    let n = o
        .report
        .warnings
        .iter()
        .filter(|w| w.contains("not applied on the embedded cluster"))
        .count();
    assert_eq!(n, 1, "{:?}", o.report.warnings);
}

#[test]
fn verify_with_many_topics_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = match common::bench_in(
        dir.path(),
        &[
            "--topics",
            "2",
            "--verify",
            "--records",
            "10",
            "--warmup",
            "0s",
        ],
    ) {
        Ok(_) => panic!("--verify with two topics ran"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("--verify") && e.contains("workload.topics"),
        "{e}"
    );
}

#[test]
fn a_topic_count_sweep_rows_read_topics_and_all_partitions() {
    use clap::Parser;
    let d = tempfile::tempdir().expect("temp dir");
    let out = d.path().to_str().expect("utf-8 path");
    let argv = [
        "kprod",
        "sweep",
        "--param",
        "workload.topic_count=1,2",
        "--partitions",
        "2",
        "--rate",
        "300",
        "--step-duration",
        "1s",
        "--warmup",
        "0s",
        "--quiet",
        "--out",
        out,
    ];
    let kprod::cli::Command::Sweep(a) = kprod::cli::Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{e}"))
        .command
    else {
        unreachable!()
    };
    let o = kprod::commands::sweep::execute(&a, d.path(), Some(&mut kprod::engine::Silent))
        .expect("sweep runs");
    let rows: Vec<(Option<u32>, Option<u32>)> = o
        .result
        .steps
        .iter()
        .map(|s| (s.topics, s.partitions))
        .collect();
    assert_eq!(rows, [(Some(1), Some(2)), (Some(2), Some(4))]);
    for s in &o.result.steps {
        let r = kprod::report::load_report(&d.path().join(&s.run_dir)).expect("step report");
        assert_eq!(Some(r.topics.len() as u32), s.topics);
        assert!(
            r.topics.iter().all(|t| t.counts.delivered > 0),
            "{:?}",
            r.topics
        );
    }
    let table = kprod::commands::sweep::render_table(&o.result);
    assert!(
        table.contains("1 topic (2 partitions)") && table.contains("2 topics (4 partitions)"),
        "{table}"
    );
    let json = std::fs::read_to_string(o.dir.join("sweep.json")).expect("sweep.json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["steps"][1]["topics"], 2);
}
