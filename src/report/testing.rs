//! Test fixtures for the report model, shared by unit and integration tests. Not part of
//! the supported API.

use super::*;
use std::collections::BTreeMap;

/// The `sasl.password` value [`sample_report`] puts in `config.librdkafka`; output that
/// contains it leaks a secret. Unlike any value the profile tests register as a secret
/// (the registry is process-wide and `write_atomic` scrubs by value), so a report written
/// and read back in the same test binary is unchanged.
pub const SAMPLE_SECRET: &str = "fixture-pw-Hunter2-q9";

fn pct(base_us: u64) -> Percentiles {
    Percentiles {
        count: 99_000,
        min: base_us / 4,
        p50: base_us,
        p90: base_us * 2,
        p99: base_us * 5,
        p999: base_us * 9,
        p9999: base_us * 12,
        max: base_us * 20,
        mean: base_us as f64 * 1.3,
        stddev: base_us as f64 * 0.7,
    }
}

/// A plausible, internally consistent report of a completed 10 s run on the embedded
/// cluster, with one error class, stats, transactions and three intervals.
pub fn sample_report() -> RunReport {
    let librdkafka = sample_librdkafka();
    let (errors, error_details) = sample_errors();
    let intervals = sample_intervals();

    RunReport {
        schema_version: SCHEMA_VERSION,
        status: Status::Complete,
        status_reason: None,
        profile: vec!["durable".to_string(), "zstd-1k".to_string()],
        description: "acks=all, zstd, 1 KiB records".to_string(),
        name: Some("nightly".to_string()),
        cluster: "embedded".to_string(),
        cluster_note: Some(
            "embedded single-broker cluster on this host: numbers are not representative \
             of a production cluster"
                .to_string(),
        ),
        topic: "kprod-bench".to_string(),
        partitions: 6,
        producers: 2,
        send_mode: "callback".to_string(),
        instance: None,
        instances: None,
        started_at: "2023-11-14T22:13:20.000Z".to_string(),
        ended_at: Some("2023-11-14T22:13:32.500Z".to_string()),
        duration_s: 12.5,
        measurement: sample_measurement(),
        records: sample_records(),
        throughput: Throughput {
            records_per_sec: 9_998.3,
            bytes_per_sec: 10_238_259.2,
            target_records_per_sec: Some(10_000.0),
            send_records_per_sec: 10_000.0,
            window_start_s: 2.0,
            window_end_s: 10.0,
        },
        latency_us: Latency {
            corrected: pct(1_234),
            uncorrected: pct(987),
            schedule_lag: pct(40),
            commit: Some(pct(15_000)),
            e2e: None,
        },
        errors,
        error_details,
        compression_ratio: Some(3.21),
        librdkafka_stats: sample_stats(),
        transactions: Some(Transactions {
            committed: 99,
            aborted: 1,
            records_per_transaction: 1_000,
        }),
        command_line: Some(
            [
                "kprod",
                "bench",
                "--profile",
                "durable",
                "--profile",
                "zstd-1k",
            ]
            .map(String::from)
            .to_vec(),
        ),
        config: Config {
            librdkafka,
            profile: serde_json::json!({ "rate": 10000, "record_size": 1024 }),
        },
        environment: Environment {
            kprod_version: "0.1.0".to_string(),
            librdkafka_version: "2.10.0".to_string(),
            host: "bench-host".to_string(),
            os: "linux".to_string(),
            cpus: 8,
        },
        warnings: vec!["librdkafka queue was full 3 times; send rate fell behind".to_string()],
        intervals,
        faults: Vec::new(),
        verify: None,
        stages: Vec::new(),
        latency_breakdown_us: None,
        consumers: None,
        topics: Vec::new(),
    }
}

fn sample_librdkafka() -> BTreeMap<String, String> {
    let mut librdkafka = BTreeMap::new();
    librdkafka.insert("acks".to_string(), "all".to_string());
    librdkafka.insert("compression.type".to_string(), "zstd".to_string());
    librdkafka.insert("sasl.username".to_string(), "bench".to_string());
    librdkafka.insert("sasl.password".to_string(), SAMPLE_SECRET.to_string());
    librdkafka
}

