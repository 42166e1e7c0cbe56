//! What the producers measured: per-interval counts, whole-run totals with their HDR
//! histograms, the merged seconds, and the librdkafka statistics summary. Recorders fill
//! these on the producer threads, the collector merges them, and the report, the live
//! writers and metrics read them; so they live below all of those.

use super::histogram::new_histogram;
use super::results::{Counts, LibrdkafkaStats, StatsWeights};
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use rdkafka::types::RDKafkaRespErr;
use std::collections::BTreeMap;

/// Counts of one 1-second interval of one producer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalCounts {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub bytes: u64,
}

/// What one producer measured over the whole run, and, merged, what all of them did.
#[derive(Debug)]
pub struct Totals {
    pub corrected: Histogram<u64>,
    pub uncorrected: Histogram<u64>,
    pub schedule_lag: Histogram<u64>,
    pub commit: Histogram<u64>,
    pub measured: Counts,
    pub warmup: Counts,
    /// Payload bytes of the measured records delivered.
    pub measured_bytes: u64,
    /// When the last measured record was delivered (fire-and-forget: when the producer
    /// had nothing left to send), µs since t0. Throughput counts measured records only, so
    /// a backlog left by the warm-up cannot inflate it.
    pub measured_last_delivery_us: u64,
    /// Intended send time of the first record after the warm-up (the earliest producer),
    /// µs since t0: where the measured schedule really starts.
    pub measured_first_intended_us: Option<u64>,
    /// When generation stopped (the latest producer), µs since t0.
    pub generation_end_us: u64,
    pub errors: Vec<(RDKafkaRespErr, u64)>,
    pub lag_saturated: u64,
    /// Records due before the end that were never sent: the generator was behind.
    pub behind_schedule: u64,
    /// Many topics: one entry per topic of the run, in its order; empty with one topic.
    pub topics: Vec<super::TopicCounts>,
}

impl Default for Totals {
    fn default() -> Self {
        Totals {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            schedule_lag: new_histogram(),
            commit: new_histogram(),
            measured: Counts::default(),
            warmup: Counts::default(),
            measured_bytes: 0,
            measured_last_delivery_us: 0,
            measured_first_intended_us: None,
            generation_end_us: 0,
            errors: Vec::new(),
            lag_saturated: 0,
            behind_schedule: 0,
            topics: Vec::new(),
        }
    }
}

impl Totals {
    /// End of the measured window, µs since t0: the later of the last measured delivery
    /// and the end of generation, the latter capped at the end of the schedule
    /// (`schedule_end_us`, the duration when one is set). A slow rate's last record is
    /// delivered long before the generator stops; ending the window there would divide by
    /// a window it never had (`--rate 1 --duration 3s --warmup 1s` reported 2 records/s).
    /// The cap keeps a generator that woke up late to notice the end from diluting it.
    pub fn measured_window_end_us(&self, schedule_end_us: Option<u64>) -> u64 {
        let generation =
            schedule_end_us.map_or(self.generation_end_us, |e| self.generation_end_us.min(e));
        self.measured_last_delivery_us.max(generation)
    }

    /// Start of the measured window, µs since t0: the first measured record's schedule
    /// slot (the end of the warm-up when none was sent). At a low rate the first slot can
    /// lie well after the warm-up; counting the gap would understate the rate by up to
    /// one record per window.
    pub fn measured_window_start_us(&self, warmup_us: u64) -> u64 {
        self.measured_first_intended_us.unwrap_or(warmup_us)
    }

