//! Helpers of the real-broker suite: where the broker is, unique topics, the workload
//! overlay every run uses, and an independent read-back of what kprod produced (an
//! rdkafka consumer for records, a raw Fetch for stored batch headers).
#![allow(dead_code)]

pub mod consumers;
pub mod fixtures;
pub mod secure;
pub mod stages;
pub mod topics;
pub mod topology;
pub mod wire;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bootstrap list of the real broker. The tests that call this are `#[ignore]`d; run with
/// `--ignored` and no broker configured, they fail rather than pass unrun.
pub fn broker(test: &str) -> String {
    match std::env::var("KPROD_REAL_BROKER") {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!(
            "{test}: KPROD_REAL_BROKER is not set (scripts/broker.sh start, then \
             KPROD_REAL_BROKER=127.0.0.1:19092 cargo test --test real_broker -- --ignored)"
        ),
    }
}

/// A topic no other test or earlier run used (the broker may live across runs).
pub fn topic(test: &str) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("kprod-rt-{test}-{}-{t}", std::process::id())
}

/// The record shape every read-back run produces, so the consumer knows what to expect.
/// The overlay changes only the workload: producer, batching and compression settings
/// stay the profile's own.
pub struct Shape {
    pub partitions: u32,
    pub value_bytes: usize,
    pub header_count: usize,
    pub header_value_bytes: usize,
    pub fixed_name: &'static str,
    pub fixed_value: &'static str,
}

pub const SHAPE: Shape = Shape {
    partitions: 3,
    value_bytes: 200,
    header_count: 2,
    header_value_bytes: 8,
    fixed_name: "kprod-test",
    fixed_value: "real-broker",
};

/// Key text width of kprod's zero-padded key numbers.
const KEY_DIGITS: usize = 12;

/// Write the workload overlay: sequential keys (producer 0 sends key 0, 1, 2, … in send
/// order, which the read-back uses as the sequence number), fixed value size, headers.
pub fn overlay(dir: &Path, s: &Shape) -> PathBuf {
    let p = dir.join("real-broker-shape.toml");
    let text = format!(
        "[workload]\npartitions = {}\nreplication_factor = 1\nsize = \"{}B\"\n\
         keys = \"sequential\"\nkey_count = 1000000\n\n[workload.headers]\ncount = {}\n\
         value_bytes = {}\nfixed = {{ \"{}\" = \"{}\" }}\n",
        s.partitions,
        s.value_bytes,
        s.header_count,
        s.header_value_bytes,
        s.fixed_name,
        s.fixed_value
    );
    std::fs::write(&p, text).expect("write overlay");
    p
}

/// One consumed record, reduced to what the checks look at.
#[derive(Debug, Clone)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value_len: usize,
    /// Header names and values, in record order.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Consumed {
    /// The key as kprod's key number.
    pub fn key_number(&self) -> u64 {
        let k = self.key.as_deref().expect("record has no key");
        assert_eq!(
            k.len(),
            KEY_DIGITS,
            "key {:?} is not {KEY_DIGITS} digits",
            k
        );
        std::str::from_utf8(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("key {k:?} is not a decimal number"))
    }
}

pub fn consumer(bootstrap: &str, read_committed: bool, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("group.id", topic("reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set(
            "isolation.level",
            if read_committed {
                "read_committed"
            } else {
                "read_uncommitted"
            },
        );
    for (k, v) in extra {
        c.set(*k, *v);
    }
    c.create().expect("consumer")
}

/// A consumer that reaches the broker over TLS, trusting `ca`.
pub fn consumer_tls(bootstrap: &str, ca: &str) -> BaseConsumer {
    consumer(
        bootstrap,
        false,
        &[("security.protocol", "ssl"), ("ssl.ca.location", ca)],
    )
}

fn topic_partitions(c: &BaseConsumer, topic: &str) -> Option<u32> {
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    md.topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.partitions().len() as u32)
}

/// Partition count of a topic as the broker reports it (None: no such topic).
pub fn partitions(bootstrap: &str, topic: &str) -> Option<u32> {
    let c = consumer(bootstrap, false, &[("allow.auto.create.topics", "false")]);
    topic_partitions(&c, topic)
}

/// Read every record of `topic`, from offset 0 to each partition's end as the broker
/// reports it now.
pub fn read_back(bootstrap: &str, topic: &str, read_committed: bool) -> Vec<Consumed> {
    read_back_with(&consumer(bootstrap, read_committed, &[]), topic)
}

