//! The real-broker suite's load-stage test: a ramp's per-second offered load follows the
//! stage curve within 1% against the broker too (issue 13's Must-show, beside
//! tests/stages.rs on the embedded cluster).

use crate::common::{assert_accounted, bench_in};

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn a_ramp_follows_the_curve_each_second_against_the_broker() {
    let broker = super::broker("ramp");
    let topic = super::topic("ramp");
    let d = tempfile::tempdir().expect("temp dir");
    let path = d.path().join("ramp.toml");
    std::fs::write(
        &path,
        "[[workload.stages]]\nkind = \"ramp\"\nfrom = \"1k\"\nto = \"3k\"\nover = \"4s\"\n",
    )
    .expect("write profile");
    let o = bench_in(
        d.path(),
        &[
            "--profile",
            path.to_str().expect("utf-8 path"),
            "--brokers",
            &broker,
            "--topic",
            &topic,
            "--set",
            "workload.partitions=3",
            "--set",
            "workload.replication_factor=1",
            "--warmup",
            "0s",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_accounted(&o);
    assert_eq!(o.report.records.failed, 0, "{:?}", o.report.records);
    let full: Vec<(f64, u64)> = o
        .report
        .intervals
        .iter()
        .filter(|i| !i.partial && (i.length_s - 1.0).abs() < 1e-9)
        .map(|i| (i.t_s, i.sent))
        .collect();
    assert!(full.len() >= 4, "too few full seconds: {full:?}");
    // r(t) = 1000 + 500t: the second ending at e carries 1000 + 500(e − 0.5) records.
    for &(t, sent) in &full {
        let want = 1000.0 + 500.0 * (t.round() - 0.5);
        let err = (sent as f64 - want).abs() / want;
        assert!(
            err < 0.01,
            "second ending {t}: sent {sent}, the curve says {want} ({full:?})"
        );
    }
    let stages: u64 = o.report.stages.iter().map(|s| s.sent).sum();
    assert_eq!(stages, o.report.records.sent);
}
