//! The keyless partitioner callback (`engine::sticky`) against a mock cluster: where
//! records land, read back from the partitions' high watermarks.

use kprod::engine::native::{Batch, EventSink, NativeProducer, BATCH};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaRespErr;
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::time::Duration;

const PARTITIONS: i32 = 6;

#[derive(Default)]
struct Count {
    delivered: u64,
    failed: u64,
}

impl EventSink for Count {
    fn delivery_batch(&mut self) {}
    fn delivery(&mut self, _: usize, err: RDKafkaRespErr, _: u64) {
        if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            self.delivered += 1;
        } else {
            self.failed += 1;
        }
    }
    fn stats(&mut self, _: &CStr) {}
    fn client_error(&mut self, _: RDKafkaRespErr, _: &str, _: bool) {}
}

fn producer(bootstrap: &str, topic: &str, batched: bool) -> NativeProducer {
    let props: BTreeMap<String, String> = [
        ("bootstrap.servers", bootstrap),
        ("linger.ms", "1"),
        ("sticky.partitioning.linger.ms", "5"),
        ("partitioner", "murmur2_random"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    NativeProducer::new(&props, topic, batched).expect("producer")
}

/// Produce `batches` batches of 64 records (key `key(i)`), the batch clock at `clock(b)`
/// and `pause` between batches; returns records per partition.
fn run(
    p: &NativeProducer,
    topic: &str,
    batches: usize,
    clock: impl Fn(usize) -> u64,
    pause: Duration,
    keys: &[Vec<u8>],
) -> Vec<i64> {
    // Records produced before the producer knows the topic's partitions are held and
    // partitioned later, all at once with the last batch clock (as librdkafka's own sticky
    // path would put them, within µs, on one partition); wait for the metadata so every
    // batch is partitioned when it is produced, at its own clock.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let known = p
            .base()
            .client()
            .fetch_metadata(Some(topic), Duration::from_secs(2))
            .ok()
            .and_then(|m| m.topics().first().map(|t| t.partitions().len()))
            == Some(PARTITIONS as usize);
        if known {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no metadata for {topic}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let value = [7u8; 10];
    let mut batch = Batch::default();
    let mut sink = Count::default();
    let mut i = 0;
    for b in 0..batches {
        batch.clear();
        for _ in 0..BATCH {
            let key = (!keys.is_empty()).then(|| keys[i % keys.len()].as_slice());
            batch.push(-1, key, &value, 0);
            i += 1;
        }
        p.set_clock(clock(b));
        assert_eq!(p.produce_batch(&mut batch, 0), BATCH);
        std::thread::sleep(pause);
        while p.poll(0, &mut sink).is_some() {}
    }
    while p.outq_len() > 0 {
        p.poll(100, &mut sink);
    }
    assert_eq!((sink.delivered, sink.failed), (i as u64, 0));
    (0..PARTITIONS)
        .map(|part| {
            let (lo, hi) = p
                .base()
                .client()
                .fetch_watermarks(topic, part, Duration::from_secs(10))
                .expect("watermarks");
            hi - lo
        })
        .collect()
}

fn cluster(
    topics: &[&str],
) -> (
    MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    String,
) {
    let m = MockCluster::new(3).expect("mock cluster");
    for t in topics {
        m.create_topic(t, PARTITIONS, 3).expect("topic");
    }
    let b = m.bootstrap_servers();
    (m, b)
}

#[test]
fn keyless_records_switch_partition_when_the_batch_clock_passes_the_linger() {
    let (_m, b) = cluster(&["spread"]);
    let p = producer(&b, "spread", true);
    assert!(p.sticky_callback());
    // 6 ms of batch clock per batch, over the 5 ms linger: a new random pick every batch.
    let counts = run(
        &p,
        "spread",
        120,
        |b| b as u64 * 6_000_000,
        Duration::ZERO,
        &[],
    );
    assert_eq!(counts.iter().sum::<i64>(), 120 * BATCH as i64);
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
}

#[test]
fn keyless_records_stay_while_the_batch_clock_stands_even_as_wall_time_passes() {
    let (_m, b) = cluster(&["still"]);
    let p = producer(&b, "still", true);
    // librdkafka's own sticky partitioner would switch every 5 ms of wall time; the
    // callback goes by the batch clock only, and that stands still here.
    let counts = run(&p, "still", 20, |_| 1_000, Duration::from_millis(8), &[]);
    assert_eq!(counts.iter().filter(|&&c| c > 0).count(), 1, "{counts:?}");
}

#[test]
fn a_keyless_batch_names_its_partition_while_the_linger_runs() {
    let (_m, b) = cluster(&["named"]);
    let p = producer(&b, "named", true);
    // The first batch (after metadata) goes through the callback; from the second, at the
    // same batch clock, the call names the sticky partition for every slot, and the
    // records land where the callback put the first batch.
    let counts = run(&p, "named", 2, |_| 1_000, Duration::ZERO, &[]);
    assert_eq!(counts.iter().filter(|&&c| c > 0).count(), 1, "{counts:?}");
    let value = [7u8; 10];
    let mut batch = Batch::default();
    for _ in 0..BATCH {
        batch.push(-1, None, &value, 0);
    }
    p.set_clock(1_000);
    assert_eq!(p.produce_batch(&mut batch, 0), BATCH);
    let named = counts.iter().position(|&c| c > 0).unwrap() as i32;
    assert!((0..BATCH).all(|k| batch.partition(k) == named));
    // Past the linger the next batch is unassigned again: the callback picks.
    p.set_clock(1_000 + 11_000_000);
    batch.clear();
    for _ in 0..BATCH {
        batch.push(-1, None, &value, 0);
    }
    assert_eq!(p.produce_batch(&mut batch, 0), BATCH);
    assert!((0..BATCH).all(|k| batch.partition(k) == -1));
    // A keyed slot keeps the whole batch unassigned.
    p.set_clock(1_000 + 11_000_000);
    batch.clear();
    batch.push(-1, Some(b"k"), &value, 0);
    batch.push(-1, None, &value, 0);
    assert_eq!(p.produce_batch(&mut batch, 0), 2);
    assert_eq!((batch.partition(0), batch.partition(1)), (-1, -1));
    let mut sink = Count::default();
    while p.outq_len() > 0 {
        p.poll(100, &mut sink);
    }
    assert_eq!((sink.delivered, sink.failed), (2 * BATCH as u64 + 2, 0));
}

#[test]
fn keyed_records_land_where_librdkafka_puts_them_without_the_callback() {
    let (_m, b) = cluster(&["with", "without"]);
    let keys: Vec<Vec<u8>> = (0..97).map(|i| format!("user-{i}").into_bytes()).collect();
    let with = producer(&b, "with", true);
    let without = producer(&b, "without", false);
    assert!(with.sticky_callback() && !without.sticky_callback());
    let a = run(
        &with,
        "with",
        30,
        |b| b as u64 * 1_000,
        Duration::ZERO,
        &keys,
    );
    let c = run(
        &without,
        "without",
        30,
        |b| b as u64 * 1_000,
        Duration::ZERO,
        &keys,
    );
    assert_eq!(a, c);
    assert!(a.iter().filter(|&&n| n > 0).count() > 3, "{a:?}");
}

/// The paced producer's wakeup (`engine::wakeup`): waiting on an empty queue times out,
/// and a delivery report landing on it wakes the waiter at once, long before its timeout.
#[test]
fn a_delivery_report_wakes_a_waiting_producer_at_once() {
    let (_m, b) = cluster(&["wake"]);
    let mut p = producer(&b, "wake", false);
    assert_eq!(p.wait_event(1_000_000), None, "not enabled yet");
    assert!(p.enable_wakeup());
    let mut sink = Count::default();
    while p.poll(0, &mut sink).is_some() {}
    let t = std::time::Instant::now();
    assert_eq!(p.wait_event(20_000_000), Some(false), "nothing queued");
    assert!(t.elapsed() >= Duration::from_millis(19));
    let value = [7u8; 10];
    let mut batch = Batch::default();
    batch.push(-1, None, &value, 0);
    assert_eq!(p.produce_batch(&mut batch, 0), 1);
    // Up to 30 s (a starved machine), but it returns as soon as the report is queued.
    let t = std::time::Instant::now();
    assert_eq!(p.wait_event(30_000_000_000), Some(true));
    assert!(t.elapsed() < Duration::from_secs(29));
    assert!(
        p.poll(0, &mut sink).is_some(),
        "the report is there to serve"
    );
    assert_eq!((sink.delivered, sink.failed), (1, 0));
}
