//! Tests of validation (every rule names the file, line, key and a fix), file-level errors
//! (syntax, unknown keys, types), warnings, and the Java config translation.

use super::tests::{err, ok, resolve_in, sets, tmp, write};
use super::*;

/// Resolves `profiles/t.toml` holding `text`; returns the rendered error.
fn fail(text: &str) -> String {
    fail_with(text, &Overrides::default())
}

fn fail_with(text: &str, o: &Overrides) -> String {
    let d = tmp();
    write(d.path(), "profiles/t.toml", text);
    match resolve_in(d.path(), &["t"], o) {
        Ok(p) => panic!("expected an error for:\n{text}\ngot {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    let d = tmp();
    write(d.path(), "profiles/t.toml", text);
    match resolve_in(d.path(), &["t"], &Overrides::default()) {
        Ok(p) => p.warnings,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// The error names the file and line, the key, says `what`, and carries a fix.
fn check(e: &str, line: usize, key: &str, what: &str) {
    assert!(
        e.starts_with(&format!("profiles/t.toml:{line}:")),
        "location missing in:\n{e}"
    );
    assert!(
        e.contains(&format!("key `{key}`")),
        "key `{key}` missing in:\n{e}"
    );
    assert!(e.contains(what), "`{what}` missing in:\n{e}");
    assert!(e.contains("\n  fix: "), "fix missing in:\n{e}");
}

/// `text` fails at `line` on `key`, saying `what` (one line per rule keeps the tables of
/// rules readable).
fn fails(text: &str, line: usize, key: &str, what: &str) {
    check(&fail(text), line, key, what);
}

#[test]
fn producer_rules() {
    let e = fail("[producer]\nacks = \"1\"\n");
    check(
        &e,
        2,
        "producer.acks",
        "idempotence requires acks = \"all\"",
    );
    let e = fail("[producer]\nmax_in_flight = 6\n");
    check(&e, 2, "producer.max_in_flight", "at most 5");
    let e = fail("[producer]\nretries = 0\n");
    check(&e, 2, "producer.retries", "retries ≥ 1");
    let e = fail("[producer]\nidempotence = false\ntransactional_id = \"x\"\n");
    check(
        &e,
        2,
        "producer.idempotence",
        "transactional producers cannot use acks != all",
    );
    let e = fail("[producer]\ntransactional_id = \"x\"\nrecords_per_transaction = 0\n");
    check(&e, 3, "producer.records_per_transaction", "at least 1");
    let e = fail("[producer]\ndelivery_timeout = \"30s\"\n[batching]\nlinger = \"1s\"\n");
    check(
        &e,
        2,
        "producer.delivery_timeout",
        "must be ≥ linger (1s) + request_timeout (30s)",
    );
    assert!(e.contains("delivery_timeout = \"31s\""), "{e}");
    let e = fail("[producer]\nmax_in_flight = 0\nidempotence = false\n");
    check(&e, 2, "producer.max_in_flight", "between 1 and 1000000");
    let e = fail("[producer]\nrequest_timeout = \"1.5ms\"\n");
    check(
        &e,
        2,
        "producer.request_timeout",
        "whole number of milliseconds",
    );
    let e = fail("[producer]\nretry_backoff = \"10m\"\n");
    check(&e, 2, "producer.retry_backoff", "retry.backoff.ms");
    let e = fail("[producer]\nacks = 2\n");
    check(&e, 2, "producer.acks", "must be 0, 1, all or -1");
}

#[test]
fn batching_and_compression_rules() {
    fails(
        "[batching]\nbatch_messages = 0\n",
        2,
        "batching.batch_messages",
        "batch.num.messages",
    );
    fails(
        "[batching]\nbatch_messages = \"2m\"\n",
        2,
        "batching.batch_messages",
        "1000000",
    );
    fails(
        "[batching]\nbatch_bytes = 0\n",
        2,
        "batching.batch_bytes",
        "batch.size",
    );
    let e = fail("[producer]\ndelivery_timeout = \"1h\"\n[batching]\nlinger = \"16m\"\n");
    check(&e, 4, "batching.linger", "900000");
    fails(
        "[compression]\ncodec = \"gzip\"\nlevel = 10\n",
        3,
        "compression.level",
        "0..=9",
    );
    fails(
        "[compression]\ncodec = \"zstd\"\nlevel = 13\n",
        3,
        "compression.level",
        "1..=12",
    );
    fails(
        "[compression]\ncodec = \"lz4\"\nlevel = 13\n",
        3,
        "compression.level",
        "0..=12",
    );
    fails(
        "[compression]\ncodec = \"snappy\"\nlevel = 1\n",
        3,
        "compression.level",
        "takes no compression level",
    );
    let e = fail("[compression]\ncodec = \"lz5\"\n");
    check(
        &e,
        2,
        "compression.codec",
        "expected one of none, gzip, snappy, lz4, zstd",
    );
    assert!(e.contains("did you mean \"lz4\""), "{e}");
}

#[test]
fn backpressure_rules() {
    fails(
        "[backpressure]\nbuffer_bytes = 0\n",
        2,
        "backpressure.buffer_bytes",
        "between 1",
    );
    fails(
        "[backpressure]\nbuffer_messages = 0\n",
        2,
        "backpressure.buffer_messages",
        "queue.buffering.max.messages",
    );
    fails(
        "[backpressure]\nmax_in_flight_records = 0\n",
        2,
        "backpressure.max_in_flight_records",
        "at least 1",
    );
    fails(
        "[backpressure]\non_full = \"drop\"\n",
        2,
        "backpressure.on_full",
        "block, fail",
    );
}

// One rule per call, every [workload] rule in one place: long by design, flat to read.
#[test]
fn workload_rules() {
    fails(
        "[workload]\npartitions = 0\n",
        2,
        "workload.partitions",
        "between 1",
    );
    fails(
        "[workload]\nreplication_factor = 0\n",
        2,
        "workload.replication_factor",
        "between 1",
    );
    let e = fail("[workload]\nreplication_factor = 4\n");
    check(
        &e,
        2,
        "workload.replication_factor",
        "exceeds the 3 brokers of the embedded cluster",
    );
    fails(
        "[workload]\nproducers = 0\n",
        2,
        "workload.producers",
        "between 1 and 1024",
    );
    fails(
        "[workload]\nproducers = 1025\n",
        2,
        "workload.producers",
        "between 1 and 1024",
    );
    fails(
        "[workload]\nrate = 0\n",
        2,
        "workload.rate",
        "greater than 0",
    );
    fails(
        "[workload]\nrate = \"-5k\"\n",
        2,
        "workload.rate",
        "positive",
    );
    fails(
        "[workload]\nduration = \"0\"\n",
        2,
        "workload.duration",
        "greater than 0",
    );
    fails(
        "[workload]\nduration = \"none\"\n",
        2,
        "workload.duration",
        "neither duration nor records",
    );
    fails(
        "[workload]\nrecords = 0\n",
        2,
        "workload.records",
        "at least 1",
    );
    fails(
        "[workload]\nsize = 0\n",
        2,
        "workload.size",
        "between 1B and 1GiB",
    );
    fails(
        "[workload]\nsize = \"2GiB\"\n",
        2,
        "workload.size",
        "record size 2GiB must be between 1B and 1GiB",
    );
    fails(
        "[workload]\nsize = \"5GiB\"\n",
        2,
        "workload.size",
        "above the 1GiB limit",
    );
    fails(
        "[workload]\nsize = \"1.5GiB\"\n",
        2,
        "workload.size",
        "between 1B and 1GiB",
    );
    let e = fail("[workload]\nsize = { dist = \"uniform\", min = \"2KiB\", max = \"1KiB\" }\n");
    check(
        &e,
        2,
        "workload.size",
        "min (2KiB) is larger than max (1KiB)",
    );
    let e = fail("[workload]\nsize = { dist = \"normal\", mean = \"8KiB\", stddev = 1, min = 1, max = \"4KiB\" }\n");
    check(&e, 2, "workload.size", "outside [min, max]");
    fails(
        "[workload.headers]\ncount = 1001\n",
        2,
        "workload.headers.count",
        "between 0 and 1000",
    );
    fails(
        "[workload]\nkeys = \"zipf\"\nzipf_s = 0\n",
        3,
        "workload.zipf_s",
        "positive",
    );
    fails(
        "[workload]\nkeys = \"uniform\"\nkey_count = 0\n",
        3,
        "workload.key_count",
        "between 1 and 10000000",
    );
    let e = fail("[workload]\npartitioner = \"murmur\"\n");
    check(&e, 2, "workload.partitioner", "unknown partitioner");
    assert!(e.contains("did you mean \"murmur2\""), "{e}");
    fails(
        "[workload]\ntopic = \"a b\"\n",
        2,
        "workload.topic",
        "not a valid Kafka topic name",
    );
    fails(
        "[workload]\nkeys = \"zip\"\n",
        2,
        "workload.keys",
        "did you mean \"zipf\"",
    );
    fails(
        "[workload]\nsend_mode = \"fire_and_forget\"\n",
        2,
        "workload.send_mode",
        "did you mean \"fire-and-forget\"",
    );
}

#[test]
fn partition_map_errors_point_at_the_entry() {
    let e = fail(
        "[workload]\npartitions = 3\n[workload.partition_map]\n\"us-east\" = 0\n\"eu-west\" = 3\n",
    );
    check(
        &e,
        5,
        "workload.partition_map.eu-west",
        "partition 3 does not exist",
    );
    let e = fail("[workload.partition_map]\n\"us\" = \"zero\"\n");
    check(&e, 2, "workload.partition_map.us", "must be an integer");
}

#[test]
fn errors_after_merging_name_the_layer_that_set_the_value() {
    // acks comes from t.toml, idempotence from base: the later layer is blamed.
    let d = tmp();
    write(
        d.path(),
        "profiles/two.toml",
        "[workload]\npartitions = 2\n",
    );
    write(
        d.path(),
        "profiles/t.toml",
        "\n[workload.partition_map]\n\"a\" = 4\n",
    );
    let e = resolve_in(d.path(), &["t", "two"], &Overrides::default())
        .unwrap_err()
        .to_string();
    check(
        &e,
        3,
        "workload.partition_map.a",
        "the topic has 2 partitions",
    );
    let e = resolve_in(d.path(), &["durable"], &sets(&["producer.acks=1"]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--set: key `producer.acks`: idempotence requires"),
        "{e}"
    );
    let e = resolve_in(
        d.path(),
        &["transactional", "latency"],
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("built-in:latency:5:15: key `producer.idempotence`"),
        "{e}"
    );
}

#[test]
fn file_level_errors() {
    let e = fail("[producer]\nacks = \"all\n");
    assert!(
        e.starts_with("profiles/t.toml:2:")
            && e.contains("TOML syntax error")
            && e.contains("fix:"),
        "{e}"
    );
    let e = fail("[batching]\nlingr = \"5ms\"\n");
    check(&e, 2, "batching.lingr", "unknown key `lingr` in [batching]");
    assert!(e.contains("did you mean `batching.linger`?"), "{e}");
    let e = fail("[batchng]\nlinger = \"5ms\"\n");
    check(&e, 1, "batchng", "unknown key `batchng` at the top level");
    assert!(e.contains("did you mean `batching`?"), "{e}");
    let e = fail("[producer]\nlinger = \"5ms\"\n");
    assert!(e.contains("belongs in [batching]"), "{e}");
    let e = fail("[batching]\n\"linger.ms\" = 5\n");
    assert!(e.contains("kprod's key is `batching.linger`"), "{e}");
    let e = fail("[batching]\nlinger.ms = 5\n");
    check(&e, 2, "batching.linger", "dotted key such as `linger.ms`");
    let e = fail("[producer]\nidempotence = \"yes\"\n");
    check(
        &e,
        2,
        "producer.idempotence",
        "expected a boolean (true or false), found string",
    );
    let e = fail("[batching]\nlinger = 10\n");
    check(&e, 2, "batching.linger", "10 has no unit");
    let e = fail("[batching]\nbatch_bytes = \"64Kb\"\n");
    check(&e, 2, "batching.batch_bytes", "invalid size \"64Kb\"");
    let e = fail("[librdkafka]\n\"acks\" = \"1\"\n");
    check(&e, 2, "acks", "set by kprod from `producer.acks`");
    let e = fail("[librdkafka]\n\"bootstrap.servers\" = \"x:9092\"\n");
    check(&e, 2, "bootstrap.servers", "cluster.brokers");
    let e = fail("producer = 5\n");
    check(&e, 1, "producer", "is a section");
}

#[test]
fn warnings_from_the_reference_gotchas() {
    let w = warnings("[producer]\nacks = \"1\"\nidempotence = false\nmax_in_flight = 5\n");
    assert!(w.iter().any(|w| w.contains("reordering")), "{w:?}");
    let w = warnings("[producer]\nacks = \"1\"\nidempotence = false\nmax_in_flight = 1\n");
    assert!(!w.iter().any(|w| w.contains("reordering")), "{w:?}");
    let w = warnings("[workload]\nsize = \"2MB\"\n");
    assert!(w.iter().any(|w| w.contains("MSG_SIZE_TOO_LARGE")), "{w:?}");
    let w =
        warnings("[workload]\nsize = \"2MB\"\n[librdkafka]\n\"message.max.bytes\" = \"4000000\"\n");
    assert!(!w.iter().any(|w| w.contains("MSG_SIZE_TOO_LARGE")), "{w:?}");
    let w = warnings("[backpressure]\non_full = \"fail\"\nmax_block = \"60s\"\n");
    assert!(w.iter().any(|w| w.contains("ignores max_block")), "{w:?}");
    let w = warnings("[workload.headers]\ncount = 10\nvalue_bytes = \"1KiB\"\n");
    assert!(w.iter().any(|w| w.contains("not compressed")), "{w:?}");
    let w = warnings("[compression]\ncodec = \"lz4\"\n[batching]\nlinger = \"0\"\n");
    assert!(
        w.iter().any(|w| w.contains("compression works per batch")),
        "{w:?}"
    );
    let w = warnings("[workload]\nwarmup = \"10s\"\n");
    assert!(
        w.iter().any(|w| w.contains("nothing will be measured")),
        "{w:?}"
    );
    let w = warnings("[workload]\nreplication_factor = 1\n");
    assert!(
        w.iter().any(|w| w.contains("same durability as acks = 1")),
        "{w:?}"
    );
    let w = warnings("[producer]\nacks = 0\nidempotence = false\n");
    assert!(
        w.iter().any(|w| w.contains("retries have no effect")),
        "{w:?}"
    );
}

// Every table form of [workload] in one place: long by design, each case a few lines.
#[test]
fn workload_tables_parse() {
    let d = tmp();
    write(d.path(), "p/sizes.txt", "100\n200\n");
    write(d.path(), "p/lines.txt", "a\n");
    write(
        d.path(),
        "p/w.toml",
        "[workload]\nsize = { dist = \"file\", path = \"sizes.txt\" }\n\
         value = { generator = \"file\", path = \"lines.txt\" }\nkeys = \"zipf\"\nkey_count = \"1k\"\nzipf_s = 1.2\n\
         [workload.partition_map]\n\"us-east\" = 0\n\"eu-west\" = 2\n\
         [workload.headers]\ncount = 2\nvalue_bytes = \"32B\"\nfixed = { \"content-type\" = \"application/json\" }\n",
    );
    let p = ok(d.path(), &["p/w.toml"], &Overrides::default());
    let w = &p.workload;
    assert_eq!(
        w.size,
        SizeDist::File {
            path: d.path().join("p/sizes.txt")
        }
    );
    assert_eq!(
        w.value,
        ValueGen::File {
            path: d.path().join("p/lines.txt")
        }
    );
    assert_eq!(
        w.keys,
        KeyDist::Zipf {
            count: 1000,
            s: 1.2
        }
    );
    assert_eq!(w.partition_map.get("eu-west"), Some(&2));
    assert_eq!((w.headers.count, w.headers.value_bytes), (2, 32));
    assert_eq!(
        w.headers.fixed,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    let p = ok(
        d.path(),
        &[],
        &sets(&["workload.size={dist=\"normal\",mean=\"512B\",stddev=\"128B\",max=\"4KiB\"}"]),
    );
    assert_eq!(
        p.workload.size,
        SizeDist::Normal {
            mean: 512,
            stddev: 128,
            min: 1,
            max: 4096
        }
    );
    // (file, text, what its error must contain)
    let bad: [(&str, &str, [&str; 2]); 3] = [
        (
            "p/bad.toml",
            "[workload]\nsize = { dist = \"unifrom\", min = 1, max = 2 }\n",
            ["p/bad.toml:2:", "did you mean \"uniform\""],
        ),
        (
            "p/bad2.toml",
            "[workload]\nsize = { dist = \"uniform\", min = 1, maxx = 2 }\n",
            ["p/bad2.toml:2:37", "did you mean `max`?"],
        ),
        (
            "p/bad3.toml",
            "[workload]\nsize = { dist = \"file\", path = \"nope.txt\" }\n",
            ["nope.txt", "does not exist"],
        ),
    ];
    for (file, text, wants) in bad {
        write(d.path(), file, text);
        let e = err(d.path(), &[file], &Overrides::default());
        assert!(wants.iter().all(|w| e.contains(w)), "{e}");
    }
}
