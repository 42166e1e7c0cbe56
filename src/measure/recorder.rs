//! Per-producer recording: HDR histograms, outcome counts and 1-second interval snapshots.
//!
//! One `Recorder` belongs to one producer thread and is never shared, so recording takes
//! no lock. Each record carries its timing in the librdkafka delivery opaque (a plain
//! integer, no allocation): the intended send time and the schedule lag, both in µs since
//! the run's t0. Everything here is in microseconds on the monotonic clock.

use crate::domain::{count_error, new_histogram, Counts, IntervalCounts, TopicCounts, Totals};
use hdrhistogram::Histogram;
use rdkafka::types::RDKafkaRespErr;

const LAG_BITS: u32 = 28;
/// Largest schedule lag the opaque can carry (~268 s); larger lags saturate and are counted.
pub const MAX_LAG_US: u64 = (1 << LAG_BITS) - 1;
/// Largest intended time the opaque can carry (~19 hours after t0).
pub const MAX_INTENDED_US: u64 = (1 << (64 - LAG_BITS)) - 1;

/// Pack the timing of one record into the delivery opaque.
#[inline]
pub fn pack(intended_us: u64, lag_us: u64) -> usize {
    ((intended_us.min(MAX_INTENDED_US) << LAG_BITS) | lag_us.min(MAX_LAG_US)) as usize
}

/// Inverse of [`pack`]: (intended µs since t0, schedule lag µs).
#[inline]
pub fn unpack(opaque: usize) -> (u64, u64) {
    let v = opaque as u64;
    (v >> LAG_BITS, v & MAX_LAG_US)
}

/// What a producer ships to the collector when it crosses an interval boundary.
#[derive(Debug)]
pub struct IntervalSnapshot {
    pub producer: u32,
    /// Interval index: covers [idx, idx+1) seconds after t0.
    pub idx: u64,
    /// How long it lasted: 1 s, less for the run's last one (it ends with the flush).
    pub length_us: u64,
    /// Corrected latency of the records delivered in this interval.
    pub corrected: Histogram<u64>,
    pub counts: IntervalCounts,
    /// Records awaiting a delivery report at the end of the interval.
    pub in_flight: u64,
}

pub struct Recorder {
    producer: u32,
    warmup_us: u64,
    /// False in fire-and-forget mode: successes are not reported, only failures.
    latency: bool,
    t: Totals,
    /// Records enqueued exactly on schedule: counted here, added to the lag histogram once.
    zero_lag: u64,
    /// Corrected and uncorrected latency of the records that were behind schedule. For a
    /// record on schedule both latencies are equal, so the uncorrected histogram is
    /// derived at the end (corrected - corrected_lagged + uncorrected_lagged) and the
    /// common case records one histogram instead of two.
    corrected_lagged: Histogram<u64>,
    uncorrected_lagged: Histogram<u64>,
    in_flight: u64,
    interval_idx: u64,
    interval_end_us: u64,
    /// Corrected latency of this interval's deliveries, split by warm-up so each delivery
    /// records one histogram: the measured part is added to the run's `corrected` when the
    /// interval closes (and at `finish`), both parts form the interval's snapshot.
    interval_hist: Histogram<u64>,
    interval_warmup_hist: Histogram<u64>,
    interval: IntervalCounts,
    /// Many topics: each topic's counts (indexed by the producer's topic index), allocated
    /// before t0; empty with one topic, when the worker never calls the `topic_*` methods.
    topics: Vec<TopicCounts>,
}

impl Recorder {
    pub fn new(producer: u32, warmup_us: u64, latency: bool) -> Self {
        Recorder {
            producer,
            warmup_us,
            latency,
            t: Totals::default(),
            zero_lag: 0,
            corrected_lagged: new_histogram(),
            uncorrected_lagged: new_histogram(),
            in_flight: 0,
            interval_idx: 0,
            interval_end_us: 1_000_000,
            interval_hist: new_histogram(),
            interval_warmup_hist: new_histogram(),
            interval: IntervalCounts::default(),
            topics: Vec::new(),
        }
    }