    /// Add another producer's totals: histograms add exactly, counts sum, times take the max.
    pub fn merge(&mut self, o: &Totals) {
        let _ = self.corrected.add(&o.corrected);
        let _ = self.uncorrected.add(&o.uncorrected);
        let _ = self.schedule_lag.add(&o.schedule_lag);
        let _ = self.commit.add(&o.commit);
        for (a, b) in [
            (&mut self.measured, &o.measured),
            (&mut self.warmup, &o.warmup),
        ] {
            a.sent += b.sent;
            a.delivered += b.delivered;
            a.failed += b.failed;
            a.unknown += b.unknown;
        }
        self.measured_bytes += o.measured_bytes;
        self.measured_last_delivery_us = self
            .measured_last_delivery_us
            .max(o.measured_last_delivery_us);
        self.generation_end_us = self.generation_end_us.max(o.generation_end_us);
        self.measured_first_intended_us = match (
            self.measured_first_intended_us,
            o.measured_first_intended_us,
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.lag_saturated += o.lag_saturated;
        self.behind_schedule += o.behind_schedule;
        if self.topics.len() < o.topics.len() {
            self.topics.resize(o.topics.len(), Default::default());
        }
        for (a, b) in self.topics.iter_mut().zip(&o.topics) {
            a.add(b);
        }
        for &(code, n) in &o.errors {
            count_error(&mut self.errors, code, n);
        }
    }
}

/// Adds `n` failed records with `code` to a per-code tally.
pub fn count_error(errors: &mut Vec<(RDKafkaRespErr, u64)>, code: RDKafkaRespErr, n: u64) {
    match errors.iter_mut().find(|(c, _)| *c == code) {
        Some((_, m)) => *m += n,
        None => errors.push((code, n)),
    }
}

/// An interval shorter than this (the run's tail) is partial: its rate is over a short,
/// ragged window and must not be read or drawn like a whole second's.
pub const PARTIAL_BELOW_S: f64 = 0.999;

/// One second of the run, all producers merged.
///
/// The interval's histogram is kept V2-encoded (about a kilobyte) rather than as a live
/// histogram (about 190 kB of counters): a run keeps one per second, and memory must not
/// grow with run length.
#[derive(Debug)]
pub struct MergedInterval {
    pub idx: u64,
    /// How long the second really was: 1 s, except the run's last, which ends with the
    /// flush. Rates over it divide by this, and a short one is marked partial.
    pub length_s: f64,
    pub counts: IntervalCounts,
    pub queue_depth: u64,
    /// Corrected latency of the records delivered in this interval.
    pub p50_us: u64,
    pub p99_us: u64,
    /// p99.9 of the same histogram (computed here, on the collector thread, once a second).
    pub p999_us: u64,
    pub max_us: u64,
    encoded: Vec<u8>,
}

impl MergedInterval {
    /// Encodes the merged histogram of second `idx` (`length_us` long) and keeps its
    /// headline percentiles.
    pub fn new(
        idx: u64,
        length_us: u64,
        hist: &Histogram<u64>,
        counts: IntervalCounts,
        queue_depth: u64,
    ) -> Self {
        let mut encoded = Vec::new();
        // Encoding into memory cannot fail for a histogram with in-range counts.
        let _ = V2Serializer::new().serialize(hist, &mut encoded);
        MergedInterval {
            idx,
            // A zero-length tail still holds what the final poll served: never divide by 0.
            length_s: (length_us as f64 / 1e6).clamp(1e-3, 1.0),
            counts,
            queue_depth,
            p50_us: hist.value_at_quantile(0.5),
            p99_us: hist.value_at_quantile(0.99),
            p999_us: hist.value_at_quantile(0.999),
            max_us: hist.max(),
            encoded,
        }
    }

    /// The interval's corrected-latency histogram, decoded.
    /// True for the run's last second when it ended before a whole second passed.
    pub fn partial(&self) -> bool {
        self.length_s < PARTIAL_BELOW_S
    }

    /// Records delivered per second of the interval's real length.
    pub fn records_per_sec(&self) -> f64 {
        self.counts.delivered as f64 / self.length_s
    }

    /// Payload bytes per second of the interval's real length.
    pub fn bytes_per_sec(&self) -> f64 {
        self.counts.bytes as f64 / self.length_s
    }

