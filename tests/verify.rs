//! `--verify`: records read back and compared with what the client acknowledged. The
//! reference text's claims, tested: durable and idempotent producers lose, duplicate and
//! reorder nothing under a broker bounce; under injected retriable errors (which the mock
//! broker cannot deduplicate for non-transactional producers) kprod reports exactly what
//! the consumer saw and fails the run on loss; fire-and-forget losses are counted, never
//! hidden; whatever a non-idempotent producer does, the report agrees with what the
//! consumer saw. And the detector itself finds loss, duplicates and reordering.

mod common;
use common::{assert_accounted, bench};
use kprod::commands::bench::BenchOutcome;
use kprod::report::{Status, Verify};
use kprod::verify::{Baseline, Ledger, TAG_HEADER, TAG_LEN};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientConfig;
use std::time::Duration;

/// Verify's own bookkeeping: every distinct record read back is an acknowledged one that
/// was not lost, an unknown-outcome one found, or a failed one written anyway; and the
/// per-partition rows add up to the totals.
fn assert_consistent(v: &Verify) {
    assert!(v.complete, "read-back incomplete: {v:?}");
    let distinct = v.read - v.duplicated;
    assert_eq!(
        distinct,
        v.acknowledged - v.lost - v.expired + v.unknown.found + v.failed_found,
        "{v:?}"
    );
    let sum =
        |f: fn(&kprod::report::VerifyPartition) -> u64| -> u64 { v.partitions.iter().map(f).sum() };
    assert_eq!(sum(|p| p.read), v.read);
    assert_eq!(sum(|p| p.lost), v.lost);
    assert_eq!(sum(|p| p.duplicated), v.duplicated);
    assert_eq!(sum(|p| p.reordered), v.reordered);
    assert_eq!(v.unknown.total, v.unknown.found + v.unknown.not_found);
}

fn verified(args: &[&str]) -> (tempfile::TempDir, BenchOutcome, Verify) {
    verified_sized("100B", args)
}

/// One verified run at a time: the read-back keeps up with the producers only while it
/// gets its share of the 2 cores. The embedded cluster trims a partition past 5 MiB, half
/// a second of the largest run here, and a reader starved that long by a neighbouring
/// run sees a trimmed log (it then says so: `complete: false`, counted expired).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn verified_sized(size: &str, args: &[&str]) -> (tempfile::TempDir, BenchOutcome, Verify) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut a = vec!["--verify", "--warmup", "0s", "--size", size];
    a.extend_from_slice(args);
    let (d, o) = bench(&a);
    assert_accounted(&o);
    let v = o.report.verify.clone().expect("verify section");
    assert_consistent(&v);
    (d, o, v)
}

/// A broker bounce within a short run.
const TROUBLE: &[&str] = &[
    "--duration",
    "4s",
    "--rate",
    "1000",
    "--fault",
    "broker-down:1@1s+1s",
];

fn nothing_lost_duplicated_or_reordered(profile: &str) {
    let mut args = vec!["--profile", profile];
    args.extend_from_slice(TROUBLE);
    let (_d, o, v) = verified(&args);
    let r = &o.report;
    assert_eq!(r.status, Status::Complete);
    assert!(
        r.faults.iter().all(|f| f.applied_s.is_some()),
        "{:?}",
        r.faults
    );
    assert_eq!(
        (v.lost, v.duplicated, v.reordered),
        (0, 0, 0),
        "{profile}: {v:?}"
    );
    assert_eq!(v.acknowledged, r.records.delivered, "{profile}");
    assert_eq!(v.read, r.records.delivered, "{profile}: {v:?}");
    assert_eq!(v.unknown.total, 0, "{profile}: {v:?}");
    assert_eq!(kprod::commands::bench::exit_code(r), 0);
}

#[test]
fn durable_loses_duplicates_and_reorders_nothing_under_faults() {
    nothing_lost_duplicated_or_reordered("durable");
}

#[test]
fn idempotent_loses_duplicates_and_reorders_nothing_under_faults() {
    nothing_lost_duplicated_or_reordered("idempotent");
}

