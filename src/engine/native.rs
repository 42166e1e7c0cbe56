//! The producer handle on the hot path: librdkafka's C API, called directly.
//!
//! rust-rdkafka creates and configures the client and runs transactions, but its `send`
//! allocates a C string per record, copies every payload and looks the topic up by name,
//! and its `poll` dispatches one callback per record. kprod produces through a topic handle
//! without copying (payloads live in pools that outlive the producer), many records per
//! `rd_kafka_produce_batch` call where it can ([`Batch`]), and serves delivery reports
//! straight off the event queue, batch by batch.

use crate::client::client_config;
pub use crate::client::VERBOSE;
use crate::engine::sticky::{self, Sticky};
use crate::engine::wakeup::Wakeup;
use crate::error::{ConfigError, KprodError};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};
use rdkafka::types::RDKafkaRespErr;
use rdkafka_sys as rdsys;
use std::collections::BTreeMap;
use std::ffi::{c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod batch;
pub use batch::{Batch, BATCH};

/// Client context: routes librdkafka's log lines; delivery reports never come through it
/// because kprod serves the event queue itself.
pub struct KprodContext;

impl ClientContext for KprodContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if VERBOSE.load(Ordering::Relaxed) {
            crate::domain::print_stderr(&crate::profile::scrub(&format!(
                "librdkafka {level:?} {fac}: {log_message}"
            )));
        }
    }
    fn error(&self, _error: rdkafka::error::KafkaError, _reason: &str) {}
}

impl ProducerContext for KprodContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: ()) {}
}

/// Receives what [`NativeProducer::poll`] finds on the event queue.
pub trait EventSink {
    /// Called once before the records of one delivery-report event.
    fn delivery_batch(&mut self);
    /// One record's outcome: its opaque, error code and key+value bytes.
    fn delivery(&mut self, opaque: usize, err: RDKafkaRespErr, key_value_bytes: u64);
    /// One `statistics.interval.ms` emit.
    fn stats(&mut self, json: &CStr);
    /// A client-level error (all brokers down, fatal idempotence error, ...).
    fn client_error(&mut self, code: RDKafkaRespErr, reason: &str, fatal: bool);
    /// `--verify`: true when records carry the verify header and want
    /// [`EventSink::verify_delivery`] with each delivery report.
    fn verifying(&self) -> bool {
        false
    }
    /// `--verify`: the outcome of the record with this sequence number.
    fn verify_delivery(&mut self, _seq: u64, _partition: i32, _err: RDKafkaRespErr) {}
    /// Many topics: the record about to be passed to [`EventSink::delivery`] went to topic
    /// `topic` (the index in the handle's topic list). Not called with one topic.
    fn delivery_topic(&mut self, _topic: usize, _opaque: usize, _err: RDKafkaRespErr, _kv: u64) {}
}

pub struct NativeProducer {
    inner: BaseProducer<KprodContext>,
    /// One handle per topic of the run, in its order (`[[workload.topics]]`); usually one.
    rkts: Box<[*mut rdsys::rd_kafka_topic_t]>,
    queue: *mut rdsys::rd_kafka_queue_t,
    /// The keyless partitioner's state (see `engine::sticky`), one per topic handle (each
    /// topic sticks to its own partition); declared after `inner` so it is dropped only
    /// once the client, which may still call the partitioner, is gone. Filled once before
    /// the handles take pointers into it and never grown, so the states never move.
    sticky: Vec<Sticky>,
    /// Paced producers: the pipe librdkafka signals when the queue gets an event.
    wakeup: Option<Wakeup>,
    /// 0, or `RD_KAFKA_MSG_F_COPY` when values come from a scratch buffer (end-to-end
    /// stamps): librdkafka then copies the payload into the message's own allocation.
    msgflags: libc::c_int,
}

// SAFETY: the handle is created on one thread and then moved into its producer thread,
// which is the only one that uses it; librdkafka handles themselves are thread-safe.
unsafe impl Send for NativeProducer {}

impl NativeProducer {
    /// `batched`: this producer sends through [`NativeProducer::produce_batch`] only and
    /// calls [`NativeProducer::set_clock`] before each batch, so keyless records may be
    /// partitioned by `engine::sticky` (when librdkafka would use its sticky path for them).
    pub fn new(
        props: &BTreeMap<String, String>,
        topic: &str,
        batched: bool,
    ) -> Result<Self, KprodError> {
        Self::with_topics(props, &[topic], batched)
    }

