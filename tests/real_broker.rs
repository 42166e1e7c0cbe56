//! The real-broker suite: kprod against a Kafka-protocol broker process over TCP (Tansu,
//! started by `scripts/broker.sh start`), with everything it reports as delivered read
//! back by an independent consumer.
//!
//! Every test that needs the broker is `#[ignore]`d, so a plain `cargo test` (no broker)
//! never counts a test that did not run; `.ci/run` starts the broker, sets
//! `KPROD_REAL_BROKER` and runs them with `--ignored`, where a missing variable fails the
//! test. A test that runs into a limit of the broker prints `SKIP:` with the broker's own
//! error instead of passing. Volumes stay small: the broker's memory engine keeps every record.
//!
//! What each profile run proves, and how (see `real/mod.rs` for the checks):
//! - the accounting identity holds and every record was delivered;
//! - an rdkafka consumer reads back exactly `records.delivered` records, each with the
//!   configured key, header names and sizes and value size, no key twice;
//! - per partition, the keys (producer 0 sends key numbers in send order) rise with the
//!   offset, so the broker holds records in send order; for idempotent profiles the stored
//!   batches' producer id and base sequences also run contiguously from 0;
//! - the codec bits of every stored batch, read with a raw Fetch, are the configured codec.
//!
//! Besides: an unreachable port and a missing topic, TLS (`KPROD_REAL_BROKER_TLS`,
//! `KPROD_TLS_DIR`) and SASL/SCRAM (`KPROD_REAL_BROKER_SASL`, `KPROD_SASL_PASSWORD`) with a
//! right and a wrong secret, the transactional profile, and self-tests showing each check
//! rejects what it exists to catch.

mod common;
mod real;

use common::{assert_accounted, bench_in};
use kprod::report::Status;
use real::wire::Codec;
use std::time::{Duration, Instant};

fn kprod() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("kprod").expect("binary built")
}

const RECORDS: u64 = 3000;
/// Paced rather than unlimited, so each profile's linger and batch size cut the records
/// into many batches per partition (an unlimited burst fills one batch per partition,
/// which would leave the sequence and codec checks one batch to look at).
const RATE: &str = "5000";

/// Run `profile` with the read-back overlay against the broker; return the outcome.
fn run(
    broker: &str,
    topic: &str,
    profile: &str,
    extra: &[&str],
) -> Result<kprod::commands::bench::BenchOutcome, kprod::KprodError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let overlay = real::overlay(dir.path(), &real::SHAPE);
    let records = RECORDS.to_string();
    let mut args = vec![
        "--profile",
        profile,
        "--profile",
        overlay.to_str().expect("utf-8 path"),
        "--brokers",
        broker,
        "--topic",
        topic,
        "--records",
        &records,
        "--rate",
        RATE,
        "--warmup",
        "0s",
    ];
    args.extend_from_slice(extra);
    bench_in(dir.path(), &args)
}

/// One built-in profile end to end: run, then check what the broker holds.
fn roundtrip(profile: &str, codec: Codec, idempotent: bool) {
    let broker = real::broker(profile);
    let topic = real::topic(profile);
    let o = run(&broker, &topic, profile, &[])
        .unwrap_or_else(|e| panic!("{profile} against {broker}: {e}"));
    let r = &o.report;
    assert_accounted(&o);
    assert_eq!(
        r.status,
        Status::Complete,
        "{profile}: {:?}",
        r.status_reason
    );
    assert_eq!(r.cluster, broker);
    assert!(
        r.cluster_note.is_none(),
        "a real cluster carries no embedded note"
    );
    // A healthy broker on loopback loses nothing: all sent, all delivered.
    assert_eq!(r.records.sent, RECORDS, "{profile}: {:?}", r.records);
    assert_eq!(
        r.records.delivered, RECORDS,
        "{profile}: {:?} {:?}",
        r.records, r.errors
    );
    let cfg = &r.config.librdkafka;
    assert_eq!(
        cfg["compression.codec"],
        codec.name(),
        "{profile}: configured codec"
    );
    assert_eq!(
        cfg["enable.idempotence"],
        idempotent.to_string(),
        "{profile}: configured idempotence"
    );

    let recs = real::read_back(&broker, &topic, false);
    assert_eq!(
        recs.len() as u64,
        r.records.delivered,
        "{profile}: the broker holds {} records, kprod reported {} delivered",
        recs.len(),
        r.records.delivered
    );
    let per_partition = real::check_records(&recs, &real::SHAPE);
    assert!(
        per_partition.len() > 1,
        "{profile}: keyed records all went to one partition: {per_partition:?}"
    );

    let batches = real::stored_batches(&broker, &topic, real::SHAPE.partitions);
    let stored: i64 = batches.iter().map(|b| i64::from(b.records)).sum();
    assert_eq!(
        stored as u64, r.records.delivered,
        "{profile}: records in stored batches"
    );
    for b in &batches {
        assert_eq!(
            b.codec, codec,
            "{profile}: batch at {}/{} is stored with codec {:?}, configured {:?}",
            b.partition, b.base_offset, b.codec, codec
        );
    }
    if idempotent {
        real::check_sequences(&batches);
    } else {
        assert!(
            batches.iter().all(|b| b.producer_id == -1),
            "{profile}: idempotence is off, yet batches carry a producer id"
        );
    }
    let mut seen: Vec<&str> = batches.iter().map(|b| b.codec.name()).collect();
    seen.sort_unstable();
    seen.dedup();
    println!(
        "{profile}: {} records read back over {} partitions; {} stored batches, codecs {seen:?}",
        recs.len(),
        per_partition.len(),
        batches.len(),
    );
}

