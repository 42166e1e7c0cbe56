//! One producer thread: paces records, enqueues them, serves delivery reports and ships
//! interval snapshots to the collector.
//!
//! The loop owns its producer handle, record source and recorder outright; the only
//! state shared with other threads is the stop flag (read with a relaxed load) and the
//! channel that carries one snapshot per second. Per record it reads the clock once,
//! picks pre-built slices, enqueues without copying and records into its own histograms.

use super::native::{build_headers, EventSink, NativeProducer};
use crate::domain::Totals;
use crate::measure::clock::Clock;
use crate::measure::recorder::IntervalSnapshot;
use crate::measure::recorder::{pack, Recorder};
use crate::profile::{OnFull, SendMode};
use crate::verify::{Ledger, TAG_HEADER, TAG_LEN};
use crate::workload::{Pacer, RecordSource};
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaRespErr;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    pub topic: String,
    /// Records per second for this producer; None = unlimited.
    pub rate: Option<f64>,
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
}

/// Flags shared by all producer threads of a run.
pub struct RunFlags {
    /// Stop generating (Ctrl-C, SIGTERM, or a fatal error elsewhere).
    pub stop: AtomicBool,
    /// The stop came from a signal: flush with the short deadline.
    pub interrupted: AtomicBool,
}

const INTERRUPT_FLUSH: Duration = Duration::from_secs(5);
const PURGE_GRACE: Duration = Duration::from_secs(2);
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