    /// A producer with a handle for each of `topics` (`produce`'s `topic` indexes them).
    pub fn with_topics(
        props: &BTreeMap<String, String>,
        topics: &[&str],
        batched: bool,
    ) -> Result<Self, KprodError> {
        let sticky: Vec<Sticky> = match batched.then(|| Sticky::for_props(props)).flatten() {
            Some(_) => topics
                .iter()
                .filter_map(|_| Sticky::for_props(props))
                .collect(),
            None => Vec::new(),
        };
        let mut config = client_config(props);
        if !sticky.is_empty() {
            // librdkafka takes its own sticky path before a partitioner callback unless
            // its linger is 0; the callback applies the configured linger instead.
            config.set("sticky.partitioning.linger.ms", "0");
        }
        let inner: BaseProducer<KprodContext> =
            config.create_with_context(KprodContext).map_err(|e| {
                KprodError::from(
                    ConfigError::new(format!("librdkafka refused the configuration: {e}"))
                        .fix("run `kprod profiles show` to see the effective properties"),
                )
            })?;
        let rk = inner.client().native_ptr();
        // SAFETY: as below; the main queue carries the events rust-rdkafka enabled
        // (delivery reports, statistics, errors).
        let queue = unsafe { rdsys::rd_kafka_queue_get_main(rk) };
        let mut me = NativeProducer {
            inner,
            rkts: Box::new([]),
            queue,
            sticky,
            wakeup: None,
            msgflags: 0,
        };
        let mut rkts = Vec::with_capacity(topics.len());
        for (i, topic) in topics.iter().enumerate() {
            let rkt = me.topic_handle(topic, me.sticky.get(i));
            match rkt {
                Ok(rkt) => rkts.push(rkt),
                Err(e) => {
                    me.rkts = rkts.into_boxed_slice();
                    return Err(e);
                }
            }
        }
        me.rkts = rkts.into_boxed_slice();
        Ok(me)
    }

    fn topic_handle(
        &self,
        topic: &str,
        sticky: Option<&Sticky>,
    ) -> Result<*mut rdsys::rd_kafka_topic_t, KprodError> {
        let topic_c = CString::new(topic).map_err(|_| {
            KprodError::from(
                ConfigError::new("topic name contains a NUL byte").key("workload.topic"),
            )
        })?;
        let rk = self.inner.client().native_ptr();
        // SAFETY: rk is a live producer handle; a null topic conf means the defaults set
        // on the global conf (partitioner and friends); with the sticky callback, a copy
        // of those defaults plus the callback, whose opaque lives as long as self.
        let rkt = unsafe {
            let tconf = match sticky {
                None => ptr::null_mut(),
                Some(s) => {
                    let tconf = rdsys::rd_kafka_default_topic_conf_dup(rk);
                    rdsys::rd_kafka_topic_conf_set_opaque(tconf, s as *const Sticky as *mut c_void);
                    rdsys::rd_kafka_topic_conf_set_partitioner_cb(tconf, Some(sticky::partition));
                    tconf
                }
            };
            rdsys::rd_kafka_topic_new(rk, topic_c.as_ptr(), tconf)
        };
        if rkt.is_null() {
            return Err(KprodError::Kafka(format!(
                "cannot create a handle for topic {topic}"
            )));
        }
        Ok(rkt)
    }

    /// How many topics this producer has handles for.
    pub fn topic_count(&self) -> usize {
        self.rkts.len()
    }

    /// The index of a delivery report's topic handle (several topics only).
    #[inline]
    fn topic_of(&self, rkt: *mut rdsys::rd_kafka_topic_t) -> usize {
        self.rkts.iter().position(|&r| r == rkt).unwrap_or(0)
    }

    /// Let [`NativeProducer::wait_event`] wake the moment an event is queued (see
    /// `engine::wakeup`). Returns whether it could.
    pub fn enable_wakeup(&mut self) -> bool {
        if self.wakeup.is_none() {
            // SAFETY: the queue lives until Drop, which drops the wakeup first.
            self.wakeup = unsafe { Wakeup::attach(self.queue) };
        }
        self.wakeup.is_some()
    }

    /// Wait up to `timeout_ns` for an event on an emptied queue (µs precision). None when
    /// the wakeup is not enabled; else whether an event arrived.
    #[inline]
    pub fn wait_event(&self, timeout_ns: u64) -> Option<bool> {
        self.wakeup.as_ref().map(|w| w.wait(timeout_ns))
    }

