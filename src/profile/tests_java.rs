//! Tests of the Java config translation, the librdkafka mapping details and redaction.

use super::tests::{names, ok, resolve_in, sets, tmp, write};
use super::*;

const JAVA: &str = "# a Java producer\n\
    bootstrap.servers=broker1:9092,broker2:9092\n\
    acks = all\n\
    enable.idempotence: true\n\
    max.in.flight.requests.per.connection 5\n\
    retries=2147483647\n\
    delivery.timeout.ms=120000\n\
    request.timeout.ms=30000\n\
    retry.backoff.ms=100\n\
    batch.size=65536\n\
    linger.ms=10\n\
    compression.type=zstd\n\
    compression.zstd.level=4\n\
    buffer.memory=67108864\n\
    max.block.ms=30000\n\
    transactional.id=tx-1\n\
    key.serializer=org.apache.kafka.common.serialization.StringSerializer\n\
    value.serializer=org.apache.kafka.common.serialization.StringSerializer\n";

#[test]
fn java_config_translates_every_supported_key() {
    let d = tmp();
    write(d.path(), "producer.properties", JAVA);
    let o = Overrides {
        java_config: Some("producer.properties".into()),
        ..Default::default()
    };
    let p = resolve_in(d.path(), &["latency"], &o).unwrap();
    let ms = std::time::Duration::from_millis;
    assert_eq!(
        p.cluster.brokers.as_deref(),
        Some("broker1:9092,broker2:9092")
    );
    let pr = &p.producer;
    assert_eq!(
        (pr.acks, pr.idempotence, pr.max_in_flight, pr.retries),
        (Acks::All, true, 5, 2_147_483_647)
    );
    assert_eq!(
        (pr.delivery_timeout, pr.request_timeout, pr.retry_backoff),
        (ms(120_000), ms(30_000), ms(100))
    );
    assert_eq!(pr.transactional_id.as_deref(), Some("tx-1"));
    assert_eq!(
        (p.batching.batch_bytes, p.batching.linger),
        (65_536, ms(10))
    );
    assert_eq!(
        (p.compression.codec, p.compression.level),
        (Codec::Zstd, Some(4))
    );
    assert_eq!(p.backpressure.buffer_bytes, 64 << 20);
    assert_eq!(
        (p.backpressure.max_block, p.backpressure.on_full),
        (ms(30_000), OnFull::Block)
    );
    assert_eq!(p.names, names(&["latency", "java:producer.properties"]));
    assert!(render_show(&p).contains("Java config producer.properties"));
}

#[test]
fn java_config_makes_java_defaults_explicit() {
    let d = tmp();
    write(d.path(), "p.properties", "linger.ms=5\n");
    let o = Overrides {
        java_config: Some("p.properties".into()),
        ..Default::default()
    };
    // durable sets 64KiB batches and a 64MiB buffer; a Java producer silent on them uses 16KiB/32MiB.
    let p = resolve_in(d.path(), &["durable"], &o).unwrap();
    assert_eq!(
        (p.batching.batch_bytes, p.backpressure.buffer_bytes),
        (16_384, 32 << 20)
    );
    assert_eq!(
        (
            p.producer.idempotence,
            p.producer.max_in_flight,
            p.producer.acks
        ),
        (true, 5, Acks::All)
    );
    // acks=1 without enable.idempotence: Java quietly turns idempotence off; so does the layer.
    write(d.path(), "q.properties", "acks=1\nmax.block.ms=0\n");
    let o = Overrides {
        java_config: Some("q.properties".into()),
        ..Default::default()
    };
    let p = resolve_in(d.path(), &[], &o).unwrap();
    assert_eq!(
        (p.producer.acks, p.producer.idempotence),
        (Acks::One, false)
    );
    assert_eq!(
        p.backpressure.on_full,
        OnFull::Fail,
        "max.block.ms=0 is Java's fail-fast"
    );
    // Java values still go through validation, located at the properties line.
    write(
        d.path(),
        "r.properties",
        "acks=1\nenable.idempotence=true\n",
    );
    let o = Overrides {
        java_config: Some("r.properties".into()),
        ..Default::default()
    };
    let e = resolve_in(d.path(), &[], &o).unwrap_err().to_string();
    assert!(
        e.starts_with("r.properties:1: key `acks (producer.acks)`: idempotence requires"),
        "{e}"
    );
}

