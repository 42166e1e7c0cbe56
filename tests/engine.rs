//! The engine on the embedded cluster (and on stand-alone mock clusters reached through
//! `--brokers`, which lets a test inject round-trip times and errors).

mod common;
use common::{assert_accounted, bench};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use std::time::Duration;

const SHORT: &[&str] = &[
    "--duration",
    "1500ms",
    "--warmup",
    "500ms",
    "--rate",
    "2000",
];

fn run_profile(name: &str) {
    let mut args = vec!["--profile", name];
    args.extend_from_slice(SHORT);
    let (_d, o) = bench(&args);
    assert_accounted(&o);
    let r = &o.report;
    assert!(
        r.records.delivered > 0,
        "{name}: nothing delivered: {:?}",
        r.records
    );
    assert_eq!(
        r.status,
        kprod::report::Status::Complete,
        "{name}: {:?}",
        r.status_reason
    );
    assert_eq!(r.cluster, "embedded");
    assert!(
        r.cluster_note.is_some(),
        "embedded runs carry the disclaimer"
    );
    assert_eq!(r.profile, vec![name.to_string()]);
    if r.send_mode != "fireandforget" {
        assert!(
            r.latency_us.corrected.count > 0,
            "{name}: no latency recorded"
        );
        assert!(r.latency_us.corrected.p50 <= r.latency_us.corrected.p99);
    }
}

