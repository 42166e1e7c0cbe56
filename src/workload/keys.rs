//! The key space: every key this instance can send, pre-rendered into one buffer before
//! the run (librdkafka keeps pointers to key bytes until delivery, so keys cannot be
//! rendered into a reusable scratch buffer), the explicit partition of each key, and the
//! key-choice distribution (sequential, uniform, Zipf).
//!
//! Key text: global key `n` is `n` in ASCII decimal zero-padded to [`KEY_DIGITS`] digits
//! (`000000001234`), or `<prefix>:<digits>` when `partition_map` is non-empty.
//!
//! Distributed runs: instance `i` of `N` owns the global keys `n ≡ i (mod N)`; its local
//! key `j` is global key `j·N + i`. Interleaving (rather than contiguous ranges) keeps
//! every instance's Zipf hot set made of globally hot keys, so N instances together
//! approximate one Zipf over the whole space. Prefixes go by the *local* index
//! (`j mod P`) so every instance sends every prefix even when N and P share factors.
//!
//! Memory: `count / N × (KEY_DIGITS + longest prefix + 1)` bytes, i.e. at the
//! [`MAX_KEY_COUNT`] cap 120 MB without prefixes (≈ 200 MB with 7-byte prefixes), plus
//! for Zipf at most 768 KiB of tables (see [`super::zipf`]).

use super::zipf::ZipfSampler;
use super::WorkloadError;
use crate::profile::{KeyDist, WorkloadCfg};
use rand::rngs::SmallRng;
use rand::RngCore;
use std::sync::Arc;

/// Digits of the zero-padded key number.
pub const KEY_DIGITS: usize = 12;
/// Largest accepted key count (pre-rendering bounds memory).
pub const MAX_KEY_COUNT: u64 = crate::profile::limits::MAX_KEY_COUNT;
/// Longest accepted `partition_map` prefix: every key slot is as wide as the longest.
pub const MAX_PREFIX_BYTES: usize = 64;

/// Rendering of one prefix class (all keys `j` with `j mod P` = this class).
#[derive(Debug, Clone, Copy)]
struct PrefixClass {
    /// Key length in bytes for keys of this class.
    key_len: u32,
    /// Explicit partition, or -1 to let librdkafka's partitioner choose.
    partition: i32,
}

#[derive(Debug)]
enum Sampler {
    None,
    Sequential,
    Uniform,
    Zipf(ZipfSampler),
}

/// All keys of one instance, shared (read-only) by its producers.
#[derive(Debug)]
pub struct KeySpace {
    buf: Box<[u8]>,
    stride: usize,
    local_count: u32,
    total_count: u64,
    instance: u32,
    instances: u32,
    classes: Box<[PrefixClass]>,
    sampler: Sampler,
}

impl KeySpace {
    /// Builds the key space of `instance` (0-based) out of `instances`.
    pub fn build(
        cfg: &WorkloadCfg,
        instance: u32,
        instances: u32,
    ) -> Result<Arc<KeySpace>, WorkloadError> {
        let Some(count) = key_count(cfg, instance, instances)? else {
            return Ok(Arc::new(KeySpace {
                buf: Box::new([]),
                stride: 0,
                local_count: 0,
                total_count: 0,
                instance,
                instances,
                classes: Box::new([]),
                sampler: Sampler::None,
            }));
        };
        let n = u64::from(instances);
        let i = u64::from(instance);
        // count <= MAX_KEY_COUNT, so this fits u32.
        let local_count = ((count - i).div_ceil(n)) as u32;
        let sampler = match cfg.keys {
            KeyDist::None => Sampler::None,
            KeyDist::Sequential { .. } => Sampler::Sequential,
            KeyDist::Uniform { .. } => Sampler::Uniform,
            KeyDist::Zipf { s, .. } => Sampler::Zipf(ZipfSampler::new(local_count, s)),
        };
        let prefixes = prefixes(cfg)?;
        let longest = prefixes.iter().map(|(p, _)| p.len() + 1).max().unwrap_or(0);
        let stride = KEY_DIGITS + longest;
        Ok(Arc::new(KeySpace {
            buf: render_keys(&prefixes, stride, local_count, n, i),
            stride,
            local_count,
            total_count: count,
            instance,
            instances,
            classes: classes(&prefixes),
            sampler,
        }))
    }

    /// Whether records carry a key at all.
    #[inline(always)]
    pub fn is_keyed(&self) -> bool {
        self.local_count > 0
    }

    /// Keys owned by this instance.
    pub fn local_count(&self) -> u32 {
        self.local_count
    }

    /// Keys across all instances (the configured count).
    pub fn total_count(&self) -> u64 {
        self.total_count
    }