    /// Values are passed from a buffer the caller reuses: librdkafka copies each payload
    /// (one memcpy into the allocation it makes per message anyway).
    pub fn copy_payloads(&mut self) {
        self.msgflags = rdsys::RD_KAFKA_MSG_F_COPY as libc::c_int;
    }

    /// Whether keyless records are partitioned by `engine::sticky`.
    pub fn sticky_callback(&self) -> bool {
        !self.sticky.is_empty()
    }

    /// The clock (ns since t0) of the batch about to be produced: the sticky partitioner's
    /// time, read once per batch instead of once per record.
    #[inline]
    pub fn set_clock(&self, now_ns: u64) {
        self.set_clock_for(0, now_ns);
    }

    /// [`NativeProducer::set_clock`] for the batch about to go to topic `topic`.
    #[inline]
    pub fn set_clock_for(&self, topic: usize, now_ns: u64) {
        if let Some(s) = self.sticky.get(topic) {
            s.set_now_ns(now_ns);
        }
    }

    pub fn base(&self) -> &BaseProducer<KprodContext> {
        &self.inner
    }

    /// Enqueue one record without copying it. `value` and `key` must stay valid until the
    /// record's delivery report has been served (kprod's pools outlive the producer).
    /// `headers` go to librdkafka on success and are destroyed on failure.
    #[inline]
    pub fn produce(
        &self,
        topic: usize,
        partition: i32,
        key: Option<&[u8]>,
        value: &[u8],
        headers: Option<HeaderList>,
        opaque: usize,
    ) -> Result<(), RDKafkaRespErr> {
        let (kp, kl) = key.map_or((ptr::null_mut(), 0), |k| {
            (k.as_ptr() as *mut c_void, k.len())
        });
        let vp = value.as_ptr() as *mut c_void;
        let rkt = self.rkts[topic];
        let Some(headers) = headers else {
            // SAFETY: rkt is live; flags 0 = librdkafka references the payload, which the
            // caller guarantees outlives the delivery report (F_COPY: copied here).
            let rc = unsafe {
                rdsys::rd_kafka_produce(
                    rkt,
                    partition,
                    self.msgflags,
                    vp,
                    value.len(),
                    kp,
                    kl,
                    opaque as *mut c_void,
                )
            };
            return if rc == 0 {
                Ok(())
            } else {
                // SAFETY: reads the calling thread's last error.
                Err(unsafe { rdsys::rd_kafka_last_error() })
            };
        };
        {
            use rdsys::rd_kafka_vtype_t::*;
            // SAFETY: the variadic list follows librdkafka's documented (type, value...)
            // pairs and ends with RD_KAFKA_VTYPE_END.
            let err = unsafe {
                rdsys::rd_kafka_producev(
                    self.inner.client().native_ptr(),
                    RD_KAFKA_VTYPE_RKT,
                    rkt,
                    RD_KAFKA_VTYPE_PARTITION,
                    partition,
                    RD_KAFKA_VTYPE_MSGFLAGS,
                    self.msgflags,
                    RD_KAFKA_VTYPE_VALUE,
                    vp,
                    value.len(),
                    RD_KAFKA_VTYPE_KEY,
                    kp,
                    kl,
                    RD_KAFKA_VTYPE_OPAQUE,
                    opaque as *mut c_void,
                    RD_KAFKA_VTYPE_HEADERS,
                    headers.0,
                    RD_KAFKA_VTYPE_END,
                )
            };
            if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                // librdkafka owns the list now.
                std::mem::forget(headers);
                Ok(())
            } else {
                Err(err)
            }
        }
    }

    /// Enqueue the records in `batch[from..]` with one `rd_kafka_produce_batch` call, without
    /// copying (same lifetime contract as [`NativeProducer::produce`]). Each slot's
    /// [`Batch::err`] says whether it was accepted; after a `_QUEUE_FULL` librdkafka refuses
    /// every later slot of the call too. Returns how many were accepted.
    ///
    /// Against one `rd_kafka_produce` per record this reads the wall and monotonic clocks
    /// once per call instead of once per record and takes the topic lock once.
    ///
    /// When every slot is keyless and unassigned and the sticky partitioner's linger is
    /// running (see `engine::sticky`, "Whole batches"), the call names that partition, so
    /// librdkafka skips its per-record partitioner, partition lookup and clock read; the
    /// slots' partitions are set to it.
    #[inline]
    pub fn produce_batch(&self, batch: &mut Batch, from: usize) -> usize {
        self.produce_batch_to(0, batch, from)
    }

    /// [`NativeProducer::produce_batch`] to topic `topic` (its own sticky partition).
    #[inline]
    pub fn produce_batch_to(&self, topic: usize, batch: &mut Batch, from: usize) -> usize {
        let fixed = match self.sticky.get(topic) {
            Some(s) if batch.keyless => s.current(s.now_ns()),
            _ => None,
        };
        let msgs = &mut batch.msgs[from..batch.len];
        if msgs.is_empty() {
            return 0;
        }
        // F_PARTITION = each slot's partition (UA runs the partitioner); without it, the
        // call's partition for all.
        let (partition, flags) = match fixed {
            Some(p) => {
                for m in msgs.iter_mut() {
                    m.partition = p;
                }
                (p, 0)
            }
            None => {
                if batch.keyless {
                    // A retried tail may carry the partition of an earlier fixed call.
                    for m in msgs.iter_mut() {
                        m.partition = -1;
                    }
                }
                (-1, rdsys::RD_KAFKA_MSG_F_PARTITION as libc::c_int)
            }
        };
        // SAFETY: rkt is live; the slots are initialised rd_kafka_message_t values whose
        // payload and key point into pools that outlive the delivery reports; no copy, no
        // free.
        let n = unsafe {
            rdsys::rd_kafka_produce_batch(
                self.rkts[topic],
                partition,
                flags | self.msgflags,
                msgs.as_mut_ptr(),
                msgs.len() as libc::c_int,
            )
        };
        n.max(0) as usize
    }

    /// Serve at most one event from the queue, waiting up to `timeout_ms`.
    /// Returns None when no event was ready, else the number of delivery reports served.
    pub fn poll<S: EventSink>(&self, timeout_ms: i32, sink: &mut S) -> Option<usize> {
        // SAFETY: the queue is live for the life of self; every event is destroyed once.
        unsafe {
            let ev = rdsys::rd_kafka_queue_poll(self.queue, timeout_ms);
            if ev.is_null() {
                return None;
            }
            let mut n = 0;
            match rdsys::rd_kafka_event_type(ev) {
                rdsys::RD_KAFKA_EVENT_DR => {
                    sink.delivery_batch();
                    let verifying = sink.verifying();
                    let many = self.rkts.len() > 1;
                    loop {
                        let m = rdsys::rd_kafka_event_message_next(ev);
                        if m.is_null() {
                            break;
                        }
                        if verifying {
                            if let Some(seq) = verify_seq(m) {
                                let m = &*m;
                                sink.verify_delivery(seq, m.partition, m.err);
                            }
                        }
                        let m = &*m;
                        let kv = (m.len + m.key_len) as u64;
                        if many {
                            sink.delivery_topic(
                                self.topic_of(m.rkt),
                                m._private as usize,
                                m.err,
                                kv,
                            );
                        }
                        sink.delivery(m._private as usize, m.err, kv);
                        n += 1;
                    }
                }
                rdsys::RD_KAFKA_EVENT_STATS => {
                    let s = rdsys::rd_kafka_event_stats(ev);
                    if !s.is_null() {
                        sink.stats(CStr::from_ptr(s));
                    }
                }
                rdsys::RD_KAFKA_EVENT_ERROR => {
                    let code = rdsys::rd_kafka_event_error(ev);
                    let s = rdsys::rd_kafka_event_error_string(ev);
                    let reason = if s.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(s).to_string_lossy().into_owned()
                    };
                    let fatal = rdsys::rd_kafka_event_error_is_fatal(ev) != 0;
                    sink.client_error(code, &reason, fatal);
                }
                // rust-rdkafka routes librdkafka's log to the main queue, which kprod serves
                // itself; the lines are shown with --verbose, scrubbed of secret values.
                rdsys::RD_KAFKA_EVENT_LOG if VERBOSE.load(Ordering::Relaxed) => {
                    let (mut fac, mut msg, mut level) = (ptr::null(), ptr::null(), 0);
                    if rdsys::rd_kafka_event_log(ev, &mut fac, &mut msg, &mut level) == 0 {
                        let text = |p: *const libc::c_char| {
                            if p.is_null() {
                                String::new()
                            } else {
                                CStr::from_ptr(p).to_string_lossy().into_owned()
                            }
                        };
                        crate::domain::print_stderr(&crate::profile::scrub(&format!(
                            "librdkafka {level} {}: {}",
                            text(fac),
                            text(msg)
                        )));
                    }
                }
                _ => {}
            }
            rdsys::rd_kafka_event_destroy(ev);
            Some(n)
        }
    }

    /// Records librdkafka still holds (queued, in flight, or reported but not yet served).
    pub fn outq_len(&self) -> i32 {
        // SAFETY: live handle.
        unsafe { rdsys::rd_kafka_outq_len(self.inner.client().native_ptr()) }
    }

    /// Give up on everything queued or in flight: their delivery reports come back as
    /// `_PURGE_QUEUE` / `_PURGE_INFLIGHT` (outcome unknown).
    pub fn purge(&self) {
        // SAFETY: live handle; non-blocking purge only enqueues the reports.
        unsafe {
            rdsys::rd_kafka_purge(
                self.inner.client().native_ptr(),
                rdsys::RD_KAFKA_PURGE_F_QUEUE
                    | rdsys::RD_KAFKA_PURGE_F_INFLIGHT
                    | rdsys::RD_KAFKA_PURGE_F_NON_BLOCKING,
            );
        }
    }

    pub fn init_transactions(&self, timeout: Duration) -> Result<(), String> {
        self.inner
            .init_transactions(timeout)
            .map_err(|e| e.to_string())
    }
    pub fn begin_transaction(&self) -> Result<(), String> {
        self.inner.begin_transaction().map_err(|e| e.to_string())
    }
    pub fn commit_transaction(&self, timeout: Duration) -> Result<(), String> {
        self.inner
            .commit_transaction(timeout)
            .map_err(|e| e.to_string())
    }
    pub fn abort_transaction(&self, timeout: Duration) -> Result<(), String> {
        self.inner
            .abort_transaction(timeout)
            .map_err(|e| e.to_string())
    }
}

