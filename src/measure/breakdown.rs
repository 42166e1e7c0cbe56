//! Latency stages out of librdkafka statistics emits: per broker, the `int_latency`
//! (per message), `outbuf_latency` and `rtt` (per request) and `throttle` windows, each
//! filed under the second it mostly covered and the millisecond it began at.
//!
//! The start matters because a window's means cannot be split: a window that began in
//! the warm-up carries the warm-up's records. An idempotent producer holds its first
//! records until its producer id arrives, which librdkafka requests on a 500 ms timer (a
//! second tick when no broker was up at the first, on a loaded machine): those records
//! leave the queue at 0.5–1 s. Filed by its middle alone, the window that took them once
//! put a 123 ms queue wait into a run whose measured mean was 3.3 ms.
//!
//! Requests carry records unevenly, so the per-request windows are weighted by the
//! records the broker carried in the same window: the rise of the partitions' cumulative
//! `txmsgs` since this producer's previous emit, summed over the partitions that broker
//! served. That is a window-level weighting (each window's mean, times its records), not
//! a per-request one, which librdkafka does not expose.

use crate::domain::StageSums;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// What an emit covers when its span is unknown: `statistics.interval.ms`.
const WINDOW_US: u64 = 1_000_000;

#[derive(Debug, Default)]
pub struct StageTracker {
    /// Last cumulative `txmsgs` per (producer, topic, partition).
    last_txmsgs: BTreeMap<(u32, String, i64), u64>,
    /// librdkafka's clock (`ts`, µs) at each producer's previous emit.
    last_ts: BTreeMap<u32, u64>,
    /// Keyed by (second holding the window's middle, millisecond it began at; < 0 before
    /// t0).
    pub windows: BTreeMap<(u64, i64), StageSums>,
}

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

impl StageTracker {
    /// File one parsed emit of `producer`, received `at` after t0.
    pub fn add(&mut self, producer: u32, v: &Value, at: Duration) {
        let key = self.seconds_of(producer, v, at);
        let records = self.records_by_broker(producer, v);
        let Some(brokers) = v.get("brokers").and_then(Value::as_object) else {
            return;
        };
        let s = self.windows.entry(key).or_default();
        for b in brokers.values() {
            let (int, outbuf, rtt, thr) = (
                b.get("int_latency").unwrap_or(&Value::Null),
                b.get("outbuf_latency").unwrap_or(&Value::Null),
                b.get("rtt").unwrap_or(&Value::Null),
                b.get("throttle").unwrap_or(&Value::Null),
            );
            let (int_cnt, outbuf_cnt, rtt_cnt) = (f(int, "cnt"), f(outbuf, "cnt"), f(rtt, "cnt"));
            if int_cnt + outbuf_cnt + rtt_cnt <= 0.0 {
                continue;
            }
            s.windows += 1;
            s.queue_wait.add(f(int, "avg"), int_cnt);
            s.inflight_wait_by_request.add(f(outbuf, "avg"), outbuf_cnt);
            s.broker_rtt_by_request.add(f(rtt, "avg"), rtt_cnt);
            let id = b.get("nodeid").and_then(Value::as_i64).unwrap_or(i64::MIN);
            let recs = records.get(&id).copied().unwrap_or(0) as f64;
            if recs > 0.0 && rtt_cnt > 0.0 {
                if outbuf_cnt > 0.0 {
                    s.inflight_wait_by_record.add(f(outbuf, "avg"), recs);
                }
                s.broker_rtt_by_record.add(f(rtt, "avg"), recs);
                // Only throttled responses are sampled (ms): the window's throttle total,
                // shared out per request, felt by that request's records.
                let throttle_us = f(thr, "avg") * f(thr, "cnt") * 1000.0 / rtt_cnt;
                s.throttle_by_record.add(throttle_us, recs);
            }
        }
    }

