//! The latency breakdown on the embedded cluster: librdkafka's statistics windows plus
//! kprod's schedule lag explain the measured mean corrected latency, an injected round
//! trip shows as broker RTT, and a comparison names the stage that moved.

mod common;
use clap::Parser;
use common::{assert_accounted, bench};
use kprod::cli::{Cli, Command};
use kprod::commands::{check, compare};
use kprod::engine::Silent;
use kprod::report::breakdown::LatencyBreakdown;
use kprod::report::RunReport;
use kprod::verdict::InconclusivePolicy;

fn breakdown(r: &RunReport) -> &LatencyBreakdown {
    r.latency_breakdown_us
        .as_ref()
        .unwrap_or_else(|| panic!("no breakdown: {:?}", r.librdkafka_stats))
}

/// One benchmark at a time: two in-process runs on a 2-core machine starve each other.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What no librdkafka window sees, allowed on top of the 5%: on a starved machine the
/// report's hand-off to the producer thread wakes late, as the pacer's own wake-ups do,
/// and the run's mean schedule lag measures that (tens of µs on a quiet machine; up to
/// 2.4 ms seen on the 2-core machine these tests were written on, shared with compilers).
/// (Before the paced producer waited on its queue's wakeup pipe, `engine::wakeup`, a
/// report could also wait out the pacer's sleep — up to 1 ms at 1000/s, 19% of the mean
/// here; the sum came within 2.6–4.5% once it did, on the same busy machine.)
fn allowance_us(b: &LatencyBreakdown) -> f64 {
    b.schedule_lag
}

/// |sum of the stages − mean corrected| ≤ 5% of the mean, plus `allowance_us`.
fn assert_sums_within_5_percent(b: &LatencyBreakdown, allowance_us: f64) {
    let gap = (b.sum_explained - b.mean_corrected).abs();
    eprintln!(
        "breakdown: {b:?} gap {:.1}% of the mean",
        100.0 * gap / b.mean_corrected
    );
    assert!(
        gap <= 0.05 * b.mean_corrected + allowance_us,
        "stages explain {gap:.0} µs off the mean: {b:?}"
    );
    let parts: f64 = b.parts().iter().sum();
    assert!(
        (parts - b.mean_corrected).abs() < 1e-6,
        "parts add up: {b:?}"
    );
}

#[test]
fn stages_sum_to_the_mean_at_a_moderate_rate_with_linger() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (_d, o) = bench(&[
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--rate",
        "1000",
        "--set",
        "batching.linger=5ms",
    ]);
    assert_accounted(&o);
    let r = &o.report;
    let b = breakdown(r);
    assert_eq!(b.weighting, "records");
    assert_eq!(b.measured_on, "embedded");
    assert!((b.mean_corrected - r.latency_us.corrected.mean).abs() < 1e-6);
    // Linger dominates on an in-process broker: records wait ~5 ms for their batch.
    let q = b.queue_wait.expect("int_latency windows");
    assert!(q > 2_000.0, "linger shows as queue wait: {b:?}");
    assert_eq!(b.dominant(), Some("queue wait/linger"), "{b:?}");
    assert_sums_within_5_percent(b, allowance_us(b));
    let table = kprod::report::summary_table(r);
    assert!(
        table.contains("latency breakdown") && table.contains("queue wait/linger"),
        "{table}"
    );
    // Measured seconds carry their own split. A window is filed under the second holding
    // its middle, and librdkafka's 1 s emits drift against kprod's seconds (more so on a
    // starved machine), so one second may get two windows and its neighbour none. The
    // first measured second's window began in the warm-up (the clients start before t0),
    // so it is left out there as in the run's figures.
    let later: Vec<_> = r
        .intervals
        .iter()
        .filter(|i| !i.in_warmup && !i.partial)
        .collect();
    assert!(!later.is_empty());
    let split = later[1..]
        .iter()
        .filter(|i| i.breakdown_queue_wait_us.is_some() && i.breakdown_broker_rtt_us.is_some())
        .count();
    assert!(split + 2 >= later.len(), "{later:?}");
    assert!(later.iter().all(|i| i.mean_us.is_some()), "{later:?}");
}