    pub fn histogram(&self) -> Histogram<u64> {
        Deserializer::new()
            .deserialize(&mut self.encoded.as_slice())
            .unwrap_or_else(|_| new_histogram())
    }
}

/// Everything measured in one run, merged over producers.
#[derive(Debug, Default)]
pub struct Measurements {
    pub totals: Totals,
    pub intervals: Vec<MergedInterval>,
    /// librdkafka statistics of every producer, aggregated.
    pub stats: StatsSummary,
    /// Latency stage sums from the statistics windows, by (the second since t0 each
    /// window mostly covered, the millisecond it began at; negative before t0).
    pub stage_windows: BTreeMap<(u64, i64), super::breakdown::StageSums>,
    pub committed: u64,
    pub aborted: u64,
    pub client_errors: Vec<String>,
    pub fatal: Vec<String>,
}

impl Measurements {
    /// librdkafka error name -> (count, class, description), by name.
    pub fn errors(&self) -> BTreeMap<String, (u64, &'static str, String)> {
        let mut out = BTreeMap::new();
        for &(code, n) in &self.totals.errors {
            let name = super::errors::error_name(code);
            let class = super::errors::classify(&name).as_str();
            let e = out
                .entry(name)
                .or_insert_with(|| (0, class, super::errors::error_description(code)));
            e.0 += n;
        }
        out
    }
}

/// The librdkafka statistics of a run, aggregated over every emit of every producer.
#[derive(Debug, Clone, Default)]
pub struct StatsSummary {
    /// The report's `librdkafka_stats`.
    pub figures: LibrdkafkaStats,
    /// The weights behind its averages, kept so that `kprod merge` can average several
    /// runs' statistics the way one run would.
    pub weights: StatsWeights,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measured_window_starts_at_the_first_measured_slot() {
        let mut t = Totals::default();
        assert_eq!(t.measured_window_start_us(700_000), 700_000);
        t.measured_first_intended_us = Some(750_000);
        let o = Totals {
            measured_first_intended_us: Some(760_000),
            ..Totals::default()
        };
        t.merge(&o);
        assert_eq!(t.measured_window_start_us(700_000), 750_000);
    }

    #[test]
    fn the_measured_window_lasts_until_generation_ends() {
        // --rate 1 --duration 3s --warmup 1s: the last record is delivered at 2.006 s
        // but the generator ran until 3 s.
        let t = Totals {
            measured_last_delivery_us: 2_006_000,
            generation_end_us: 3_000_000,
            ..Totals::default()
        };
        assert_eq!(t.measured_window_end_us(None), 3_000_000);
        let late = Totals {
            generation_end_us: 3_030_000,
            ..t
        };
        // A generator that noticed the end 30 ms late does not stretch the window...
        assert_eq!(late.measured_window_end_us(Some(3_000_000)), 3_000_000);
        let t = Totals {
            measured_last_delivery_us: 3_040_000,
            generation_end_us: 3_000_000,
            ..Totals::default()
        };
        // ...but deliveries after the end do.
        assert_eq!(t.measured_window_end_us(Some(3_000_000)), 3_040_000);
    }

    #[test]
    fn a_short_tail_is_partial_and_its_rate_uses_its_length() {
        let counts = IntervalCounts {
            sent: 17,
            delivered: 17,
            failed: 0,
            bytes: 1_700,
        };
        let i = MergedInterval::new(4, 3_000, &new_histogram(), counts, 0);
        assert!(i.partial());
        assert!((i.length_s - 0.003).abs() < 1e-12);
        assert!((i.records_per_sec() - 17.0 / 0.003).abs() < 1e-6);
        let whole =
            MergedInterval::new(3, 1_000_000, &new_histogram(), IntervalCounts::default(), 0);
        assert!(!whole.partial());
    }

    #[test]
    fn a_second_keeps_its_p999_beside_p99() {
        let mut h = new_histogram();
        // 1..=10_000 µs: p99 ~9_900, p99.9 ~9_990, max 10_000.
        for v in 1..=10_000u64 {
            h.record(v).expect("in range");
        }
        let i = MergedInterval::new(0, 1_000_000, &h, IntervalCounts::default(), 0);
        assert!(i.p99_us < i.p999_us && i.p999_us < i.max_us, "{i:?}");
        assert_eq!(i.p999_us, h.value_at_quantile(0.999));
        assert!((9_980..=10_000).contains(&i.p999_us), "{}", i.p999_us);
    }
}