    /// The second (since t0) holding the middle of the window an emit received `at`
    /// covers, and the millisecond it began at: since the producer's previous emit, or, for
    /// its first, since the client was created (`age`) — before t0, with the start-up's
    /// connection set-up in it.
    fn seconds_of(&mut self, producer: u32, v: &Value, at: Duration) -> (u64, i64) {
        let ts = v.get("ts").and_then(Value::as_u64);
        let span = match (ts, self.last_ts.get(&producer)) {
            (Some(now), Some(&prev)) => now.saturating_sub(prev),
            (_, None) => v.get("age").and_then(Value::as_u64).unwrap_or(WINDOW_US),
            _ => WINDOW_US,
        };
        if let Some(ts) = ts {
            self.last_ts.insert(producer, ts);
        }
        let end = at.as_micros() as u64;
        let start_ms = (end as i64 - span as i64).div_euclid(1_000);
        (end.saturating_sub(span / 2) / 1_000_000, start_ms)
    }

    /// Records each broker (by node id) carried since this producer's previous emit.
    fn records_by_broker(&mut self, producer: u32, v: &Value) -> BTreeMap<i64, u64> {
        let mut out = BTreeMap::new();
        let Some(topics) = v.get("topics").and_then(Value::as_object) else {
            return out;
        };
        for (topic, t) in topics {
            let Some(parts) = t.get("partitions").and_then(Value::as_object) else {
                continue;
            };
            for p in parts.values() {
                let id = p.get("partition").and_then(Value::as_i64).unwrap_or(-1);
                // Partition -1 is librdkafka's internal unassigned queue.
                let Some(tx) = p.get("txmsgs").and_then(Value::as_u64).filter(|_| id >= 0) else {
                    continue;
                };
                let broker = p.get("broker").and_then(Value::as_i64).unwrap_or(-1);
                let last = self
                    .last_txmsgs
                    .entry((producer, topic.clone(), id))
                    .or_insert(0);
                *out.entry(broker).or_insert(0) += tx.saturating_sub(*last);
                *last = tx;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like a real librdkafka 2.12 emit (fields trimmed to what is read).
    fn emit(txmsgs: (u64, u64), rtt: (u64, u64), outbuf: (u64, u64), int: (u64, u64)) -> Value {
        let s = format!(
            r#"{{"name": "rdkafka#producer-1", "type": "producer", "msg_cnt": 3,
              "brokers": {{
                "localhost:9092/1": {{"nodeid": 1, "state": "UP",
                  "int_latency": {{"min": 3, "max": 900, "avg": {ia}, "sum": 0, "cnt": {ic}, "p99": 800}},
                  "outbuf_latency": {{"avg": {oa}, "cnt": {oc}, "p99": 50}},
                  "rtt": {{"avg": {ra}, "cnt": {rc}, "p99": 2000}},
                  "throttle": {{"avg": 0, "cnt": 0}}, "req": {{"Produce": 10}}}},
                "localhost:9093/2": {{"nodeid": 2, "state": "UP",
                  "int_latency": {{"avg": 0, "cnt": 0}}, "outbuf_latency": {{"avg": 0, "cnt": 0}},
                  "rtt": {{"avg": 99999, "cnt": 1}}, "throttle": {{"avg": 0, "cnt": 0}}}}
              }},
              "topics": {{"t": {{"partitions": {{
                "0": {{"partition": 0, "broker": 1, "leader": 1, "txmsgs": {t0}}},
                "1": {{"partition": 1, "broker": 1, "leader": 1, "txmsgs": {t1}}},
                "-1": {{"partition": -1, "broker": -1, "txmsgs": 77}}}}}}}}}}"#,
            t0 = txmsgs.0,
            t1 = txmsgs.1,
            ra = rtt.0,
            rc = rtt.1,
            oa = outbuf.0,
            oc = outbuf.1,
            ia = int.0,
            ic = int.1,
        );
        serde_json::from_str(&s).expect("sample parses")
    }

    #[test]
    fn request_waits_are_weighted_by_the_records_of_their_window() {
        let mut t = StageTracker::default();
        // Second 0: 100 records, rtt 1000; second 1: 300 more records, rtt 3000.
        t.add(
            0,
            &emit((50, 50), (1000, 10), (20, 10), (5000, 100)),
            Duration::from_millis(1000),
        );
        t.add(
            0,
            &emit((200, 200), (3000, 10), (40, 10), (7000, 300)),
            Duration::from_millis(2000),
        );
        assert_eq!(t.windows.len(), 2);
        let mut run = StageSums::default();
        for s in t.windows.values() {
            run.merge(s);
        }
        let m = run.means();
        assert!(m.by_record);
        // (1000·100 + 3000·300) / 400; broker 2 carried no record: its rtt (a metadata
        // request) weighs nothing.
        assert_eq!(m.broker_rtt, Some(2500.0));
        assert_eq!(m.inflight_wait, Some(35.0));
        assert_eq!(m.queue_wait, Some(6500.0));
        assert_eq!(m.throttle, Some(0.0));
        // Per request, broker 2's lone request would have dragged the mean.
        assert!(run.broker_rtt_by_request.mean().unwrap_or(0.0) > 2500.0);
        assert_eq!(t.windows[&(0, 0)].windows, 2);
    }

    #[test]
    fn throttle_is_spread_over_the_window_requests_in_microseconds() {
        let mut t = StageTracker::default();
        let mut v = emit((10, 0), (1000, 4), (0, 4), (100, 10));
        v["brokers"]["localhost:9092/1"]["throttle"] = serde_json::json!({"avg": 8, "cnt": 1});
        t.add(0, &v, Duration::from_millis(900));
        // One request of four was throttled 8 ms: 2 ms per request on average.
        // Received at 0.9 s, a window of a second began before t0.
        assert_eq!(t.windows[&(0, -100)].means().throttle, Some(2000.0));
    }

    #[test]
    fn windows_without_partition_counts_fall_back_to_requests() {
        let mut t = StageTracker::default();
        let v: Value = serde_json::from_str(
            r#"{"brokers": {"b": {"nodeid": 1, "rtt": {"avg": 400, "cnt": 2},
                "outbuf_latency": {"avg": 10, "cnt": 2}, "int_latency": {"avg": 7, "cnt": 5}}}}"#,
        )
        .expect("parses");
        t.add(3, &v, Duration::from_millis(2600));
        let m = t.windows[&(2, 1600)].means();
        assert!(!m.by_record);
        assert_eq!(
            (m.broker_rtt, m.inflight_wait, m.queue_wait),
            (Some(400.0), Some(10.0), Some(7.0))
        );
        assert_eq!(m.throttle, None);
    }

    /// Three consecutive emits of one producer captured from a run on the embedded
    /// cluster (librdkafka 2.12.1, 3 mock brokers, `--rate 1000`, linger 5 ms), as the
    /// collector received them. The expected figures were computed from the file by hand
    /// (a few lines of Python), not by this code.
    #[test]
    fn captured_emits_of_the_embedded_cluster() {
        let text = include_str!("testdata/mock-emits.jsonl");
        let at = [974_271_668u64, 1_975_233_344, 2_975_280_737];
        let mut t = StageTracker::default();
        for (line, ns) in text.lines().zip(at) {
            let v: Value = serde_json::from_str(line).expect("captured JSON");
            t.add(0, &v, Duration::from_nanos(ns));
        }
        // The first emit covers the client's life since before t0 (age 1.008 s): second
        // 0, begun 35 ms before t0, with the start-up's connection set-up in its queue
        // wait. The second began at 0.974 s, the third at 1.974 s.
        assert_eq!(
            t.windows.keys().copied().collect::<Vec<_>>(),
            [(0, -35), (1, 974), (2, 1974)]
        );
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-6);
        let s0 = t.windows[&(0, -35)].means();
        assert!(close(s0.queue_wait, 120_335.713_402_061_85), "{s0:?}");
        let s1 = t.windows[&(1, 974)].means();
        assert!(s1.by_record);
        assert!(close(s1.queue_wait, 3_307.466_600_199_402), "{s1:?}");
        assert!(close(s1.broker_rtt, 56.462_612_163_509_47), "{s1:?}");
        assert!(close(s1.inflight_wait, 66.074_775_672_981_06), "{s1:?}");
        assert_eq!(s1.throttle, Some(0.0));
        // Broker 3 led no partition: its 4 metadata round trips in the first window
        // weigh nothing per record.
        let s2 = t.windows[&(2, 1974)].means();
        assert!(close(s2.broker_rtt, 63.428_571_428_571_43), "{s2:?}");
        assert!(close(s2.inflight_wait, 98.428_571_428_571_43), "{s2:?}");
    }
}
