//! One producer thread: paces records, enqueues them, serves delivery reports and ships
//! interval snapshots to the collector.
//!
//! The loop owns its producer handle, record source and recorder outright; the only
//! state shared with other threads is the stop flag (read with a relaxed load) and the
//! channel that carries one snapshot per second. Per record it picks pre-built slices,
//! enqueues without copying and records into its own histograms; records due at the same
//! moment share one clock read and one `rd_kafka_produce_batch` call (`batch`).

use super::native::{build_headers, EventSink, NativeProducer};
use crate::domain::Totals;
use crate::measure::clock::Clock;
use crate::measure::recorder::IntervalSnapshot;
use crate::measure::recorder::{pack, Recorder};
use crate::profile::{OnFull, SendMode};
use crate::verify::{Ledger, TAG_HEADER, TAG_LEN};
use crate::workload::{Curve, Pacer, RecordSource};
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaRespErr;
use stamped::Stamp;
pub use stamped::StampSpec;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;
use txn::{TxnStep, TxnStepper};

mod batch;
mod finish;
mod stamped;
mod txn;
mod wait;

/// What producer threads tell the collector.
#[derive(Debug)]
pub enum WorkerMsg {
    /// Ready to start (transactions initialised).
    Ready {
        producer: u32,
    },
    Interval(IntervalSnapshot),
    Stats {
        producer: u32,
        json: String,
    },
    ClientError {
        producer: u32,
        message: String,
        fatal: bool,
    },
    Done(Box<WorkerDone>),
}

#[derive(Debug)]
pub struct WorkerDone {
    pub producer: u32,
    pub totals: Totals,
    pub committed: u64,
    pub aborted: u64,
    /// Set when the producer stopped on an error it cannot continue after.
    pub fatal: Option<String>,
    /// `--verify`: the outcome of every record this producer sent.
    pub ledger: Option<Ledger>,
}

/// `--verify` settings of one producer.
#[derive(Debug, Clone)]
pub struct VerifySpec {
    /// Written into each record's header with the producer index and sequence number.
    pub instance: u32,
    /// Sizes the ledger before t0, so it rarely grows during the run.
    pub expected_records: u64,
}

/// Everything a producer thread needs to know about its share of the run.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub index: u32,
    /// The run's topics (usually one); records go to them in `route` order.
    pub topics: Vec<String>,
    /// Many topics: the routing cycle (topic indices, `profile::topics::route_cycle`);
    /// record i goes to `route[i % len]`. Empty with one topic.
    pub route: Vec<u16>,
    /// Records per second for this producer; None = unlimited.
    pub rate: Option<f64>,
    /// Load stages: this producer's rate curve (then `rate` is only its mean).
    pub curve: Option<Curve>,
    /// Records for this producer; None = until the duration ends.
    pub records: Option<u64>,
    /// Stop generating at this time since t0.
    pub end: Option<Duration>,
    pub warmup: Duration,
    pub send_mode: SendMode,
    pub on_full: OnFull,
    pub max_block: Duration,
    pub max_in_flight_records: Option<u64>,
    pub records_per_transaction: Option<u64>,
    pub transaction_timeout: Duration,
    pub flush_timeout: Duration,
    /// Bytes of headers per record (constant for a run), counted in payload bytes.
    pub header_bytes: u64,
    pub verify: Option<VerifySpec>,
    /// Consumers are on: each value starts with the end-to-end stamp (`engine::stamp`).
    pub stamp: Option<StampSpec>,
}

/// Flags shared by all producer threads of a run.
pub struct RunFlags {
    /// Stop generating (Ctrl-C, SIGTERM, or a fatal error elsewhere).
    pub stop: AtomicBool,
    /// The stop came from a signal: flush with the short deadline.
    pub interrupted: AtomicBool,
}

/// How late after the end of the duration a record due before it may still be sent.
const END_GRACE_NS: u64 = 5_000_000;

