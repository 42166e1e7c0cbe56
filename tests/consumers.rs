//! Consumers during the run on the embedded cluster (issue 13 parts 1 and 2): end-to-end
//! latency, consumed = delivered per group, per-second consumption, backlog phases and the
//! profile errors of `[consumers]`.

mod common;
use common::{assert_accounted, bench, bench_in};
use kprod::report::RunReport;

fn run(extra: &[&str]) -> RunReport {
    let mut args = vec!["--duration", "3s", "--warmup", "500ms", "--rate", "3000"];
    args.extend_from_slice(extra);
    let (_d, o) = bench(&args);
    assert_accounted(&o);
    assert_eq!(
        o.report.status,
        kprod::report::Status::Complete,
        "{:?}",
        o.report.status_reason
    );
    o.report
}

/// Every group consumed exactly what was delivered, and the intervals add up to it.
fn assert_consumed_everything(r: &RunReport, groups: usize) {
    let c = r.consumers.as_ref().expect("a consumers section");
    assert_eq!(c.groups as usize, groups);
    assert_eq!(c.consumed.len(), groups);
    assert!(r.records.delivered > 0);
    for (g, n) in c.consumed.iter().enumerate() {
        assert_eq!(
            *n, r.records.delivered,
            "group {g}: {c:?} warnings {:?}",
            r.warnings
        );
    }
    assert!(c.caught_up, "{c:?} {:?}", r.warnings);
    let per_second: u64 = r.intervals.iter().map(|i| i.consumed).sum();
    assert_eq!(
        per_second,
        c.consumed.iter().sum::<u64>(),
        "intervals' consumed"
    );
    assert_eq!(r.intervals.last().map(|i| i.consumer_lag), Some(0));
}

#[test]
fn e2e_latency_is_at_least_the_producer_latency_and_every_record_is_consumed() {
    let (_d, o) = bench(&[
        "--duration",
        "3s",
        "--warmup",
        "500ms",
        "--rate",
        "3000",
        "--consumers",
        "1",
    ]);
    assert_accounted(&o);
    let r = o.report.clone();
    assert_consumed_everything(&r, 1);
    // The run page's throughput chart draws what the consumers read.
    let svg = std::fs::read_to_string(o.dir.join("throughput-p99.svg")).expect("timeline");
    assert!(svg.contains("consumed records/s"));
    let e2e = r.latency_us.e2e.as_ref().expect("latency_us.e2e");
    // Measured records only, as for the producer: the same records, read back.
    assert_eq!(e2e.count, r.records.measured.delivered);
    assert!(
        e2e.p50 >= r.latency_us.corrected.p50,
        "e2e p50 {} < producer p50 {}",
        e2e.p50,
        r.latency_us.corrected.p50
    );
    assert!(r.intervals.iter().any(|i| i.e2e_p99_us > 0));
    assert!(r
        .measurement
        .e2e
        .as_deref()
        .is_some_and(|m| m.contains("consumer's poll")));
    let json = serde_json::to_value(&r).expect("serialises");
    assert!(json["latency_us"]["e2e"]["p99"].as_u64().is_some());
    // latency-e2e.hlog: one histogram per interval row, holding exactly the records that
    // row counts as consumed, and the row's e2e_p99_us is its p99.
    let (_, log) = kprod::report::read_hlog_file(&o.dir.join(kprod::report::E2E_HLOG_FILE))
        .expect("latency-e2e.hlog");
    assert_eq!(log.len(), r.intervals.len());
    for (row, i) in r.intervals.iter().zip(&log) {
        assert_eq!(i.hist.len(), row.consumed, "interval at {} s", row.t_s);
        let p99 = match i.hist.is_empty() {
            true => 0,
            false => i.hist.value_at_quantile(0.99),
        };
        assert_eq!(row.e2e_p99_us, p99, "interval at {} s", row.t_s);
    }
}

#[test]
fn each_of_two_groups_consumes_every_record() {
    let r = run(&["--consumers", "2", "--consumer-groups", "2"]);
    assert_consumed_everything(&r, 2);
    let c = r.consumers.as_ref().expect("consumers");
    assert_eq!(c.per_group_threads, 2);
    assert_eq!(
        r.latency_us.e2e.as_ref().map(|p| p.count),
        Some(2 * r.records.measured.delivered)
    );
}

#[test]
fn without_consumers_nothing_changes() {
    let (_d, o) = bench(&["--duration", "3s", "--warmup", "500ms", "--rate", "3000"]);
    assert_accounted(&o);
    let svg = std::fs::read_to_string(o.dir.join("throughput-p99.svg")).expect("timeline");
    assert!(!svg.contains("consumed records/s"));
    assert!(!o.dir.join(kprod::report::E2E_HLOG_FILE).exists());
    let r = o.report;
    assert!(r.consumers.is_none());
    assert!(r.latency_us.e2e.is_none());
    assert!(r.measurement.e2e.is_none());
    assert!(r
        .intervals
        .iter()
        .all(|i| i.consumed == 0 && i.consumer_lag == 0));
    let json = serde_json::to_value(&r).expect("serialises");
    assert!(json.get("consumers").is_none());
    assert!(json["config"]["profile"].get("consumers").is_none());
}