macro_rules! roundtrips {
    ($($t:ident => $n:literal, $c:ident, $i:literal;)*) => {
        $( #[test] #[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"] fn $t() { roundtrip($n, Codec::$c, $i); } )*
    };
}
roundtrips! {
    base_reads_back => "base", None, true;
    durable_reads_back => "durable", Lz4, true;
    throughput_reads_back => "throughput", Lz4, true;
    latency_reads_back => "latency", None, false;
    fire_and_forget_reads_back => "fire-and-forget", None, false;
    idempotent_reads_back => "idempotent", None, true;
    none_reads_back => "none", None, true;
    gzip_reads_back => "gzip", Gzip, true;
    snappy_reads_back => "snappy", Snappy, true;
    lz4_reads_back => "lz4", Lz4, true;
    zstd_reads_back => "zstd", Zstd, true;
    block_reads_back => "block", None, true;
    fail_fast_reads_back => "fail-fast", None, true;
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn a_closed_port_next_to_the_broker_exits_3_within_the_preflight_deadline() {
    let _broker = real::broker("closed-port");
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let d = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let out = kprod()
        .args([
            "bench",
            "--brokers",
            &addr,
            "--records",
            "10",
            "--warmup",
            "0s",
            "--out",
        ])
        .arg(d.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run kprod");
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains(&addr),
        "the error names the address: {stderr}"
    );
    // The preflight's deadline bounds the wait, never librdkafka's message timeout.
    let deadline = kprod::engine::cluster::PREFLIGHT_TIMEOUT + Duration::from_secs(10);
    assert!(took < deadline, "took {took:?}, deadline {deadline:?}");
    assert!(!d.path().join("runs.csv").exists(), "no run was recorded");
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn a_missing_topic_is_created_with_the_configured_partitions() {
    let broker = real::broker("missing-topic");
    let topic = real::topic("created");
    assert_eq!(
        real::partitions(&broker, &topic),
        None,
        "{topic} exists already"
    );
    let d = tempfile::tempdir().expect("temp dir");
    // The base profile as it is: its replication factor of 3 on this one-node broker too.
    let o = bench_in(
        d.path(),
        &[
            "--brokers",
            &broker,
            "--topic",
            &topic,
            "--set",
            "workload.partitions=5",
            "--records",
            "100",
            "--warmup",
            "0s",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_accounted(&o);
    assert_eq!(o.report.partitions, 5);
    assert_eq!(
        real::partitions(&broker, &topic),
        Some(5),
        "as the broker reports it"
    );
}

/// The latency breakdown over TCP: the report says it was measured on `--brokers`, the
/// request waits are weighted by records, and the stages add up to the mean corrected
/// latency within 5% plus what no librdkafka window sees (one 1 ms pacing gap, during
/// which a delivery report can wait for the producer thread, and the run's own schedule
/// lag, the measure of how late threads wake on this machine).
#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn the_latency_breakdown_adds_up_against_a_real_broker() {
    let broker = real::broker("breakdown");
    let topic = real::topic("breakdown");
    let d = tempfile::tempdir().expect("temp dir");
    let o = bench_in(
        d.path(),
        &[
            "--brokers",
            &broker,
            "--topic",
            &topic,
            "--set",
            "workload.partitions=3",
            "--set",
            "batching.linger=5ms",
            "--rate",
            "1000",
            "--duration",
            "4s",
            "--warmup",
            "1s",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_accounted(&o);
    let b = o.report.latency_breakdown_us.as_ref().expect("breakdown");
    assert_eq!(b.measured_on, "brokers");
    assert_eq!(b.weighting, "records", "{b:?}");
    assert!(b.broker_rtt.is_some() && b.queue_wait.is_some(), "{b:?}");
    let gap = (b.sum_explained - b.mean_corrected).abs();
    eprintln!("breakdown: {b:?}");
    assert!(
        gap <= 0.05 * b.mean_corrected + 1_000.0 + b.schedule_lag,
        "stages explain {gap:.0} µs off the mean: {b:?}"
    );
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn tls_with_the_ca_from_a_profile_delivers_and_reads_back() {
    let (broker, dir) = real::secure::tls("tls");
    let d = tempfile::tempdir().expect("temp dir");
    let ca = dir.join("ca.pem");
    let profile = real::secure::tls_profile(d.path(), &ca);
    let topic = real::topic("tls");
    let o = run(
        &broker,
        &topic,
        "durable",
        &["--profile", profile.to_str().expect("utf-8 path")],
    )
    .unwrap_or_else(|e| panic!("TLS run against {broker}: {e}"));
    assert_accounted(&o);
    assert_eq!(
        o.report.status,
        Status::Complete,
        "{:?}",
        o.report.status_reason
    );
    assert_eq!(o.report.records.delivered, RECORDS);
    assert_eq!(o.report.config.librdkafka["security.protocol"], "ssl");

    let ca_s = ca.to_str().expect("utf-8 path");
    let recs = real::read_back_with(&real::consumer_tls(&broker, ca_s), &topic);
    assert_eq!(recs.len() as u64, o.report.records.delivered);
    real::check_records(&recs, &real::SHAPE);
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn tls_with_a_wrong_ca_fails_with_a_readable_error() {
    let (broker, dir) = real::secure::tls("tls-wrong-ca");
    let d = tempfile::tempdir().expect("temp dir");
    let profile = real::secure::tls_profile(d.path(), &dir.join("wrong-ca.pem"));
    let out = kprod()
        .args(["bench", "--profile"])
        .arg(&profile)
        .args([
            "--brokers",
            &broker,
            "--records",
            "10",
            "--warmup",
            "0s",
            "--out",
        ])
        .arg(d.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run kprod");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(stderr.contains(&broker), "names the brokers: {stderr}");
    assert!(
        stderr.contains("certificate verify failed"),
        "says why the TLS handshake failed: {stderr}"
    );
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn transactional_commits_or_skips_with_the_brokers_error() {
    let broker = real::broker("transactional");
    let topic = real::topic("transactional");
    let o = run(&broker, &topic, "transactional", &[])
        .unwrap_or_else(|e| panic!("transactional against {broker}: {e}"));
    assert_accounted(&o);
    let r = &o.report;
    let t = r.transactions.as_ref().expect("transactions section");
    // Whatever the broker does, no more transactions are counted than were begun.
    let begun = r.records.sent.div_ceil(t.records_per_transaction);
    assert!(
        t.committed + t.aborted <= begun,
        "{t:?} for {} records",
        r.records.sent
    );
    if r.status == Status::Failed {
        let reason = r.status_reason.clone().unwrap_or_default();
        if reason.contains("EndTxn") && reason.contains("not supported by broker") {
            assert_eq!(t.committed, 0, "nothing commits without EndTxn: {t:?}");
            println!("SKIP: transactional: this broker cannot commit a transaction: {reason}");
            return;
        }
        panic!("transactional run failed: {reason}");
    }
    // A broker that commits: every committed record is visible to read_committed.
    assert_eq!(r.status, Status::Complete, "{:?}", r.status_reason);
    assert!(t.committed > 0 && t.aborted == 0, "{t:?}");
    let recs = real::read_back(&broker, &topic, true);
    assert_eq!(recs.len() as u64, r.records.delivered);
    real::check_records(&recs, &real::SHAPE);
}

// The checks themselves: each must reject what it exists to catch. These need no broker.

#[test]
fn the_record_check_accepts_records_in_send_order() {
    let recs = [
        real::fixtures::record(0, 0, 0),
        real::fixtures::record(1, 0, 1),
        real::fixtures::record(0, 1, 2),
        real::fixtures::record(1, 1, 3),
    ];
    let per = real::check_records(&recs, &real::SHAPE);
    assert_eq!(per.values().sum::<usize>(), 4);
}

#[test]
#[should_panic(expected = "out of send order")]
fn the_record_check_rejects_records_stored_out_of_send_order() {
    real::check_records(
        &[
            real::fixtures::record(0, 0, 0),
            real::fixtures::record(0, 1, 2),
            real::fixtures::record(0, 2, 1),
        ],
        &real::SHAPE,
    );
}

#[test]
#[should_panic(expected = "stored twice")]
fn the_record_check_rejects_a_duplicate() {
    real::check_records(
        &[
            real::fixtures::record(0, 0, 0),
            real::fixtures::record(1, 0, 0),
        ],
        &real::SHAPE,
    );
}

#[test]
#[should_panic(expected = "keys 0..2 expected")]
fn the_record_check_rejects_a_lost_record() {
    real::check_records(
        &[
            real::fixtures::record(0, 0, 0),
            real::fixtures::record(0, 1, 2),
        ],
        &real::SHAPE,
    );
}

#[test]
#[should_panic(expected = "size of header h0")]
fn the_record_check_rejects_a_wrong_header_size() {
    let mut r = real::fixtures::record(0, 0, 0);
    r.headers[1].1.push(b'x');
    real::check_records(&[r], &real::SHAPE);
}

#[test]
fn the_codec_and_transaction_bits_are_read_from_batch_attributes() {
    let mut bytes = real::fixtures::batch_bytes(0, 3, 7, 0, 5);
    bytes.extend(real::fixtures::batch_bytes(5, 0x14, 7, 5, 2));
    bytes.extend(&real::fixtures::batch_bytes(7, 1, 7, 7, 1)[..20]); // a partial batch is left alone
    let mut out = Vec::new();
    real::wire::parse_batches(0, &bytes, &mut out).expect("parse");
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].codec, out[0].transactional), (Codec::Lz4, false));
    assert_eq!((out[1].codec, out[1].transactional), (Codec::Zstd, true));
    assert_eq!(
        (out[1].base_offset, out[1].records, out[1].base_sequence),
        (5, 2, 5)
    );
    real::check_sequences(&out);
}

#[test]
#[should_panic(expected = "starts at sequence 6, expected 5")]
fn the_sequence_check_rejects_a_gap() {
    let mut bytes = real::fixtures::batch_bytes(0, 0, 7, 0, 5);
    bytes.extend(real::fixtures::batch_bytes(5, 0, 7, 6, 2));
    let mut out = Vec::new();
    real::wire::parse_batches(0, &bytes, &mut out).expect("parse");
    real::check_sequences(&out);
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn sasl_scram_with_the_password_from_the_environment_delivers_and_reads_back() {
    let (broker, password) = real::secure::sasl("sasl");
    let d = tempfile::tempdir().expect("temp dir");
    let profile = real::secure::sasl_profile(d.path(), "${KPROD_SASL_PASSWORD}");
    let topic = real::topic("sasl");
    let o = run(
        &broker,
        &topic,
        "idempotent",
        &["--profile", profile.to_str().expect("utf-8 path")],
    )
    .unwrap_or_else(|e| panic!("SASL run against {broker}: {e}"));
    assert_accounted(&o);
    assert_eq!(
        o.report.status,
        Status::Complete,
        "{:?}",
        o.report.status_reason
    );
    assert_eq!(o.report.records.delivered, RECORDS);
    let cfg = &o.report.config.librdkafka;
    assert_eq!(cfg["sasl.mechanism"], "SCRAM-SHA-256");
    assert_eq!(cfg["sasl.password"], "[redacted]");
    // report.json is this model serialized.
    let written = serde_json::to_string(&o.report).expect("serialize the report");
    assert!(
        !written.contains(&password),
        "the password leaked into the report"
    );

    let c = real::consumer(
        &broker,
        false,
        &[
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanism", "SCRAM-SHA-256"),
            ("sasl.username", "kprod"),
            ("sasl.password", &password),
        ],
    );
    let recs = real::read_back_with(&c, &topic);
    assert_eq!(recs.len() as u64, o.report.records.delivered);
    real::check_records(&recs, &real::SHAPE);
}

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn sasl_scram_with_a_wrong_password_fails_with_a_readable_error() {
    let (broker, password) = real::secure::sasl("sasl-wrong-password");
    let d = tempfile::tempdir().expect("temp dir");
    let wrong = format!("not-{password}");
    let profile = real::secure::sasl_profile(d.path(), &wrong);
    let out = kprod()
        .args(["bench", "--profile"])
        .arg(&profile)
        .args([
            "--brokers",
            &broker,
            "--records",
            "10",
            "--warmup",
            "0s",
            "--out",
        ])
        .arg(d.path())
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run kprod");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("SASL SCRAM authentication failed"),
        "says why: {stderr}"
    );
    assert!(
        !stderr.contains(&wrong),
        "the password is not printed: {stderr}"
    );
}

/// `--verify` against the real broker: kprod's own read-back (by its per-record
/// producer/sequence header) finds every acknowledged record, once, in send order.
#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn verify_reads_back_every_acknowledged_record() {
    let broker = real::broker("verify");
    let topic = real::topic("verify");
    let o = run(
        &broker,
        &topic,
        "idempotent",
        &["--verify", "--producers", "2"],
    )
    .unwrap_or_else(|e| panic!("verify against {broker}: {e}"));
    assert_accounted(&o);
    let v = o.report.verify.as_ref().expect("verify section");
    assert!(v.complete, "{v:?}");
    assert_eq!(v.acknowledged, o.report.records.delivered);
    assert_eq!(v.read, v.acknowledged, "{v:?}");
    assert_eq!((v.lost, v.duplicated, v.reordered), (0, 0, 0), "{v:?}");
}
