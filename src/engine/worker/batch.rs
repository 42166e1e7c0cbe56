//! The batched send path: records due at the same moment (all of them when flat out; the
//! ones a paced producer is behind on) go to librdkafka in one `rd_kafka_produce_batch`
//! call instead of one `rd_kafka_produce` each.
//!
//! Per record, `rd_kafka_produce` reads the wall clock and the monotonic clock and takes
//! the topic lock; the batch call does that once per call. Nothing else changes: each
//! record keeps its own intended time and schedule lag in its opaque, its own partition
//! (-1 still runs the configured partitioner) and its own outcome: a slot librdkafka
//! refuses is retried (queue full under `on_full = block`) or counted failed exactly as
//! on the one-record path. Records with headers (including `--verify`'s), transactions,
//! sync sends and `max_in_flight_records` keep the one-record path.
//!
//! The batch's one clock read is every slot's enqueue time. Flat out, it is also every
//! slot's intended time, so a slot's corrected latency includes the few µs the call spends
//! on the slots before it (at most 64 records of ~0.2 µs); paced, a slot's schedule lag
//! omits them (they show in corrected latency, which starts at the intended time).

use super::{drain, Hot, WorkerSpec, POLL_EVERY};
use crate::engine::native::{Batch, BATCH};
use crate::measure::recorder::pack;
use crate::profile::{OnFull, SendMode};
use crate::workload::RecordSource;
use rdkafka::types::RDKafkaRespErr;

/// Whether this producer's records can go through the batch path.
pub(super) fn eligible(spec: &WorkerSpec, source: &RecordSource) -> bool {
    spec.send_mode != SendMode::Sync
        && spec.records_per_transaction.is_none()
        && spec.verify.is_none()
        && spec.max_in_flight_records.is_none()
        && source.payloads().headers().is_empty()
}

/// The reusable batch and each slot's intended time (ns since t0).
pub(super) struct Slots {
    batch: Batch,
    intended_ns: [u64; BATCH],
}

impl Default for Slots {
    fn default() -> Self {
        Slots {
            batch: Batch::default(),
            intended_ns: [0; BATCH],
        }
    }
}

impl Hot<'_> {
    /// `generate` for eligible producers: the same stop conditions, a batch per turn.
    pub(super) fn generate_batched(&mut self, slots: &mut Slots) {
        loop {
            if self.stopped() || self.sink.fatal.is_some() {
                break;
            }
            let left = self
                .spec
                .records
                .map_or(u64::MAX, |n| n.saturating_sub(self.i));
            if left == 0 {
                break;
            }
            // The first record waits for its time (and checks the end) as on the
            // one-record path; the rest join it only if they are due too.
            let Some((first_ns, now_ns)) = self.due() else {
                break;
            };
            let max = left.min(BATCH as u64) as usize;
            // One branch per batch: without consumers the fill is as before.
            let n = match self.stamp.is_some() {
                true => self.fill::<true>(first_ns, now_ns, max, slots),
                false => self.fill::<false>(first_ns, now_ns, max, slots),
            };
            let now_ns = self.send_batch(now_ns, slots);
            self.i += n as u64;
            if self.paced {
                drain(self.producer, &mut self.sink);
                self.sink.roll(now_ns / 1_000);
            } else {
                self.since_poll += n as u32;
                if self.since_poll >= POLL_EVERY {
                    self.since_poll = 0;
                    drain(self.producer, &mut self.sink);
                    self.sink.roll(now_ns / 1_000);
                }
            }
        }
    }

    /// Put the records due by `now_ns` (at most `max`, the first due at `first_ns`) into
    /// the batch; returns how many.
    #[inline(always)]
    fn fill<const STAMP: bool>(
        &mut self,
        first_ns: u64,
        now_ns: u64,
        max: usize,
        slots: &mut Slots,
    ) -> usize {
        slots.batch.clear();
        let enq_us = now_ns / 1_000;
        for k in 0..max {
            let intended_ns = if k == 0 {
                first_ns
            } else {
                match self.pacer.intended_ns(self.i + k as u64) {
                    // Flat out: every record is due now.
                    None => now_ns,
                    Some(t) if t <= now_ns && self.end_ns.is_none_or(|e| t < e) => t,
                    Some(_) => break,
                }
            };
            let r = self.source.next();
            let intended_us = intended_ns / 1_000;
            let opaque = pack(intended_us, enq_us.saturating_sub(intended_us));
            let value = match (STAMP, &mut self.stamp) {
                (true, Some(s)) => s.put(k, r.value, intended_ns),
                _ => r.value,
            };
            slots.batch.push(r.partition, r.key, value, opaque);
            slots.intended_ns[k] = intended_ns;
        }
        slots.batch.len()
    }

    /// Enqueue the batch, recording each slot's outcome; blocks (serving delivery reports)
    /// while the queue is full, as `send` does. Returns the time of the last attempt.
    #[inline(always)]
    fn send_batch(&mut self, mut now_ns: u64, slots: &mut Slots) -> u64 {
        let len = slots.batch.len();
        let mut from = 0;
        while from < len {
            self.producer.set_clock(now_ns);
            self.producer.produce_batch(&mut slots.batch, from);
            let enq_us = now_ns / 1_000;
            let mut retry = None;
            for k in from..len {
                let intended_ns = slots.intended_ns[k];
                let intended_us = intended_ns / 1_000;
                match slots.batch.err(k) {
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR => self.sink.rec.on_enqueued(
                        intended_us,
                        enq_us,
                        slots.batch.bytes(k) + self.sink.header_bytes,
                    ),
                    // librdkafka refused this slot and every later one of the call.
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR__QUEUE_FULL
                        if self.spec.on_full == OnFull::Block
                            && now_ns.saturating_sub(intended_ns) < self.max_block_ns
                            && !self.stopped() =>
                    {
                        retry = Some(k);
                        break;
                    }
                    e => self.sink.rec.on_enqueue_failed(intended_us, e),
                }
            }
            let Some(k) = retry else { break };
            // Blocking send: serve delivery reports until there is room. The wait is
            // schedule lag, carried in the retried records' opaques.
            self.producer.poll(1, &mut self.sink);
            now_ns = self.clock.now_ns();
            let enq_us = now_ns / 1_000;
            for j in k..len {
                let intended_us = slots.intended_ns[j] / 1_000;
                slots
                    .batch
                    .set_opaque(j, pack(intended_us, enq_us.saturating_sub(intended_us)));
            }
            from = k;
        }
        now_ns
    }
}
