//! The end-to-end stamp: with consumers on, the first [`STAMP_BYTES`] bytes of every value
//! are a magic, the producing instance and the record's intended send time as wall-clock
//! ns since the Unix epoch (t0's wall time + the record's intended offset), so a consumer
//! in this process or another one on the same host can measure intended send → consumed.
//!
//! Layout (big-endian): `b"kpE2"`, instance (u32), intended time (u64 ns).

pub use crate::profile::STAMP_BYTES;

const MAGIC: [u8; 4] = *b"kpE2";
const LEN: usize = STAMP_BYTES as usize;

/// Writes the stamp into `buf[..16]` (the caller guarantees the length).
#[inline(always)]
pub fn write(buf: &mut [u8], instance: u32, intended_unix_ns: u64) {
    let b = &mut buf[..LEN];
    b[..4].copy_from_slice(&MAGIC);
    b[4..8].copy_from_slice(&instance.to_be_bytes());
    b[8..16].copy_from_slice(&intended_unix_ns.to_be_bytes());
}

/// The instance and intended time of a stamped value; None for any other value.
#[inline]
pub fn read(value: &[u8]) -> Option<(u32, u64)> {
    let b = value.get(..LEN)?;
    if b[..4] != MAGIC {
        return None;
    }
    let instance = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    let mut t = [0u8; 8];
    t.copy_from_slice(&b[8..16]);
    Some((instance, u64::from_be_bytes(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_and_other_values_do_not() {
        let mut v = vec![7u8; 40];
        write(&mut v, 3, 1_700_000_000_123_456_789);
        assert_eq!(read(&v), Some((3, 1_700_000_000_123_456_789)));
        assert_eq!(
            &v[16..],
            &[7u8; 24][..],
            "the rest of the value is untouched"
        );
        assert_eq!(read(&v[..15]), None);
        assert_eq!(read(&[7u8; 40]), None);
    }
}
