//! Per-topic record sizes and keys (issue 13 part 3): records routed to a topic carry that
//! topic's `size` and `keys` settings (read back from a mock cluster the test owns), a
//! topic that sets none carries [workload]'s, per-topic figures show each topic's setting
//! and still add up to the run's totals, on the batched and the one-record path.

mod common;
use common::{assert_accounted, bench};
use kprod::report::RunReport;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const PARTITIONS: i32 = 2;

/// A: 40-byte values, sequential keys over 5; B: 200..300-byte values, zipf keys over 50
/// (`zipf_s` from [workload]); C: [workload]'s 1 KiB keyless records. Shares 1:2:1.
fn profile(a: &str, b: &str, c: &str) -> String {
    format!(
        r#"[workload]
size = "1KiB"
keys = "none"
key_count = 7
zipf_s = 1.2

[[workload.topics]]
name = "{a}"
partitions = {PARTITIONS}
size = "40B"
keys = "sequential"
key_count = 5

[[workload.topics]]
name = "{b}"
partitions = {PARTITIONS}
share = 2
size = {{ dist = "uniform", min = "200B", max = "300B" }}
keys = "zipf"
key_count = 50

[[workload.topics]]
name = "{c}"
partitions = {PARTITIONS}
"#
    )
}

/// Every record of `topic` still on the mock: (key, value length).
fn read_back(bootstrap: &str, topic: &str) -> Vec<(Option<Vec<u8>>, usize)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "kprod-topics-records")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let (mut out, mut eof) = (Vec::new(), 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while eof < PARTITIONS && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push((m.key().map(<[u8]>::to_vec), m.payload_len())),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => eof += 1,
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    assert_eq!(
        eof, PARTITIONS,
        "{topic}: not every partition read to its end"
    );
    out
}

/// Runs 800 records over A, B, C against a mock cluster and checks what each topic got.
fn run_and_read(extra: &[&str]) -> RunReport {
    let mock = MockCluster::new(1).expect("mock cluster");
    let names = ["rec-a", "rec-b", "rec-c"];
    for t in names {
        mock.create_topic(t, PARTITIONS, 1).expect("topic");
    }
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("records.toml");
    std::fs::write(&path, profile(names[0], names[1], names[2])).expect("write profile");
    let mut args = vec![
        "--profile",
        path.to_str().expect("utf-8 path"),
        "--brokers",
        &bootstrap,
        "--records",
        "800",
        "--producers",
        "1",
        "--warmup",
        "0s",
        "--duration",
        "30s",
        "--rate",
        "4000",
    ];
    args.extend_from_slice(extra);
    let (_d, o) = bench(&args);
    assert_accounted(&o);
    let r = o.report;
    assert_eq!(r.records.delivered, 800, "{:?}", r.records);

    let a = read_back(&bootstrap, names[0]);
    assert_eq!(a.len(), 200);
    let mut seen = BTreeMap::new();
    for (k, len) in &a {
        assert_eq!(*len, 40, "A's values are 40 bytes");
        let k = String::from_utf8(k.clone().expect("A's records are keyed")).expect("utf-8");
        *seen.entry(k).or_insert(0) += 1;
    }
    // Sequential over 5 keys: each of 000000000000..000000000004 exactly 40 times.
    let want: BTreeMap<String, i32> = (0..5).map(|n| (format!("{n:012}"), 40)).collect();
    assert_eq!(seen, want);

    let b = read_back(&bootstrap, names[1]);
    assert_eq!(b.len(), 400);
    let mut hottest = BTreeMap::new();
    for (k, len) in &b {
        assert!((200..=300).contains(len), "B's value of {len} bytes");
        let k = String::from_utf8(k.clone().expect("B's records are keyed")).expect("utf-8");
        let n: u64 = k.parse().expect("a numbered key");
        assert!(n < 50, "B's key {k} outside its 50");
        *hottest.entry(n).or_insert(0u32) += 1;
    }
    // Zipf: the hottest key takes far more than a uniform 1/50 (8 of 400).
    assert!(
        hottest.values().max().copied().unwrap_or(0) > 40,
        "{hottest:?}"
    );
    let lens: std::collections::BTreeSet<usize> = b.iter().map(|(_, l)| *l).collect();
    assert!(lens.len() > 20, "B's sizes vary: {lens:?}");

    let c = read_back(&bootstrap, names[2]);
    assert_eq!(c.len(), 200);
    assert!(c.iter().all(|(k, len)| k.is_none() && *len == 1024));
    r
}

/// Report: each topic shows its own setting; bytes per topic are the topic's own; the
/// topics add up to the run.
fn assert_report(r: &RunReport) {
    let t = &r.topics;
    let sizes: Vec<&str> = t.iter().map(|t| t.size.as_str()).collect();
    assert_eq!(sizes[0], "40B");
    assert!(sizes[1].starts_with("uniform"), "{sizes:?}");
    assert_eq!(sizes[2], "1KiB");
    assert!(t[0].keys.starts_with("sequential"), "{:?}", t[0].keys);
    assert!(t[1].keys.contains("zipf s=1.2"), "{:?}", t[1].keys);
    assert!(t[2].keys.starts_with("none"), "{:?}", t[2].keys);
    // A: 40-byte value + 12-byte key per record; C: 1 KiB, no key.
    assert_eq!(t[0].counts.measured_bytes, 200 * 52);
    assert_eq!(t[2].counts.measured_bytes, 200 * 1024);
    let per_b = t[1].counts.measured_bytes as f64 / 400.0;
    assert!((212.0..=312.0).contains(&per_b), "B: {per_b} bytes/record");
    let sent: Vec<u64> = t.iter().map(|t| t.counts.sent).collect();
    assert_eq!(sent, [200, 400, 200]);
    assert_eq!(t.iter().map(|t| t.counts.sent).sum::<u64>(), r.records.sent);
    assert_eq!(
        t.iter().map(|t| t.counts.delivered).sum::<u64>(),
        r.records.delivered
    );
    let bytes: f64 = t.iter().map(|t| t.bytes_per_sec).sum();
    assert!(
        (bytes - r.throughput.bytes_per_sec).abs() < 1e-6 * r.throughput.bytes_per_sec,
        "per-topic bytes {bytes} vs {}",
        r.throughput.bytes_per_sec
    );
    let details = kprod::report::summary_table(r);
    assert!(details.contains("40B records"), "{details}");
}

#[test]
fn each_topic_gets_its_own_sizes_and_keys_on_the_batched_path() {
    let r = run_and_read(&[]);
    assert_report(&r);
}

#[test]
fn each_topic_gets_its_own_sizes_and_keys_on_the_one_record_path() {
    // A sync producer sends one record at a time (no batch path).
    let r = run_and_read(&["--set", "workload.send_mode=sync"]);
    assert_report(&r);
}
