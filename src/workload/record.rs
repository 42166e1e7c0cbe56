//! One record: the slices a producer sends, made from a lane's size table and key space
//! and the shared value pool ([`super::RecordSource`] picks the lane).

use super::{Headers, KeySpace, Payloads, SizeTable};
use rand::rngs::SmallRng;
use rand::RngCore;

/// One record to send. Every slice points into the shared pools, which outlive the run.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// None when keys are disabled.
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    /// Explicit partition from `partition_map`, or -1 for the configured partitioner.
    pub partition: i32,
    pub headers: Headers<'a>,
    /// key + value + header names + header values, for byte throughput.
    pub payload_bytes: u64,
}

impl<'a> Record<'a> {
    /// Number of headers (fixed + generated); the same for every record of a run.
    #[inline]
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// The record's headers (fixed first), iterable without allocating.
    #[inline]
    pub fn headers(&self) -> Headers<'a> {
        self.headers
    }
}

/// One record from a lane's size table and key space. Hot path: one or two RNG draws,
/// integer math and slicing.
#[inline(always)]
pub(super) fn make<'a>(
    rng: &mut SmallRng,
    value_cursor: &mut usize,
    p: &'a Payloads,
    sizes: &SizeTable,
    keys: &'a KeySpace,
    key_cursor: &mut u32,
) -> Record<'a> {
    // One draw feeds three choices: bits 0..16 the size, 16..32 the header window,
    // 32..64 the value offset.
    let r = rng.next_u64();
    let len = sizes.pick(r) as usize;
    // The pool is at least max size long (and under 2^32), so `span` is >= 1 and
    // the 32x32-bit multiply maps the top bits onto 0..span without a division.
    // Values walk the pool from a random start, jumping to a new random start when
    // they reach its end: every record differs, and both kprod and librdkafka (which
    // copies the value into its batch) read memory sequentially instead of missing the
    // cache on every record.
    let mut off = *value_cursor;
    if off + len > p.values.len() {
        let span = (p.values.len() - len + 1) as u64;
        off = (((r >> 32) * span) >> 32) as usize;
    }
    *value_cursor = off + len;
    let value = &p.values[off..off + len];
    let (key, partition) = if keys.is_keyed() {
        let j = keys.sample(key_cursor, rng);
        let (k, part) = keys.key(j);
        (Some(k), part)
    } else {
        (None, -1)
    };
    let headers = p.headers.for_record(r);
    let payload_bytes = (len + key.map_or(0, <[u8]>::len)) as u64 + p.headers.bytes_per_record();
    Record {
        key,
        value,
        partition,
        headers,
        payload_bytes,
    }
}