fn sample_errors() -> (BTreeMap<String, u64>, BTreeMap<String, ErrorInfo>) {
    let mut errors = BTreeMap::new();
    errors.insert("MSG_TIMED_OUT".to_string(), 7);
    let mut error_details = BTreeMap::new();
    error_details.insert(
        "MSG_TIMED_OUT".to_string(),
        ErrorInfo {
            count: 7,
            class: "retriable".to_string(),
            description: "Local: Message timed out".to_string(),
        },
    );
    (errors, error_details)
}

fn sample_intervals() -> Vec<Interval> {
    (1..=3u64)
        .map(|i| Interval {
            t_s: i as f64,
            unix_ms: 1_700_000_000_000 + i * 1000,
            length_s: 1.0,
            partial: false,
            in_warmup: i == 1,
            sent: 10_000,
            delivered: 9_990,
            failed: 2,
            records_per_sec: 9_990.0,
            bytes_per_sec: 9_990.0 * 1024.0,
            p50_us: 1_200 + i,
            p99_us: 4_800 + i,
            p999_us: 6_000 + i,
            run_id: None,
            max_us: 9_000 + i,
            queue_depth: 8 * i,
            stage: None,
            fault: None,
            ..Interval::default()
        })
        .collect()
}

fn sample_measurement() -> Measurement {
    Measurement {
        clock: "CLOCK_MONOTONIC".to_string(),
        latency_unit: "us".to_string(),
        corrected_from: "intended send time (t0 + i/rate)".to_string(),
        uncorrected_from: "enqueue (produce() returned)".to_string(),
        latency_to: "delivery report callback".to_string(),
        warmup_s: 2.0,
        warmup_excluded: true,
        histogram: "HdrHistogram 1us..1h, 3 significant digits".to_string(),
        note: None,
        e2e: None,
    }
}

/// 100,000 sent: 99,983 delivered, 7 failed, 10 unknown; a fifth in the warm-up.
fn sample_records() -> Records {
    Records {
        sent: 100_000,
        delivered: 99_983,
        failed: 7,
        unknown: 10,
        identity_holds: true,
        delivered_inferred: false,
        behind_schedule: 0,
        measured: Counts {
            sent: 80_000,
            delivered: 79_985,
            failed: 5,
            unknown: 10,
        },
        warmup: Counts {
            sent: 20_000,
            delivered: 19_998,
            failed: 2,
            unknown: 0,
        },
    }
}

fn sample_stats() -> LibrdkafkaStats {
    LibrdkafkaStats {
        stats_samples: 10,
        avg_batch_bytes: Some(16_384.5),
        avg_batch_records: Some(52.3),
        requests: 1_912,
        rtt_avg_us: Some(850.0),
        rtt_p99_us: Some(2_500.0),
        int_latency_avg_us: Some(120.0),
        throttle_avg_ms: Some(0.0),
        peak_queue_records: 4_096,
        peak_queue_bytes: 4_194_304,
        uncompressed_bytes: 102_400_000,
        wire_bytes: 31_900_311,
        producer_id_assigned_ms: None,
    }
}

/// A run outcome with nothing measured, on the embedded cluster: tests fill in what they
/// look at.
pub fn empty_outcome() -> crate::domain::RunOutcome {
    crate::domain::RunOutcome {
        measurements: crate::domain::Measurements::default(),
        cluster: "embedded".into(),
        embedded: true,
        partitions: 6,
        topic_partitions: Vec::new(),
        started_at: std::time::SystemTime::UNIX_EPOCH,
        duration: std::time::Duration::from_secs(5),
        interrupted: false,
        aborted: None,
        props: Default::default(),
        mean_record_bytes: 512.0,
        clock: "test",
        faults: Vec::new(),
        verify: None,
        consumers: None,
    }
}
