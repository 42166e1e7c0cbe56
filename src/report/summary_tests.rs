//! Snapshots of the compact summary for each kind of run, built from the report fixture so
//! they are deterministic, and the properties every summary must keep (line and width
//! budget, the honesty statement, no secrets, styles only where asked).

use super::*;
use crate::domain::console::strip_styles;
use crate::report::testing::{sample_report, SAMPLE_SECRET};
use crate::report::{FaultRecord, Verify, VerifyUnknown};

fn extras() -> SummaryExtras {
    SummaryExtras {
        verdicts: Vec::new(),
        results: Some("results: results/20231114T221320Z-durable+zstd-1k".to_string()),
        below_details: false,
    }
}

/// The fixture with what `report::build` writes for a run on the embedded cluster.
fn sample() -> RunReport {
    let mut r = sample_report();
    r.cluster_note = Some(crate::domain::EMBEDDED_NOTE.to_string());
    r.measurement.latency_unit = "microseconds".to_string();
    r.measurement.corrected_from = "intended send time t0 + i/rate (unlimited rate: the moment \
                                    the generator picked the record)"
        .to_string();
    r.measurement.latency_to =
        "delivery report served by the producer thread's poll of librdkafka's event queue"
            .to_string();
    r
}

fn plain(r: &RunReport, e: &SummaryExtras) -> String {
    strip_styles(&compact_summary(r, e))
}

/// Every summary: within the line and width budget (the results path aside), says where
/// latency starts, its unit and the warm-up, and never prints the config.
fn check_budget(out: &str) {
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() <= MAX_LINES, "{} lines:\n{out}", lines.len());
    for l in lines.iter().filter(|l| !l.starts_with("results: ")) {
        assert!(l.chars().count() <= WIDTH, "too wide: {l}");
    }
    assert!(
        out.contains("Measured: latency in µs from intended send time"),
        "{out}"
    );
    assert!(
        out.contains("excluded") || out.contains("no warm-up"),
        "{out}"
    );
    assert!(
        !out.contains(SAMPLE_SECRET) && !out.contains("sasl"),
        "{out}"
    );
    assert!(!out.contains("acks=all, zstd"), "no description: {out}");
}

#[test]
fn complete_run() {
    let out = plain(&sample(), &extras());
    check_budget(&out);
    assert!(out.starts_with("COMPLETE  durable+zstd-1k"), "{out}");
    assert!(out.ends_with("results: results/20231114T221320Z-durable+zstd-1k\n"));
    insta::assert_snapshot!(out);
}

#[test]
fn interrupted_run_says_why_and_shows_uncorrected_when_far_apart() {
    let mut r = sample();
    r.status = Status::Interrupted;
    r.status_reason = Some("stopped by SIGINT after 4.20 s; flushed for 0.31 s".to_string());
    r.latency_us.uncorrected.p99 = 900;
    let out = plain(&r, &extras());
    check_budget(&out);
    assert!(out.contains("uncorrected p99 900 µs"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn failed_run_with_broken_identity_many_errors_and_warnings() {
    let mut r = sample();
    r.status = Status::Failed;
    r.status_reason = Some("every record sent after the warm-up failed".to_string());
    r.records.unknown = 0;
    for (name, n) in [
        ("MSG_SIZE_TOO_LARGE", 40),
        ("TOPIC_AUTHORIZATION_FAILED", 9),
    ] {
        r.errors.insert(name.to_string(), n);
    }
    r.errors.insert("_TRANSPORT".to_string(), 3);
    r.warnings = (1..=6)
        .map(|i| format!("finding {i}: something a reviewer should know"))
        .collect();
    r.faults.push(FaultRecord {
        spec: "broker-down:2@1s+2s".to_string(),
        applied_s: Some(1.0),
        ended_s: Some(3.0),
        error: None,
    });
    r.verify = Some(Verify {
        lost: 3,
        unknown: VerifyUnknown {
            total: 10,
            found: 4,
            not_found: 6,
        },
        ..Default::default()
    });
    let out = plain(&r, &extras());
    check_budget(&out);
    assert!(out.contains("≠") && out.contains("✗ records unaccounted for"));
    assert!(out.contains("lost 3 despite acks=all"), "{out}");
    assert!(
        out.contains("4 kinds: MSG_SIZE_TOO_LARGE 40")
            && out.contains("+1 more")
            && out.contains("+4 more warnings (--details"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn thresholds_come_before_warnings_and_overflow_is_counted() {
    let mut r = sample();
    r.warnings.push("a second warning".to_string());
    let mut e = extras();
    e.verdicts = vec![
        VerdictLine {
            text: "p99<=20ms: 6.170 ms".to_string(),
            verdict: Verdict::Pass,
        },
        VerdictLine {
            text: "throughput>=99%: 99.98 %".to_string(),
            verdict: Verdict::Inconclusive,
        },
        VerdictLine {
            text: "p999<=5ms: 11.106 ms".to_string(),
            verdict: Verdict::Fail,
        },
    ];
    let out = plain(&r, &e);
    check_budget(&out);
    let pass = out.find("→ PASS").expect("pass line");
    let fail = out.find("→ FAIL").expect("fail line");
    let warn = out.find("warning ").expect("warning line");
    assert!(pass < fail && fail < warn, "{out}");
    insta::assert_snapshot!(out);

    // Ten thresholds cannot all fit: the rest are counted, never silently dropped.
    e.verdicts = (0..10).map(|_| e.verdicts[0].clone()).collect();
    let out = plain(&r, &e);
    check_budget(&out);
    assert!(
        out.contains("more thresholds, +2 more warnings (--details"),
        "{out}"
    );
}

#[test]
fn fire_and_forget_run_measures_no_latency() {
    let mut r = sample();
    r.send_mode = "fire-and-forget".to_string();
    r.records.delivered_inferred = true;
    r.latency_us.corrected = Default::default();
    r.latency_us.uncorrected = Default::default();
    r.measurement.note = Some(
        "fire-and-forget: successes are not reported, so no latency is measured and \
         delivered = sent - failed - unknown"
            .to_string(),
    );
    r.transactions = None;
    let out = plain(&r, &extras());
    check_budget(&out);
    assert!(out.contains("delivered (inferred)"), "{out}");
    assert!(out.contains("not measured: fire-and-forget"), "{out}");
    assert!(!out.contains("p99 0 µs"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn styles_mark_status_and_verdicts() {
    let mut e = extras();
    e.verdicts.push(VerdictLine {
        text: "p99<=1ms: 6.170 ms".to_string(),
        verdict: Verdict::Fail,
    });
    let styled = compact_summary(&sample(), &e);
    // Green bold COMPLETE, red bold FAIL (anstyle's SGR sequences).
    assert!(styled.contains("\x1b[1m\x1b[32mCOMPLETE"), "{styled:?}");
    assert!(styled.contains("\x1b[1m\x1b[31mFAIL"), "{styled:?}");
}

#[test]
fn below_the_full_table_it_points_up() {
    let mut e = extras();
    e.below_details = true;
    let out = plain(&sample(), &e);
    check_budget(&out);
    assert!(out.contains("The full statement is above."), "{out}");
    assert!(!out.contains("--details"), "{out}");
}

#[test]
fn the_short_statement_keeps_the_first_clause_of_each_description() {
    assert_eq!(
        short_clause("intended send time t0 + i/rate (unlimited rate: …)"),
        "intended send time"
    );
    assert_eq!(
        short_clause("delivery report served by the producer thread's poll"),
        "delivery report"
    );
    assert_eq!(short_clause("(odd) text"), "(odd) text");
}
