//! librdkafka statistics: parsed off the hot path into run-wide figures.
//!
//! Producers forward the raw JSON of each `statistics.interval.ms` emit; the collector
//! feeds it here. Window stats (`batchsize`, `batchcnt`, `rtt`, `int_latency`,
//! `throttle`) reset at every emit, so they are summed weighted by their `cnt`; cumulative
//! counters (`txbytes`, `req.Produce`) keep the last value seen per producer.

use super::breakdown::StageTracker;
use crate::domain::{LibrdkafkaStats, StageSums, StatsWeights};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Default, Clone)]
struct Weighted {
    sum: f64,
    cnt: f64,
}

impl Weighted {
    fn add_window(&mut self, w: &Value) {
        let cnt = w.get("cnt").and_then(Value::as_f64).unwrap_or(0.0);
        let avg = w.get("avg").and_then(Value::as_f64).unwrap_or(0.0);
        if cnt > 0.0 {
            self.sum += avg * cnt;
            self.cnt += cnt;
        }
    }
    fn mean(&self) -> Option<f64> {
        (self.cnt > 0.0).then(|| self.sum / self.cnt)
    }
}

#[derive(Debug, Default, Clone)]
struct PerProducer {
    txbytes: u64,
    produce_requests: u64,
    peak_msgs: u64,
    peak_bytes: u64,
    /// When the producer id was assigned, ms after t0 (idempotent producers only).
    pid_at_ms: Option<f64>,
}

/// Accumulates statistics emits of all producers of one run.
#[derive(Debug, Default)]
pub struct StatsAggregator {
    /// The run's topics (one, or `[[workload.topics]]`): their figures are added up.
    topics: Vec<String>,
    samples: u64,
    wire_bytes: f64,
    batches: f64,
    batch_records: f64,
    rtt: Weighted,
    rtt_p99_max: Option<f64>,
    int_latency: Weighted,
    throttle: Weighted,
    producers: BTreeMap<u32, PerProducer>,
    stages: StageTracker,
}

impl StatsAggregator {
    pub fn new(topic: &str) -> Self {
        Self::many(&[topic.to_string()])
    }

    /// Statistics over several topics: batch figures and partition bytes add up.
    pub fn many(topics: &[String]) -> Self {
        StatsAggregator {
            topics: topics.to_vec(),
            ..Default::default()
        }
    }

    /// Feed one emit of producer `producer`, received `at` after t0. Malformed JSON is
    /// ignored: statistics are auxiliary and must never fail a run.
    pub fn add(&mut self, producer: u32, json: &str, at: Duration) {
        let Ok(v) = serde_json::from_str::<Value>(json) else {
            return;
        };
        self.samples += 1;
        self.stages.add(producer, &v, at);
        let p = self.producers.entry(producer).or_default();
        if let Some(n) = v.get("msg_cnt").and_then(Value::as_u64) {
            p.peak_msgs = p.peak_msgs.max(n);
        }
        if let Some(n) = v.get("msg_size").and_then(Value::as_u64) {
            p.peak_bytes = p.peak_bytes.max(n);
        }
        if p.pid_at_ms.is_none() {
            p.pid_at_ms = pid_assigned_ms(&v, at);
        }
        if let Some(brokers) = v.get("brokers").and_then(Value::as_object) {
            let mut reqs = 0;
            for b in brokers.values() {
                if let Some(w) = b.get("rtt") {
                    self.rtt.add_window(w);
                    let cnt = w.get("cnt").and_then(Value::as_f64).unwrap_or(0.0);
                    if let (true, Some(p99)) = (cnt > 0.0, w.get("p99").and_then(Value::as_f64)) {
                        self.rtt_p99_max = Some(self.rtt_p99_max.map_or(p99, |m| m.max(p99)));
                    }
                }
                if let Some(w) = b.get("int_latency") {
                    self.int_latency.add_window(w);
                }
                if let Some(w) = b.get("throttle") {
                    self.throttle.add_window(w);
                }
                reqs += b
                    .pointer("/req/Produce")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
            }
            p.produce_requests = reqs;
        }
        let mut txbytes = None;
        for name in &self.topics {
            let Some(t) = v.get("topics").and_then(|t| t.get(name)) else {
                continue;
            };
            if let Some(w) = t.get("batchsize") {
                self.wire_bytes += w.get("sum").and_then(Value::as_f64).unwrap_or(0.0);
                self.batches += w.get("cnt").and_then(Value::as_f64).unwrap_or(0.0);
            }
            if let Some(w) = t.get("batchcnt") {
                self.batch_records += w.get("sum").and_then(Value::as_f64).unwrap_or(0.0);
            }
            if let Some(parts) = t.get("partitions").and_then(Value::as_object) {
                // Partition -1 is librdkafka's internal unassigned queue, not a partition.
                let sum: u64 = parts
                    .iter()
                    .filter(|(id, _)| id.as_str() != "-1")
                    .filter_map(|(_, p)| p.get("txbytes").and_then(Value::as_u64))
                    .sum();
                *txbytes.get_or_insert(0) += sum;
            }
        }
        if let Some(b) = txbytes {
            p.txbytes = b;
        }
    }

