//! librdkafka's sticky partitioner for keyless records, reproduced in a partitioner
//! callback that reads the producer's per-batch clock instead of the clock per record.
//!
//! librdkafka 2.12 (`rd_kafka_msg_partitioner` / `rd_kafka_msg_sticky_partition` in
//! rdkafka_msg.c) sends a record through the sticky path when the topic's partitioner is
//! not one of the pure hashes (`consistent`, `murmur2`, `fnv1a`), `sticky.partitioning.
//! linger.ms` is above 0 (default: twice `linger.ms`), and the record has no key (NULL;
//! also an empty key under `consistent_random`). Per record it then (1) checks that the
//! current sticky partition is available (`rd_kafka_topic_partition_available`: the
//! partition exists and has a leader broker) and, if not, makes the interval due; (2) asks
//! `rd_interval` whether more than the linger has passed since the last switch (one
//! monotonic clock read); (3) if so, picks a new partition with
//! `rd_kafka_msg_partitioner_random` (a uniform pick, redrawn once if unavailable). Every
//! other record goes to the configured partitioner function.
//!
//! A partitioner callback does not change that by itself: librdkafka takes the sticky path
//! before it looks at the callback. So kprod sets `sticky.partitioning.linger.ms=0` on the
//! client (the callback is then called for every record needing a partition) and does the
//! same three steps here with the user's linger and the worker's clock read of the current
//! `rd_kafka_produce_batch` call (at most 64 records, a few µs, against a linger of ms).
//! Availability (step 1) is likewise checked on the batch's first keyless record, not on
//! every one: a partition that loses its leader is left from the next batch, µs later —
//! librdkafka itself learns of a leader loss from metadata, ms to s after the fact. Keyed
//! records call the librdkafka function the `partitioner` property names, so they land
//! exactly where they would without the callback.
//!
//! Measured (benches/hot_path.rs, `KPROD_BENCH_AB`): the clock alone saved ~4% of the
//! process's CPU per record; with availability per batch, ~13% (~23% of the producer
//! thread's).
//!
//! Whole batches: while the linger runs, a batch whose records are all keyless already
//! knows its partition, so the worker names it in the `rd_kafka_produce_batch` call
//! ([`Sticky::current`]) instead of leaving each record unassigned. librdkafka then looks
//! the partition up once per call and enqueues each record with the call's clock; an
//! unassigned record costs a partitioner call, a partition lookup with its reference
//! count taken and dropped, a counter and a monotonic clock read of its own
//! (`rd_kafka_msg_partitioner`). The price: availability is checked when the callback
//! picks (at the start of each linger window) rather than on every batch, so a partition
//! that loses its leader mid-window keeps its records queued until the window ends (at
//! most the linger, 10 ms by default) — as records already partitioned when librdkafka
//! learns of a leader loss stay queued there.
//!
//! Records librdkafka had to hold before the topic's metadata arrived are partitioned later
//! from librdkafka's own thread with the last clock the worker stored; the state is atomics
//! (relaxed) because of that, like librdkafka's own unsynchronised sticky fields.

use rdkafka_sys as rdsys;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering::Relaxed};

type PartitionerFn = unsafe extern "C" fn(
    *const rdsys::rd_kafka_topic_t,
    *const c_void,
    usize,
    i32,
    *mut c_void,
    *mut c_void,
) -> i32;

/// `last_ns` before the first switch (librdkafka: `ri_ts_last == 0`, always due).
const NEVER: u64 = u64::MAX;

/// One producer's sticky state; `rkt_opaque` of its topic handle points here.
pub struct Sticky {
    /// The worker's clock (ns since t0) at the current batch.
    now_ns: AtomicU64,
    /// When the sticky partition last changed.
    last_ns: AtomicU64,
    partition: AtomicI32,
    /// The batch clock at which `partition` was last found available.
    checked_ns: AtomicU64,
    linger_ns: u64,
    /// The configured partitioner, for records that do not take the sticky path.
    keyed: PartitionerFn,
    /// `consistent_random` sends empty (non-NULL) keys through the sticky path too.
    empty_key_sticky: bool,
}

