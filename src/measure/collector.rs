//! The collector: merges what producer threads ship into run-wide measurements.
//!
//! Intervals are merged per second across producers (an interval is final once every
//! producer has moved past it); totals are merged by adding HDR histograms, so run-wide
//! percentiles are exact over all records, never averages of per-producer percentiles.

use super::recorder::IntervalSnapshot;
use super::stats::StatsAggregator;
use crate::domain::{new_histogram, IntervalCounts, StatsSummary, Totals};
pub use crate::domain::{Measurements, MergedInterval};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
struct Partial {
    hist: Option<Histogram<u64>>,
    /// The longest producer's: the second lasted until the last of them closed it.
    length_us: u64,
    counts: IntervalCounts,
    queue_depth: u64,
}

pub struct Collector {
    producers: u32,
    /// Highest interval index each producer has closed.
    closed: Vec<Option<u64>>,
    partial: BTreeMap<u64, Partial>,
    /// Summarised into `m.stats` when the run ends.
    stats: StatsAggregator,
    m: Measurements,
}

impl Collector {
    /// `topics`: the run's topics, whose statistics are summed.
    pub fn new(producers: u32, topics: &[String]) -> Self {
        Collector {
            producers,
            closed: vec![None; producers as usize],
            partial: BTreeMap::new(),
            stats: StatsAggregator::many(topics),
            m: Measurements::default(),
        }
    }

    /// Add one producer's interval; returns the intervals that became final.
    pub fn interval(&mut self, s: IntervalSnapshot) -> Vec<&MergedInterval> {
        let p = self.partial.entry(s.idx).or_default();
        match &mut p.hist {
            Some(h) => {
                let _ = h.add(&s.corrected);
            }
            None => p.hist = Some(s.corrected),
        }
        p.length_us = p.length_us.max(s.length_us);
        p.counts.sent += s.counts.sent;
        p.counts.delivered += s.counts.delivered;
        p.counts.failed += s.counts.failed;
        p.counts.bytes += s.counts.bytes;
        p.queue_depth += s.in_flight;
        if let Some(c) = self.closed.get_mut(s.producer as usize) {
            *c = Some(c.map_or(s.idx, |v| v.max(s.idx)));
        }
        let done_upto = self
            .closed
            .iter()
            .map(|c| c.map(|v| v as i64).unwrap_or(-1))
            .min();
        self.finalize_upto(done_upto.unwrap_or(-1))
    }

    fn finalize_upto(&mut self, upto: i64) -> Vec<&MergedInterval> {
        let before = self.m.intervals.len();
        while let Some((&idx, _)) = self.partial.first_key_value() {
            if idx as i64 > upto {
                break;
            }
            if let Some(p) = self.partial.remove(&idx) {
                let hist = p.hist.unwrap_or_else(new_histogram);
                self.m.intervals.push(MergedInterval::new(
                    idx,
                    p.length_us,
                    &hist,
                    p.counts,
                    p.queue_depth,
                ));
            }
        }
        self.m.intervals[before..].iter().collect()
    }

    /// One statistics emit of `producer`, received `at` after t0.
    pub fn stats(&mut self, producer: u32, json: &str, at: std::time::Duration) {
        self.stats.add(producer, json, at);
    }

    pub fn client_error(&mut self, message: String, fatal: bool) {
        if fatal {
            self.m.fatal.push(message.clone());
        }
        if self.m.client_errors.len() < 50 && !self.m.client_errors.contains(&message) {
            self.m.client_errors.push(message);
        }
    }

    pub fn done(&mut self, t: Totals, committed: u64, aborted: u64, fatal: Option<String>) {
        self.m.totals.merge(&t);
        self.m.committed += committed;
        self.m.aborted += aborted;
        if let Some(f) = fatal {
            self.m.fatal.push(f);
        }
    }

    /// Close every interval still open and hand over the measurements.
    pub fn finish(mut self) -> Measurements {
        self.finalize_upto(i64::MAX);
        let _ = self.producers;
        self.m.stats = StatsSummary {
            figures: self.stats.finish(),
            weights: self.stats.weights(),
        };
        self.m.stage_windows = self.stats.stage_windows();
        self.m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::recorder::{pack, Recorder};

    fn snap(producer: u32, idx: u64, delivered: u64, latency: u64) -> IntervalSnapshot {
        let mut h = new_histogram();
        for _ in 0..delivered {
            h.record(latency).unwrap();
        }
        IntervalSnapshot {
            producer,
            idx,
            length_us: 1_000_000,
            corrected: h,
            counts: IntervalCounts {
                sent: delivered,
                delivered,
                failed: 0,
                bytes: delivered * 10,
            },
            in_flight: 1,
        }
    }

    #[test]
    fn intervals_finalise_when_every_producer_moved_past_them() {
        let mut c = Collector::new(2, &["t".to_string()]);
        assert!(c.interval(snap(0, 0, 5, 100)).is_empty());
        assert!(c.interval(snap(0, 1, 5, 100)).is_empty());
        let fin = c.interval(snap(1, 0, 3, 300));
        assert_eq!(fin.len(), 1);
        assert_eq!(fin[0].counts.delivered, 8);
        assert_eq!(fin[0].histogram().len(), 8);
        assert_eq!(fin[0].p99_us, 300);
        assert_eq!(fin[0].queue_depth, 2);
        let m = c.finish();
        assert_eq!(m.intervals.len(), 2);
    }

    #[test]
    fn totals_merge_histograms_exactly() {
        // Producer 0: 99 fast records, producer 1: 1 slow one. Merged p99 must see both.
        let mut c = Collector::new(2, &["t".to_string()]);
        let mut a = Recorder::new(0, 0, true);
        for i in 0..99 {
            a.on_enqueued(i, i, 10);
            a.on_delivered(pack(i, 0), i + 100, 1);
        }
        let mut b = Recorder::new(1, 0, true);
        b.on_enqueued(0, 0, 10);
        b.on_delivered(pack(0, 0), 50_000, 1);
        c.done(a.finish(200), 0, 0, None);
        c.done(b.finish(50_000), 0, 0, None);
        let m = c.finish();
        assert_eq!(m.totals.corrected.len(), 100);
        assert_eq!(
            m.totals.corrected.max(),
            m.totals.corrected.highest_equivalent(50_000)
        );
        assert_eq!(m.totals.corrected.value_at_quantile(0.5), 100);
        assert_eq!(m.totals.measured.delivered, 100);
        assert_eq!(m.totals.measured_last_delivery_us, 50_000);
    }
}