/// Injected retriable errors on top of the bounce. librdkafka's mock broker checks
/// producer sequence numbers only for transactional producers, so it can neither
/// deduplicate nor order an idempotent producer's retries the way a real broker does:
/// what this run may show is the mock's, and the test asserts that kprod reports exactly
/// what the consumer saw and fails the run (exit 4) if, and only if, acknowledged records
/// are missing.
#[test]
fn injected_retriable_errors_are_verified_and_any_loss_fails_the_run() {
    let mut args = vec!["--profile", "durable"];
    args.extend_from_slice(TROUBLE);
    args.extend_from_slice(&["--fault", "errors:produce=NOT_ENOUGH_REPLICAS*30@2500ms"]);
    let (_d, o, v) = verified(&args);
    let r = &o.report;
    assert_eq!(v.acknowledged, r.records.delivered);
    assert!(
        r.errors.is_empty() || r.records.failed > 0,
        "{:?}",
        r.errors
    );
    let expected = if v.lost > 0 { 4 } else { 0 };
    assert_eq!(kprod::commands::bench::exit_code(r), expected, "{v:?}");
}

#[test]
fn fire_and_forget_losses_are_counted_not_hidden() {
    // An outage, then requests the brokers reject: with acks=0 the producer never hears
    // of the rejections, so it counts those records delivered.
    let (_d, o, v) = verified(&[
        "--profile",
        "fire-and-forget",
        "--duration",
        "4s",
        "--rate",
        "2000",
        "--fault",
        "broker-down:*@1s+1s",
        "--fault",
        "errors:produce=NOT_ENOUGH_REPLICAS*50@2500ms",
    ]);
    let r = &o.report;
    assert!(r.records.delivered_inferred);
    assert_eq!(
        r.records.delivered, r.records.sent,
        "the client saw no failure"
    );
    assert_eq!(v.acknowledged, r.records.delivered);
    assert!(v.lost > 0, "rejected records must show as lost: {v:?}");
    assert_eq!(v.read + v.lost, v.acknowledged, "{v:?}");
    // acks=0 promises nothing, so losses are reported without failing the run.
    assert_eq!(kprod::commands::bench::exit_code(r), 0);
    let table = kprod::report::summary_table(r);
    let lost_row = kprod::report::fmt_count(v.lost);
    assert!(
        table.contains("verify") && table.contains(&lost_row),
        "{table}"
    );
}

#[test]
fn a_non_idempotent_producer_under_retries_is_reported_as_the_consumer_saw_it() {
    let (_d, o, v) = verified(&[
        "--duration",
        "4s",
        "--rate",
        "2000",
        "--set",
        "producer.idempotence=false",
        "--set",
        "producer.max_in_flight=5",
        "--set",
        "producer.retries=10",
        "--set",
        "batching.linger=0ms",
        "--fault",
        "errors:produce=NOT_ENOUGH_REPLICAS*40@1s",
        "--fault",
        "broker-down:2@2s+500ms",
    ]);
    let r = &o.report;
    assert_eq!(r.status, Status::Complete);
    // Whatever happened, the counts are the consumer's and the client's, reconciled.
    assert_eq!(v.acknowledged, r.records.delivered);
    eprintln!(
        "non-idempotent, 5 in flight: {} duplicated, {} reordered, {} lost",
        v.duplicated, v.reordered, v.lost
    );
}

/// The embedded cluster keeps about 5 MiB per partition and trims the oldest batches as a
/// run writes more. A run writing several times that into one partition is still accounted
/// for record by record, because the read-back runs while the producers produce: nothing
/// expired, nothing lost, every delivered record read back.
#[test]
fn a_run_larger_than_the_mocks_log_is_read_back_while_producing() {
    let (_d, o, v) = verified_sized(
        "1KiB",
        &[
            "--duration",
            "3s",
            "--rate",
            "10000",
            "--set",
            "workload.partitions=1",
        ],
    );
    let r = &o.report;
    let p0 = &v.partitions[0];
    assert!(
        p0.log_start_offset > p0.start_offset,
        "the run must outgrow the mock's log for this test to mean anything: {p0:?}"
    );
    assert_eq!((v.expired, v.lost), (0, 0), "{v:?}");
    assert_eq!(v.acknowledged, r.records.delivered);
    assert_eq!(v.read - v.duplicated, r.records.delivered, "{v:?}");
    assert_eq!(kprod::commands::bench::exit_code(r), 0);
}