/// A record due at `intended_ns`, reached at `now_ns`, is still sent in a run ending at `end_ns`.
#[inline(always)]
fn still_due(intended_ns: u64, now_ns: u64, end_ns: u64) -> bool {
    intended_ns < end_ns && now_ns < end_ns + END_GRACE_NS
}

/// The flush deadline after a signal (also a last transaction's commit).
const INTERRUPT_FLUSH: Duration = Duration::from_secs(5);
/// Records between two drains of the event queue when running flat out.
const POLL_EVERY: u32 = 64;

struct Sink<'a> {
    rec: Recorder,
    clock: Clock,
    now_us: u64,
    producer: u32,
    header_bytes: u64,
    tx: &'a Sender<WorkerMsg>,
    errors_sent: u32,
    fatal: Option<String>,
    ledger: Option<Ledger>,
}

impl EventSink for Sink<'_> {
    #[inline]
    fn delivery_batch(&mut self) {
        self.now_us = self.clock.now_us();
    }
    #[inline]
    fn delivery(&mut self, opaque: usize, err: RDKafkaRespErr, kv_bytes: u64) {
        if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            self.rec
                .on_delivered(opaque, self.now_us, kv_bytes + self.header_bytes);
        } else {
            self.rec.on_failed(opaque, err);
        }
    }
    #[inline]
    fn verifying(&self) -> bool {
        self.ledger.is_some()
    }
    #[inline]
    fn verify_delivery(&mut self, seq: u64, partition: i32, err: RDKafkaRespErr) {
        if let Some(l) = &mut self.ledger {
            l.reported(seq, partition, err);
        }
    }
    #[inline]
    fn delivery_topic(&mut self, topic: usize, opaque: usize, err: RDKafkaRespErr, kv: u64) {
        self.rec
            .topic_reported(topic, opaque, err, kv + self.header_bytes);
    }
    fn stats(&mut self, json: &CStr) {
        let _ = self.tx.send(WorkerMsg::Stats {
            producer: self.producer,
            json: json.to_string_lossy().into_owned(),
        });
    }
    fn client_error(&mut self, code: RDKafkaRespErr, reason: &str, fatal: bool) {
        // Brokers going away repeat the same error many times a second; the first few
        // say everything.
        if self.errors_sent < 20 || fatal {
            self.errors_sent += 1;
            let _ = self.tx.send(WorkerMsg::ClientError {
                producer: self.producer,
                message: crate::profile::scrub(&format!(
                    "{}: {reason}",
                    crate::domain::errors::error_name(code)
                )),
                fatal,
            });
        }
        if fatal {
            self.fatal = Some(reason.to_string());
        }
    }
}

impl Sink<'_> {
    #[inline]
    fn now_us(&self) -> u64 {
        self.clock.now_us()
    }
    fn roll(&mut self, now_us: u64) {
        if let Some(s) = self.rec.roll(now_us) {
            let _ = self.tx.send(WorkerMsg::Interval(s));
        }
    }
}

/// Serve every event that is ready now, up to a bound so sending is not starved.
#[inline]
fn drain(p: &NativeProducer, sink: &mut Sink<'_>) {
    for _ in 0..64 {
        if p.poll(0, sink).is_none() {
            break;
        }
    }
}

/// Whether this producer sends through `rd_kafka_produce_batch` only (and so keeps
/// [`NativeProducer::set_clock`] current).
pub fn batched(spec: &WorkerSpec, source: &RecordSource) -> bool {
    batch::eligible(spec, source)
}