    /// (instance, instances) this space was built for.
    pub fn slice(&self) -> (u32, u32) {
        (self.instance, self.instances)
    }

    /// Global key number of local key `j`.
    pub fn global_index(&self, j: u32) -> u64 {
        u64::from(j) * u64::from(self.instances) + u64::from(self.instance)
    }

    /// Mean key length in bytes over the local keys (0 without keys). Exact for
    /// sequential and uniform keys; for Zipf it ignores which prefixes the hot keys have.
    pub fn mean_key_bytes(&self) -> f64 {
        if self.local_count == 0 {
            return 0.0;
        }
        let p = self.classes.len() as u64;
        let n = u64::from(self.local_count);
        // Class c holds the local keys j ≡ c (mod p).
        let total: u64 = self
            .classes
            .iter()
            .enumerate()
            .map(|(c, cl)| u64::from(cl.key_len) * ((n + p - 1 - c as u64) / p))
            .sum();
        total as f64 / n as f64
    }

    /// Heap bytes held by rendered keys and sampling tables.
    pub fn memory_bytes(&self) -> usize {
        let table = match &self.sampler {
            Sampler::Zipf(z) => z.memory_bytes(),
            _ => 0,
        };
        self.buf.len() + table + std::mem::size_of_val(&*self.classes)
    }

    /// First local key a producer's sequential cursor starts at: producers are spread
    /// over the space (golden-ratio steps) so they don't send the same keys in lockstep.
    pub(crate) fn sequential_start(&self, producer_index: u32) -> u32 {
        if self.local_count == 0 {
            return 0;
        }
        ((u64::from(producer_index) * 0x9E37_79B9) % u64::from(self.local_count)) as u32
    }

    /// Draws the next local key index. Only called when [`is_keyed`](Self::is_keyed).
    #[inline(always)]
    pub(crate) fn sample(&self, cursor: &mut u32, rng: &mut SmallRng) -> u32 {
        match &self.sampler {
            Sampler::None => 0,
            Sampler::Sequential => {
                let j = *cursor;
                *cursor = if j + 1 >= self.local_count { 0 } else { j + 1 };
                j
            }
            Sampler::Uniform => mul_hi(rng.next_u64(), u64::from(self.local_count)) as u32,
            Sampler::Zipf(z) => z.sample(rng),
        }
    }

    /// Key bytes and explicit partition (-1 = partitioner's choice) of local key
    /// `j < local_count()` (panics beyond).
    #[inline(always)]
    pub fn key(&self, j: u32) -> (&[u8], i32) {
        let class = if self.classes.len() == 1 {
            self.classes[0]
        } else {
            self.classes[j as usize % self.classes.len()]
        };
        let start = j as usize * self.stride;
        (
            &self.buf[start..start + class.key_len as usize],
            class.partition,
        )
    }
}

/// High 64 bits of `r × n`: maps a uniform u64 onto `0..n` without a division.
#[inline(always)]
pub(crate) fn mul_hi(r: u64, n: u64) -> u64 {
    ((u128::from(r) * u128::from(n)) >> 64) as u64
}

/// The run-wide key count, checked, or None without keys.
fn key_count(
    cfg: &WorkloadCfg,
    instance: u32,
    instances: u32,
) -> Result<Option<u64>, WorkloadError> {
    let invalid = |message: String| WorkloadError::Invalid {
        key: "workload.keys",
        message,
    };
    if instances == 0 || instance >= instances {
        return Err(invalid(format!(
            "instance {instance} out of {instances} instances does not exist"
        )));
    }
    let count = match cfg.keys {
        KeyDist::None => return Ok(None),
        KeyDist::Sequential { count } | KeyDist::Uniform { count } => count,
        KeyDist::Zipf { count, s } => {
            if !(s.is_finite() && s >= 0.0) {
                return Err(invalid(format!(
                    "zipf exponent s must be a finite number >= 0, got {s}"
                )));
            }
            count
        }
    };
    if count == 0 || count > MAX_KEY_COUNT {
        return Err(invalid(format!(
            "key count must be between 1 and {MAX_KEY_COUNT} (keys are pre-rendered in memory), got {count}"
        )));
    }
    if u64::from(instance) >= count {
        return Err(invalid(format!(
            "{count} keys cannot be split over {instances} instances (instance {instance} would own none)"
        )));
    }
    Ok(Some(count))
}

