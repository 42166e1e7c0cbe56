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
//! sync sends and `max_in_flight_records` keep the one-record path. With several topics a
//! turn's records are split by topic (each record's topic from the route cycle) into one
//! batch per topic, and each batch that got records is one call; with one topic the fill is
//! the same code as before (a const parameter), one batch.
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

/// The reusable batches, one per topic (many topics: the records of one turn are split
/// by topic, one `rd_kafka_produce_batch` call per topic that got any).
pub(super) struct Slots {
    per: Vec<TopicSlots>,
    /// Many topics: the topics that got records this turn, in first-use order.
    touched: Vec<u16>,
}

/// One topic's batch and each slot's intended time (ns since t0).
pub(super) struct TopicSlots {
    batch: Batch,
    intended_ns: [u64; BATCH],
}

impl Slots {
    /// Allocated before t0: a batch for each of `topics`.
    pub(super) fn new(topics: usize) -> Self {
        Slots {
            per: (0..topics.max(1))
                .map(|_| TopicSlots {
                    batch: Batch::default(),
                    intended_ns: [0; BATCH],
                })
                .collect(),
            touched: Vec::with_capacity(BATCH),
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
            // One branch per batch: without consumers or topics the fill is as before.
            let n = match (self.stamp.is_some(), self.many) {
                (true, false) => self.fill::<true, false>(first_ns, now_ns, max, slots),
                (false, false) => self.fill::<false, false>(first_ns, now_ns, max, slots),
                (true, true) => self.fill::<true, true>(first_ns, now_ns, max, slots),
                (false, true) => self.fill::<false, true>(first_ns, now_ns, max, slots),
            };
            let now_ns = if self.many {
                let mut now = now_ns;
                for j in 0..slots.touched.len() {
                    let t = slots.touched[j] as usize;
                    now = self.send_batch(t, now, &mut slots.per[t]);
                }
                now
            } else {
                self.send_batch(0, now_ns, &mut slots.per[0])
            };
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
    fn fill<const STAMP: bool, const MANY: bool>(
        &mut self,
        first_ns: u64,
        now_ns: u64,
        max: usize,
        slots: &mut Slots,
    ) -> usize {
        if MANY {
            for &t in &slots.touched {
                slots.per[t as usize].batch.clear();
            }
            slots.touched.clear();
        } else {
            slots.per[0].batch.clear();
        }
        let enq_us = now_ns / 1_000;
        let mut n = 0;
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
            let (t, r) = if MANY {
                let t = self.next_topic();
                (t, self.source.next_for(t))
            } else {
                (0, self.source.next())
            };
            let intended_us = intended_ns / 1_000;
            let opaque = pack(intended_us, enq_us.saturating_sub(intended_us));
            let value = match (STAMP, &mut self.stamp) {
                (true, Some(s)) => s.put(k, r.value, intended_ns),
                _ => r.value,
            };
            let ts = &mut slots.per[t];
            if MANY && ts.batch.is_empty() {
                slots.touched.push(t as u16);
            }
            ts.intended_ns[ts.batch.len()] = intended_ns;
            ts.batch.push(r.partition, r.key, value, opaque);
            n += 1;
        }
        n
    }

    /// Enqueue the batch, recording each slot's outcome; blocks (serving delivery reports)
    /// while the queue is full, as `send` does. Returns the time of the last attempt.
    #[inline(always)]
    fn send_batch(&mut self, topic: usize, mut now_ns: u64, slots: &mut TopicSlots) -> u64 {
        let len = slots.batch.len();
        let mut from = 0;
        while from < len {
            self.producer.set_clock_for(topic, now_ns);
            self.producer
                .produce_batch_to(topic, &mut slots.batch, from);
            let enq_us = now_ns / 1_000;
            let mut retry = None;
            for k in from..len {
                let intended_ns = slots.intended_ns[k];
                let intended_us = intended_ns / 1_000;
                match slots.batch.err(k) {
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR => {
                        let bytes = slots.batch.bytes(k) + self.sink.header_bytes;
                        self.sink.rec.on_enqueued(intended_us, enq_us, bytes);
                        if self.many {
                            self.sink
                                .rec
                                .topic_enqueued(topic, intended_us, bytes, true);
                        }
                    }
                    // librdkafka refused this slot and every later one of the call.
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR__QUEUE_FULL
                        if self.spec.on_full == OnFull::Block
                            && now_ns.saturating_sub(intended_ns) < self.max_block_ns
                            && !self.stopped() =>
                    {
                        retry = Some(k);
                        break;
                    }
                    e => {
                        self.sink.rec.on_enqueue_failed(intended_us, e);
                        if self.many {
                            self.sink.rec.topic_enqueued(topic, intended_us, 0, false);
                        }
                    }
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
