//! The real-broker suite's many-topics test (issue 13 part 3): `--topics 3 --partitions 2`
//! creates three topics with two partitions each (checked by metadata), per-topic counts
//! add up to the totals, and consumers read every topic (consumed = delivered); per-topic
//! sizes and keys reach the broker as set.

use crate::common::{assert_accounted, bench_in};
use kprod::engine::topics::TopicAdmin;

#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn three_topics_are_created_counted_and_consumed_against_the_broker() {
    let broker = super::broker("topics");
    let topic = super::topic("topics");
    let d = tempfile::tempdir().expect("temp dir");
    let o = bench_in(
        d.path(),
        &[
            "--brokers",
            &broker,
            "--topic",
            &topic,
            "--topics",
            "3",
            "--partitions",
            "2",
            "--set",
            "workload.replication_factor=1",
            "--records",
            "3000",
            "--rate",
            "3000",
            "--warmup",
            "0s",
            "--consumers",
            "2",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_accounted(&o);
    let r = &o.report;
    let admin = TopicAdmin::connect(&Default::default(), &broker).expect("admin");
    for i in 0..3 {
        let name = format!("{topic}-{i}");
        let shape = admin.shape(&name).expect("metadata").expect("topic exists");
        assert_eq!(shape.partitions, 2, "{name}");
    }
    let names: Vec<String> = r.topics.iter().map(|t| t.name.clone()).collect();
    assert_eq!(
        names,
        (0..3).map(|i| format!("{topic}-{i}")).collect::<Vec<_>>()
    );
    assert!(r
        .topics
        .iter()
        .all(|t| t.counts.sent == 1000 && t.partitions == 2));
    let sum =
        |f: fn(&kprod::report::topics::TopicReport) -> u64| -> u64 { r.topics.iter().map(f).sum() };
    assert_eq!(sum(|t| t.counts.sent), r.records.sent);
    assert_eq!(sum(|t| t.counts.delivered), r.records.delivered);
    assert_eq!(sum(|t| t.counts.failed), r.records.failed);
    let c = r.consumers.as_ref().expect("a consumers section");
    assert_eq!(c.consumed, vec![r.records.delivered], "{:?}", r.warnings);
    for t in &r.topics {
        assert_eq!(t.consumed, vec![t.counts.delivered], "{}", t.name);
    }
    let created: Vec<String> = (0..3).map(|i| format!("{topic}-{i}")).collect();
    let refs: Vec<&str> = created.iter().map(String::as_str).collect();
    let _ = admin.delete(&refs);
}

/// Topic configs of `[[workload.topics]]` reach the broker in CreateTopics: DescribeConfigs
/// shows them on the topics kprod created.
#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn topic_configs_are_applied_when_kprod_creates_the_topics() {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;
    let (broker, topic) = (super::broker("topic-configs"), super::topic("cfg"));
    let profile = format!(
        "[[workload.topics]]\nname = \"{topic}-{{i}}\"\ncount = 2\nreplication_factor = 1\n\
         partitions = 2\nconfig = {{ \"retention.ms\" = 3600000 }}\n"
    );
    let (_d, o) = bench_profile(&broker, &profile, "--records 200 --rate 1000 --warmup 0s");
    assert_accounted(&o);
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &broker)
        .create()
        .expect("admin");
    let names: Vec<String> = (0..2).map(|i| format!("{topic}-{i}")).collect();
    let specs: Vec<ResourceSpecifier<'_>> =
        names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let res = rt
        .block_on(admin.describe_configs(&specs, &AdminOptions::new()))
        .expect("describe configs");
    for (name, r) in names.iter().zip(res) {
        let r = r.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let retention = r
            .get("retention.ms")
            .and_then(|e| e.value.clone())
            .unwrap_or_default();
        assert_eq!(retention, "3600000", "{name}: {:?}", r.entries);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let _ = kprod::engine::topics::TopicAdmin::connect(&Default::default(), &broker)
        .map(|a| a.delete(&refs));
}

/// Per-topic sizes and keys reach the broker: each topic kprod creates holds only records
/// of its own setting (read back from offset 0), the topic without settings [workload]'s,
/// and the per-topic counts add up to the totals.
#[test]
#[ignore = "needs a real broker: scripts/broker.sh start, then cargo test --test real_broker -- --ignored"]
fn per_topic_sizes_and_keys_reach_the_broker() {
    let (broker, topic) = (super::broker("topic-records"), super::topic("rec"));
    let profile = format!(
        "[workload]\nsize = \"512B\"\nkeys = \"none\"\n\n\
         [[workload.topics]]\nname = \"{topic}-a\"\npartitions = 2\nreplication_factor = 1\n\
         size = \"64B\"\nkeys = \"sequential\"\nkey_count = 10\n\n\
         [[workload.topics]]\nname = \"{topic}-b\"\npartitions = 2\nreplication_factor = 1\n\
         share = 2\nsize = {{ dist = \"uniform\", min = \"1KiB\", max = \"2KiB\" }}\n\
         keys = \"uniform\"\nkey_count = 100\n\n\
         [[workload.topics]]\nname = \"{topic}-c\"\npartitions = 2\nreplication_factor = 1\n"
    );
    let (_d, o) = bench_profile(
        &broker,
        &profile,
        "--records 800 --rate 2000 --warmup 0s --producers 1",
    );
    assert_accounted(&o);
    let r = &o.report;
    assert_eq!(r.records.delivered, 800, "{:?}", r.records);
    let sent: Vec<u64> = r.topics.iter().map(|t| t.counts.sent).collect();
    assert_eq!(sent, [200, 400, 200]);
    assert_eq!(
        r.topics.iter().map(|t| t.counts.delivered).sum::<u64>(),
        r.records.delivered
    );
    let a = super::read_back(&broker, &format!("{topic}-a"), false);
    assert_eq!(a.len(), 200);
    assert!(a.iter().all(|c| c.value_len == 64 && c.key_number() < 10));
    let b = super::read_back(&broker, &format!("{topic}-b"), false);
    assert_eq!(b.len(), 400);
    assert!(b
        .iter()
        .all(|c| (1024..=2048).contains(&c.value_len) && c.key_number() < 100));
    let c = super::read_back(&broker, &format!("{topic}-c"), false);
    assert_eq!(c.len(), 200);
    assert!(c.iter().all(|c| c.value_len == 512 && c.key.is_none()));
    let names: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|s| format!("{topic}-{s}"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let _ = kprod::engine::topics::TopicAdmin::connect(&Default::default(), &broker)
        .map(|a| a.delete(&refs));
}

/// Runs `profile` (TOML text) against `broker` with `extra` flags (space-separated).
fn bench_profile(
    broker: &str,
    profile: &str,
    extra: &str,
) -> (tempfile::TempDir, kprod::commands::bench::BenchOutcome) {
    let d = tempfile::tempdir().expect("temp dir");
    let path = d.path().join("profile.toml");
    std::fs::write(&path, profile).expect("write profile");
    let mut args = vec![
        "--profile",
        path.to_str().expect("utf-8 path"),
        "--brokers",
        broker,
    ];
    args.extend(extra.split(' '));
    let o = bench_in(d.path(), &args).unwrap_or_else(|e| panic!("{e}"));
    (d, o)
}