impl Drop for NativeProducer {
    fn drop(&mut self) {
        // librdkafka must stop writing to the pipe before the queue goes.
        self.wakeup = None;
        // SAFETY: created in new(), destroyed exactly once, before the client itself.
        unsafe {
            rdsys::rd_kafka_queue_destroy(self.queue);
            for &rkt in self.rkts.iter() {
                rdsys::rd_kafka_topic_destroy(rkt);
            }
        }
    }
}

/// One record's header list, owned until librdkafka accepts the record.
pub struct HeaderList(*mut rdsys::rd_kafka_headers_t);

impl Drop for HeaderList {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_headers_new and not handed to librdkafka.
        unsafe { rdsys::rd_kafka_headers_destroy(self.0) }
    }
}

/// Build a header list for one record; None when there are no headers.
#[inline]
pub fn build_headers<'a>(
    count: usize,
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> Option<HeaderList> {
    if count == 0 {
        return None;
    }
    // SAFETY: header_add copies name and value into the list.
    unsafe {
        let h = rdsys::rd_kafka_headers_new(count);
        for (name, value) in pairs {
            rdsys::rd_kafka_header_add(
                h,
                name.as_ptr() as *const libc::c_char,
                name.len() as isize,
                value.as_ptr() as *const c_void,
                value.len() as isize,
            );
        }
        Some(HeaderList(h))
    }
}

/// The sequence number in a delivered record's verify header, read in place.
///
/// # Safety
/// `m` must be a live message of a delivery-report event.
unsafe fn verify_seq(m: *const rdsys::rd_kafka_message_t) -> Option<u64> {
    let mut hdrs: *mut rdsys::rd_kafka_headers_t = ptr::null_mut();
    // SAFETY (caller): m is live; the header list stays owned by the message.
    if rdsys::rd_kafka_message_headers(m, &mut hdrs) != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        return None;
    }
    let mut val: *const c_void = ptr::null();
    let mut size: usize = 0;
    let name = crate::verify::TAG_HEADER_C;
    if rdsys::rd_kafka_header_get_last(hdrs, name.as_ptr(), &mut val, &mut size)
        != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR
        || val.is_null()
    {
        return None;
    }
    let bytes = std::slice::from_raw_parts(val as *const u8, size);
    crate::verify::parse_tag(bytes).map(|t| t.seq)
}