#[test]
fn a_backlog_grows_while_paused_and_drains_after_the_resume() {
    let (_d, o) = bench(&[
        "--duration",
        "5s",
        "--warmup",
        "500ms",
        "--rate",
        "4000",
        "--consumers",
        "1",
        "--backlog",
        "2s",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    assert_consumed_everything(r, 1);
    let b = r
        .consumers
        .as_ref()
        .and_then(|c| c.backlog.clone())
        .expect("backlog figures");
    let resumed = b.resumed_at_s.expect("resumed");
    assert!((2.4..3.0).contains(&resumed), "resumed at {resumed}");
    // Paused: nothing consumed, lag growing second by second.
    let paused: Vec<_> = r.intervals.iter().filter(|i| i.t_s <= 2.5 + 1e-9).collect();
    assert!(paused.len() >= 2);
    assert!(paused.iter().all(|i| i.consumed == 0), "{paused:?}");
    assert!(paused
        .windows(2)
        .all(|w| w[1].consumer_lag > w[0].consumer_lag));
    // The last whole second before the resume (t = 2 s): about 2 s of production.
    assert!(b.records_at_resume >= 7_000, "{b:?}");
    let catch_up = b.catch_up_s.expect("caught up");
    assert!(catch_up > 0.0 && catch_up < 2.5, "{b:?}");
    assert!(b.drain_records_per_sec.is_some_and(|d| d > 4000.0), "{b:?}");
    let after: Vec<_> = r
        .intervals
        .iter()
        .filter(|i| i.t_s > resumed + 1.0)
        .collect();
    assert!(
        after.iter().any(|i| i.consumed > i.delivered),
        "drains faster than production"
    );
    assert!(r
        .consumers
        .as_ref()
        .is_some_and(|c| c.lag_max_records >= b.records_at_resume));
}

fn profile_error(args: &[&str]) -> String {
    let d = tempfile::tempdir().expect("temp dir");
    match bench_in(d.path(), args) {
        Ok(_) => panic!("{args:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn profile_errors_name_the_key_and_the_fix() {
    let e = profile_error(&["--consumers", "1", "--size", "8B"]);
    assert!(e.contains("workload.size") && e.contains("16B"), "{e}");
    let e = profile_error(&["--backlog", "2s"]);
    assert!(
        e.contains("--backlog") && e.contains("--consumers 1"),
        "{e}"
    );
    let e = profile_error(&["--consumers", "1", "--backlog", "20s", "--duration", "10s"]);
    assert!(
        e.contains("consumers.backlog") || e.contains("--backlog"),
        "{e}"
    );
    assert!(e.contains("shorten --backlog"), "{e}");
    let e = profile_error(&["--consumers", "1", "--consumer-groups", "0"]);
    assert!(
        e.contains("consumer-groups") || e.contains("consumers.groups"),
        "{e}"
    );
    let d = tempfile::tempdir().expect("temp dir");
    let path = d.path().join("c.toml");
    std::fs::write(
        &path,
        "[consumers]\ncount = 1\nfetch_wait_max_ms = 900000\n",
    )
    .expect("write");
    let e = profile_error(&["--profile", path.to_str().expect("utf-8")]);
    assert!(
        e.contains("c.toml:3") && e.contains("consumers.fetch_wait_max_ms"),
        "{e}"
    );
    let e = profile_error(&["--consumers", "1", "--consumer-cpus", "1-0"]);
    assert!(
        e.contains("--consumer-cpus") && e.contains("empty range"),
        "{e}"
    );
    let e = profile_error(&["--consumer-cpus", "0"]);
    assert!(e.contains("--consumers 1"), "{e}");
    let e = profile_error(&["--consumers", "1", "--consumer-cpus", "4000"]);
    assert!(e.contains("CPU 4000 does not exist"), "{e}");
}

#[test]
fn pinned_consumers_still_consume_everything_and_the_caller_keeps_its_cpus() {
    let before = kprod::engine::affinity::current_cpus().expect("mask");
    let r = run(&["--consumers", "2", "--consumer-cpus", "0"]);
    assert_consumed_everything(&r, 1);
    assert_eq!(
        r.consumers.as_ref().and_then(|c| c.cpus.as_deref()),
        Some("0")
    );
    // The engine pins only while it makes the consumers; the caller's mask is as it was.
    assert_eq!(
        kprod::engine::affinity::current_cpus().expect("mask"),
        before
    );
}

#[test]
fn the_one_record_path_stamps_too_and_verify_still_finds_every_record() {
    // --verify's header sends each record through rd_kafka_producev with the copied value.
    let r = run(&["--consumers", "1", "--verify"]);
    assert_consumed_everything(&r, 1);
    let v = r.verify.as_ref().expect("verify");
    assert_eq!((v.lost, v.duplicated), (0, 0), "{v:?}");
    assert_eq!(
        r.latency_us.e2e.as_ref().map(|p| p.count),
        Some(r.records.measured.delivered)
    );
}

#[test]
fn transactional_records_are_consumed_once_committed() {
    let r = run(&["--profile", "transactional", "--consumers", "1"]);
    assert_consumed_everything(&r, 1);
    let e2e = r.latency_us.e2e.as_ref().expect("e2e");
    assert!(e2e.p50 >= r.latency_us.corrected.p50);
}
