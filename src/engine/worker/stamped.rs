//! The end-to-end stamp on the producer side (`[consumers]`): each value is written, stamp
//! first, into a scratch slot allocated before t0, and librdkafka copies it from there
//! (`NativeProducer::copy_payloads`).

/// End-to-end stamp settings of one producer.
#[derive(Debug, Clone)]
pub struct StampSpec {
    /// Written into each stamp, so consumers count only this instance's records.
    pub instance: u32,
    /// Largest value of the run: the stride of the scratch buffer's slots.
    pub max_value_bytes: usize,
}

/// The scratch buffer stamped values are written to (one slot per batch slot, allocated
/// before t0), and what goes into each stamp. librdkafka copies the values out of it.
pub(super) struct Stamp {
    instance: u32,
    pub(super) base_unix_ns: u64,
    stride: usize,
    buf: Vec<u8>,
}

impl Stamp {
    pub(super) fn alloc(spec: &StampSpec) -> Stamp {
        let stride = spec
            .max_value_bytes
            .max(crate::engine::stamp::STAMP_BYTES as usize);
        Stamp {
            instance: spec.instance,
            base_unix_ns: 0,
            stride,
            buf: vec![0u8; stride * crate::engine::native::BATCH],
        }
    }

    /// `value` with its first bytes replaced by the stamp of a record intended at
    /// `intended_ns` (since t0), in scratch slot `slot`.
    #[inline(always)]
    pub(super) fn put(&mut self, slot: usize, value: &[u8], intended_ns: u64) -> &[u8] {
        let n = value.len().min(self.stride);
        let start = slot * self.stride;
        let buf = &mut self.buf[start..start + n];
        let len = crate::engine::stamp::STAMP_BYTES as usize;
        if n >= len {
            buf[len..].copy_from_slice(&value[len..n]);
            crate::engine::stamp::write(buf, self.instance, self.base_unix_ns + intended_ns);
        } else {
            // Refused before the run (profile and engine checks); never stamped short.
            buf.copy_from_slice(&value[..n]);
        }
        buf
    }
}