impl Sticky {
    /// The state for a client configured with `props`, or None when librdkafka would not
    /// use the sticky path for keyless records (linger 0, or a pure hash partitioner).
    pub fn for_props(props: &BTreeMap<String, String>) -> Option<Sticky> {
        let linger_ms = effective_linger_ms(props)?;
        if linger_ms <= 0 {
            return None;
        }
        let name = props
            .get("partitioner")
            .map_or("consistent_random", |s| s.as_str());
        let keyed: PartitionerFn = match name {
            "consistent_random" => rdsys::rd_kafka_msg_partitioner_consistent_random,
            "murmur2_random" => rdsys::rd_kafka_msg_partitioner_murmur2_random,
            "fnv1a_random" => rdsys::rd_kafka_msg_partitioner_fnv1a_random,
            "random" => rdsys::rd_kafka_msg_partitioner_random,
            // consistent, murmur2, fnv1a: never sticky; anything else librdkafka refuses.
            _ => return None,
        };
        Some(Sticky {
            now_ns: AtomicU64::new(0),
            last_ns: AtomicU64::new(NEVER),
            partition: AtomicI32::new(0),
            checked_ns: AtomicU64::new(NEVER),
            linger_ns: linger_ms as u64 * 1_000_000,
            keyed,
            empty_key_sticky: name == "consistent_random",
        })
    }

    /// The clock of the batch about to be produced.
    #[inline]
    pub fn set_now_ns(&self, now_ns: u64) {
        self.now_ns.store(now_ns, Relaxed);
    }

    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.now_ns.load(Relaxed)
    }

    /// The partition a batch of keyless records produced at `now_ns` gets without asking
    /// the callback: the current sticky partition while its linger runs (None before the
    /// first pick and once the linger has passed: then the batch goes through the
    /// callback, which checks availability and picks). See "Whole batches" above.
    #[inline]
    pub fn current(&self, now_ns: u64) -> Option<i32> {
        let last = self.last_ns.load(Relaxed);
        if last == NEVER || now_ns > last.saturating_add(self.linger_ns) {
            return None;
        }
        Some(self.partition.load(Relaxed))
    }

    /// Steps (1)-(3) of the module doc, with availability and the random pick passed in;
    /// availability is asked once per batch clock value.
    #[inline]
    fn pick(&self, available: impl Fn(i32) -> bool, random: impl FnOnce() -> i32) -> i32 {
        let p = self.partition.load(Relaxed);
        let now = self.now_ns.load(Relaxed);
        let fresh = self.checked_ns.load(Relaxed) == now;
        let last = if fresh || available(p) {
            self.last_ns.load(Relaxed)
        } else {
            NEVER
        };
        self.checked_ns.store(now, Relaxed);
        // rd_interval: due when now > last + linger.
        if last == NEVER || now > last.saturating_add(self.linger_ns) {
            let p = random();
            self.last_ns.store(now, Relaxed);
            self.partition.store(p, Relaxed);
            return p;
        }
        p
    }
}

/// `sticky.partitioning.linger.ms` as librdkafka's producer finalises it: the explicit
/// value, else twice `linger.ms` (alias `queue.buffering.max.ms`, default 5) capped at
/// 900000. None when a value does not parse (librdkafka then refuses the config anyway).
pub fn effective_linger_ms(props: &BTreeMap<String, String>) -> Option<i64> {
    if let Some(v) = props.get("sticky.partitioning.linger.ms") {
        return v.trim().parse().ok();
    }
    let linger: f64 = match props
        .get("linger.ms")
        .or_else(|| props.get("queue.buffering.max.ms"))
    {
        Some(v) => v.trim().parse().ok()?,
        None => 5.0,
    };
    Some(((2.0 * linger) as i64).min(900_000))
}

/// The partitioner callback; `rkt_opaque` is the producer's [`Sticky`].
///
/// # Safety
/// Called by librdkafka with a proper topic handle whose opaque is a live `Sticky`.
pub unsafe extern "C" fn partition(
    rkt: *const rdsys::rd_kafka_topic_t,
    key: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    // SAFETY (caller): the opaque outlives the client (NativeProducer drops it last).
    let s = &*(rkt_opaque as *const Sticky);
    let sticky_path = key.is_null() || (keylen == 0 && s.empty_key_sticky);
    if !sticky_path {
        return (s.keyed)(rkt, key, keylen, partition_cnt, rkt_opaque, msg_opaque);
    }
    s.pick(
        // SAFETY: librdkafka allows this call from inside a partitioner.
        |p| rdsys::rd_kafka_topic_partition_available(rkt, p) != 0,
        || {
            rdsys::rd_kafka_msg_partitioner_random(
                rkt,
                key,
                keylen,
                partition_cnt,
                rkt_opaque,
                msg_opaque,
            )
        },
    )
}

#[cfg(test)]
mod tests;
