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
