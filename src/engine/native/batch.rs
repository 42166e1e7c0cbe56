//! The reusable slots of one `rd_kafka_produce_batch` call.

use rdkafka::types::RDKafkaRespErr;
use rdkafka_sys as rdsys;
use std::ffi::c_void;
use std::ptr;

/// Records per [`NativeProducer::produce_batch`] call.
pub const BATCH: usize = 64;

/// Up to [`BATCH`] records for one `rd_kafka_produce_batch` call, reused for the whole run
/// (no allocation per record). Records with headers cannot go through it: librdkafka's
/// batch call takes none.
pub struct Batch {
    pub(super) msgs: Box<[rdsys::rd_kafka_message_t; BATCH]>,
    pub(super) len: usize,
    /// Every slot has no key and no explicit partition (the sticky path's records).
    pub(super) keyless: bool,
}

impl Default for Batch {
    fn default() -> Self {
        // SAFETY: rd_kafka_message_t is plain data (integers and raw pointers); all zero
        // is a valid empty message.
        let empty: rdsys::rd_kafka_message_t = unsafe { std::mem::zeroed() };
        Batch {
            msgs: Box::new([empty; BATCH]),
            len: 0,
            keyless: true,
        }
    }
}

impl Batch {
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        self.keyless = true;
    }
    /// Add one record (at most [`BATCH`]); `opaque` comes back in its delivery report.
    #[inline]
    pub fn push(&mut self, partition: i32, key: Option<&[u8]>, value: &[u8], opaque: usize) {
        let m = &mut self.msgs[self.len];
        m.partition = partition;
        m.payload = value.as_ptr() as *mut c_void;
        m.len = value.len();
        (m.key, m.key_len) = key.map_or((ptr::null_mut(), 0), |k| {
            (k.as_ptr() as *mut c_void, k.len())
        });
        m._private = opaque as *mut c_void;
        m.err = RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR;
        self.keyless &= partition == -1 && key.is_none();
        self.len += 1;
    }
    /// The outcome of slot `i` in the last [`NativeProducer::produce_batch`] call.
    #[inline]
    pub fn err(&self, i: usize) -> RDKafkaRespErr {
        self.msgs[i].err
    }
    /// The partition slot `i` was last produced with (-1: the partitioner's choice, seen
    /// only in its delivery report).
    #[inline]
    pub fn partition(&self, i: usize) -> i32 {
        self.msgs[i].partition
    }
    /// Key + value bytes of slot `i`.
    #[inline]
    pub fn bytes(&self, i: usize) -> u64 {
        (self.msgs[i].len + self.msgs[i].key_len) as u64
    }
    /// Replace slot `i`'s opaque (a retried record carries its new schedule lag).
    #[inline]
    pub fn set_opaque(&mut self, i: usize, opaque: usize) {
        self.msgs[i]._private = opaque as *mut c_void;
    }
}