fn tag(producer: u32, seq: u64) -> [u8; TAG_LEN] {
    let mut t = [0u8; TAG_LEN];
    t[4..8].copy_from_slice(&producer.to_be_bytes());
    t[8..].copy_from_slice(&seq.to_be_bytes());
    t
}

#[test]
fn the_verifier_finds_loss_duplicates_reordering_and_unknown_outcomes() {
    let mock = MockCluster::new(1).expect("mock");
    mock.create_topic("vt", 1, 1).expect("topic");
    let bootstrap = mock.bootstrap_servers();
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .expect("producer");
    // What the log holds: 0 1 2 2 4 3 7, and a record of no kprod run.
    for seq in [0u64, 1, 2, 2, 4, 3, 7] {
        let t = tag(0, seq);
        let h = OwnedHeaders::new().insert(Header {
            key: TAG_HEADER,
            value: Some(&t[..]),
        });
        p.send(
            BaseRecord::<(), [u8]>::to("vt")
                .payload(&b"x"[..])
                .headers(h),
        )
        .expect("enqueue");
    }
    p.send(BaseRecord::<(), [u8]>::to("vt").payload(&b"foreign"[..]))
        .expect("enqueue");
    p.flush(Duration::from_secs(10)).expect("flush");

    // What the client said: 0..=5 delivered to partition 0; 6 and 7 timed out.
    let mut l = Ledger::new(0, 8);
    for seq in 0..8 {
        l.enqueued(seq);
    }
    for seq in 0..6 {
        l.reported(seq, 0, RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    for seq in 6..8 {
        l.reported(seq, 0, RDKafkaRespErr::RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    }
    let profile = kprod::profile::resolve(&[], &Default::default(), std::path::Path::new("."))
        .expect("base profile");
    let plan = kprod::plan::Plan::new(profile, Duration::from_secs(1), ".".into()).expect("plan");
    let v = kprod::verify::check(
        &plan.props,
        &bootstrap,
        "vt",
        &Baseline { start: vec![0] },
        vec![l],
        &plan,
    )
    .expect("verify");
    assert!(v.complete, "{v:?}");
    assert_eq!(v.acknowledged, 6);
    assert_eq!(v.read, 7, "the foreign record is not counted");
    assert_eq!(v.lost, 1, "5 was acknowledged and is missing");
    assert_eq!(v.duplicated, 1, "2 twice");
    assert_eq!(v.reordered, 1, "3 after 4");
    assert_eq!(
        (v.unknown.total, v.unknown.found, v.unknown.not_found),
        (2, 1, 1)
    );
    assert_consistent(&v);
    let p0 = &v.partitions[0];
    assert_eq!(
        (p0.partition, p0.start_offset, p0.end_offset),
        (Some(0), 0, 8)
    );
}

#[test]
fn lost_records_under_acks_all_exit_4() {
    let mut r = kprod::report::testing::sample_report();
    r.config.librdkafka.insert("acks".into(), "all".into());
    r.verify = Some(Verify {
        acknowledged: 10,
        read: 9,
        lost: 1,
        complete: true,
        ..Verify::default()
    });
    assert_eq!(kprod::commands::bench::exit_code(&r), 4);
    assert!(kprod::report::summary_table(&r).contains("acks=all promises no loss"));
    r.config.librdkafka.insert("acks".into(), "1".into());
    assert_eq!(kprod::commands::bench::exit_code(&r), 0);
    r.status = Status::Interrupted;
    assert_eq!(kprod::commands::bench::exit_code(&r), 130);
}