    /// Count per topic too: `n` topics (only for runs with more than one).
    pub fn with_topics(mut self, n: usize) -> Self {
        self.topics = vec![TopicCounts::default(); n];
        self
    }

    /// Topic `t` got a record handed over (`ok`) or refused at enqueue.
    #[inline]
    pub fn topic_enqueued(&mut self, t: usize, intended_us: u64, bytes: u64, ok: bool) {
        let (latency, measured) = (self.latency, intended_us >= self.warmup_us);
        if let Some(c) = self.topics.get_mut(t) {
            c.sent += 1;
            if !ok {
                c.failed += 1;
            } else if !latency && measured {
                // Fire-and-forget: no report brings the bytes (as `on_enqueued`); the
                // record counts as delivered unless a failure report comes.
                c.measured_bytes += bytes;
                c.measured_delivered += 1;
            }
        }
    }

    /// Topic `t`'s delivery report (its opaque, whether it succeeded, the bytes).
    #[inline]
    pub fn topic_reported(&mut self, t: usize, opaque: usize, err: RDKafkaRespErr, bytes: u64) {
        let (intended_us, _) = unpack(opaque);
        let measured = intended_us >= self.warmup_us;
        let latency = self.latency;
        let Some(c) = self.topics.get_mut(t) else {
            return;
        };
        if !latency && measured && err != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            c.measured_delivered = c.measured_delivered.saturating_sub(1);
        }
        if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            c.delivered += 1;
            if measured {
                c.measured_delivered += 1;
                c.measured_bytes += bytes;
            }
        } else if crate::domain::errors::is_unknown_outcome(err) {
            c.unknown += 1;
        } else {
            c.failed += 1;
        }
    }

    #[inline]
    fn bucket(&mut self, intended_us: u64) -> &mut Counts {
        if intended_us < self.warmup_us {
            &mut self.t.warmup
        } else {
            // Records are handed over in schedule order: the first one sets it.
            if self.t.measured_first_intended_us.is_none() {
                self.t.measured_first_intended_us = Some(intended_us);
            }
            &mut self.t.measured
        }
    }

    /// Records awaiting an outcome.
    #[inline]
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// A record of `bytes` payload bytes was accepted by the producer (its opaque was made
    /// with [`pack`]).
    #[inline]
    pub fn on_enqueued(&mut self, intended_us: u64, enqueue_us: u64, bytes: u64) {
        let lag = enqueue_us.saturating_sub(intended_us);
        if lag > MAX_LAG_US {
            self.t.lag_saturated += 1;
        }
        self.bucket(intended_us).sent += 1;
        if intended_us >= self.warmup_us && self.latency {
            if lag == 0 {
                self.zero_lag += 1;
            } else {
                let _ = self.t.schedule_lag.record(lag);
            }
        }
        self.interval.sent += 1;
        // Without success reports (fire-and-forget) nothing would ever decrement it.
        if self.latency {
            self.in_flight += 1;
        } else {
            // No delivery report will bring the bytes: count what was handed over, so
            // the byte rate reflects what was sent rather than reading 0.
            self.interval.bytes += bytes;
            if intended_us >= self.warmup_us {
                self.t.measured_bytes += bytes;
            }
        }
    }

    /// A record was refused at enqueue (queue full past the block time, or invalid).
    #[inline]
    pub fn on_enqueue_failed(&mut self, intended_us: u64, code: RDKafkaRespErr) {
        let b = self.bucket(intended_us);
        b.sent += 1;
        b.failed += 1;
        self.interval.sent += 1;
        self.interval.failed += 1;
        self.count_error(code);
    }

    /// A successful delivery report, served at `now_us`.
    #[inline]
    pub fn on_delivered(&mut self, opaque: usize, now_us: u64, bytes: u64) {
        let (intended_us, lag_us) = unpack(opaque);
        self.in_flight = self.in_flight.saturating_sub(1);
        let corrected = now_us.saturating_sub(intended_us);
        if intended_us >= self.warmup_us {
            self.t.measured.delivered += 1;
            self.t.measured_bytes += bytes;
            self.t.measured_last_delivery_us = self.t.measured_last_delivery_us.max(now_us);
            if self.latency {
                let _ = self.interval_hist.record(corrected);
                if lag_us > 0 {
                    let _ = self.corrected_lagged.record(corrected);
                    let _ = self
                        .uncorrected_lagged
                        .record(corrected.saturating_sub(lag_us));
                }
            }
        } else {
            self.t.warmup.delivered += 1;
            if self.latency {
                let _ = self.interval_warmup_hist.record(corrected);
            }
        }
        self.interval.delivered += 1;
        self.interval.bytes += bytes;
    }

    /// A failed delivery report. Purged records (flush deadline) are unknown, not failed.
    pub fn on_failed(&mut self, opaque: usize, code: RDKafkaRespErr) {
        let (intended_us, _) = unpack(opaque);
        self.in_flight = self.in_flight.saturating_sub(1);
        if crate::domain::errors::is_unknown_outcome(code) {
            self.bucket(intended_us).unknown += 1;
            return;
        }
        self.bucket(intended_us).failed += 1;
        self.interval.failed += 1;
        self.count_error(code);
    }

    fn count_error(&mut self, code: RDKafkaRespErr) {
        count_error(&mut self.t.errors, code, 1);
    }

    /// The run ended with `n` records due but not yet sent.
    pub fn behind_schedule(&mut self, n: u64) {
        self.t.behind_schedule += n;
    }

    /// Duration of one transaction commit (flush + commit_transaction).
    pub fn on_commit(&mut self, dur_us: u64) {
        let _ = self.t.commit.record(dur_us);
    }

    /// µs since t0 at which the current interval ends.
    #[inline]
    pub fn interval_end_us(&self) -> u64 {
        self.interval_end_us
    }

    /// Close the current interval if `now_us` is past its end.
    pub fn roll(&mut self, now_us: u64) -> Option<IntervalSnapshot> {
        if now_us < self.interval_end_us {
            return None;
        }
        Some(self.take_interval(now_us))
    }

    /// Close the current interval unconditionally (at the end of the run).
    pub fn take_interval(&mut self, now_us: u64) -> IntervalSnapshot {
        let start_us = self.interval_idx * 1_000_000;
        let mut corrected = std::mem::replace(&mut self.interval_hist, new_histogram());
        // Same bounds on both sides: adding cannot fail.
        let _ = self.t.corrected.add(&corrected);
        if !self.interval_warmup_hist.is_empty() {
            let _ = corrected.add(&self.interval_warmup_hist);
            self.interval_warmup_hist.reset();
        }
        let snap = IntervalSnapshot {
            producer: self.producer,
            idx: self.interval_idx,
            length_us: now_us.min(self.interval_end_us).saturating_sub(start_us),
            corrected,
            counts: std::mem::take(&mut self.interval),
            in_flight: self.in_flight,
        };
        self.interval_idx = (now_us / 1_000_000).max(self.interval_idx + 1);
        self.interval_end_us = (self.interval_idx + 1) * 1_000_000;
        snap
    }

    /// Fire-and-forget mode: at the end every record that is neither failed nor unknown
    /// was delivered as far as the client can tell.
    pub fn infer_delivered(&mut self, flushed_us: u64) {
        for c in [&mut self.t.measured, &mut self.t.warmup] {
            c.delivered = c.sent - c.failed - c.unknown;
        }
        if self.t.measured.delivered > 0 {
            self.t.measured_last_delivery_us = flushed_us;
        }
        for c in &mut self.topics {
            c.delivered = c.sent - c.failed - c.unknown;
        }
        self.in_flight = 0;
    }

    /// Records never reported at all are unknown (called after purge and the last poll).
    pub fn unreported_to_unknown(&mut self) {
        for c in [&mut self.t.measured, &mut self.t.warmup] {
            let reported = c.delivered + c.failed + c.unknown;
            c.unknown += c.sent.saturating_sub(reported);
        }
        for c in &mut self.topics {
            let reported = c.delivered + c.failed + c.unknown;
            c.unknown += c.sent.saturating_sub(reported);
        }
        self.in_flight = 0;
    }

    pub fn finish(mut self, generation_end_us: u64) -> Totals {
        self.t.generation_end_us = generation_end_us;
        // Deliveries since the last interval closed.
        let _ = self.t.corrected.add(&self.interval_hist);
        let _ = self.t.schedule_lag.record_n(0, self.zero_lag);
        let mut unc = self.t.corrected.clone();
        // Exact: the lagged records were recorded into `corrected` with the same values.
        let _ = unc.subtract(&self.corrected_lagged);
        let _ = unc.add(&self.uncorrected_lagged);
        self.t.uncorrected = unc;
        self.t.topics = self.topics;
        self.t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_round_trips() {
        for (i, l) in [(0, 0), (1, 2), (3_600_000_000, 5), (123, MAX_LAG_US)] {
            assert_eq!(unpack(pack(i, l)), (i, l));
        }
        assert_eq!(unpack(pack(7, MAX_LAG_US + 10)), (7, MAX_LAG_US));
    }

    #[test]
    fn corrected_includes_lag_and_uncorrected_excludes_it() {
        let mut r = Recorder::new(0, 0, true);
        r.on_enqueued(1_000, 1_500, 10); // 500 µs behind schedule
        let o = pack(1_000, 500);
        r.on_delivered(o, 3_000, 100);
        let t = r.finish(3_000);
        assert_eq!(t.corrected.max(), 2_000);
        assert_eq!(t.uncorrected.max(), 1_500);
        assert_eq!(t.schedule_lag.max(), 500);
        assert_eq!(t.measured.delivered, 1);
        assert_eq!(t.measured_bytes, 100);
    }

    #[test]
    fn uncorrected_is_exact_for_a_mix_of_on_time_and_late_records() {
        let mut r = Recorder::new(0, 0, true);
        let mut expect = new_histogram();
        for i in 0..1_000u64 {
            let lag = if i % 3 == 0 { i * 7 } else { 0 };
            r.on_enqueued(i, i + lag, 10);
            let done = i + lag + 100 + i % 50;
            r.on_delivered(pack(i, lag), done, 1);
            expect.record(done - (i + lag)).unwrap();
        }
        let t = r.finish(2_000);
        assert_eq!(t.uncorrected, expect);
        assert_eq!(t.schedule_lag.len(), 1_000);
        assert_eq!(t.schedule_lag.count_at(0), 667); // i % 3 != 0, plus i = 0
    }

    #[test]
    fn warmup_records_are_counted_but_not_measured() {
        let mut r = Recorder::new(0, 1_000_000, true);
        r.on_enqueued(10, 10, 10);
        r.on_enqueued(1_000_001, 1_000_001, 10);
        let (a, b) = (pack(10, 0), pack(1_000_001, 0));
        r.on_delivered(a, 1_200_000, 10);
        r.on_delivered(b, 1_300_000, 10);
        let t = r.finish(1_300_000);
        assert_eq!(t.warmup.sent, 1);
        assert_eq!(t.warmup.delivered, 1);
        assert_eq!(t.measured.delivered, 1);
        assert_eq!(t.corrected.len(), 1);
        // Only the measured record counts towards throughput, though both were
        // delivered after the warm-up.
        assert_eq!(t.measured_bytes, 10);
        assert_eq!(t.measured_last_delivery_us, 1_300_000);
    }

    #[test]
    fn purged_records_are_unknown_and_identity_holds() {
        let mut r = Recorder::new(0, 0, true);
        for t in 1..=3 {
            r.on_enqueued(t, t, 10);
        }
        let (a, b) = (pack(1, 0), pack(2, 0));
        r.on_enqueue_failed(4, RDKafkaRespErr::RD_KAFKA_RESP_ERR__QUEUE_FULL);
        r.on_failed(a, RDKafkaRespErr::RD_KAFKA_RESP_ERR__PURGE_INFLIGHT);
        r.on_failed(b, RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
        r.unreported_to_unknown();
        let t = r.finish(10);
        let c = &t.measured;
        assert_eq!((c.sent, c.delivered, c.failed, c.unknown), (4, 0, 2, 2));
        assert!(c.identity_holds());
        assert_eq!(t.errors.len(), 2);
    }

    #[test]
    fn intervals_roll_on_second_boundaries() {
        let mut r = Recorder::new(0, 0, true);
        r.on_enqueued(10, 10, 10);
        r.on_delivered(pack(10, 0), 500_000, 1);
        assert!(r.roll(999_999).is_none());
        let s = r.roll(1_000_001).expect("boundary crossed");
        assert_eq!((s.idx, s.counts.delivered, s.corrected.len()), (0, 1, 1));
        // A stall over several seconds jumps straight to the current interval.
        let s = r.roll(4_200_000).expect("boundary crossed");
        assert_eq!(s.idx, 1);
        assert_eq!(r.interval_end_us(), 5_000_000);
    }

    #[test]
    fn the_last_interval_carries_its_real_length() {
        let mut r = Recorder::new(0, 0, true);
        assert_eq!(
            r.roll(1_000_000).expect("whole second").length_us,
            1_000_000
        );
        // The run ends 3 ms into its fifth second: that interval is 3 ms long, not 1 s.
        r.roll(4_000_000);
        let s = r.take_interval(4_003_000);
        assert_eq!((s.idx, s.length_us), (4, 3_000));
    }

    #[test]
    fn run_and_interval_histograms_hold_exactly_their_deliveries() {
        // Warm-up ends at 1.5 s; deliveries straddle it and three interval boundaries.
        let mut r = Recorder::new(0, 1_500_000, true);
        let (mut measured, mut all) = (new_histogram(), new_histogram());
        let mut intervals = Vec::new();
        let mut first_second = 0;
        for i in 0..4_000u64 {
            let intended = i * 1_000;
            let done = intended + 200 + i % 700;
            r.on_enqueued(intended, intended, 1);
            if let Some(s) = r.roll(done) {
                intervals.push(s.corrected);
            }
            r.on_delivered(pack(intended, 0), done, 1);
            all.record(done - intended).unwrap();
            first_second += u64::from(done < 1_000_000);
            if intended >= 1_500_000 {
                measured.record(done - intended).unwrap();
            }
        }
        intervals.push(r.take_interval(5_000_000).corrected);
        let t = r.finish(5_000_000);
        assert_eq!(t.corrected, measured);
        assert_eq!(intervals.len(), 4);
        let mut merged = new_histogram();
        for h in &intervals {
            merged.add(h).unwrap();
        }
        assert_eq!(merged, all);
        // The first second is all warm-up and still shows in its interval.
        assert_eq!(intervals[0].len(), first_second);
        assert!(first_second > 900);
    }

    #[test]
    fn fire_and_forget_counts_the_bytes_it_sent() {
        let mut r = Recorder::new(0, 1_000, false);
        r.on_enqueued(10, 10, 100); // warm-up
        r.on_enqueued(2_000, 2_000, 40);
        r.on_enqueued(3_000, 3_000, 60);
        let s = r.take_interval(500_000);
        assert_eq!((s.counts.sent, s.counts.bytes), (3, 200));
        r.infer_delivered(600_000);
        let t = r.finish(500_000);
        assert_eq!((t.measured.delivered, t.measured_bytes), (2, 100));
    }
}