/// `workload.partition_map` as (prefix, partition), partitions below -1 raised to -1.
fn prefixes(cfg: &WorkloadCfg) -> Result<Vec<(&str, i32)>, WorkloadError> {
    let prefixes: Vec<(&str, i32)> = cfg
        .partition_map
        .iter()
        .map(|(p, &part)| (p.as_str(), part.max(-1)))
        .collect();
    if let Some((p, _)) = prefixes.iter().find(|(p, _)| p.len() > MAX_PREFIX_BYTES) {
        return Err(WorkloadError::Invalid {
            key: "workload.partition_map",
            message: format!(
                "prefix {p:?} is longer than {MAX_PREFIX_BYTES} bytes (keys are pre-rendered in memory)"
            ),
        });
    }
    Ok(prefixes)
}

/// One class per prefix (key length and partition); one unprefixed class without any.
fn classes(prefixes: &[(&str, i32)]) -> Box<[PrefixClass]> {
    if prefixes.is_empty() {
        Box::new([PrefixClass {
            key_len: KEY_DIGITS as u32,
            partition: -1,
        }])
    } else {
        prefixes
            .iter()
            .map(|(p, part)| PrefixClass {
                key_len: (p.len() + 1 + KEY_DIGITS) as u32,
                partition: *part,
            })
            .collect()
    }
}

/// Pre-renders this instance's keys (every `n`-th from `i`), `stride` bytes apart, the
/// prefixes taken in turn.
fn render_keys(
    prefixes: &[(&str, i32)],
    stride: usize,
    local_count: u32,
    n: u64,
    i: u64,
) -> Box<[u8]> {
    let mut buf = vec![0u8; stride * local_count as usize].into_boxed_slice();
    for (j, slot) in buf.chunks_exact_mut(stride).enumerate() {
        let global = j as u64 * n + i;
        let mut at = 0;
        if !prefixes.is_empty() {
            let p = prefixes[j % prefixes.len()].0.as_bytes();
            slot[..p.len()].copy_from_slice(p);
            slot[p.len()] = b':';
            at = p.len() + 1;
        }
        write_padded(&mut slot[at..at + KEY_DIGITS], global);
    }
    buf
}