    pub fn finish(&self) -> LibrdkafkaStats {
        let uncompressed: u64 = self.producers.values().map(|p| p.txbytes).sum();
        LibrdkafkaStats {
            stats_samples: self.samples,
            avg_batch_bytes: (self.batches > 0.0).then(|| self.wire_bytes / self.batches),
            avg_batch_records: (self.batches > 0.0).then(|| self.batch_records / self.batches),
            requests: self.producers.values().map(|p| p.produce_requests).sum(),
            rtt_avg_us: self.rtt.mean(),
            rtt_p99_us: self.rtt_p99_max,
            int_latency_avg_us: self.int_latency.mean(),
            throttle_avg_ms: self.throttle.mean(),
            peak_queue_records: self.producers.values().map(|p| p.peak_msgs).sum(),
            peak_queue_bytes: self.producers.values().map(|p| p.peak_bytes).sum(),
            uncompressed_bytes: uncompressed,
            wire_bytes: self.wire_bytes as u64,
            producer_id_assigned_ms: (self.producers.values())
                .filter_map(|p| p.pid_at_ms)
                .reduce(f64::max),
        }
    }

    /// Uncompressed bytes / bytes on the wire, when any batch was seen.
    pub fn compression_ratio(&self) -> Option<f64> {
        self.finish().compression_ratio()
    }

    /// Latency stage sums by (the second each statistics window mostly covered, the
    /// millisecond it began at; negative before t0).
    pub fn stage_windows(&self) -> BTreeMap<(u64, i64), StageSums> {
        self.stages.windows.clone()
    }

    /// The weights behind the averages of [`Self::finish`], kept with the run so that
    /// `kprod merge` can average several runs' statistics the way one run would.
    pub fn weights(&self) -> StatsWeights {
        StatsWeights {
            batches: self.batches,
            batch_records: self.batch_records,
            wire_bytes: self.wire_bytes,
            rtt_count: self.rtt.cnt,
            int_latency_count: self.int_latency.cnt,
            throttle_count: self.throttle.cnt,
        }
    }
}

/// When the idempotent producer of an emit received `at` after t0 got its producer id
/// (ms after t0), if it has one: the emit's `eos` block says how long ago its state
/// changed (ms), and a later epoch bump changes it again, so only the first emit that
/// shows `Assigned` is asked.
fn pid_assigned_ms(v: &Value, at: Duration) -> Option<f64> {
    let eos = v.get("eos")?;
    if eos.get("idemp_state").and_then(Value::as_str) != Some("Assigned") {
        return None;
    }
    let age_ms = eos.get("idemp_stateage").and_then(Value::as_f64)?;
    Some(at.as_secs_f64() * 1e3 - age_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(txbytes: u64, bsum: u64, bcnt: u64, recs: u64, rtt_avg: u64, rtt_cnt: u64) -> String {
        format!(
            r#"{{"msg_cnt": 5, "msg_size": 500,
               "brokers": {{"b1": {{"rtt": {{"avg": {rtt_avg}, "cnt": {rtt_cnt}, "p99": 900}},
                                   "int_latency": {{"avg": 10, "cnt": 1}},
                                   "throttle": {{"avg": 0, "cnt": 0}},
                                   "req": {{"Produce": 7}}}}}},
               "topics": {{"t": {{"batchsize": {{"sum": {bsum}, "cnt": {bcnt}, "avg": 0}},
                                 "batchcnt": {{"sum": {recs}, "cnt": {bcnt}, "avg": 0}},
                                 "partitions": {{"0": {{"txbytes": {txbytes}}},
                                                 "-1": {{"txbytes": 999999}}}}}}}}}}"#
        )
    }

    #[test]
    fn windows_are_weighted_and_cumulative_counters_take_the_last_value() {
        let mut a = StatsAggregator::new("t");
        a.add(0, &emit(1_000, 250, 2, 10, 100, 1), Duration::ZERO);
        a.add(0, &emit(4_000, 750, 1, 20, 400, 3), Duration::ZERO);
        let s = a.finish();
        assert_eq!(s.stats_samples, 2);
        assert_eq!(s.wire_bytes, 1_000);
        assert_eq!(s.uncompressed_bytes, 4_000); // last cumulative value, partition -1 excluded
        assert_eq!(s.avg_batch_bytes, Some(1_000.0 / 3.0));
        assert_eq!(s.avg_batch_records, Some(10.0));
        assert_eq!(s.rtt_avg_us, Some((100.0 + 400.0 * 3.0) / 4.0));
        assert_eq!(s.requests, 7);
        assert_eq!(a.compression_ratio(), Some(4.0));
    }

    /// The id time is the first `Assigned` emit's time less its state age, the latest
    /// over producers; a later emit (after an epoch bump, say) does not move it.
    #[test]
    fn the_producer_id_time_is_the_latest_producers_first_assignment() {
        let eos = |state: &str, age: u64| {
            format!(r#"{{"eos": {{"idemp_state": "{state}", "idemp_stateage": {age}}}}}"#)
        };
        let mut a = StatsAggregator::new("t");
        a.add(0, &eos("WaitPID", 900), Duration::from_millis(900));
        assert_eq!(a.finish().producer_id_assigned_ms, None);
        a.add(1, &eos("Assigned", 1_200), Duration::from_millis(1_000));
        a.add(0, &eos("Assigned", 1_150), Duration::from_millis(1_900));
        a.add(0, &eos("Assigned", 10), Duration::from_millis(2_900));
        assert_eq!(a.finish().producer_id_assigned_ms, Some(750.0));
        // Not idempotent: librdkafka leaves the block out.
        let mut b = StatsAggregator::new("t");
        b.add(0, "{}", Duration::from_millis(1_000));
        assert_eq!(b.finish().producer_id_assigned_ms, None);
    }

    #[test]
    fn garbage_is_ignored() {
        let mut a = StatsAggregator::new("t");
        a.add(0, "not json", Duration::ZERO);
        assert_eq!(a.finish().stats_samples, 0);
        assert_eq!(a.compression_ratio(), None);
    }
}
