//! Faults on the embedded cluster: `--fault` and `[[fault]]` apply on schedule, show in
//! the latency and error figures, flag their intervals (report, intervals.csv, table), and
//! bad specs or a real cluster are refused with exit 2.

mod common;
use assert_cmd::Command;
use common::{assert_accounted, bench};
use kprod::report::Status;

#[test]
fn an_rtt_fault_slows_exactly_its_seconds_and_flags_them() {
    let (_d, o) = bench(&[
        "--duration",
        "4s",
        "--warmup",
        "0s",
        "--rate",
        "1000",
        "--set",
        "batching.linger=0ms",
        "--fault",
        "rtt:*=80ms@1s+1s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.status, Status::Complete);
    assert_eq!(r.faults.len(), 1);
    let f = &r.faults[0];
    assert_eq!(f.spec, "rtt:*=80ms@1s+1s");
    assert!(f.error.is_none(), "{f:?}");
    let (a, e) = (f.applied_s.expect("applied"), f.ended_s.expect("undone"));
    assert!(a >= 1.0 && e >= 2.0, "applied at 1s, undone at 2s: {f:?}");
    let flagged: Vec<bool> = r.intervals.iter().map(|i| i.fault.is_some()).collect();
    assert_eq!(
        flagged[..4],
        [false, true, false, false],
        "{:?}",
        r.intervals
    );
    assert_eq!(r.intervals[1].fault.as_deref(), Some("rtt:*=80ms@1s+1s"));
    // The injected round trip shows in the flagged second.
    assert!(r.intervals[1].p99_us >= 80_000, "{:?}", r.intervals[1]);

    let csv = std::fs::read_to_string(o.dir.join("intervals.csv")).expect("intervals.csv");
    let header = csv.lines().next().expect("header");
    assert!(header.ends_with(",fault"), "{header}");
    assert!(
        csv.lines()
            .nth(2)
            .expect("row 2")
            .ends_with(",rtt:*=80ms@1s+1s"),
        "{csv}"
    );
    let table = kprod::report::summary_table(r);
    assert!(
        table.contains("faults") && table.contains("applied at"),
        "{table}"
    );
}

#[test]
fn injected_broker_errors_fail_records_with_that_error() {
    let (_d, o) = bench(&[
        "--records",
        "3000",
        "--rate",
        "1000",
        "--warmup",
        "0s",
        "--set",
        "producer.idempotence=false",
        "--set",
        "producer.retries=0",
        "--set",
        "batching.linger=0ms",
        "--fault",
        "errors:produce=NOT_ENOUGH_REPLICAS*20@1s",
    ]);
    assert_accounted(&o);
    let n = o
        .report
        .errors
        .get("NOT_ENOUGH_REPLICAS")
        .copied()
        .unwrap_or(0);
    assert!(n > 0, "no injected errors counted: {:?}", o.report.errors);
    assert_eq!(o.report.records.failed, n);
    let failed_at: Vec<u64> = o
        .report
        .intervals
        .iter()
        .filter(|i| i.failed > 0)
        .map(|i| i.t_s as u64)
        .collect();
    assert!(
        failed_at.iter().all(|t| *t >= 2),
        "failures before the fault: {failed_at:?}"
    );
}

#[test]
fn a_broker_outage_and_a_leader_move_are_survived_by_the_default_profile() {
    let (_d, o) = bench(&[
        "--duration",
        "4s",
        "--warmup",
        "0s",
        "--rate",
        "1000",
        "--fault",
        "broker-down:1@1s+1s",
        "--fault",
        "leader:0=3@2s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.records.delivered, r.records.sent, "{:?}", r.records);
    assert!(
        r.faults
            .iter()
            .all(|f| f.applied_s.is_some() && f.error.is_none()),
        "{:?}",
        r.faults
    );
    assert!(r.faults[1].ended_s.is_none(), "a leader move is not undone");
    assert!(r.intervals[1]
        .fault
        .as_deref()
        .is_some_and(|f| f.contains("broker-down:1")));
    assert!(r.intervals[2]
        .fault
        .as_deref()
        .is_some_and(|f| f.contains("leader:0=3")));
}

#[test]
fn profile_fault_tables_add_to_fault_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("faulty.toml");
    std::fs::write(
        &p,
        "[[fault]]\nspec = \"rtt:2=5ms@1s+1s\"\n\n[[fault]]\nkind = \"broker-down\"\nbroker = 3\nat = \"2s\"\nfor = \"500ms\"\n",
    )
    .expect("profile");
    let (_d, o) = bench(&[
        "--profile",
        p.to_str().expect("utf-8"),
        "--duration",
        "3s",
        "--warmup",
        "0s",
        "--rate",
        "500",
        "--fault",
        "errors:produce=REQUEST_TIMED_OUT*2@1500ms",
    ]);
    assert_accounted(&o);
    let specs: Vec<&str> = o.report.faults.iter().map(|f| f.spec.as_str()).collect();
    assert_eq!(
        specs,
        [
            "rtt:2=5ms@1s+1s",
            "broker-down:3@2s+500ms",
            "errors:produce=REQUEST_TIMED_OUT*2@1.5s"
        ]
    );
}

fn refused(args: &[&str], says: &[&str]) {
    let out = tempfile::tempdir().expect("temp dir");
    let o = Command::cargo_bin("kprod")
        .expect("binary")
        .arg("bench")
        .args(args)
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("kprod runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    for s in says {
        assert!(stderr.contains(s), "{args:?} does not say {s:?}: {stderr}");
    }
    assert!(std::fs::read_dir(out.path()).expect("out").next().is_none());
}

#[test]
fn invalid_fault_specs_exit_2_with_the_grammar() {
    let grammar = "broker-down:BROKER@AT[+FOR] | rtt:BROKER=LATENCY@AT[+FOR]";
    refused(
        &["--fault", "broker-down:2"],
        &["--fault", "no `@`", grammar],
    );
    refused(
        &["--fault", "earthquake:1@1s"],
        &["unknown fault kind", grammar],
    );
    refused(
        &["--fault", "errors:produce=NOPE*3@1s"],
        &["unknown broker error \"NOPE\""],
    );
    refused(
        &["--fault", "broker-down:9@1s"],
        &["broker 9 does not exist"],
    );
    refused(
        &["--fault", "leader:99=1@1s"],
        &["partition 99 does not exist"],
    );
    refused(
        &["--fault", "rtt:1=5ms@20s", "--duration", "10s"],
        &["the run lasts 10s"],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("f.toml");
    std::fs::write(
        &p,
        "[[fault]]\nkind = \"broker-down\"\nat = \"1s\"\nbrokr = 2\n",
    )
    .expect("write");
    refused(
        &["--profile", p.to_str().expect("utf-8")],
        &[
            "f.toml:4",
            "unknown key `brokr` in [[fault]]",
            "did you mean `broker`",
        ],
    );
}

#[test]
fn faults_are_refused_on_a_real_cluster() {
    refused(
        &["--fault", "broker-down:1@1s", "--brokers", "127.0.0.1:9092"],
        &["cannot be used with --brokers (a real cluster)"],
    );
}

/// A topic of the run, for the leader tests.
fn mock_topic(name: &str, partitions: u32) -> kprod::profile::TopicCfg {
    kprod::profile::TopicCfg {
        name: name.into(),
        partitions,
        replication_factor: 3,
        share: 1,
        config: Default::default(),
        size: None,
        keys: None,
    }
}

/// Each topic's leader of `partition` as the mock cluster's metadata shows it (None: the
/// topic has no such partition).
fn leaders(bootstrap: &str, topics: &[&str], partition: i32) -> Vec<Option<i32>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("metadata client");
    let md = c
        .fetch_metadata(None, std::time::Duration::from_secs(10))
        .expect("metadata");
    topics
        .iter()
        .map(|name| {
            md.topics()
                .iter()
                .find(|t| t.name() == *name)
                .and_then(|t| t.partitions().iter().find(|p| p.id() == partition))
                .map(|p| p.leader())
        })
        .collect()
}

#[test]
fn a_leader_move_moves_the_partition_in_every_topic_that_has_it() {
    use kprod::engine::{cluster, faults};
    let mock = cluster::start_mock(3).expect("embedded cluster");
    // Leaders start where the mock puts them (spread at random), so with five topics that
    // have partition 1 a move applied to only one would show.
    let topics: Vec<_> = (0..5)
        .map(|i| mock_topic(&format!("lead-{i}"), 2))
        .chain([mock_topic("lead-small", 1)])
        .collect();
    for t in &topics {
        cluster::create_mock_topic(&mock, &t.name, t.partitions, 3).expect("topic");
    }
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let bootstrap = mock.bootstrap_servers();
    let spec = kprod::faults::parse("leader:1=2@0s", &kprod::error::Location::flag("--fault"))
        .expect("spec");
    let specs = [spec];
    let (stop, stop_rx) = std::sync::mpsc::channel::<()>();
    // Made here and moved: the target (not the mock itself) is what may cross threads.
    let target = faults::Target {
        mock: &mock,
        topics: &topics,
    };
    let applied = std::thread::scope(|s| {
        let h = s.spawn(|| faults::run(target, &specs, std::time::Instant::now(), stop_rx));
        // The schedule applies the fault at once; the stop comes after it.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = stop.send(());
        h.join().expect("schedule thread")
    });
    assert!(
        applied[0].applied_s.is_some() && applied[0].error.is_none(),
        "{applied:?}"
    );
    let seen = leaders(&bootstrap, &names, 1);
    assert_eq!(
        seen,
        [Some(2), Some(2), Some(2), Some(2), Some(2), None],
        "partition 1's leader in each topic (the one-partition topic has none)"
    );
}

#[test]
fn a_leader_fault_fits_the_largest_topic_of_a_many_topic_run() {
    // workload.partitions = 1, but topic b has 4 partitions: partition 3 exists in the run.
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("two.toml");
    std::fs::write(
        &p,
        "[workload]\npartitions = 1\n\n[[workload.topics]]\nname = \"a\"\n\n\
         [[workload.topics]]\nname = \"b\"\npartitions = 4\n",
    )
    .expect("profile");
    let (_d, o) = bench(&[
        "--profile",
        p.to_str().expect("utf-8"),
        "--duration",
        "3s",
        "--warmup",
        "0s",
        "--rate",
        "500",
        "--fault",
        "leader:3=2@1s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.records.delivered, r.records.sent, "{:?}", r.records);
    let f = &r.faults[0];
    assert!(f.applied_s.is_some() && f.error.is_none(), "{f:?}");
    refused(
        &[
            "--profile",
            p.to_str().expect("utf-8"),
            "--fault",
            "leader:4=2@1s",
        ],
        &["partition 4 does not exist"],
    );
}