/// Run one producer to completion. Blocks until its share is sent and flushed.
pub fn run(
    spec: WorkerSpec,
    producer: NativeProducer,
    source: RecordSource,
    tx: Sender<WorkerMsg>,
    start: Receiver<Clock>,
    flags: Arc<RunFlags>,
) {
    let mut producer = producer;
    // A paced producer waits between sends: let it wake for a delivery report at once.
    let paced = spec.curve.is_some() || !Pacer::new(spec.rate).is_unlimited();
    if paced {
        producer.enable_wakeup();
    }
    prepare(&spec, &producer, &tx);
    // Allocated before t0, like every other buffer of the loop.
    let mut stamp = spec.stamp.as_ref().map(Stamp::alloc);
    let Ok(clock) = start.recv() else { return };
    if let Some(s) = &mut stamp {
        s.base_unix_ns = clock.t0_unix_ns();
    }

    let latency = spec.send_mode != SendMode::FireAndForget;
    let mut rec = Recorder::new(spec.index, spec.warmup.as_micros() as u64, latency);
    if spec.topics.len() > 1 {
        rec = rec.with_topics(spec.topics.len());
    }
    let sink = Sink {
        rec,
        clock,
        now_us: 0,
        producer: spec.index,
        header_bytes: spec.header_bytes,
        tx: &tx,
        errors_sent: 0,
        fatal: None,
        ledger: spec
            .verify
            .as_ref()
            .map(|v| Ledger::new(spec.index, v.expected_records)),
    };
    let mut hot = Hot::new(&spec, &producer, source, sink, &flags);
    hot.stamp = stamp;
    hot.generate();
    let Hot {
        mut sink, mut txn, ..
    } = hot;

    let generation_end_us = sink.now_us();
    let interrupted = flags.interrupted.load(Ordering::Relaxed);
    txn.finish(&producer, &mut sink, interrupted);
    finish::finish_outstanding(&producer, &mut sink, &spec, &flags, latency);
    let now_us = sink.now_us();
    let last = sink.rec.take_interval(now_us);
    let _ = tx.send(WorkerMsg::Interval(last));
    let Sink {
        rec, fatal, ledger, ..
    } = sink;
    let _ = tx.send(WorkerMsg::Done(Box::new(WorkerDone {
        producer: spec.index,
        totals: rec.finish(generation_end_us),
        committed: txn.committed,
        aborted: txn.aborted,
        fatal,
        ledger,
    })));
    drop(producer);
}

/// Before t0: transactions initialised, timer slack lowered, leaders known, and the
/// collector told this producer is ready.
fn prepare(spec: &WorkerSpec, producer: &NativeProducer, tx: &Sender<WorkerMsg>) {
    if spec.records_per_transaction.is_some() {
        if let Err(e) = producer.init_transactions(spec.transaction_timeout) {
            let _ = tx.send(WorkerMsg::ClientError {
                producer: spec.index,
                message: format!("init_transactions: {e}"),
                fatal: true,
            });
        }
    }
    // The default 50 µs timer slack would make every short sleep of the pacer overshoot.
    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
    }
    // Learn the topics' leaders before t0, as a long-running application would have
    // (several topics: one request for all of them).
    let one = match spec.topics.as_slice() {
        [t] => Some(t.as_str()),
        _ => None,
    };
    let _ = producer
        .base()
        .client()
        .fetch_metadata(one, Duration::from_secs(10));
    let _ = tx.send(WorkerMsg::Ready {
        producer: spec.index,
    });
}

/// The state of the generation loop. Its per-record steps are `#[inline(always)]` so
/// `generate` compiles to one loop, as when it was a single function.
struct Hot<'a> {
    spec: &'a WorkerSpec,
    producer: &'a NativeProducer,
    flags: &'a RunFlags,
    source: RecordSource,
    sink: Sink<'a>,
    clock: Clock,
    pacer: Pacer,
    /// A paced producer has idle time between records: it serves reports after each one.
    paced: bool,
    end_ns: Option<u64>,
    max_block_ns: u64,
    /// The verify header's value, rewritten in place per record (no allocation).
    tag: [u8; TAG_LEN],
    /// Consumers are on: values are stamped into this scratch buffer.
    stamp: Option<Stamp>,
    txn: TxnStepper,
    since_poll: u32,
    /// Index of the next record.
    i: u64,
    /// Many topics: the routing cycle and the next record's place in it.
    many: bool,
    route_at: usize,
}

