//! Synthetic records: value pools, sizes, keys, headers and the pacer.
//!
//! Everything a record is made of is built once before the run ([`Payloads`] for values,
//! sizes and headers, [`KeySpace`] for keys) into buffers that are never moved or freed
//! while an `Arc` to them lives; the engine hands librdkafka raw pointers into them
//! without copying. Each producer thread then owns a [`RecordSource`] whose
//! [`RecordSource::next`] only draws random numbers and slices those buffers: no
//! allocation, lock, formatting or syscall.
//!
//! Memory (typical): value pool 4 MiB (`max(4 MiB, 4 × max size)`, at most
//! `max size + 4 MiB`), size table 256 KiB, header pool `count × value_bytes + 64 KiB`,
//! keys `count × 12` bytes (+ prefix; see [`keys`] for the 10 M key cap), Zipf tables
//! at most 768 KiB ([`zipf`]). The largest case, 10 M Zipf keys, is ≈ 125 MB in all.

pub mod curve;
pub mod headers;
pub mod keys;
pub mod lanes;
pub mod pacer;
mod record;
pub mod sizes;
pub mod values;
pub mod zipf;

pub use curve::Curve;
pub use headers::{Header, HeaderTable, Headers};
pub use keys::KeySpace;
pub use lanes::LanePlan;
pub use pacer::{wait_strategy, Pacer, Wait};
use record::make;
pub use record::Record;
pub use sizes::SizeTable;

use crate::error::{ConfigError, KprodError};
use crate::profile::WorkloadCfg;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the workload could not be built. All variants are user input problems.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("cannot read {what} {}: it {source}", path.display())]
    Read {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: crate::domain::input::InputError,
    },
    #[error("{what} {} has no content", path.display())]
    EmptyFile { path: PathBuf, what: &'static str },
    #[error("{}:{line}: `{text}`: {reason}", path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        text: String,
        reason: String,
    },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

impl From<WorkloadError> for KprodError {
    fn from(e: WorkloadError) -> KprodError {
        let err = match &e {
            WorkloadError::Read { source, .. } => ConfigError::new(e.to_string()).fix(source.fix()),
            WorkloadError::EmptyFile { .. } => {
                ConfigError::new(e.to_string()).fix("add at least one non-blank line")
            }
            WorkloadError::BadLine { .. } => ConfigError::new(e.to_string()),
            WorkloadError::Invalid { key, message } => ConfigError::new(message.clone()).key(*key),
        };
        KprodError::from(err)
    }
}

/// Relative paths in a profile are relative to `base_dir` (the profile's directory).
pub(crate) fn resolve_path(base_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    }
}

/// Values, sizes and headers of a run, shared read-only by all producers.
#[derive(Debug)]
pub struct Payloads {
    values: Box<[u8]>,
    sizes: SizeTable,
    headers: HeaderTable,
    /// Per-topic settings ([`lanes`]): the size tables of lanes 1.., each topic's lane
    /// (empty when all are lane 0), each lane's share of the records.
    lane_sizes: Vec<SizeTable>,
    lane_of: Box<[u16]>,
    lane_weights: Vec<f64>,
}

impl Payloads {
    /// Builds every pool from `cfg` (seeded by `cfg.seed`); relative file paths are
    /// resolved against `base_dir`.
    pub fn build(cfg: &WorkloadCfg, base_dir: &Path) -> Result<Arc<Payloads>, WorkloadError> {
        let sizes = SizeTable::build(&cfg.size, base_dir, cfg.seed)?;
        let plan = LanePlan::new(cfg);
        let lane_sizes = plan.size_tables(base_dir, cfg.seed)?;
        let max = lane_sizes
            .iter()
            .map(SizeTable::max)
            .fold(sizes.max(), u32::max);
        let len = values::pool_len(max as usize);
        let values = values::generate(&cfg.value, len, base_dir, cfg.seed)?;
        let headers = HeaderTable::build(&cfg.headers, cfg.seed)?;
        Ok(Arc::new(Payloads {
            values,
            sizes,
            headers,
            lane_sizes,
            lane_of: plan.lane_of.into(),
            lane_weights: plan.weights,
        }))
    }

    /// Every lane's size table, lane 0 first.
    fn all_sizes(&self) -> impl Iterator<Item = &SizeTable> {
        std::iter::once(&self.sizes).chain(&self.lane_sizes)
    }

    /// Smallest value size any record can have, over every topic's sizes.
    pub fn min_value_bytes(&self) -> u32 {
        self.all_sizes().map(SizeTable::min).min().unwrap_or(0)
    }