#[test]
fn java_config_rejections_name_key_line_and_reason() {
    let d = tmp();
    let run = |text: &str| {
        write(d.path(), "j.properties", text);
        let o = Overrides {
            java_config: Some("j.properties".into()),
            ..Default::default()
        };
        resolve_in(d.path(), &[], &o).unwrap_err().to_string()
    };
    let e = run("acks=all\n\ninterceptor.classes=com.x.Tracing\n");
    assert!(
        e.starts_with("j.properties:3: key `interceptor.classes`"),
        "{e}"
    );
    assert!(
        e.contains("Java-only, librdkafka has no interceptor classes") && e.contains("fix:"),
        "{e}"
    );
    let e = run("partitioner.class=com.x.Region\n");
    assert!(
        e.contains("use workload.partitioner or workload.partition_map"),
        "{e}"
    );
    let e = run("sasl.jaas.config=org.apache...PlainLoginModule required password=\"hunter2\";\n");
    assert!(
        e.contains("sasl.jaas.config") && !e.contains("hunter2"),
        "{e}"
    );
    let e = run("linger.ms=ten\n");
    assert!(
        e.starts_with("j.properties:1: key `linger.ms (batching.linger)`") && e.contains("integer"),
        "{e}"
    );
    let e = run("compression.type=lz4\ncompression.zstd.level=3\n");
    assert!(
        e.contains("applies to zstd, but compression.type is lz4"),
        "{e}"
    );
    let e = run("compression.type=gzip\ncompression.gzip.level=10\n");
    assert!(
        e.starts_with("j.properties:2:") && e.contains("0..=9"),
        "{e}"
    );
    assert!(!run("nope\n").is_empty());
}

#[test]
fn properties_syntax() {
    let props =
        java::parse_properties("# c\n! c\n  a=1\nb : 2\nc 3\nd=multi \\\n   line\ne\\:f=4\ng=\n");
    let got: Vec<(&str, &str, usize)> = props
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_str(), p.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a", "1", 3),
            ("b", "2", 4),
            ("c", "3", 5),
            ("d", "multi line", 6),
            ("e:f", "4", 8),
            ("g", "", 9)
        ]
    );
}

#[test]
fn linger_maps_to_fractional_ms() {
    let d = tmp();
    let p = ok(d.path(), &[], &sets(&["batching.linger=500us"]));
    assert_eq!(
        librdkafka_properties(&p)
            .get("linger.ms")
            .map(String::as_str),
        Some("0.5")
    );
    let p = ok(d.path(), &[], &sets(&["backpressure.buffer_bytes=512B"]));
    assert_eq!(
        librdkafka_properties(&p)
            .get("queue.buffering.max.kbytes")
            .map(String::as_str),
        Some("1")
    );
}

#[test]
fn secrets_are_redacted() {
    for k in [
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "sasl.oauthbearer.client.secret",
        "my.PASSWORD.x",
        "client_secret",
    ] {
        assert!(is_secret(k), "{k}");
    }
    for k in ["sasl.username", "acks", "security.protocol"] {
        assert!(!is_secret(k), "{k}");
    }
    let d = tmp();
    write(
        d.path(),
        "profiles/sec.toml",
        "[librdkafka]\n\"sasl.password\" = \"hunter2\"\n\"sasl.username\" = \"bob\"\n",
    );
    let o = Overrides {
        librdkafka: names(&["ssl.key.password=s3cr3t"]),
        ..Default::default()
    };
    let p = ok(d.path(), &["sec"], &o);
    let props = librdkafka_properties(&p);
    assert_eq!(
        props.get("sasl.password").map(String::as_str),
        Some("hunter2"),
        "the engine needs the real value"
    );
    let red = redacted(&props);
    assert_eq!(
        red.get("sasl.password").map(String::as_str),
        Some("[redacted]")
    );
    assert_eq!(
        red.get("ssl.key.password").map(String::as_str),
        Some("[redacted]")
    );
    assert_eq!(red.get("sasl.username").map(String::as_str), Some("bob"));
    let shown = render_show(&p);
    assert!(
        !shown.contains("hunter2") && !shown.contains("s3cr3t"),
        "{shown}"
    );
    assert!(
        shown.contains("sasl.password=[redacted]") && shown.contains("sasl.username=bob"),
        "{shown}"
    );
}
