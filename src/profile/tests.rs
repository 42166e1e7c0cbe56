//! Tests of resolution: lookup, layering precedence, extends, --set/flags/-X, built-ins,
//! the librdkafka mapping, Java config translation and redaction.

use super::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One dedicated flag as `cli` hands it over: (flag, key, value).
fn flag(f: &'static str, k: &'static str, v: &str) -> (&'static str, &'static str, String) {
    (f, k, v.to_string())
}

pub(super) fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub(super) fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, text).expect("write");
    p
}

pub(super) fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub(super) fn resolve_in(
    dir: &Path,
    profiles: &[&str],
    o: &Overrides,
) -> Result<Profile, ConfigError> {
    resolve(&names(profiles), o, dir)
}

pub(super) fn sets(v: &[&str]) -> Overrides {
    Overrides {
        sets: names(v),
        ..Default::default()
    }
}

pub(super) fn ok(dir: &Path, profiles: &[&str], o: &Overrides) -> Profile {
    match resolve_in(dir, profiles, o) {
        Ok(p) => p,
        Err(e) => panic!("resolve {profiles:?} failed:\n{e}"),
    }
}

pub(super) fn err(dir: &Path, profiles: &[&str], o: &Overrides) -> String {
    match resolve_in(dir, profiles, o) {
        Ok(_) => panic!("resolve {profiles:?} should have failed"),
        Err(e) => e.to_string(),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn every_builtin_resolves_without_warnings() {
    let d = tmp();
    let listed = builtin_profiles();
    assert_eq!(listed.len(), 14);
    for (name, description) in listed {
        let p = ok(d.path(), &[name], &Overrides::default());
        assert_eq!(p.names, vec![name.to_string()]);
        assert_eq!(
            p.description, description,
            "{name}: listed description differs from the parsed one"
        );
        assert!(!description.is_empty(), "{name} has no description");
        assert!(p.warnings.is_empty(), "{name} warns: {:?}", p.warnings);
        assert!(render_show(&p).contains("librdkafka properties"));
    }
}

#[test]
fn base_sets_every_required_key() {
    let base = load::load_base().unwrap();
    let optional = [
        "producer.transactional_id",
        "compression.level",
        "backpressure.max_in_flight_records",
        "workload.records",
        "workload.partition_map",
        // Unset: the run's one topic; `--topics N` sets it.
        "workload.topic_count",
        "cluster.brokers",
        // [check] thresholds: unset means kprod check's documented defaults.
        "check.throughput",
        "check.p50",
        "check.p99",
        "check.p999",
        "check.errors",
        "check.thresholds",
        "consumers.count",
        "consumers.groups",
        "consumers.fetch_min_bytes",
        "consumers.fetch_wait_max_ms",
        "consumers.backlog",
        "consumers.cpus",
    ];
    for (key, _) in keys::KEYS {
        if !optional.contains(key) {
            assert!(
                base.values.contains_key(key),
                "base.toml does not set {key}"
            );
        }
    }
}

#[test]
fn durable_maps_to_the_production_checklist() {
    let d = tmp();
    let p = ok(d.path(), &["durable"], &Overrides::default());
    let props = librdkafka_properties(&p);
    for (k, v) in [
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("max.in.flight.requests.per.connection", "5"),
        ("linger.ms", "10"),
        ("compression.codec", "lz4"),
        ("message.send.max.retries", "2147483647"),
        ("message.timeout.ms", "120000"),
        ("request.timeout.ms", "30000"),
        ("retry.backoff.ms", "100"),
        ("batch.size", "65536"),
        ("queue.buffering.max.kbytes", "65536"),
        ("partitioner", "murmur2_random"),
    ] {
        assert_eq!(props.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert!(!props.contains_key("compression.level"));
    assert!(!props.contains_key("transactional.id"));
}

#[test]
fn builtin_key_values() {
    let d = tmp();
    let get = |n: &str| ok(d.path(), &[n], &Overrides::default());
    let base = get("base");
    assert_eq!(base.workload.topic, "kprod-bench");
    assert_eq!(base.workload.rate, Rate::Fixed(20_000.0));
    assert_eq!(base.workload.duration, Some(ms(10_000)));
    assert_eq!(base.workload.size, SizeDist::Fixed { bytes: 512 });
    assert_eq!(base.cluster.mock_brokers, 3);
    let t = get("throughput");
    assert_eq!(
        (
            t.batching.batch_bytes,
            t.batching.linger,
            t.compression.codec
        ),
        (65_536, ms(20), Codec::Lz4)
    );
    assert_eq!(t.backpressure.buffer_bytes, 64 << 20);
    let l = get("latency");
    assert_eq!(
        (l.batching.batch_bytes, l.batching.linger, l.producer.acks),
        (16_384, ms(0), Acks::One)
    );
    let f = get("fire-and-forget");
    assert_eq!(f.producer.acks, Acks::Zero);
    assert_eq!(
        (
            f.producer.max_in_flight,
            f.producer.retries,
            f.producer.idempotence
        ),
        (1, 0, false)
    );
    assert_eq!(f.backpressure.buffer_messages, 1_000_000);
    assert_eq!(f.workload.send_mode, SendMode::FireAndForget);
    let tx = get("transactional");
    assert_eq!(tx.producer.transactional_id.as_deref(), Some("kprod-tx"));
    assert!(tx.producer.idempotence);
    let props = librdkafka_properties(&tx);
    assert_eq!(
        props.get("transactional.id").map(String::as_str),
        Some("kprod-tx")
    );
    assert_eq!(
        props.get("transaction.timeout.ms").map(String::as_str),
        Some("120000")
    );
    let z = get("zstd");
    assert_eq!(
        (z.compression.codec, z.compression.level),
        (Codec::Zstd, Some(3))
    );
    let ff = get("fail-fast");
    assert_eq!(
        (ff.backpressure.on_full, ff.backpressure.max_block),
        (OnFull::Fail, Duration::ZERO)
    );
}

#[test]
fn no_profile_means_base_and_partial_profiles_sit_on_base() {
    let d = tmp();
    let none = ok(d.path(), &[], &Overrides::default());
    assert_eq!(none.names, vec!["base".to_string()]);
    let base = ok(d.path(), &["base"], &Overrides::default());
    assert_eq!(none.producer, base.producer);
    let lz4 = ok(d.path(), &["lz4"], &Overrides::default());
    assert_eq!(lz4.compression.codec, Codec::Lz4);
    assert_eq!(lz4.batching, base.batching);
    assert_eq!(lz4.workload, base.workload);
    let both = ok(d.path(), &["durable", "zstd"], &Overrides::default());
    assert_eq!(both.names, names(&["durable", "zstd"]));
    assert_eq!(
        (both.compression.codec, both.batching.linger),
        (Codec::Zstd, ms(10))
    );
}

#[test]
fn precedence_defaults_extends_profile_java_set_flags_x() {
    let d = tmp();
    write(
        d.path(),
        "profiles/parent.toml",
        "[batching]\nlinger = \"1ms\"\nbatch_bytes = \"1KiB\"\n[backpressure]\nmax_block = \"1s\"\n\
         [workload]\nrate = \"1k\"\ntopic = \"p\"\n[librdkafka]\n\"client.rack\" = \"r1\"\n",
    );
    write(
        d.path(),
        "profiles/child.toml",
        "extends = \"parent\"\n[batching]\nlinger = \"2ms\"\nbatch_bytes = \"2KiB\"\n\
         [workload]\nrate = \"2k\"\ntopic = \"c\"\nseed = 6\n[librdkafka]\n\"socket.nagle.disable\" = \"false\"\n",
    );
    write(
        d.path(),
        "more/second.toml",
        "[batching]\nlinger = \"3ms\"\n[workload]\nrate = \"3k\"\nseed = 7\n",
    );
    write(
        d.path(),
        "java.properties",
        "linger.ms=4\nbatch.size=4096\n",
    );
    let o = Overrides {
        java_config: Some("java.properties".into()),
        sets: names(&["batching.linger=5ms", "workload.rate=5k"]),
        flags: vec![flag("--rate", "workload.rate", "6k")],
        librdkafka: names(&["socket.nagle.disable=true"]),
        java_props: Vec::new(),
        topic_suffix: None,
    };
    let p = ok(d.path(), &["child", "more/second.toml"], &o);
    assert_eq!(
        p.names,
        names(&["child", "more/second.toml", "java:java.properties"])
    );
    assert_eq!(p.workload.rate, Rate::Fixed(6_000.0), "flags beat --set");
    assert_eq!(p.batching.linger, ms(5), "--set beats java config");
    assert_eq!(p.batching.batch_bytes, 4096, "java config beats profiles");
    assert_eq!(p.workload.seed, 7, "later profile beats earlier");
    assert_eq!(p.workload.topic, "c", "profile beats what it extends");
    assert_eq!(p.backpressure.max_block, ms(1000), "extends beats base");
    assert_eq!(p.workload.partitions, 6, "base fills the rest");
    assert_eq!(
        p.librdkafka.get("socket.nagle.disable").map(String::as_str),
        Some("true"),
        "-X beats the table"
    );
    assert_eq!(
        p.librdkafka.get("client.rack").map(String::as_str),
        Some("r1")
    );
    let props = librdkafka_properties(&p);
    assert_eq!(
        props.get("socket.nagle.disable").map(String::as_str),
        Some("true")
    );
    // Without the flag, --set wins over everything below it.
    let o2 = Overrides {
        flags: Vec::new(),
        ..o
    };
    assert_eq!(
        ok(d.path(), &["child", "more/second.toml"], &o2)
            .workload
            .rate,
        Rate::Fixed(5_000.0)
    );
}

#[test]
fn stop_condition_is_replaced_as_a_whole() {
    let d = tmp();
    let recs = Overrides {
        flags: vec![flag("--records", "workload.records", "1m")],
        ..Default::default()
    };
    let p = ok(d.path(), &[], &recs);
    assert_eq!(
        (p.workload.duration, p.workload.records),
        (None, Some(1_000_000))
    );
    write(
        d.path(),
        "profiles/both.toml",
        "[workload]\nduration = \"1m\"\nrecords = \"5k\"\nwarmup = \"0s\"\n",
    );
    let p = ok(d.path(), &["both"], &Overrides::default());
    assert_eq!(
        (p.workload.duration, p.workload.records),
        (Some(ms(60_000)), Some(5_000))
    );
    let p = ok(d.path(), &["both"], &sets(&["workload.duration=30s"]));
    assert_eq!(
        (p.workload.duration, p.workload.records),
        (Some(ms(30_000)), None)
    );
    let e = err(d.path(), &["both"], &sets(&["workload.records=none"]));
    assert!(e.contains("neither duration nor records"), "{e}");
}

#[test]
fn switching_codec_drops_the_old_level() {
    let d = tmp();
    let p = ok(d.path(), &["zstd", "lz4"], &Overrides::default());
    assert_eq!(
        (p.compression.codec, p.compression.level),
        (Codec::Lz4, None)
    );
    let p = ok(d.path(), &["zstd", "snappy"], &Overrides::default());
    assert_eq!(p.compression.level, None);
    let p = ok(d.path(), &["zstd"], &sets(&["compression.level=5"]));
    assert_eq!(p.compression.level, Some(5));
    let p = ok(d.path(), &["zstd"], &sets(&["compression.codec=zstd"]));
    assert_eq!(p.compression.level, Some(3), "same codec keeps its level");
    let p = ok(d.path(), &["zstd"], &sets(&["compression.level=default"]));
    assert_eq!(p.compression.level, None);
}

#[test]
fn profile_lookup_order_and_errors() {
    let d = tmp();
    write(
        d.path(),
        "profiles/durable.toml",
        "description = \"local\"\n[batching]\nlinger = \"7ms\"\n",
    );
    let p = ok(d.path(), &["durable"], &Overrides::default());
    assert_eq!(
        (p.description.as_str(), p.batching.linger),
        ("local", ms(7)),
        "./profiles shadows built-ins"
    );
    let p = ok(d.path(), &["builtin:durable"], &Overrides::default());
    assert_eq!(p.batching.linger, ms(10));
    write(d.path(), "x/mine.toml", "[workload]\ntopic = \"mine\"\n");
    assert_eq!(
        ok(d.path(), &["x/mine.toml"], &Overrides::default())
            .workload
            .topic,
        "mine"
    );
    let e = err(d.path(), &["x/missing.toml"], &Overrides::default());
    assert!(
        e.contains("x/missing.toml") && e.contains("cannot read"),
        "{e}"
    );
    let e = err(d.path(), &["durabel"], &Overrides::default());
    assert!(e.contains("unknown profile \"durabel\""), "{e}");
    assert!(
        e.contains("did you mean \"durable\"") && e.contains("fire-and-forget"),
        "{e}"
    );
}

#[test]
fn extends_cycles_are_errors_naming_the_chain() {
    let d = tmp();
    write(d.path(), "profiles/a.toml", "extends = \"b\"\n");
    write(d.path(), "profiles/b.toml", "extends = \"a\"\n");
    let e = err(d.path(), &["a"], &Overrides::default());
    assert!(
        e.contains("extends cycle: profiles/a.toml -> profiles/b.toml -> profiles/a.toml"),
        "{e}"
    );
    assert!(
        e.contains("profiles/b.toml:1:11") && e.contains("fix:"),
        "{e}"
    );
    write(d.path(), "profiles/me.toml", "extends = \"me\"\n");
    let e = err(d.path(), &["me"], &Overrides::default());
    assert!(
        e.contains("extends cycle: profiles/me.toml -> profiles/me.toml"),
        "{e}"
    );
    // The documented way to customise a built-in under its own name.
    write(
        d.path(),
        "profiles/latency.toml",
        "extends = \"builtin:latency\"\n[workload]\nseed = 9\n",
    );
    let p = ok(d.path(), &["latency"], &Overrides::default());
    assert_eq!((p.workload.seed, p.producer.acks), (9, Acks::One));
}

#[test]
fn extends_paths_are_relative_to_the_extending_file() {
    let d = tmp();
    write(
        d.path(),
        "deep/dir/parent.toml",
        "[workload]\npartitions = 12\n",
    );
    write(
        d.path(),
        "deep/child.toml",
        "extends = \"dir/parent.toml\"\n[workload]\nseed = 1\n",
    );
    let p = ok(d.path(), &["deep/child.toml"], &Overrides::default());
    assert_eq!((p.workload.partitions, p.workload.seed), (12, 1));
    write(d.path(), "deep/bad.toml", "extends = \"nope.toml\"\n");
    let e = err(d.path(), &["deep/bad.toml"], &Overrides::default());
    assert!(
        e.contains("deep/nope.toml") && e.contains("deep/bad.toml:1:11"),
        "{e}"
    );
    write(d.path(), "deep/bad2.toml", "extends = \"duráble\"\n");
    let e = err(d.path(), &["deep/bad2.toml"], &Overrides::default());
    assert!(
        e.contains("key `extends`") && e.contains("did you mean \"durable\""),
        "{e}"
    );
}

#[test]
fn set_and_x_errors() {
    let d = tmp();
    let e = err(d.path(), &[], &sets(&["workload.rate"]));
    assert!(
        e.starts_with("--set: ") && e.contains("has no `=`") && e.contains("fix:"),
        "{e}"
    );
    let e = err(d.path(), &[], &sets(&["workload.rat=5"]));
    assert!(
        e.contains("key `workload.rat`") && e.contains("did you mean `workload.rate`?"),
        "{e}"
    );
    let e = err(d.path(), &[], &sets(&["producer.linger.ms=5"]));
    assert!(e.contains("unknown key"), "{e}");
    let p = ok(
        d.path(),
        &[],
        &sets(&[
            "workload.keys=none",
            "producer.acks=all",
            "workload.partitions=3",
        ]),
    );
    assert_eq!(
        (p.workload.keys.clone(), p.workload.partitions),
        (KeyDist::None, 3)
    );
    let p = ok(
        d.path(),
        &[],
        &sets(&["librdkafka.socket.nagle.disable=true"]),
    );
    assert_eq!(
        p.librdkafka.get("socket.nagle.disable").map(String::as_str),
        Some("true")
    );
    let x = |v: &[&str]| Overrides {
        librdkafka: names(v),
        ..Default::default()
    };
    let e = err(d.path(), &[], &x(&["sasl.password"]));
    assert!(e.starts_with("-X: ") && e.contains("no `=`"), "{e}");
    let e = err(d.path(), &[], &x(&["linger.ms=5"]));
    assert!(e.contains("batching.linger") && e.contains("fix:"), "{e}");
    let flags = Overrides {
        flags: vec![flag("--rate", "workload.rate", "0")],
        ..Default::default()
    };
    let e = err(d.path(), &[], &flags);
    assert!(
        e.starts_with("--rate: key `workload.rate`") && e.contains("greater than 0"),
        "{e}"
    );
}
