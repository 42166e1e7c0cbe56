//! Micro-benchmark of the record hot path: ns per `RecordSource::next()` for 1 KiB text
//! values, uniform keys over 100 000 keys and 2 generated headers of 16 bytes.
//!
//! Plain `main` harness (`harness = false` in Cargo.toml); run with
//! `cargo bench --bench record_source`. Exits non-zero if the timed loop allocates.

use kprod::profile::{HeadersCfg, KeyDist, Rate, SendMode, SizeDist, ValueGen, WorkloadCfg};
use kprod::workload::{KeySpace, Payloads, RecordSource};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CALLS: u64 = 10_000_000;

/// Counts allocations so the benchmark can prove the hot path never allocates.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only adds a counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let cfg = WorkloadCfg {
        topic: "bench".into(),
        partitions: 12,
        replication_factor: 1,
        rate: Rate::Unlimited,
        duration: Some(Duration::from_secs(1)),
        records: None,
        warmup: Duration::ZERO,
        producers: 1,
        size: SizeDist::Fixed { bytes: 1024 },
        value: ValueGen::Text,
        keys: KeyDist::Uniform { count: 100_000 },
        partition_map: BTreeMap::new(),
        partitioner: "murmur2_random".into(),
        headers: HeadersCfg {
            count: 2,
            value_bytes: 16,
            fixed: vec![],
        },
        send_mode: SendMode::Async,
        seed: 1,
        stages: Vec::new(),
        topics: Vec::new(),
    };
    let payloads = match Payloads::build(&cfg, Path::new(".")) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot build payloads: {e}");
            std::process::exit(1);
        }
    };
    let keys = match KeySpace::build(&cfg, 0, 1) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("cannot build keys: {e}");
            std::process::exit(1);
        }
    };
    let mut src = RecordSource::new(payloads, keys, 0, 1);

    // Warm caches and branch predictors before timing.
    for _ in 0..1_000_000 {
        black_box(src.next());
    }
    let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut bytes = 0u64;
    for _ in 0..CALLS {
        let r = black_box(src.next());
        // Touch what the engine touches: pointers, lengths and the header list.
        bytes += r.payload_bytes + r.headers.iter().map(|h| h.value.len() as u64).sum::<u64>();
    }
    let elapsed = start.elapsed();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    println!(
        "record_source: {:.2} ns/record over {CALLS} records ({:.1} M records/s, {} bytes)",
        elapsed.as_nanos() as f64 / CALLS as f64,
        CALLS as f64 / elapsed.as_secs_f64() / 1e6,
        black_box(bytes)
    );
    if allocations != 0 {
        eprintln!("record_source: the hot path allocated {allocations} times");
        std::process::exit(1);
    }
}
