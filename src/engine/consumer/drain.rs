//! The consumer queue read in batches (`rd_kafka_consume_batch_queue`). rust-rdkafka's
//! `BaseConsumer::poll` returns one message per call and allocates an `Arc` for each;
//! at the producers' peak on the embedded cluster (≈ 2 M records/s) one consumer thread
//! could not keep up and the mock brokers trimmed records it had not read. Draining what
//! the queue holds under one lock halves the thread's cost per record.
//!
//! The wait stays as short as a poll's: when the queue is empty the thread blocks for
//! the first message only, so a record is timed when it arrives, not when a batch fills.

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka_sys as rdsys;
use std::ffi::CStr;
use std::time::Duration;

/// Most messages taken from the queue at once.
const BATCH: usize = 1024;

/// A consumer's own queue and the message slots a batch fills. Must be dropped before the
/// consumer it was taken from (it holds a reference to the consumer's queue).
pub(super) struct Drain {
    queue: *mut rdsys::rd_kafka_queue_t,
    slots: Vec<*mut rdsys::rd_kafka_message_t>,
    filled: usize,
}

// SAFETY: the queue reference and the messages are used only by the thread that owns the
// `Drain`; librdkafka's queues are thread-safe.
unsafe impl Send for Drain {}

/// One message of a batch: its payload, or the error librdkafka returned in its place.
pub(super) enum Got<'a> {
    Payload(Option<&'a [u8]>),
    Error(String),
}

impl Drain {
    pub(super) fn new(consumer: &BaseConsumer) -> Option<Drain> {
        // SAFETY: the client pointer is valid while `consumer` lives, which outlives the
        // Drain (see the type's doc); the returned queue is released in Drop.
        let queue = unsafe { rdsys::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) };
        (!queue.is_null()).then(|| Drain {
            queue,
            slots: vec![std::ptr::null_mut(); BATCH],
            filled: 0,
        })
    }

    /// Releases the previous batch and takes the next: what the queue holds now, or, when
    /// it is empty, the first message to arrive within `wait`. Returns the batch's size.
    pub(super) fn next_batch(&mut self, wait: Duration) -> usize {
        self.release();
        let mut n = self.take(0, BATCH);
        if n == 0 {
            n = self.take(wait.as_millis().min(i32::MAX as u128) as i32, 1);
        }
        self.filled = n;
        n
    }

    /// Message `i` of the current batch (`i` < the size `next_batch` returned).
    pub(super) fn get(&self, i: usize) -> Got<'_> {
        // SAFETY: slots[..filled] hold messages librdkafka returned and that are destroyed
        // only in `release`, which needs `&mut self`; the payload lives as long as its message.
        unsafe {
            let m = &*self.slots[i];
            if m.err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                let text = CStr::from_ptr(rdsys::rd_kafka_message_errstr(m))
                    .to_string_lossy()
                    .into_owned();
                return Got::Error(text);
            }
            Got::Payload(
                (!m.payload.is_null())
                    .then(|| std::slice::from_raw_parts(m.payload as *const u8, m.len)),
            )
        }
    }

    /// The topic handle of message `i` of the current batch: the same pointer for every
    /// message of one topic while the consumer lives, so a thread maps it to the run's
    /// topic index once ([`topic_name`] on the first message) and compares pointers after.
    pub(super) fn topic(&self, i: usize) -> *mut rdsys::rd_kafka_topic_t {
        // SAFETY: as in `get`: the message is live until `release`.
        unsafe { (*self.slots[i]).rkt }
    }

    fn take(&mut self, timeout_ms: i32, max: usize) -> usize {
        // SAFETY: `slots` has room for `max` ≤ BATCH pointers; the queue is valid.
        let n = unsafe {
            rdsys::rd_kafka_consume_batch_queue(
                self.queue,
                timeout_ms,
                self.slots.as_mut_ptr(),
                max,
            )
        };
        n.max(0) as usize
    }

    fn release(&mut self) {
        for m in &mut self.slots[..self.filled] {
            // SAFETY: each was returned by rd_kafka_consume_batch_queue and not yet destroyed.
            unsafe { rdsys::rd_kafka_message_destroy(*m) };
            *m = std::ptr::null_mut();
        }
        self.filled = 0;
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        self.release();
        // SAFETY: the reference taken in `new`, released once.
        unsafe { rdsys::rd_kafka_queue_destroy(self.queue) };
    }
}

/// A topic handle's name (empty for a null handle).
pub(super) fn topic_name(rkt: *mut rdsys::rd_kafka_topic_t) -> String {
    if rkt.is_null() {
        return String::new();
    }
    // SAFETY: a handle from a live message (see `Drain::topic`); librdkafka returns a
    // NUL-terminated name that lives as long as the handle.
    unsafe { CStr::from_ptr(rdsys::rd_kafka_topic_name(rkt)) }
        .to_string_lossy()
        .into_owned()
}

/// Which of the run's topics a message belongs to, by its topic handle: the name is read
/// once per handle, then a record costs a pointer comparison (the last topic seen) or a
/// hash lookup.
pub(super) struct TopicIndex {
    names: std::sync::Arc<[String]>,
    last: (*mut rdsys::rd_kafka_topic_t, usize),
    seen: std::collections::HashMap<usize, usize>,
}

// SAFETY: the handles are only compared, never dereferenced, except in `topic_name` on
// the thread that owns the messages they came from.
unsafe impl Send for TopicIndex {}

impl TopicIndex {
    pub(super) fn new(names: std::sync::Arc<[String]>) -> TopicIndex {
        TopicIndex {
            names,
            last: (std::ptr::null_mut(), 0),
            seen: std::collections::HashMap::new(),
        }
    }

    /// The index (in the run's topic order) of the topic `rkt` names; None for a topic that
    /// is not the run's.
    pub(super) fn of(&mut self, rkt: *mut rdsys::rd_kafka_topic_t) -> Option<usize> {
        if !rkt.is_null() && rkt == self.last.0 {
            return Some(self.last.1);
        }
        let i = match self.seen.get(&(rkt as usize)) {
            Some(i) => *i,
            None => {
                let name = topic_name(rkt);
                let i = self.names.iter().position(|n| *n == name)?;
                self.seen.insert(rkt as usize, i);
                i
            }
        };
        self.last = (rkt, i);
        Some(i)
    }
}
