//! Record headers: names and values rendered before the run. Each record gets the fixed
//! pairs first, then `count` generated headers `h0`, `h1`, … whose values are
//! `value_bytes`-long windows of a random pool at a per-record offset.
//!
//! Names are stored NUL-terminated (for C APIs that want a C string) but handed out
//! both with and without the NUL, so `rd_kafka_header_add(name, len, value, len)` needs
//! no copy or `strlen`.

use super::WorkloadError;
use crate::profile::HeadersCfg;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

/// Number of distinct starting offsets of generated header values (a power of two).
pub const HEADER_JITTER: usize = 1 << 16;
const JITTER_MASK: u64 = (HEADER_JITTER as u64) - 1;
/// Upper bound of generated header bytes per record.
pub const MAX_HEADER_BYTES: u64 = crate::profile::limits::MAX_HEADER_BYTES;

#[derive(Debug, Clone, Copy)]
struct Entry {
    name_off: u32,
    name_len: u32,
    /// For fixed headers: offset of the value in `fixed_values`.
    value_off: u32,
    /// For fixed headers: value length. Generated headers use `value_bytes`.
    value_len: u32,
    fixed: bool,
}

/// All header material of a run, shared read-only by the producers.
#[derive(Debug)]
pub struct HeaderTable {
    names: Box<[u8]>,
    entries: Box<[Entry]>,
    fixed_values: Box<[u8]>,
    pool: Box<[u8]>,
    fixed_count: usize,
    value_bytes: usize,
    bytes_per_record: u64,
}

impl HeaderTable {
    pub fn build(cfg: &HeadersCfg, seed: u64) -> Result<HeaderTable, WorkloadError> {
        let generated = u64::from(cfg.count) * u64::from(cfg.value_bytes);
        if generated > MAX_HEADER_BYTES {
            return Err(WorkloadError::Invalid {
                key: "workload.headers",
                message: format!(
                    "{} headers of {} bytes are {generated} bytes per record; the maximum is {MAX_HEADER_BYTES}",
                    cfg.count, cfg.value_bytes
                ),
            });
        }
        let mut names = Vec::new();
        let mut fixed_values = Vec::new();
        let mut entries = Vec::with_capacity(cfg.fixed.len() + cfg.count as usize);
        let mut bytes_per_record = generated;
        let push_name = |names: &mut Vec<u8>, name: &[u8]| {
            let off = names.len() as u32;
            names.extend_from_slice(name);
            names.push(0);
            off
        };
        for (name, value) in &cfg.fixed {
            if name.as_bytes().contains(&0) {
                return Err(WorkloadError::Invalid {
                    key: "workload.headers.fixed",
                    message: format!("header name {name:?} contains a NUL byte"),
                });
            }
            let name_off = push_name(&mut names, name.as_bytes());
            entries.push(Entry {
                name_off,
                name_len: name.len() as u32,
                value_off: fixed_values.len() as u32,
                value_len: value.len() as u32,
                fixed: true,
            });
            fixed_values.extend_from_slice(value.as_bytes());
            bytes_per_record += (name.len() + value.len()) as u64;
        }
        let mut digits = itoa::Buffer::new();
        for k in 0..cfg.count {
            let mut name = b"h".to_vec();
            name.extend_from_slice(digits.format(k).as_bytes());
            let name_off = push_name(&mut names, &name);
            bytes_per_record += name.len() as u64;
            entries.push(Entry {
                name_off,
                name_len: name.len() as u32,
                value_off: 0,
                value_len: 0,
                fixed: false,
            });
        }
        let pool_len = if generated == 0 {
            0
        } else {
            generated as usize + HEADER_JITTER
        };
        let mut pool = vec![0u8; pool_len];
        SmallRng::seed_from_u64(seed ^ 0x4844_5253_0000_0003).fill_bytes(&mut pool);
        Ok(HeaderTable {
            names: names.into_boxed_slice(),
            entries: entries.into_boxed_slice(),
            fixed_values: fixed_values.into_boxed_slice(),
            pool: pool.into_boxed_slice(),
            fixed_count: cfg.fixed.len(),
            value_bytes: cfg.value_bytes as usize,
            bytes_per_record,
        })
    }

    /// Headers per record (fixed + generated).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of header names (without NUL) plus values in every record.
    #[inline(always)]
    pub fn bytes_per_record(&self) -> u64 {
        self.bytes_per_record
    }

    /// Heap bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.names.len()
            + self.fixed_values.len()
            + self.pool.len()
            + std::mem::size_of_val(&*self.entries)
    }

    /// Headers of one record whose random draw is `r` (bits 16..32 are used).
    #[inline(always)]
    pub fn for_record(&self, r: u64) -> Headers<'_> {
        Headers {
            table: self,
            base: ((r >> 16) & JITTER_MASK) as u32,
        }
    }
}