impl<'a> Hot<'a> {
    fn new(
        spec: &'a WorkerSpec,
        producer: &'a NativeProducer,
        source: RecordSource,
        sink: Sink<'a>,
        flags: &'a RunFlags,
    ) -> Hot<'a> {
        let mut tag = [0u8; TAG_LEN];
        if let Some(v) = &spec.verify {
            tag[..4].copy_from_slice(&v.instance.to_be_bytes());
            tag[4..8].copy_from_slice(&spec.index.to_be_bytes());
        }
        let pacer = match &spec.curve {
            Some(c) => Pacer::staged(c.clone()),
            None => Pacer::new(spec.rate),
        };
        let paced = !pacer.is_unlimited();
        Hot {
            spec,
            producer,
            flags,
            source,
            clock: sink.clock,
            sink,
            pacer,
            paced,
            end_ns: spec.end.map(|d| d.as_nanos() as u64),
            max_block_ns: spec.max_block.as_nanos() as u64,
            tag,
            stamp: None,
            txn: TxnStepper::new(spec.records_per_transaction, spec.transaction_timeout),
            since_poll: 0,
            i: 0,
            many: spec.route.len() > 1 && spec.topics.len() > 1,
            route_at: 0,
        }
    }

    /// Many topics: the topic of the next record (a step along the routing cycle).
    #[inline(always)]
    fn next_topic(&mut self) -> usize {
        let t = self.spec.route[self.route_at] as usize;
        self.route_at += 1;
        if self.route_at == self.spec.route.len() {
            self.route_at = 0;
        }
        t
    }

    /// Generate until the share is sent, the duration ends, a stop or a fatal error.
    fn generate(&mut self) {
        if batch::eligible(self.spec, &self.source) {
            return self.generate_batched(&mut batch::Slots::new(self.spec.topics.len()));
        }
        loop {
            if self.stopped() || self.sink.fatal.is_some() {
                break;
            }
            if self.spec.records.is_some_and(|n| self.i >= n) {
                break;
            }
            match self.txn.before_record(self.producer, &mut self.sink) {
                TxnStep::Send => {}
                TxnStep::Again => continue,
                TxnStep::Stop => break,
            }
            let Some((intended_ns, now_ns)) = self.due() else {
                break;
            };
            let now_ns = self.send(intended_ns, now_ns);
            self.i += 1;
            self.txn.sent();
            self.serve(now_ns);
        }
    }

    #[inline(always)]
    fn stopped(&self) -> bool {
        self.flags.stop.load(Ordering::Relaxed)
    }

    /// When the next record is due and when it is actually sent: waits for its intended
    /// time; None when the run ends before it.
    #[inline(always)]
    fn due(&mut self) -> Option<(u64, u64)> {
        let mut now_ns = self.clock.now_ns();
        let intended_ns = match self.pacer.intended_ns(self.i) {
            // Never due (stages ending at rate 0): do not wait for the end.
            Some(u64::MAX) => {
                self.past_end(u64::MAX, now_ns);
                return None;
            }
            Some(t) => {
                now_ns = self.wait_until(t, now_ns);
                t
            }
            None => now_ns,
        };
        if self.past_end(intended_ns, now_ns) || self.stopped() {
            return None;
        }
        Some((intended_ns, now_ns))
    }

    /// The duration bounds wall time too: a generator behind schedule stops on time
    /// and reports what it still owed instead of running on. A record due before the end
    /// and reached within `END_GRACE_NS` after it is still sent (its lateness counts in the
    /// corrected latency): the last record of a 20k/s run is due 50 µs before the end, and
    /// a wait that ends that little late is jitter, not a generator that fell behind.
    #[inline(always)]
    fn past_end(&mut self, intended_ns: u64, now_ns: u64) -> bool {
        let Some(e) = self.end_ns else {
            return false;
        };
        if still_due(intended_ns, now_ns, e) {
            return false;
        }
        let due = self
            .pacer
            .due_by(e.saturating_sub(1))
            .min(self.spec.records.unwrap_or(u64::MAX));
        if due != u64::MAX {
            self.sink.rec.behind_schedule(due.saturating_sub(self.i));
        }
        true
    }

    /// Send with backpressure: wait for room under `max_in_flight_records`, then
    /// enqueue the next record, blocking on a full queue when `on_full = block`.
    /// Returns the time of the (last) enqueue attempt.
    #[inline(always)]
    fn send(&mut self, intended_ns: u64, mut now_ns: u64) -> u64 {
        if let Some(max) = self.spec.max_in_flight_records {
            // kprod's own semaphore: wait for delivery reports, never drop.
            while self.sink.rec.in_flight() >= max && !self.stopped() {
                self.producer.poll(1, &mut self.sink);
            }
            now_ns = self.clock.now_ns();
        }
        let intended_us = intended_ns / 1_000;
        let i = self.i;
        let verifying = self.sink.ledger.is_some();
        if verifying {
            self.tag[8..].copy_from_slice(&i.to_be_bytes());
        }
        let topic = if self.many { self.next_topic() } else { 0 };
        let tag = &self.tag;
        let r = match self.many {
            true => self.source.next_for(topic),
            false => self.source.next(),
        };
        let value = match &mut self.stamp {
            Some(s) => s.put(0, r.value, intended_ns),
            None => r.value,
        };
        loop {
            let headers = if verifying {
                build_headers(
                    r.header_count() + 1,
                    r.headers()
                        .iter()
                        .map(|h| (h.name, h.value))
                        .chain(std::iter::once((TAG_HEADER.as_bytes(), &tag[..]))),
                )
            } else {
                build_headers(
                    r.header_count(),
                    r.headers().iter().map(|h| (h.name, h.value)),
                )
            };
            let enq_us = now_ns / 1_000;
            let opaque = pack(intended_us, enq_us.saturating_sub(intended_us));
            match self
                .producer
                .produce(topic, r.partition, r.key, value, headers, opaque)
            {
                Ok(()) => {
                    let bytes = r.key.map_or(0, <[u8]>::len) + value.len();
                    let bytes = bytes as u64 + self.sink.header_bytes;
                    self.sink.rec.on_enqueued(intended_us, enq_us, bytes);
                    if self.many {
                        self.sink
                            .rec
                            .topic_enqueued(topic, intended_us, bytes, true);
                    }
                    if let Some(l) = &mut self.sink.ledger {
                        l.enqueued(i);
                    }
                    return now_ns;
                }
                Err(RDKafkaRespErr::RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    if self.spec.on_full == OnFull::Block
                        && now_ns.saturating_sub(intended_ns) < self.max_block_ns
                        && !self.flags.stop.load(Ordering::Relaxed) =>
                {
                    // Blocking send: serve delivery reports until there is room. The time
                    // spent here is schedule lag and shows in corrected latency.
                    self.producer.poll(1, &mut self.sink);
                    now_ns = self.clock.now_ns();
                }
                Err(e) => {
                    self.sink.rec.on_enqueue_failed(intended_us, e);
                    if self.many {
                        self.sink.rec.topic_enqueued(topic, intended_us, 0, false);
                    }
                    if let Some(l) = &mut self.sink.ledger {
                        l.refused(i);
                    }
                    return now_ns;
                }
            }
        }
    }

    /// After a send: a sync producer waits for its report; others drain the event queue
    /// every record when paced, every `POLL_EVERY` records when flat out.
    #[inline(always)]
    fn serve(&mut self, now_ns: u64) {
        if self.spec.send_mode == SendMode::Sync {
            while self.sink.rec.in_flight() > 0 && self.sink.fatal.is_none() {
                self.producer.poll(100, &mut self.sink);
                if self.flags.interrupted.load(Ordering::Relaxed) {
                    break;
                }
            }
            let now = self.sink.now_us();
            self.sink.roll(now);
        } else {
            self.since_poll += 1;
            if self.since_poll >= POLL_EVERY || self.paced {
                self.since_poll = 0;
                drain(self.producer, &mut self.sink);
                self.sink.roll(now_ns / 1_000);
            }
        }
    }
}
