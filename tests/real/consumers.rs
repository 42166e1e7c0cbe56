//! The real-broker suite's consumers test: on the broker (Tansu in CI), end-to-end
//! latency is at least the producer's and every record delivered is consumed, by each
//! group (issue 13, parts 1 and 2).

use crate::common::bench;
use kprod::report::Status;

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn consumers_on_the_broker_read_every_record_and_e2e_is_at_least_the_producer_latency() {
    let broker = super::broker("consumers");
    let topic = super::topic("consumers");
    let (_d, o) = bench(&[
        "--brokers",
        &broker,
        "--topic",
        &topic,
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--rate",
        "1000",
        "--consumers",
        "1",
        "--consumer-groups",
        "2",
    ]);
    let r = &o.report;
    assert_eq!(r.status, Status::Complete, "{:?}", r.status_reason);
    assert_eq!(r.records.sent, r.records.delivered, "{:?}", r.records);
    let c = r.consumers.as_ref().expect("consumers section");
    assert!(c.caught_up, "{c:?} {:?}", r.warnings);
    for (g, n) in c.consumed.iter().enumerate() {
        assert_eq!(*n, r.records.delivered, "group {g}: {:?}", r.warnings);
    }
    let per_second: u64 = r.intervals.iter().map(|i| i.consumed).sum();
    assert_eq!(per_second, c.consumed.iter().sum::<u64>());
    let e2e = r.latency_us.e2e.as_ref().expect("latency_us.e2e");
    assert_eq!(e2e.count, 2 * r.records.measured.delivered);
    assert!(
        e2e.p50 >= r.latency_us.corrected.p50,
        "e2e p50 {} < producer p50 {}",
        e2e.p50,
        r.latency_us.corrected.p50
    );
}