/// Run one producer to completion. Blocks until its share is sent and flushed.
pub fn run(
    spec: WorkerSpec,
    producer: NativeProducer,
    mut source: RecordSource,
    tx: Sender<WorkerMsg>,
    start: Receiver<Clock>,
    flags: Arc<RunFlags>,
) {
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
    // Learn the topic's leaders before t0, as a long-running application would have.
    let _ = producer
        .base()
        .client()
        .fetch_metadata(Some(&spec.topic), Duration::from_secs(10));
    let _ = tx.send(WorkerMsg::Ready {
        producer: spec.index,
    });
    let Ok(clock) = start.recv() else { return };

    let latency = spec.send_mode != SendMode::FireAndForget;
    let mut sink = Sink {
        rec: Recorder::new(spec.index, spec.warmup.as_micros() as u64, latency),
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
    // The verify header's value, rewritten in place per record (no allocation).
    let mut tag = [0u8; TAG_LEN];
    if let Some(v) = &spec.verify {
        tag[..4].copy_from_slice(&v.instance.to_be_bytes());
        tag[4..8].copy_from_slice(&spec.index.to_be_bytes());
    }
    let pacer = Pacer::new(spec.rate);
    // A paced producer has idle time between records: it serves reports after each one.
    let paced = !pacer.is_unlimited();
    let end_ns = spec.end.map(|d| d.as_nanos() as u64);
    let max_block_ns = spec.max_block.as_nanos() as u64;
    let (mut committed, mut aborted) = (0u64, 0u64);
    let mut in_txn = false;
    let mut txn_records = 0u64;
    let mut since_poll = 0u32;
    let mut i: u64 = 0;

    loop {
        if flags.stop.load(Ordering::Relaxed) || sink.fatal.is_some() {
            break;
        }
        if spec.records.is_some_and(|n| i >= n) {
            break;
        }
        if let Some(n) = spec.records_per_transaction {
            if !in_txn {
                match producer.begin_transaction() {
                    Ok(()) => in_txn = true,
                    Err(e) => {
                        sink.fatal = Some(format!("begin_transaction: {e}"));
                        break;
                    }
                }
            }
            if txn_records >= n {
                match commit(&producer, &mut sink, spec.transaction_timeout) {
                    Ok(()) => committed += 1,
                    Err(e) => {
                        // Counted only once the abort went through; the final commit after
                        // the loop must not retry a transaction already given up on.
                        in_txn = false;
                        if let Err(e2) = producer.abort_transaction(spec.transaction_timeout) {
                            sink.fatal = Some(format!("commit failed ({e}), abort failed ({e2})"));
                            break;
                        }
                        aborted += 1;
                    }
                }
                in_txn = false;
                txn_records = 0;
                continue;
            }
        }

        // When is this record due, and when is it actually enqueued.
        let mut now_ns = clock.now_ns();
        let intended_ns = match pacer.intended_ns(i) {
            Some(t) => {
                while now_ns < t {
                    let gap = t - now_ns;
                    if gap > 2_000_000 {
                        // Block on the queue: wakes as soon as a delivery report arrives.
                        let ms = ((gap / 1_000_000) - 1).min(100) as i32;
                        producer.poll(ms, &mut sink);
                    } else if gap > 30_000 {
                        drain(&producer, &mut sink);
                        // Wake a little early and spin the rest: sleeps overshoot by a few µs.
                        let now = clock.now_ns();
                        if t > now + 20_000 {
                            std::thread::sleep(Duration::from_nanos(t - now - 15_000));
                        }
                    } else {
                        drain(&producer, &mut sink);
                        std::hint::spin_loop();
                    }
                    now_ns = clock.now_ns();
                    sink.roll(now_ns / 1_000);
                    if flags.stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                t
            }
            None => now_ns,
        };
        if let Some(e) = end_ns {
            // The duration bounds wall time too: a generator behind schedule stops on time
            // and reports what it still owed instead of running on.
            if intended_ns >= e || now_ns >= e {
                let due = pacer
                    .due_by(e.saturating_sub(1))
                    .min(spec.records.unwrap_or(u64::MAX));
                if due != u64::MAX {
                    sink.rec.behind_schedule(due.saturating_sub(i));
                }
                break;
            }
        }
        if flags.stop.load(Ordering::Relaxed) {
            break;
        }
        let intended_us = intended_ns / 1_000;

        if let Some(max) = spec.max_in_flight_records {
            // kprod's own semaphore: wait for delivery reports, never drop.
            while sink.rec.in_flight() >= max && !flags.stop.load(Ordering::Relaxed) {
                producer.poll(1, &mut sink);
            }
            now_ns = clock.now_ns();
        }

        let r = source.next();
        if sink.ledger.is_some() {
            tag[8..].copy_from_slice(&i.to_be_bytes());
        }
        loop {
            let headers = if sink.ledger.is_some() {
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
            match producer.produce(r.partition, r.key, r.value, headers, opaque) {
                Ok(()) => {
                    let bytes = r.key.map_or(0, <[u8]>::len) + r.value.len();
                    sink.rec
                        .on_enqueued(intended_us, enq_us, bytes as u64 + sink.header_bytes);
                    if let Some(l) = &mut sink.ledger {
                        l.enqueued(i);
                    }
                    break;
                }
                Err(RDKafkaRespErr::RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    if spec.on_full == OnFull::Block
                        && now_ns.saturating_sub(intended_ns) < max_block_ns
                        && !flags.stop.load(Ordering::Relaxed) =>
                {
                    // Blocking send: serve delivery reports until there is room. The time
                    // spent here is schedule lag and shows in corrected latency.
                    producer.poll(1, &mut sink);
                    now_ns = clock.now_ns();
                }
                Err(e) => {
                    sink.rec.on_enqueue_failed(intended_us, e);
                    if let Some(l) = &mut sink.ledger {
                        l.refused(i);
                    }
                    break;
                }
            }
        }
        i += 1;
        txn_records += 1;

        if spec.send_mode == SendMode::Sync {
            while sink.rec.in_flight() > 0 && sink.fatal.is_none() {
                producer.poll(100, &mut sink);
                if flags.interrupted.load(Ordering::Relaxed) {
                    break;
                }
            }
            sink.roll(sink.now_us());
        } else {
            since_poll += 1;
            if since_poll >= POLL_EVERY || paced {
                since_poll = 0;
                drain(&producer, &mut sink);
                sink.roll(now_ns / 1_000);
            }
        }
    }

    let generation_end_us = sink.now_us();
    if in_txn {
        // After a signal the last commit gets the interrupt's flush deadline, not the
        // transaction timeout (minutes), so Ctrl-C still ends the run promptly.
        let timeout = if flags.interrupted.load(Ordering::Relaxed) {
            spec.transaction_timeout.min(INTERRUPT_FLUSH)
        } else {
            spec.transaction_timeout
        };
        match commit(&producer, &mut sink, timeout) {
            Ok(()) => committed += 1,
            Err(_) => {
                if producer.abort_transaction(timeout).is_ok() {
                    aborted += 1;
                }
            }
        }
    }
    finish_outstanding(&producer, &mut sink, &spec, &flags, latency);
    let now_us = sink.now_us();
    let last = sink.rec.take_interval(now_us);
    let _ = tx.send(WorkerMsg::Interval(last));
    let Sink {
        rec, fatal, ledger, ..
    } = sink;
    let _ = tx.send(WorkerMsg::Done(Box::new(WorkerDone {
        producer: spec.index,
        totals: rec.finish(generation_end_us),
        committed,
        aborted,
        fatal,
        ledger,
    })));
    drop(producer);
}

/// Flush, then commit; the measured time covers both because that is what a
/// transactional application waits for.
fn commit(p: &NativeProducer, sink: &mut Sink<'_>, timeout: Duration) -> Result<(), String> {
    let start = Instant::now();
    let deadline = start + timeout;
    while (sink.rec.in_flight() > 0 || p.outq_len() > 0) && Instant::now() < deadline {
        p.poll(10, sink);
        let now = sink.now_us();
        sink.roll(now);
    }
    let res = p.commit_transaction(deadline.saturating_duration_since(Instant::now()));
    // commit_transaction may leave delivery reports on the queue.
    drain(p, sink);
    if res.is_ok() {
        sink.rec.on_commit(start.elapsed().as_micros() as u64);
    }
    res
}

/// Wait for outstanding delivery reports up to the flush deadline, then purge what is
/// left so every record ends delivered, failed or unknown.
fn finish_outstanding(
    p: &NativeProducer,
    sink: &mut Sink<'_>,
    spec: &WorkerSpec,
    flags: &RunFlags,
    latency: bool,
) {
    let pending = |p: &NativeProducer, s: &Sink<'_>| {
        if latency {
            s.rec.in_flight() > 0 || p.outq_len() > 0
        } else {
            p.outq_len() > 0
        }
    };
    let mut deadline = Instant::now() + spec.flush_timeout;
    while pending(p, sink) && Instant::now() < deadline {
        if flags.interrupted.load(Ordering::Relaxed) {
            deadline = deadline.min(Instant::now() + INTERRUPT_FLUSH);
        }
        p.poll(10, sink);
        let now = sink.now_us();
        sink.roll(now);
    }
    if pending(p, sink) {
        p.purge();
        let grace = Instant::now() + PURGE_GRACE;
        while pending(p, sink) && Instant::now() < grace {
            p.poll(10, sink);
        }
    }
    drain(p, sink);
    if latency {
        sink.rec.unreported_to_unknown();
    } else {
        let flushed = sink.now_us();
        sink.rec.infer_delivered(flushed);
    }
}