/// One header of a record. All slices point into buffers that live as long as the pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// Name without the trailing NUL.
    pub name: &'a [u8],
    /// Name followed by a NUL byte (a valid C string).
    pub name_with_nul: &'a [u8],
    pub value: &'a [u8],
}

/// The headers of one record: a table reference and the record's value offset; no
/// allocation, iterate with [`Headers::iter`] or index with [`Headers::get`].
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    table: &'a HeaderTable,
    base: u32,
}

impl<'a> Headers<'a> {
    #[inline]
    pub fn len(&self) -> usize {
        self.table.entries.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.table.entries.is_empty()
    }

    /// Bytes of names (without NUL) plus values.
    #[inline]
    pub fn bytes(&self) -> u64 {
        self.table.bytes_per_record
    }

    /// Header `i` (fixed headers first), or None past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Header<'a>> {
        let t = self.table;
        let e = *t.entries.get(i)?;
        let name_start = e.name_off as usize;
        let name_end = name_start + e.name_len as usize;
        let value = if e.fixed {
            &t.fixed_values[e.value_off as usize..e.value_off as usize + e.value_len as usize]
        } else if t.value_bytes == 0 {
            &[]
        } else {
            let k = i - t.fixed_count;
            let start = self.base as usize + k * t.value_bytes;
            &t.pool[start..start + t.value_bytes]
        };
        Some(Header {
            name: &t.names[name_start..name_end],
            name_with_nul: &t.names[name_start..name_end + 1],
            value,
        })
    }

    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = Header<'a>> + 'a {
        let this = *self;
        (0..this.len()).filter_map(move |i| this.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(count: u32, value_bytes: u32, fixed: &[(&str, &str)]) -> HeadersCfg {
        HeadersCfg {
            count,
            value_bytes,
            fixed: fixed
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn fixed_first_then_generated() {
        let t = HeaderTable::build(&cfg(3, 10, &[("trace", "abc"), ("env", "prod")]), 1).unwrap();
        assert_eq!(t.len(), 5);
        let h = t.for_record(0xdead_beef_1234_5678);
        let all: Vec<Header> = h.iter().collect();
        assert_eq!(all.len(), 5);
        assert_eq!((all[0].name, all[0].value), (&b"trace"[..], &b"abc"[..]));
        assert_eq!(all[0].name_with_nul, b"trace\0");
        assert_eq!((all[1].name, all[1].value), (&b"env"[..], &b"prod"[..]));
        for (k, hd) in all[2..].iter().enumerate() {
            assert_eq!(hd.name, format!("h{k}").as_bytes());
            assert_eq!(hd.name_with_nul.last(), Some(&0));
            assert_eq!(hd.value.len(), 10);
        }
        // Generated values of one record are distinct windows of the random pool.
        assert_ne!(all[2].value, all[3].value);
        let bytes = (5 + 3) + (3 + 4) + 3 * (2 + 10);
        assert_eq!(t.bytes_per_record(), bytes);
        assert_eq!(h.bytes(), bytes);
        assert!(h.get(5).is_none());
    }

    #[test]
    fn values_vary_between_records() {
        let t = HeaderTable::build(&cfg(2, 16, &[]), 1).unwrap();
        let a = t.for_record(1 << 16).get(0).unwrap().value;
        let b = t.for_record(2 << 16).get(0).unwrap().value;
        assert_ne!(a, b);
        // Largest offset stays inside the pool.
        let last = t.for_record(u64::MAX).get(1).unwrap();
        assert_eq!(last.value.len(), 16);
    }

    #[test]
    fn empty_and_zero_sized() {
        let t = HeaderTable::build(&cfg(0, 100, &[]), 1).unwrap();
        assert!(t.is_empty() && t.for_record(5).iter().next().is_none());
        assert_eq!(t.bytes_per_record(), 0);
        assert_eq!(t.memory_bytes(), 0);
        let t = HeaderTable::build(&cfg(2, 0, &[("a", "")]), 1).unwrap();
        let all: Vec<Header> = t.for_record(7).iter().collect();
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|h| h.value.is_empty()));
        assert_eq!(all[2].name, b"h1");
    }

    #[test]
    fn invalid_headers() {
        assert!(HeaderTable::build(&cfg(0, 0, &[("a\0b", "x")]), 1).is_err());
        assert!(HeaderTable::build(&cfg(1000, 1 << 20, &[]), 1).is_err());
    }
}