/// Two variants, the second with every broker's round trip raised to 50 ms (large beside
/// what a loaded machine adds to the other stages): its runs'
/// largest stage is broker RTT, the stages still add up, and the comparison puts the
/// latency change down to broker RTT.
#[test]
fn an_injected_round_trip_is_the_largest_stage_and_the_compare_says_so() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let rtt = dir.path().join("rtt50.toml");
    std::fs::write(&rtt, "[[fault]]\nspec = \"rtt:*=50ms@0s\"\n").expect("profile");
    let out = dir.path().join("out");
    let argv = [
        "kprod",
        "compare",
        "base",
        rtt.to_str().expect("utf-8"),
        "--repeat",
        "1",
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--rate",
        "1000",
        "--set",
        "batching.linger=5ms",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    let Command::Compare(args) = Cli::try_parse_from(argv).expect("args").command else {
        unreachable!()
    };
    let cwd = std::env::current_dir().expect("cwd");
    let o = compare::execute(&args, &cwd, Some(&mut Silent)).expect("compare runs");
    let slow = &o.reports[1];
    assert!(
        slow.faults.iter().any(|f| f.spec.starts_with("rtt:")),
        "{:?}",
        slow.faults
    );
    let b = breakdown(slow);
    assert!(b.broker_rtt.expect("rtt windows") >= 20_000.0, "{b:?}");
    assert_eq!(b.dominant(), Some("broker RTT"), "{b:?}");
    assert_sums_within_5_percent(b, allowance_us(b));

    let a = o.result.versus[0]
        .attribution
        .as_ref()
        .expect("attribution");
    assert_eq!(a.main_stage, "broker_rtt", "{a:?}");
    assert!(a.main_share > 0.5, "{a:?}");
    let sentence = compare::render_table(&o.result);
    assert!(sentence.contains("mostly broker RTT ("), "{sentence}");
    eprintln!("{sentence}");
    let json = std::fs::read_to_string(o.dir.join("compare.json")).expect("compare.json");
    assert!(json.contains("\"main_stage\": \"broker_rtt\""), "{json}");

    // `check` of the slow run against the fast one says the same, on the p99 row.
    let v = check::evaluate(
        &o.reports[..1],
        &o.reports[1..],
        &check::Thresholds::default(),
        &[],
        InconclusivePolicy::default(),
    )
    .expect("check");
    let a = v.attribution.as_ref().expect("check attribution");
    assert_eq!(a.main_stage, "broker_rtt", "{a:?}");
    // Every latency row that moved beyond its noise says where from; p50 always moves
    // (4 → 30 ms), a single run's tail may stay within its own per-second noise.
    let moved: Vec<_> = (v.rows.iter())
        .filter(|r| ["p50", "p99", "p999"].contains(&r.name.as_str()))
        .filter(|r| {
            r.figure
                .as_ref()
                .is_some_and(|f| !f.direction().starts_with("same"))
        })
        .collect();
    assert!(moved.iter().any(|r| r.name == "p50"), "{:?}", v.rows);
    for r in moved {
        assert!(
            r.detail
                .as_deref()
                .is_some_and(|d| d.contains("mostly broker RTT (")),
            "{r:?}"
        );
    }
    eprintln!("{}", check::verdict_table(&v));
}

/// With no warm-up, an idempotent producer's start is measured: librdkafka holds every
/// record until the producer id arrives (it asks 500 ms after the client starts), so the
/// report says when that was, and warns when it came after t0, where the wait shows in
/// the first records' latency. Without idempotence there is no id to wait for.
#[test]
fn an_idempotent_producers_id_wait_is_reported_when_the_warm_up_does_not_cover_it() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let run = |idempotence: &str| {
        bench(&[
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--rate",
            "1000",
            "--set",
            &format!("producer.idempotence={idempotence}"),
        ])
    };
    let (_d, o) = run("true");
    assert_accounted(&o);
    let r = &o.report;
    let ms = (r.librdkafka_stats.producer_id_assigned_ms).expect("an idempotent producer's id");
    let warned = r.warnings.iter().any(|w| w.contains("producer id"));
    eprintln!(
        "producer id at {ms:.0} ms; first second {:?}",
        r.intervals[0]
    );
    assert_eq!(warned, ms > 0.0, "{ms} {:?}", r.warnings);
    if ms > 50.0 {
        // The records due at t0 waited for the id: the run's worst latency covers it.
        assert!(
            r.latency_us.corrected.max as f64 >= 0.9 * ms * 1e3,
            "max {} µs, id at {ms} ms",
            r.latency_us.corrected.max
        );
    }
    let (_d, o) = run("false");
    assert_eq!(o.report.librdkafka_stats.producer_id_assigned_ms, None);
    assert!(!o.report.warnings.iter().any(|w| w.contains("producer id")));
}