/// The end of each partition is the high watermark of the consumer's own Fetch
/// responses, never a ListOffsets answer: Tansu 0.6.0 answers ListOffsets(latest) with
/// the base offset of the newest stored batch plus one (tansu-storage 0.6.0,
/// `DynoStore::list_offsets`), which stops a reader after the first record of that batch.
pub fn read_back_with(c: &BaseConsumer, topic: &str) -> Vec<Consumed> {
    let n = topic_partitions(c, topic).unwrap_or_else(|| panic!("topic {topic} not found"));
    let mut tpl = TopicPartitionList::new();
    for p in 0..n as i32 {
        // An absolute offset: a logical one (beginning) would be resolved by ListOffsets.
        tpl.add_partition_offset(topic, p, Offset::Offset(0))
            .expect("assign");
    }
    c.assign(&tpl).expect("assign");
    let mut next: HashMap<i32, i64> = (0..n as i32).map(|p| (p, 0)).collect();
    let caught_up = |next: &HashMap<i32, i64>| {
        next.iter()
            .all(|(&p, &pos)| pos >= fetched_high(c, topic, p))
    };
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !caught_up(&next) {
        assert!(
            Instant::now() < deadline,
            "read-back of {topic} stalled: {} records so far, positions {next:?}",
            out.len()
        );
        let Some(m) = c.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m.unwrap_or_else(|e| panic!("consumer error reading {topic}: {e}"));
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        next.insert(m.partition(), m.offset() + 1);
        out.push(Consumed {
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value_len: m.payload().map_or(0, <[u8]>::len),
            headers,
        });
    }
    out
}

/// The high watermark of the last Fetch response for a partition, or i64::MAX before one
/// arrived (librdkafka caches it; rust-rdkafka has no wrapper).
fn fetched_high(c: &BaseConsumer, topic: &str, partition: i32) -> i64 {
    let t = std::ffi::CString::new(topic).expect("topic without NUL");
    let (mut lo, mut hi) = (-1i64, -1i64);
    // SAFETY: a live client handle, a NUL-terminated topic and two out-pointers that
    // outlive the call, which only reads librdkafka's cache.
    let err = unsafe {
        rdkafka_sys::rd_kafka_get_watermark_offsets(
            c.client().native_ptr(),
            t.as_ptr(),
            partition,
            &mut lo,
            &mut hi,
        )
    };
    if err == rdkafka_sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0 {
        hi
    } else {
        i64::MAX
    }
}

/// Keys, headers and value sizes are as [`SHAPE`] configured, every key appears once,
/// and per partition the keys (producer 0's send order) rise with the offset: the broker
/// holds the records in the order kprod sent them. Returns the records per partition.
pub fn check_records(recs: &[Consumed], s: &Shape) -> BTreeMap<i32, usize> {
    let mut seen = std::collections::HashSet::new();
    let mut last: BTreeMap<i32, (i64, u64)> = BTreeMap::new();
    let mut per_partition = BTreeMap::new();
    for r in recs {
        assert_eq!(r.value_len, s.value_bytes, "value size of {r:?}");
        assert_eq!(
            r.headers.len(),
            1 + s.header_count,
            "header count of {}/{}: {:?}",
            r.partition,
            r.offset,
            r.headers
        );
        assert_eq!(r.headers[0].0, s.fixed_name);
        assert_eq!(r.headers[0].1, s.fixed_value.as_bytes());
        for (i, (name, value)) in r.headers[1..].iter().enumerate() {
            assert_eq!(name, &format!("h{i}"), "generated header names");
            assert_eq!(value.len(), s.header_value_bytes, "size of header {name}");
        }
        let k = r.key_number();
        assert!(
            seen.insert(k),
            "key {k} was stored twice (duplicate record)"
        );
        if let Some(&(off, prev)) = last.get(&r.partition) {
            assert!(
                r.offset > off && k > prev,
                "partition {}: key {k} at offset {} follows key {prev} at offset {off}: \
                 records are stored out of send order",
                r.partition,
                r.offset
            );
        }
        last.insert(r.partition, (r.offset, k));
        *per_partition.entry(r.partition).or_insert(0) += 1;
    }
    // One producer sends keys 0..n-1 with none skipped (the overlay's key space is larger
    // than any run here), so a gap is a lost record.
    let n = recs.len() as u64;
    if let Some(max) = seen.iter().max() {
        assert_eq!(*max + 1, n, "keys 0..{n} expected, highest is {max}");
    }
    per_partition
}

/// Every stored batch of a topic (all partitions), read with the raw Fetch client.
pub fn stored_batches(bootstrap: &str, topic: &str, partitions: u32) -> Vec<wire::Batch> {
    (0..partitions as i32)
        .flat_map(|p| {
            wire::batches(bootstrap, topic, p)
                .unwrap_or_else(|e| panic!("raw fetch of {topic}/{p}: {e}"))
        })
        .collect()
}

/// Per partition and producer id, the batches' base sequences follow each other without
/// gap or overlap, starting at 0: the idempotent producer's numbering, as the broker
/// stored it, is the order the records were sent in.
pub fn check_sequences(batches: &[wire::Batch]) {
    let mut next: BTreeMap<(i32, i64), i32> = BTreeMap::new();
    for b in batches.iter().filter(|b| !b.control) {
        assert!(
            b.producer_id >= 0,
            "idempotent batch without a producer id: {b:?}"
        );
        let want = next.entry((b.partition, b.producer_id)).or_insert(0);
        assert_eq!(
            b.base_sequence, *want,
            "partition {} producer {}: batch at offset {} starts at sequence {}, expected {}",
            b.partition, b.producer_id, b.base_offset, b.base_sequence, want
        );
        *want += b.records;
    }
}
