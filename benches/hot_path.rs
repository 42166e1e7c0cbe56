//! Micro-benchmark of the per-record send path, in two parts:
//!
//! 1. `source+recorder`: what kprod's own code does per record without librdkafka: the
//!    next record, the opaque, `on_enqueued` and `on_delivered` (ns/record, one thread).
//! 2. `worker`: the real producer loop (`engine::worker::run`) sending `RECORDS` 100-byte
//!    keyless records flat out to an embedded 3-broker mock cluster, acks=all, linger 5 ms:
//!    CPU time of the producer thread per record (produce, delivery reports, recording),
//!    and CPU time of the whole process per record (adds librdkafka's broker threads and
//!    the mock brokers). CPU time (rusage), not wall time, so a busy machine inflates it
//!    much less. Checks that every record was delivered.
//!
//! Plain `main` harness (`harness = false`); run with `cargo bench --bench hot_path`.
//! `KPROD_BENCH_RECORDS` overrides the worker part's record count (0 skips it).
//! `KPROD_BENCH_AB=N` runs the worker part N times each with and without the keyless
//! partitioner callback (`engine::sticky`), alternating, to size that lever.
//! `KPROD_BENCH_LANES=1` adds the record source alone per topic setting: `next()` (one
//! topic), `next_for` over two topics sharing [workload]'s setting, and over two topics
//! with settings of their own (`workload::lanes`).

use kprod::engine::cluster::start_mock;
use kprod::engine::native::NativeProducer;
use kprod::engine::worker::{self, RunFlags, WorkerMsg, WorkerSpec};
use kprod::measure::clock::Clock;
use kprod::measure::recorder::{pack, Recorder};
use kprod::profile::{
    HeadersCfg, KeyDist, OnFull, Rate, SendMode, SizeDist, TopicCfg, ValueGen, WorkloadCfg,
};
use kprod::workload::{KeySpace, LanePlan, Payloads, RecordSource};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const SOURCE_CALLS: u64 = 10_000_000;
const RECORDS: u64 = 2_000_000;