    /// The whole value pool; every record value is a sub-slice of it.
    pub fn value_pool(&self) -> &[u8] {
        &self.values
    }

    pub fn sizes(&self) -> &SizeTable {
        &self.sizes
    }

    pub fn headers(&self) -> &HeaderTable {
        &self.headers
    }

    /// Expected value size of a record: the size tables' means weighted by the share of
    /// the records each topic's setting gets.
    pub fn mean_value_bytes(&self) -> f64 {
        self.all_sizes()
            .zip(&self.lane_weights)
            .map(|(s, w)| s.mean() * w)
            .sum()
    }

    /// Largest value size any record can have, over every topic's sizes.
    pub fn max_value_bytes(&self) -> u32 {
        self.all_sizes().map(SizeTable::max).max().unwrap_or(0)
    }

    /// Header names + values carried by every record.
    pub fn header_bytes_per_record(&self) -> u64 {
        self.headers.bytes_per_record()
    }

    /// Expected value + header bytes of a record. Keys are not included: add
    /// [`KeySpace::mean_key_bytes`] for the full payload.
    pub fn mean_record_bytes(&self) -> f64 {
        self.mean_value_bytes() + self.headers.bytes_per_record() as f64
    }

    /// Heap bytes held by the value pool, size tables and headers.
    pub fn memory_bytes(&self) -> usize {
        self.values.len()
            + self.all_sizes().map(SizeTable::memory_bytes).sum::<usize>()
            + self.headers.memory_bytes()
    }
}

/// Per-producer record generator. Not shared: each producer thread owns one.
#[derive(Debug)]
pub struct RecordSource {
    payloads: Arc<Payloads>,
    keys: Arc<KeySpace>,
    rng: SmallRng,
    key_cursor: u32,
    /// Where the next value starts in the pool.
    value_cursor: usize,
    producer_index: u32,
    /// Lanes 1.. of a run with per-topic settings ([`lanes`]); empty otherwise.
    lanes: Box<[lanes::Lane]>,
}

