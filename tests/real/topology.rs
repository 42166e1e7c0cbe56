//! The real-broker suite's topology test: `sweep --param workload.partitions=…` against
//! the broker creates a topic per step with that step's partitions and deletes them unless
//! `--keep-topics` (issue 13, part 5).

use kprod::report::Status;
use std::time::{Duration, Instant};

/// `sweep --param workload.partitions=…` against the broker: kprod creates one topic per
/// step with that step's partitions (as the broker's metadata shows), runs each step on
/// its own, records them in `sweep.json`, and deletes them unless `--keep-topics`.
fn partitions_sweep(broker: &str, base: &str, keep: bool) -> kprod::commands::sweep::SweepOutcome {
    use clap::Parser;
    let d = tempfile::tempdir().expect("temp dir");
    let out = d.path().to_str().expect("utf-8 path").to_string();
    let mut argv = vec![
        "kprod",
        "sweep",
        "--param",
        "workload.partitions=3,6,12",
        "--brokers",
        broker,
        "--topic",
        base,
        "--rate",
        "200",
        "--step-duration",
        "2s",
        "--warmup",
        "0s",
        "--quiet",
        "--out",
        &out,
    ];
    if keep {
        argv.push("--keep-topics");
    }
    let kprod::cli::Command::Sweep(a) = kprod::cli::Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{e}"))
        .command
    else {
        unreachable!()
    };
    let o = kprod::commands::sweep::execute(&a, d.path(), Some(&mut kprod::engine::Silent))
        .unwrap_or_else(|e| panic!("sweep against {broker}: {e}"));
    for s in &o.result.steps {
        let r = kprod::report::load_report(&d.path().join(&s.run_dir)).expect("step report");
        assert_eq!(r.status, Status::Complete, "{}", s.run_dir);
        assert!(r.records.delivered > 0 && r.records.failed == 0);
        assert_eq!(
            (Some(r.topic), Some(r.partitions)),
            (s.topic.clone(), s.partitions)
        );
    }
    o
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn a_partitions_sweep_creates_a_topic_per_step_and_deletes_them_unless_kept() {
    let broker = super::broker("partitions-sweep");
    let expected = [(1, 3), (2, 6), (3, 12)];
    let names = |base: &str| expected.map(|(i, p)| (format!("{base}-s{i:02}"), p));

    let kept = super::topic("sweep-kept");
    let o = partitions_sweep(&broker, &kept, true);
    let rows: Vec<(String, u32)> = o
        .result
        .steps
        .iter()
        .map(|s| {
            (
                s.topic.clone().unwrap_or_default(),
                s.partitions.unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(rows, names(&kept).to_vec(), "sweep.json rows");
    for (t, p) in names(&kept) {
        assert_eq!(
            super::partitions(&broker, &t),
            Some(p),
            "{t} as the broker reports it"
        );
    }

    let gone = super::topic("sweep-gone");
    partitions_sweep(&broker, &gone, false);
    // DeleteTopics answered; give the broker's metadata a moment to follow.
    let deadline = Instant::now() + Duration::from_secs(10);
    let left = loop {
        let left: Vec<String> = names(&gone)
            .into_iter()
            .filter(|(t, _)| super::partitions(&broker, t).is_some())
            .map(|(t, _)| t)
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        left.is_empty(),
        "not deleted without --keep-topics: {left:?}"
    );
}
