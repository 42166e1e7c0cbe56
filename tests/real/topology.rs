//! The real-broker suite's topology tests: `sweep --param workload.partitions=…` against
//! the broker creates a topic per step with that step's partitions and deletes them unless
//! `--keep-topics` (issue 13, part 5); the same for many topics: a
//! `workload.topic_count` sweep, and a partitions sweep of a two-topic profile, give every
//! topic of every step its own fresh topic with the step's partitions.

use kprod::report::Status;
use std::time::{Duration, Instant};

/// `sweep --param workload.partitions=…` against the broker: kprod creates one topic per
/// step with that step's partitions (as the broker's metadata shows), runs each step on
/// its own, records them in `sweep.json`, and deletes them unless `--keep-topics`.
fn partitions_sweep(broker: &str, base: &str, keep: bool) -> kprod::commands::sweep::SweepOutcome {
    let args = ["--param", "workload.partitions=3,6,12", "--topic", base];
    let (d, o) = sweep(broker, &args, keep);
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

/// Runs `kprod sweep` with `args` against the broker (steps of 2 s at 200 records/s),
/// checks every step ran complete on its own topics, and returns the outcome with the
/// directory that holds the step runs.
fn sweep(
    broker: &str,
    args: &[&str],
    keep: bool,
) -> (tempfile::TempDir, kprod::commands::sweep::SweepOutcome) {
    use clap::Parser;
    let d = tempfile::tempdir().expect("temp dir");
    let out = d.path().to_str().expect("utf-8 path").to_string();
    let mut argv = vec!["kprod", "sweep"];
    argv.extend_from_slice(args);
    argv.extend([
        "--brokers",
        broker,
        "--rate",
        "200",
        "--step-duration",
        "2s",
        "--warmup",
        "0s",
        "--quiet",
        "--out",
        &out,
    ]);
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
    (d, o)
}

/// Each step's topics (name, partitions) as its report lists them, after checking the
/// step row agrees: the topic count and all of their partitions.
fn step_topics(
    d: &std::path::Path,
    o: &kprod::commands::sweep::SweepOutcome,
) -> Vec<Vec<(String, u32)>> {
    o.result
        .steps
        .iter()
        .map(|s| {
            let r = kprod::report::load_report(&d.join(&s.run_dir)).expect("step report");
            assert_eq!(r.status, Status::Complete, "{}", s.run_dir);
            assert!(
                r.records.delivered > 0 && r.records.failed == 0,
                "{:?}",
                r.records
            );
            assert!(
                r.topics.iter().all(|t| t.counts.delivered > 0),
                "every topic of {} got records: {:?}",
                s.run_dir,
                r.topics
            );
            let total: u32 = r.topics.iter().map(|t| t.partitions).sum();
            assert_eq!(
                (s.topics, s.partitions),
                (Some(r.topics.len() as u32), Some(total)),
                "sweep.json row of {}",
                s.run_dir
            );
            r.topics
                .iter()
                .map(|t| (t.name.clone(), t.partitions))
                .collect()
        })
        .collect()
}

/// The broker's metadata shows each topic with its partitions.
fn assert_on_broker(broker: &str, steps: &[Vec<(String, u32)>]) {
    for (t, p) in steps.iter().flatten() {
        assert_eq!(
            super::partitions(broker, t),
            Some(*p),
            "{t} as the broker reports it"
        );
    }
}

/// None of the topics is left on the broker (metadata may follow DeleteTopics late).
fn assert_deleted(broker: &str, steps: &[Vec<(String, u32)>]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let left = loop {
        let left: Vec<&String> = steps
            .iter()
            .flatten()
            .map(|(t, _)| t)
            .filter(|t| super::partitions(broker, t).is_some())
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

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn a_topic_count_sweep_creates_every_topic_of_every_step() {
    let broker = super::broker("topic-count-sweep");
    let expected = |base: &str| {
        vec![
            vec![(format!("{base}-0-s01"), 3)],
            vec![(format!("{base}-0-s02"), 3), (format!("{base}-1-s02"), 3)],
        ]
    };
    let args = |base: &str| {
        [
            "--param",
            "workload.topic_count=1,2",
            "--topic",
            base,
            "--partitions",
            "3",
            "--set",
            "workload.replication_factor=1",
        ]
        .map(str::to_string)
    };

    let kept = super::topic("count-kept");
    let a = args(&kept);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (d, o) = sweep(&broker, &a, true);
    let steps = step_topics(d.path(), &o);
    assert_eq!(steps, expected(&kept), "each step's topics");
    assert_on_broker(&broker, &steps);

    let gone = super::topic("count-gone");
    let a = args(&gone);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (d, o) = sweep(&broker, &a, false);
    let steps = step_topics(d.path(), &o);
    assert_eq!(steps, expected(&gone));
    assert_deleted(&broker, &steps);
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn a_partitions_sweep_of_two_topics_gives_each_step_fresh_topics_with_their_configs() {
    let broker = super::broker("two-topic-sweep");
    let run = |base: &str, keep: bool| {
        let dir = tempfile::tempdir().expect("temp dir");
        let profile = dir.path().join("two.toml");
        // `a` follows workload.partitions; `b` keeps 2 partitions and carries configs,
        // so the CreateTopics requests have some to pass.
        std::fs::write(
            &profile,
            format!(
                "[workload]\nreplication_factor = 1\n\n[[workload.topics]]\nname = \"{base}-a\"\n\n\
                 [[workload.topics]]\nname = \"{base}-b\"\npartitions = 2\n\
                 config = {{ \"retention.ms\" = 3600000, \"min.insync.replicas\" = 1 }}\n"
            ),
        )
        .expect("profile");
        let path = profile.to_str().expect("utf-8 path").to_string();
        let (d, o) = sweep(
            &broker,
            &["--profile", &path, "--param", "workload.partitions=3,6"],
            keep,
        );
        (step_topics(d.path(), &o), dir)
    };
    let expected = |base: &str| {
        vec![
            vec![(format!("{base}-a-s01"), 3), (format!("{base}-b-s01"), 2)],
            vec![(format!("{base}-a-s02"), 6), (format!("{base}-b-s02"), 2)],
        ]
    };

    let kept = super::topic("two-kept");
    let (steps, _dir) = run(&kept, true);
    assert_eq!(steps, expected(&kept), "each step's topics");
    assert_on_broker(&broker, &steps);

    let gone = super::topic("two-gone");
    let (steps, _dir) = run(&gone, false);
    assert_eq!(steps, expected(&gone));
    assert_deleted(&broker, &steps);
}