macro_rules! profile_tests {
    ($($t:ident => $n:literal),* $(,)?) => { $( #[test] fn $t() { run_profile($n); } )* };
}
profile_tests! {
    builtin_base => "base", builtin_durable => "durable", builtin_throughput => "throughput",
    builtin_latency => "latency", builtin_fire_and_forget => "fire-and-forget",
    builtin_idempotent => "idempotent", builtin_transactional => "transactional",
    builtin_none => "none", builtin_gzip => "gzip", builtin_snappy => "snappy",
    builtin_lz4 => "lz4", builtin_zstd => "zstd", builtin_block => "block",
    builtin_fail_fast => "fail-fast",
}

#[test]
fn warmup_is_excluded_from_latency_and_counted_in_the_whole_run() {
    let (_d, o) = bench(&["--duration", "2s", "--warmup", "1s", "--rate", "1000"]);
    assert_accounted(&o);
    let r = &o.report.records;
    // About half the records fall in the warm-up; the latency histogram holds only the rest.
    assert!(r.warmup.sent > 700 && r.warmup.sent < 1300, "{r:?}");
    assert_eq!(o.report.latency_us.corrected.count, r.measured.delivered);
    assert!(o.report.throughput.window_start_s >= 1.0);
}

#[test]
fn record_count_stops_the_run_exactly() {
    let (_d, o) = bench(&[
        "--records",
        "5000",
        "--rate",
        "unlimited",
        "--warmup",
        "0s",
        "--producers",
        "3",
    ]);
    assert_accounted(&o);
    assert_eq!(o.report.records.sent, 5000);
    assert_eq!(o.report.records.delivered, 5000);
}

#[test]
fn fixed_rate_is_held() {
    let (_d, o) = bench(&["--rate", "5000", "--duration", "3s", "--warmup", "1s"]);
    let t = &o.report.throughput;
    let err = (t.send_records_per_sec - 5000.0).abs() / 5000.0;
    assert!(err < 0.02, "send rate {} vs 5000", t.send_records_per_sec);
    assert_eq!(t.target_records_per_sec, Some(5000.0));
}

#[test]
fn transactional_run_commits_and_times_commits() {
    let (_d, o) = bench(&[
        "--profile",
        "transactional",
        "--duration",
        "2s",
        "--warmup",
        "0s",
        "--rate",
        "3000",
        "--set",
        "producer.records_per_transaction=500",
    ]);
    assert_accounted(&o);
    let t = o
        .report
        .transactions
        .as_ref()
        .expect("transactions section");
    assert!(t.committed >= 5, "{t:?}");
    assert_eq!(t.aborted, 0);
    let c = o.report.latency_us.commit.as_ref().expect("commit latency");
    assert_eq!(c.count, t.committed);
}

#[test]
fn fail_fast_with_a_tiny_buffer_reports_drops() {
    let (_d, o) = bench(&[
        "--profile",
        "fail-fast",
        "--set",
        "backpressure.buffer_messages=10",
        "--rate",
        "unlimited",
        "--records",
        "20000",
        "--warmup",
        "0s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    let drops = r.errors.get("_QUEUE_FULL").copied().unwrap_or(0);
    assert!(drops > 0, "no drops: {:?}", r.errors);
    assert_eq!(r.error_details["_QUEUE_FULL"].class, "local");
    assert_eq!(r.records.failed, drops);
    assert!(r.records.delivered > 0);
}

/// A stand-alone mock cluster the test controls, reached like a real cluster.
fn mock(
    topic: &str,
) -> (
    MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    String,
) {
    let m = MockCluster::new(3).expect("mock cluster");
    m.create_topic(topic, 3, 3).expect("topic");
    let b = m.bootstrap_servers();
    (m, b)
}

#[test]
fn acks_zero_does_not_wait_for_the_broker_and_acks_all_does() {
    let (m, brokers) = mock("acks");
    for b in 1..=3 {
        m.broker_round_trip_time(b, Duration::from_millis(40))
            .expect("rtt");
    }
    let common = [
        "--brokers",
        brokers.as_str(),
        "--topic",
        "acks",
        "--duration",
        "2s",
        "--warmup",
        "500ms",
        "--rate",
        "500",
        "--set",
        "producer.idempotence=false",
        "--set",
        "producer.max_in_flight=5",
        "--set",
        "batching.linger=0ms",
    ];
    let mut a0 = common.to_vec();
    a0.extend(["--set", "producer.acks=0"]);
    let mut aall = common.to_vec();
    aall.extend(["--set", "producer.acks=all"]);
    let (_d0, zero) = bench(&a0);
    let (_d1, all) = bench(&aall);
    assert_accounted(&zero);
    assert_accounted(&all);
    assert_eq!(zero.report.config.librdkafka["acks"], "0");
    let p50_zero = zero.report.latency_us.corrected.p50;
    let p50_all = all.report.latency_us.corrected.p50;
    assert!(
        p50_all >= 40_000,
        "acks=all must wait out the 40 ms round trip: {p50_all} µs"
    );
    assert!(
        p50_zero < 20_000,
        "acks=0 must not wait for the broker: {p50_zero} µs"
    );
}

fn injected(err: RDKafkaRespErr, name: &str, class: &str) {
    let topic = format!("inj-{}", name.to_lowercase());
    let (m, brokers) = mock(&topic);
    m.request_errors(RDKafkaApiKey::Produce, &[err; 200]);
    let (_d, o) = bench(&[
        "--brokers",
        &brokers,
        "--topic",
        &topic,
        "--records",
        "300",
        "--rate",
        "1000",
        "--warmup",
        "0s",
        "--set",
        "producer.retries=0",
        "--set",
        "producer.idempotence=false",
        "--set",
        "batching.linger=0ms",
        "--set",
        "producer.max_in_flight=1",
    ]);
    assert_accounted(&o);
    let n = o.report.errors.get(name).copied().unwrap_or(0);
    assert!(n > 0, "{name} not counted: {:?}", o.report.errors);
    assert_eq!(o.report.error_details[name].class, class);
    assert!(o.report.records.failed >= n);
}

#[test]
fn injected_retriable_errors_are_named_and_classed() {
    injected(
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        "NOT_ENOUGH_REPLICAS",
        "retriable",
    );
}

#[test]
fn injected_fatal_errors_are_named_and_classed() {
    injected(
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
        "MSG_SIZE_TOO_LARGE",
        "fatal",
    );
}

#[test]
fn sync_send_waits_for_each_delivery() {
    let (_d, o) = bench(&[
        "--set",
        "workload.send_mode=sync",
        "--records",
        "300",
        "--rate",
        "unlimited",
        "--warmup",
        "0s",
        "--set",
        "batching.linger=0ms",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.records.delivered, 300);
    assert_eq!(r.send_mode, "sync");
    // One record in flight at a time: the queue never holds more than one.
    assert!(
        r.intervals.iter().all(|i| i.queue_depth <= 1),
        "{:?}",
        r.intervals
    );
}

#[test]
fn keyed_records_with_headers_count_their_bytes() {
    let (_d, o) = bench(&[
        "--records",
        "2000",
        "--rate",
        "unlimited",
        "--warmup",
        "0s",
        "--size",
        "100B",
        "--set",
        "workload.keys=uniform",
        "--set",
        "workload.key_count=100",
        "--set",
        "workload.headers.count=2",
        "--set",
        "workload.headers.value_bytes=10",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.records.delivered, 2000);
    // Per record: 100 value bytes + a 12-byte key + 2 headers of (2-byte name + 10 bytes).
    let per_record = r.throughput.bytes_per_sec / r.throughput.records_per_sec;
    assert!(
        (per_record - 136.0).abs() < 1.0,
        "bytes per record {per_record}"
    );
}

#[test]
fn a_generator_behind_schedule_stops_on_time_and_says_what_it_owed() {
    // Sync sends with a 20 ms linger manage ~50 records/s, far below the 2k/s target.
    let (_d, o) = bench(&[
        "--set",
        "workload.send_mode=sync",
        "--set",
        "batching.linger=20ms",
        "--rate",
        "2000",
        "--duration",
        "1500ms",
        "--warmup",
        "0s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert!(
        r.duration_s < 5.0,
        "the duration bounds wall time: ran {} s",
        r.duration_s
    );
    let owed = r.records.behind_schedule;
    assert!(owed > 1000, "behind_schedule = {owed}");
    // Everything due was either sent or is reported as owed.
    assert_eq!(r.records.sent + owed, 3000);
    assert!(
        r.warnings.iter().any(|w| w.contains("fell behind")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_warmup_backlog_does_not_inflate_throughput() {
    // Idempotent producers spend the first few hundred ms getting a producer id, so the
    // warm-up leaves a backlog that is delivered after it ends.
    let (_d, o) = bench(&[
        "--profile",
        "idempotent",
        "--rate",
        "5000",
        "--duration",
        "2s",
        "--warmup",
        "500ms",
    ]);
    assert_accounted(&o);
    let t = &o.report.throughput;
    assert!(
        t.records_per_sec <= 5000.0 * 1.005,
        "achieved {} > target",
        t.records_per_sec
    );
    assert!(
        t.records_per_sec >= 5000.0 * 0.9,
        "achieved {}",
        t.records_per_sec
    );
}

#[test]
fn block_with_a_tiny_buffer_waits_and_delivers_every_record() {
    // Flat out, records go to librdkafka in batches: a full queue refuses the rest of a
    // batch, which must be retried in order after serving reports, never dropped.
    let (_d, o) = bench(&[
        "--profile",
        "block",
        "--set",
        "backpressure.buffer_messages=10",
        "--rate",
        "unlimited",
        "--records",
        "20000",
        "--warmup",
        "0s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.records.sent, 20_000);
    assert_eq!(
        r.records.delivered, 20_000,
        "{:?} {:?}",
        r.records, r.errors
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // Waiting for room is schedule lag: some records carry it.
    assert!(r.latency_us.schedule_lag.max > 0);
}

/// A run on an existing topic of another partition count keeps that topic as it is: the
/// report's `partitions` is the count metadata showed, and a warning says the profile
/// asked for another.
#[test]
fn an_existing_topic_of_another_partition_count_is_reported_as_it_is_with_a_warning() {
    let (_m, brokers) = mock("shape");
    let (_d, o) = bench(&[
        "--brokers",
        brokers.as_str(),
        "--topic",
        "shape",
        "--set",
        "workload.partitions=8",
        "--records",
        "200",
        "--warmup",
        "0s",
    ]);
    assert_accounted(&o);
    assert_eq!(o.report.partitions, 3, "the topic's real count");
    assert!(
        o.report
            .warnings
            .iter()
            .any(|w| w.contains("`shape` has 3 partition(s), not the 8")),
        "{:?}",
        o.report.warnings
    );
}
