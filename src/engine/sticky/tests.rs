//! Unit tests of the keyless partitioner callback: which partitioners get it, the linger
//! librdkafka would use, switching, availability per batch, keyed records where librdkafka
//! puts them.

use super::*;
use std::cell::Cell;

fn props(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn only_sticky_partitioners_with_a_linger_get_the_callback() {
    assert!(Sticky::for_props(&props(&[])).is_some());
    for p in [
        "consistent_random",
        "murmur2_random",
        "fnv1a_random",
        "random",
    ] {
        assert!(
            Sticky::for_props(&props(&[("partitioner", p)])).is_some(),
            "{p}"
        );
    }
    for p in ["consistent", "murmur2", "fnv1a"] {
        assert!(
            Sticky::for_props(&props(&[("partitioner", p)])).is_none(),
            "{p}"
        );
    }
    assert!(Sticky::for_props(&props(&[("sticky.partitioning.linger.ms", "0")])).is_none());
    assert!(Sticky::for_props(&props(&[("linger.ms", "0")])).is_none());
}

#[test]
fn linger_is_finalised_as_librdkafka_does() {
    use rdkafka::producer::{BaseProducer, Producer};
    for kv in [
        vec![],
        vec![("linger.ms", "7")],
        vec![("queue.buffering.max.ms", "0.6")],
        vec![("linger.ms", "900000")],
        vec![("linger.ms", "5"), ("sticky.partitioning.linger.ms", "3")],
    ] {
        let mut p = props(&kv);
        p.insert("bootstrap.servers".into(), "127.0.0.1:1".into());
        let client: BaseProducer = crate::client::client_config(&p).create().unwrap();
        let mut buf = [0 as libc::c_char; 64];
        let mut size = buf.len();
        let name = c"sticky.partitioning.linger.ms";
        // SAFETY: live client; the buffer and its size are ours.
        let value = unsafe {
            let conf = rdsys::rd_kafka_conf(client.client().native_ptr());
            rdsys::rd_kafka_conf_get(conf, name.as_ptr(), buf.as_mut_ptr(), &mut size);
            std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            effective_linger_ms(&p).map(|v| v.to_string()),
            Some(value),
            "{kv:?}"
        );
    }
}

fn state(linger_ms: &str) -> Sticky {
    Sticky::for_props(&props(&[("sticky.partitioning.linger.ms", linger_ms)])).unwrap()
}

#[test]
fn keeps_the_partition_for_the_linger_then_switches() {
    let s = state("10");
    let draws = Cell::new(0);
    let next = |p: i32| {
        draws.set(draws.get() + 1);
        p
    };
    // The first record always picks.
    s.set_now_ns(1_000);
    assert_eq!(s.pick(|_| true, || next(2)), 2);
    // Within the linger (and exactly at it) the partition stays.
    for t in [1_000, 5_000_000, 10_001_000] {
        s.set_now_ns(t);
        assert_eq!(s.pick(|_| true, || next(0)), 2);
    }
    assert_eq!(draws.get(), 1);
    // Past it, a new pick, and the linger restarts from there.
    s.set_now_ns(10_001_001);
    assert_eq!(s.pick(|_| true, || next(1)), 1);
    s.set_now_ns(20_001_001);
    assert_eq!(s.pick(|_| true, || next(0)), 1);
    assert_eq!(draws.get(), 2);
}

#[test]
fn a_whole_batch_names_the_partition_only_while_the_callback_would_keep_it() {
    let s = state("10");
    // Before the first pick the batch must go through the callback.
    assert_eq!(s.current(0), None);
    s.set_now_ns(1_000);
    assert_eq!(s.pick(|_| true, || 3), 3);
    // Exactly the window in which `pick` keeps the partition without a new draw.
    for t in [1_000, 5_000_000, 10_001_000] {
        assert_eq!(s.current(t), Some(3), "{t}");
    }
    assert_eq!(s.current(10_001_001), None);
    s.set_now_ns(10_001_001);
    assert_eq!(s.pick(|_| true, || 1), 1);
    assert_eq!(s.current(20_001_001), Some(1));
}

#[test]
fn an_unavailable_partition_is_left_at_once() {
    let s = state("10");
    s.set_now_ns(0);
    assert_eq!(s.pick(|_| true, || 2), 2);
    s.set_now_ns(1);
    assert_eq!(s.pick(|p| p != 2, || 0), 0);
    s.set_now_ns(2);
    assert_eq!(s.pick(|_| true, || 1), 0);
}

#[test]
fn availability_is_asked_once_per_batch() {
    let s = state("10");
    let asked = Cell::new(0);
    let avail = |_| {
        asked.set(asked.get() + 1);
        true
    };
    for batch in 1..=3u64 {
        s.set_now_ns(batch * 1_000);
        for _ in 0..64 {
            s.pick(avail, || 1);
        }
        assert_eq!(asked.get(), batch);
    }
}

#[test]
fn the_clock_not_the_record_count_drives_switching() {
    // With the batch clock frozen, a million records stay on one partition.
    let s = state("1");
    s.set_now_ns(5);
    let first = s.pick(|_| true, || 3);
    for k in 0..1_000_000 {
        assert_eq!(s.pick(|_| true, || k % 4), first);
    }
}

#[test]
fn keyed_records_go_to_the_configured_hash() {
    for (name, reference) in [
        (
            "murmur2_random",
            rdsys::rd_kafka_msg_partitioner_murmur2 as PartitionerFn,
        ),
        ("fnv1a_random", rdsys::rd_kafka_msg_partitioner_fnv1a),
        (
            "consistent_random",
            rdsys::rd_kafka_msg_partitioner_consistent,
        ),
    ] {
        let s = Sticky::for_props(&props(&[("partitioner", name)])).unwrap();
        let opaque = &s as *const Sticky as *mut c_void;
        let mut spread = std::collections::BTreeSet::new();
        for i in 0..200u32 {
            let key = format!("key-{i}");
            let k = key.as_ptr() as *const c_void;
            // SAFETY: the hash partitioners read only the key (no topic needed).
            let (got, want) = unsafe {
                (
                    partition(
                        std::ptr::null(),
                        k,
                        key.len(),
                        12,
                        opaque,
                        std::ptr::null_mut(),
                    ),
                    reference(
                        std::ptr::null(),
                        k,
                        key.len(),
                        12,
                        opaque,
                        std::ptr::null_mut(),
                    ),
                )
            };
            assert_eq!(got, want, "{name} {key}");
            spread.insert(got);
        }
        assert!(spread.len() > 6, "{name}: {spread:?}");
    }
}

#[test]
fn murmur2_keys_land_where_the_java_client_puts_them() {
    // The Java client's default partitioner for keyed records:
    // toPositive(murmur2(key)) % partitions.
    let s = Sticky::for_props(&props(&[("partitioner", "murmur2_random")])).unwrap();
    let opaque = &s as *const Sticky as *mut c_void;
    for i in 0..200u32 {
        let key = format!("order-{i}");
        let k = key.as_ptr() as *const c_void;
        // SAFETY: the hash partitioners read only the key (no topic needed).
        let got = unsafe {
            partition(
                std::ptr::null(),
                k,
                key.len(),
                12,
                opaque,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(
            got,
            ((murmur2(key.as_bytes()) & 0x7fff_ffff) % 12) as i32,
            "{key}"
        );
    }
}

/// Kafka's murmur2 (seed 0x9747b28c), as in the Java client's Utils.murmur2.
fn murmur2(data: &[u8]) -> u32 {
    let m: u32 = 0x5bd1_e995;
    let r = 24;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    let t = chunks.remainder();
    if t.len() >= 3 {
        h ^= (t[2] as u32) << 16;
    }
    if t.len() >= 2 {
        h ^= (t[1] as u32) << 8;
    }
    if !t.is_empty() {
        h ^= t[0] as u32;
        h = h.wrapping_mul(m);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    h
}