/// Writes `v` as zero-padded decimal filling `out` (most significant digits dropped if
/// it does not fit, which cannot happen below 10^KEY_DIGITS).
fn write_padded(out: &mut [u8], mut v: u64) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::tests::cfg;
    use rand::SeedableRng;

    fn draw(ks: &KeySpace, n: usize, seed: u64) -> Vec<u32> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut cur = 0;
        (0..n).map(|_| ks.sample(&mut cur, &mut rng)).collect()
    }

    fn histogram(ks: &KeySpace, n: usize) -> Vec<u64> {
        let mut h = vec![0u64; ks.local_count() as usize];
        for j in draw(ks, n, 3) {
            h[j as usize] += 1;
        }
        h
    }

    #[test]
    fn rendering_is_zero_padded() {
        let mut c = cfg();
        c.keys = KeyDist::Sequential { count: 1500 };
        let ks = KeySpace::build(&c, 0, 1).unwrap();
        assert_eq!(ks.key(0), (&b"000000000000"[..], -1));
        assert_eq!(ks.key(1234).0, b"000000001234");
        assert_eq!(ks.memory_bytes(), 1500 * KEY_DIGITS + 8);
        assert_eq!(ks.mean_key_bytes(), 12.0);
    }

    #[test]
    fn sequential_order_wraps() {
        let mut c = cfg();
        c.keys = KeyDist::Sequential { count: 5 };
        let ks = KeySpace::build(&c, 0, 1).unwrap();
        assert_eq!(draw(&ks, 12, 1), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
        assert_eq!(ks.sequential_start(0), 0);
    }

    #[test]
    fn uniform_is_flat() {
        let mut c = cfg();
        c.keys = KeyDist::Uniform { count: 100 };
        let ks = KeySpace::build(&c, 0, 1).unwrap();
        let h = histogram(&ks, 1_000_000);
        let (lo, hi) = (h.iter().min().unwrap(), h.iter().max().unwrap());
        // Expected 10 000 per key, sd 100: ±6 % is > 5 sd.
        assert!(*lo > 9_400 && *hi < 10_600, "{lo}..{hi}");
    }

    #[test]
    fn zipf_is_skewed() {
        let mut c = cfg();
        c.keys = KeyDist::Zipf {
            count: 10_000,
            s: 1.1,
        };
        let ks = KeySpace::build(&c, 0, 1).unwrap();

        let n = 2_000_000;
        let h = histogram(&ks, n);
        let mut sorted = h.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2].max(1);
        assert!(h[0] > 1000 * median, "top {} median {median}", h[0]);
        // P(rank 1) = 1 / H(10000, 1.1) ≈ 0.15144 and rank 2 is 2^-1.1 of it.
        let p0 = h[0] as f64 / n as f64;
        assert!((p0 - 0.15144).abs() < 0.002, "{p0}");
        let ratio = h[0] as f64 / h[1] as f64;
        assert!((ratio - 2f64.powf(1.1)).abs() < 0.05, "{ratio}");
    }

    #[test]
    fn zipf_large_space_is_skewed() {
        let mut c = cfg();
        c.keys = KeyDist::Zipf {
            count: 3_000_000,
            s: 1.1,
        };
        let ks = KeySpace::build(&c, 0, 1).unwrap();

        let n = 1_000_000;
        let draws = draw(&ks, n, 5);
        let top = draws.iter().filter(|&&j| j == 0).count() as f64 / n as f64;
        // 1 / H(3e6, 1.1) ≈ 0.11999.
        assert!((top - 0.11999).abs() < 0.003, "{top}");
        assert!(draws.iter().all(|&j| j < 3_000_000));
    }

    #[test]
    fn zipf_s0_is_uniform_and_last_key_reachable() {
        let mut c = cfg();
        c.keys = KeyDist::Zipf { count: 10, s: 0.0 };
        let ks = KeySpace::build(&c, 0, 1).unwrap();
        let h = histogram(&ks, 200_000);
        assert!(h.iter().all(|&x| (19_000..21_000).contains(&x)), "{h:?}");
    }

    #[test]
    fn partition_map_routes_by_prefix() {
        let mut c = cfg();
        c.keys = KeyDist::Sequential { count: 6 };
        c.partition_map = [
            ("eu".to_string(), 2),
            ("us-east".to_string(), 0),
            ("x".into(), -1),
        ]
        .into_iter()
        .collect();
        let ks = KeySpace::build(&c, 0, 1).unwrap();
        let keys: Vec<(String, i32)> = (0..6)
            .map(|j| {
                let (k, p) = ks.key(j);
                (String::from_utf8(k.to_vec()).unwrap(), p)
            })
            .collect();
        assert_eq!(keys[0], ("eu:000000000000".into(), 2));
        assert_eq!(keys[1], ("us-east:000000000001".into(), 0));
        assert_eq!(keys[2], ("x:000000000002".into(), -1));
        assert_eq!(keys[3], ("eu:000000000003".into(), 2));
        assert_eq!(keys[4].1, 0);
        // 2 × "eu:" + 2 × "us-east:" + 2 × "x:" keys, 12 digits each.
        assert_eq!(
            ks.mean_key_bytes(),
            12.0 + (2.0 * 3.0 + 2.0 * 8.0 + 2.0 * 2.0) / 6.0
        );
    }

    #[test]
    fn instances_interleave() {
        let mut c = cfg();
        c.keys = KeyDist::Uniform { count: 10 };
        let a = KeySpace::build(&c, 0, 3).unwrap();
        let b = KeySpace::build(&c, 1, 3).unwrap();
        let d = KeySpace::build(&c, 2, 3).unwrap();
        assert_eq!(
            (a.local_count(), b.local_count(), d.local_count()),
            (4, 3, 3)
        );
        assert_eq!(a.key(3).0, b"000000000009");
        assert_eq!(b.key(0).0, b"000000000001");
        assert_eq!(d.key(2).0, b"000000000008");
        assert_eq!(b.global_index(2), 7);
        assert!(KeySpace::build(&c, 3, 3).is_err());
        c.keys = KeyDist::Uniform { count: 2 };
        assert!(KeySpace::build(&c, 2, 3).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let mut c = cfg();
        c.keys = KeyDist::Uniform { count: 0 };
        assert!(KeySpace::build(&c, 0, 1).is_err());
        c.keys = KeyDist::Uniform {
            count: MAX_KEY_COUNT + 1,
        };
        assert!(KeySpace::build(&c, 0, 1).is_err());
        c.keys = KeyDist::Zipf {
            count: 10,
            s: f64::NAN,
        };
        assert!(KeySpace::build(&c, 0, 1).is_err());
        c.keys = KeyDist::Uniform { count: 10 };
        c.partition_map.insert("x".repeat(MAX_PREFIX_BYTES + 1), 0);
        assert!(KeySpace::build(&c, 0, 1).is_err());
    }

    #[test]
    #[ignore = "allocates 120 MB; run with --ignored"]
    fn ten_million_keys() {
        let mut c = cfg();
        c.keys = KeyDist::Zipf {
            count: MAX_KEY_COUNT,
            s: 0.99,
        };
        let ks = KeySpace::build(&c, 0, 1).unwrap();
        assert_eq!(ks.key(9_999_999).0, b"000009999999");
        assert_eq!(ks.memory_bytes(), 120_000_000 + 8);
    }
}