fn cfg() -> WorkloadCfg {
    WorkloadCfg {
        topic: "bench".into(),
        partitions: 4,
        replication_factor: 1,
        rate: Rate::Unlimited,
        duration: None,
        records: Some(RECORDS),
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

fn source() -> RecordSource {
    let cfg = cfg();
    let payloads = Payloads::build(&cfg, Path::new(".")).unwrap_or_else(|e| fail(e));
    let keys = KeySpace::build(&cfg, 0, 1).unwrap_or_else(|e| fail(e));
    RecordSource::new(payloads, keys, 0, 1)
}

/// ns per record of the source alone: one topic (`next`), or two topics through
/// `next_for` with [workload]'s setting for both or a setting of their own each.
#[inline(never)]
fn source_lanes() {
    let time = |label: &str, topics: Vec<TopicCfg>| {
        let mut c = cfg();
        c.topics = topics;
        let many = !c.topics.is_empty();
        let payloads = Payloads::build(&c, Path::new(".")).unwrap_or_else(|e| fail(e));
        let keys = KeySpace::build(&c, 0, 1).unwrap_or_else(|e| fail(e));
        let lanes = LanePlan::new(&c)
            .key_spaces(&c, 0, 1)
            .unwrap_or_else(|e| fail(e));
        let mut src = RecordSource::new(payloads, keys, 0, 1).with_lanes(&lanes);
        let mut bytes = 0u64;
        let start = Instant::now();
        for i in 0..SOURCE_CALLS {
            let r = match many {
                true => src.next_for(black_box((i & 1) as usize)),
                false => src.next(),
            };
            bytes += black_box(r).payload_bytes;
        }
        let ns = start.elapsed().as_nanos() as f64 / SOURCE_CALLS as f64;
        black_box(bytes);
        println!("source {label}: {ns:.2} ns/record");
    };
    let topic = |name: &str, size: Option<SizeDist>, keys: Option<KeyDist>| TopicCfg {
        size,
        keys,
        ..TopicCfg::plain(name.into(), 4, 1)
    };
    time("next, one topic", Vec::new());
    time(
        "next_for, two topics, one setting",
        vec![topic("a", None, None), topic("b", None, None)],
    );
    time(
        "next_for, two topics, two settings",
        vec![
            topic("a", None, None),
            topic(
                "b",
                Some(SizeDist::Fixed { bytes: 300 }),
                Some(KeyDist::Uniform { count: 1000 }),
            ),
        ],
    );
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("hot_path: {e}");
    std::process::exit(1)
}

/// CPU seconds (user + sys) of the calling thread or the whole process.
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[inline(never)] // a symbol of its own, so callgrind can count just this part
fn source_and_recorder() {
    let mut src = source();
    let mut rec = Recorder::new(0, 0, true);
    let mut bytes = 0u64;
    let start = Instant::now();
    for i in 0..SOURCE_CALLS {
        let r = black_box(src.next());
        let n = r.payload_bytes;
        // Every 8th record one µs behind schedule, so both histogram paths run.
        let (intended, enq) = (i / 4, i / 4 + u64::from(i % 8 == 0));
        let opaque = pack(intended, enq - intended);
        rec.on_enqueued(intended, enq, n);
        rec.on_delivered(black_box(opaque), intended + 700 + i % 300, n);
        bytes += n;
        if i % 4_000_000 == 3_999_999 {
            black_box(rec.roll(i));
        }
    }
    let elapsed = start.elapsed();
    black_box((bytes, rec.finish(SOURCE_CALLS)));
    println!(
        "source+recorder: {:.1} ns/record over {SOURCE_CALLS} records",
        elapsed.as_nanos() as f64 / SOURCE_CALLS as f64
    );
}

fn worker_loop(records: u64, sticky_callback: bool) {
    let mock = start_mock(3).unwrap_or_else(|e| fail(e));
    let props: BTreeMap<String, String> = [
        ("bootstrap.servers", mock.bootstrap_servers()),
        ("acks", "all".into()),
        ("enable.idempotence", "false".into()),
        ("linger.ms", "5".into()),
        ("batch.num.messages", "10000".into()),
        ("batch.size", "1000000".into()),
        ("queue.buffering.max.messages", "100000".into()),
        ("queue.buffering.max.kbytes", "1048576".into()),
        ("partitioner", "murmur2_random".into()),
        ("statistics.interval.ms", "1000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let spec = WorkerSpec {
        index: 0,
        topics: vec!["bench".into()],
        route: Vec::new(),
        rate: None,
        curve: None,
        records: Some(records),
        end: None,
        warmup: Duration::ZERO,
        send_mode: SendMode::Async,
        on_full: OnFull::Block,
        max_block: Duration::from_secs(60),
        max_in_flight_records: None,
        records_per_transaction: None,
        transaction_timeout: Duration::from_secs(10),
        flush_timeout: Duration::from_secs(60),
        header_bytes: 0,
        verify: None,
        stamp: None,
    };
    let (tx, rx) = mpsc::channel();
    let (stx, srx) = mpsc::channel();
    let flags = Arc::new(RunFlags {
        stop: AtomicBool::new(false),
        interrupted: AtomicBool::new(false),
    });
    let src = source();
    let producer = NativeProducer::new(
        &props,
        "bench",
        sticky_callback && worker::batched(&spec, &src),
    )
    .unwrap_or_else(|e| fail(e));
    let h = std::thread::spawn(move || {
        let before = cpu_seconds(libc::RUSAGE_THREAD);
        worker::run(spec, producer, src, tx, srx, flags);
        cpu_seconds(libc::RUSAGE_THREAD) - before
    });
    // Wait for Ready before starting the clock, as the engine does.
    let mut done = None;
    let mut process_before = 0.0;
    let mut wall = Instant::now();
    for msg in rx.iter() {
        match msg {
            WorkerMsg::Ready { .. } => {
                process_before = cpu_seconds(libc::RUSAGE_SELF);
                wall = Instant::now();
                let _ = stx.send(Clock::start());
            }
            WorkerMsg::Done(d) => done = Some(d),
            _ => {}
        }
    }
    let wall = wall.elapsed().as_secs_f64();
    let process = cpu_seconds(libc::RUSAGE_SELF) - process_before;
    let thread = h
        .join()
        .unwrap_or_else(|_| fail("the producer thread panicked"));
    let d = done.unwrap_or_else(|| fail("the producer sent no totals"));
    let c = &d.totals.measured;
    if c.delivered != records || !c.identity_holds() {
        fail(format!(
            "sent {} delivered {} failed {} unknown {}",
            c.sent, c.delivered, c.failed, c.unknown
        ));
    }
    let per = |s: f64| s * 1e9 / records as f64;
    println!(
        "worker{}: producer thread {:.0} ns CPU/record, process {:.0} ns CPU/record, \
         {:.0} records/s wall, {records} records delivered",
        if sticky_callback {
            ""
        } else {
            " (no sticky callback)"
        },
        per(thread),
        per(process),
        records as f64 / wall
    );
}

fn main() {
    source_and_recorder();
    if std::env::var("KPROD_BENCH_LANES").is_ok_and(|v| v == "1") {
        source_lanes();
    }
    let records = std::env::var("KPROD_BENCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(RECORDS);
    // 0 skips the worker part (e.g. to count instructions of the first under callgrind).
    let ab: u32 = std::env::var("KPROD_BENCH_AB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if records > 0 && ab == 0 {
        worker_loop(records, true);
    }
    for _ in 0..ab {
        worker_loop(records, true);
        worker_loop(records, false);
    }
}