/// SplitMix64 finalizer: decorrelates nearby seeds (seed, seed + 1, producer 0, 1, ...).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl RecordSource {
    /// The sequence of records is a pure function of (`seed`, `producer_index`) and the
    /// pools. For distributed runs, mix the instance into `seed` so instances differ.
    pub fn new(
        payloads: Arc<Payloads>,
        keys: Arc<KeySpace>,
        producer_index: u32,
        seed: u64,
    ) -> RecordSource {
        let stream = mix64(seed) ^ mix64(u64::from(producer_index) ^ 0x7072_6f64_7563_6572);
        let key_cursor = keys.sequential_start(producer_index);
        RecordSource {
            payloads,
            keys,
            rng: SmallRng::seed_from_u64(stream),
            key_cursor,
            // Past the end: the first record picks a random start.
            value_cursor: usize::MAX / 2,
            producer_index,
            lanes: Box::default(),
        }
    }

    /// Adds the key spaces of lanes 1.. ([`LanePlan::key_spaces`]), in lane order.
    pub fn with_lanes(mut self, keys: &[Arc<KeySpace>]) -> RecordSource {
        let p = self.producer_index;
        self.lanes = keys
            .iter()
            .map(|k| lanes::Lane {
                key_cursor: k.sequential_start(p),
                keys: k.clone(),
            })
            .collect();
        self
    }

    /// The next record. Hot path: one or two RNG draws, integer math and slicing.
    // Not `Iterator`: records borrow the source (a lending iterator), and the name is
    // what the engine calls.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Record<'_> {
        let p = &*self.payloads;
        make(
            &mut self.rng,
            &mut self.value_cursor,
            p,
            &p.sizes,
            &self.keys,
            &mut self.key_cursor,
        )
    }

    /// The next record for topic `topic` (its index in the route): made with that topic's
    /// size and key settings. A topic of lane 0 (all of them in a run without per-topic
    /// settings, where `lane_of` is empty) is exactly [`RecordSource::next`].
    #[inline]
    pub fn next_for(&mut self, topic: usize) -> Record<'_> {
        let lane = self.payloads.lane_of.get(topic).copied().unwrap_or(0);
        let Some(i) = usize::from(lane).checked_sub(1) else {
            return self.next();
        };
        let p = &*self.payloads;
        let lane = &mut self.lanes[i];
        make(
            &mut self.rng,
            &mut self.value_cursor,
            p,
            &p.lane_sizes[i],
            &lane.keys,
            &mut lane.key_cursor,
        )
    }

    pub fn producer_index(&self) -> u32 {
        self.producer_index
    }

    pub fn payloads(&self) -> &Arc<Payloads> {
        &self.payloads
    }

    pub fn keys(&self) -> &Arc<KeySpace> {
        &self.keys
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profile::{HeadersCfg, KeyDist, Rate, SendMode, SizeDist, ValueGen, WorkloadCfg};
    use std::collections::BTreeMap;
    use std::time::Duration;

    pub(crate) fn cfg() -> WorkloadCfg {
        WorkloadCfg {
            topic: "t".into(),
            partitions: 6,
            replication_factor: 1,
            rate: Rate::Unlimited,
            duration: Some(Duration::from_secs(1)),
            records: None,
            warmup: Duration::ZERO,
            producers: 1,
            size: SizeDist::Fixed { bytes: 100 },
            value: ValueGen::Random,
            keys: KeyDist::None,
            partition_map: BTreeMap::new(),
            partitioner: "murmur2_random".into(),
            headers: HeadersCfg {
                count: 0,
                value_bytes: 0,
                fixed: vec![],
            },
            send_mode: SendMode::Async,
            seed: 1,
            stages: Vec::new(),
            topics: Vec::new(),
        }
    }

    fn source(c: &WorkloadCfg, producer: u32, seed: u64) -> RecordSource {
        let payloads = Payloads::build(c, Path::new(".")).unwrap();
        let keys = KeySpace::build(c, 0, 1).unwrap();
        RecordSource::new(payloads, keys, producer, seed)
    }

    type Owned = (Option<Vec<u8>>, Vec<u8>, i32, Vec<Vec<u8>>, u64);

    fn take(src: &mut RecordSource, n: usize) -> Vec<Owned> {
        (0..n)
            .map(|_| {
                let r = src.next();
                let hv = r.headers.iter().map(|h| h.value.to_vec()).collect();
                (
                    r.key.map(<[u8]>::to_vec),
                    r.value.to_vec(),
                    r.partition,
                    hv,
                    r.payload_bytes,
                )
            })
            .collect()
    }

    fn rich_cfg() -> WorkloadCfg {
        let mut c = cfg();
        c.size = SizeDist::Uniform { min: 10, max: 2000 };
        c.value = ValueGen::Text;
        c.keys = KeyDist::Zipf {
            count: 1000,
            s: 1.1,
        };
        c.headers = HeadersCfg {
            count: 2,
            value_bytes: 8,
            fixed: vec![("app".into(), "kprod".into())],
        };
        c
    }

    #[test]
    fn same_seed_same_sequence() {
        let c = rich_cfg();
        let a = take(&mut source(&c, 3, 42), 2000);
        let b = take(&mut source(&c, 3, 42), 2000);
        assert_eq!(a, b);
        assert_ne!(a, take(&mut source(&c, 4, 42), 2000));
        assert_ne!(a, take(&mut source(&c, 3, 43), 2000));
    }

    #[test]
    fn values_are_in_pool_with_sampled_lengths() {
        let c = rich_cfg();
        let mut src = source(&c, 0, 1);
        let pool = src.payloads().value_pool().as_ptr_range();
        let (mut sum, n) = (0u64, 200_000);
        let mut prev: Option<Vec<u8>> = None;
        let mut same = 0;
        for _ in 0..n {
            let r = src.next();
            let v = r.value.as_ptr_range();
            assert!(pool.start <= v.start && v.end <= pool.end);
            assert!((10..=2000).contains(&r.value.len()));
            let k = r.key.unwrap();
            assert_eq!(k.len(), 12);
            assert_eq!(
                r.payload_bytes,
                (r.value.len() + k.len() + (3 + 5) + 2 * (2 + 8)) as u64
            );
            assert_eq!(r.headers.len(), 3);
            sum += r.value.len() as u64;
            let v = r.value[..8.min(r.value.len())].to_vec();
            same += usize::from(prev.as_ref() == Some(&v));
            prev = Some(v);
        }
        let mean = sum as f64 / n as f64;
        assert!((mean - 1005.0).abs() < 15.0, "{mean}");
        assert!((src.payloads().mean_value_bytes() - 1005.0).abs() < 10.0);
        assert_eq!(src.payloads().max_value_bytes(), 2000);
        // Offsets are random: consecutive values almost never start alike.
        assert!(same < n / 100, "{same}");
    }

    #[test]
    fn pool_edges_are_reachable_and_safe() {
        let mut c = cfg();
        c.size = SizeDist::Fixed { bytes: 4 << 20 }; // value as long as the whole pool
        let mut src = source(&c, 0, 1);
        assert_eq!(src.payloads().value_pool().len(), 8 << 20);
        for _ in 0..1000 {
            assert_eq!(src.next().value.len(), 4 << 20);
        }
        c.size = SizeDist::Fixed { bytes: 0 };
        let mut src = source(&c, 0, 1);
        assert!(src.next().value.is_empty());
        assert_eq!(src.next().payload_bytes, 0);
    }

    #[test]
    fn sources_can_move_to_producer_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RecordSource>();
        assert_send_sync::<Arc<Payloads>>();
        assert_send_sync::<Arc<KeySpace>>();
    }

    #[test]
    fn unkeyed_records() {
        let mut src = source(&cfg(), 0, 1);
        let r = src.next();
        assert_eq!((r.key, r.partition, r.payload_bytes), (None, -1, 100));
        assert!(r.headers.is_empty());
    }

    #[test]
    fn partition_map_routes_records() {
        let mut c = cfg();
        c.keys = KeyDist::Uniform { count: 1000 };
        c.partition_map = [("eu".to_string(), 1), ("us".to_string(), 4)]
            .into_iter()
            .collect();
        let mut src = source(&c, 0, 1);
        let mut seen = [0u32; 2];
        for _ in 0..10_000 {
            let r = src.next();
            let key = std::str::from_utf8(r.key.unwrap()).unwrap();
            let (prefix, digits) = key.split_once(':').unwrap();
            assert_eq!(digits.len(), 12);
            let n: u64 = digits.parse().unwrap();
            match prefix {
                "eu" => assert_eq!((r.partition, n % 2), (1, 0)),
                "us" => assert_eq!((r.partition, n % 2), (4, 1)),
                other => panic!("prefix {other}"),
            }
            seen[usize::from(prefix == "us")] += 1;
        }
        assert!(seen.iter().all(|&s| s > 4000), "{seen:?}");
    }

    #[test]
    fn sequential_keys_in_order_per_producer() {
        let mut c = cfg();
        c.keys = KeyDist::Sequential { count: 4 };
        let mut src = source(&c, 0, 1);
        let keys: Vec<Vec<u8>> = (0..6).map(|_| src.next().key.unwrap().to_vec()).collect();
        let want = [0, 1, 2, 3, 0, 1].map(|n| format!("{n:012}").into_bytes());
        assert_eq!(keys, want);
    }

    #[test]
    fn generated_values_compress_unlike_random() {
        let mut ratios = Vec::new();
        for g in [ValueGen::Random, ValueGen::Text, ValueGen::Json] {
            let mut c = cfg();
            c.size = SizeDist::Fixed { bytes: 500 };
            c.value = g;
            let mut src = source(&c, 0, 1);
            // A 64 KiB producer batch made of consecutive records.
            let mut batch = Vec::new();
            while batch.len() < 64 * 1024 {
                batch.extend_from_slice(src.next().value);
            }
            ratios.push(values::tests::lz_ratio(&batch));
        }
        let (random, text, json) = (ratios[0], ratios[1], ratios[2]);
        assert!(random < 1.02, "random {random}");
        assert!(text > 1.8, "text {text}");
        assert!(json > 2.0, "json {json}");
    }

    #[test]
    fn errors_convert_to_config_errors() {
        let mut c = cfg();
        c.value = ValueGen::File {
            path: "/nonexistent/kprod/values.txt".into(),
        };
        let e: KprodError = Payloads::build(&c, Path::new(".")).unwrap_err().into();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("/nonexistent/kprod/values.txt"),
            "{e}"
        );
    }

    /// Run with `cargo test --release --lib workload -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing; meaningful only in release builds"]
    fn time_next() {
        let mut c = rich_cfg();
        c.size = SizeDist::Fixed { bytes: 1024 };
        c.keys = KeyDist::Uniform { count: 100_000 };
        c.headers.fixed.clear();
        let mut src = source(&c, 0, 1);
        let n = 10_000_000u64;
        let t = std::time::Instant::now();
        let mut bytes = 0u64;
        for _ in 0..n {
            let r = std::hint::black_box(src.next());
            bytes += r.payload_bytes;
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("next(): {ns:.2} ns/record ({bytes} bytes)");
    }
}
