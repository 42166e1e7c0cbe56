//! Tests of `[[workload.topics]]` and `--topics N`: parsing, pattern expansion, defaults,
//! the routing cycle, and errors naming file, line, key and fix.

use super::tests_stages::{fails, resolve_text};
use super::topics::{route_cycle, step_topic_name};
use super::*;

const TWO: &str = r#"[workload]
partitions = 4
replication_factor = 2

[[workload.topics]]
name = "orders-{i}"
count = 3
share = 2
config = { "retention.ms" = 3600000, "min.insync.replicas" = "2" }

[[workload.topics]]
name = "audit"
partitions = 1
replication_factor = 1
"#;

#[test]
fn patterns_expand_and_defaults_come_from_the_workload() {
    let p = resolve_text(TWO, &Overrides::default()).unwrap();
    let t = &p.workload.topics;
    let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders-0", "orders-1", "orders-2", "audit"]);
    assert_eq!(
        (t[0].partitions, t[0].replication_factor, t[0].share),
        (4, 2, 2)
    );
    assert_eq!(
        (t[3].partitions, t[3].replication_factor, t[3].share),
        (1, 1, 1)
    );
    assert_eq!(t[1].config["retention.ms"], "3600000");
    assert_eq!(t[2].config["min.insync.replicas"], "2");
    assert!(t[3].config.is_empty());
    assert_eq!(p.workload.topic_list(), p.workload.topics);
    let shown = render_show(&p);
    assert!(shown.contains("[workload.topics]"), "{shown}");
    assert!(
        shown.contains("min.insync.replicas=2, retention.ms=3600000"),
        "{shown}"
    );
}

#[test]
fn dotted_config_names_written_bare_are_joined() {
    let text = "[[workload.topics]]\nname = \"a\"\n[workload.topics.config]\nsegment.bytes = 1048576\ncompression.type = \"zstd\"\n";
    let p = resolve_text(text, &Overrides::default()).unwrap();
    let c = &p.workload.topics[0].config;
    assert_eq!(c["segment.bytes"], "1048576");
    assert_eq!(c["compression.type"], "zstd");
}

#[test]
fn without_topics_the_run_has_its_one_topic() {
    let p = resolve_text("[workload]\ntopic = \"x\"\n", &Overrides::default()).unwrap();
    assert!(p.workload.topics.is_empty());
    let l = p.workload.topic_list();
    assert_eq!(l.len(), 1);
    assert_eq!(
        (l[0].name.as_str(), l[0].partitions),
        ("x", p.workload.partitions)
    );
    // The single-topic profile serialises as before: no `topics` key.
    let json = serde_json::to_value(&p.workload).unwrap();
    assert!(json.get("topics").is_none());
    assert!(!render_show(&p).contains("[workload.topics]"));
}

#[test]
fn topics_flag_names_n_topics_after_the_workload_topic() {
    let o = Overrides {
        flags: vec![("--topics", "workload.topic_count", "3".into())],
        ..Default::default()
    };
    let p = resolve_text("[workload]\ntopic = \"t\"\npartitions = 2\n", &o).unwrap();
    let t = &p.workload.topics;
    assert_eq!(t.len(), 3);
    assert_eq!(t[2].name, "t-2");
    assert!(t.iter().all(|t| t.partitions == 2 && t.share == 1));
}

#[test]
fn bad_config_names_are_refused_with_their_place() {
    let text = "[[workload.topics]]\nname = \"a\"\nconfig = { \"retention.msx\" = 1 }\n";
    fails(
        text,
        &Overrides::default(),
        3,
        "workload.topics[0].config.retention.msx",
        "not a topic config kprod sets",
    );
    let e = resolve_text(text, &Overrides::default()).unwrap_err();
    assert!(e.contains("did you mean `retention.ms`"), "{e}");
}

const RECORDS: &str = r#"[workload]
size = "1KiB"
keys = "uniform"
key_count = 500

[[workload.topics]]
name = "small"
size = "50B"
keys = "none"

[[workload.topics]]
name = "hot"
keys = "zipf"
key_count = 100

[[workload.topics]]
name = "plain"
"#;

#[test]
fn per_topic_sizes_and_keys_default_to_the_workloads_key_by_key() {
    let p = resolve_text(RECORDS, &Overrides::default()).unwrap();
    let t = &p.workload.topics;
    assert_eq!(t[0].size, Some(SizeDist::Fixed { bytes: 50 }));
    assert_eq!(t[0].keys, Some(KeyDist::None));
    // zipf_s comes from [workload] (the base profile's 1.1), key_count from the topic.
    assert_eq!(t[1].size, None);
    assert_eq!(t[1].keys, Some(KeyDist::Zipf { count: 100, s: 1.1 }));
    assert_eq!((&t[2].size, &t[2].keys), (&None, &None));
    assert_eq!(p.workload.size, SizeDist::Fixed { bytes: 1024 });
    let shown = render_show(&p);
    assert!(shown.contains("size 50B"), "{shown}");
    assert!(shown.contains("keys zipf s=1.1 over 100 keys"), "{shown}");
}

#[test]
fn per_topic_sizes_and_keys_are_checked_where_written() {
    let o = Overrides::default();
    let at = |k: &str, v: &str| format!("[[workload.topics]]\nname = \"a\"\n{k} = {v}\n");
    fails(
        &at("size", "\"0B\""),
        &o,
        3,
        "workload.topics[0].size",
        "between 1B and 1GiB",
    );
    fails(
        &at(
            "size",
            "{ dist = \"uniform\", min = \"2KiB\", max = \"1KiB\" }",
        ),
        &o,
        3,
        "workload.topics[0].size",
        "larger than max",
    );
    fails(
        &at(
            "size",
            "{ dist = \"normal\", mean = \"30B\", stddev = \"1B\", min = \"1B\", max = \"20B\" }",
        ),
        &o,
        3,
        "workload.topics[0].size",
        "mean",
    );
    fails(
        &at("keys", "\"hashed\""),
        &o,
        3,
        "workload.topics[0].keys",
        "hashed",
    );
    fails(
        &at("key_count", "0"),
        &o,
        3,
        "workload.topics[0].key_count",
        "key_count must be from 1",
    );
    fails(
        &at("zipf_s", "-1.0"),
        &o,
        3,
        "workload.topics[0].zipf_s",
        "positive",
    );
    fails(
        &at("sizes", "\"1KiB\""),
        &o,
        3,
        "workload.topics[0].sizes",
        "unknown key",
    );
    let e = resolve_text(&at("sizes", "\"1KiB\""), &o).unwrap_err();
    assert!(e.contains("did you mean `size`"), "{e}");
}

#[test]
fn a_topic_size_too_small_for_consumers_is_blamed_on_the_topic() {
    let text = "[consumers]\ncount = 1\n\n[[workload.topics]]\nname = \"a\"\n\
                [[workload.topics]]\nname = \"b\"\nsize = \"8B\"\n";
    fails(
        text,
        &Overrides::default(),
        8,
        "workload.topics[1].size",
        "too small for consumers",
    );
}

#[test]
fn shape_errors_name_the_key() {
    let o = Overrides::default();
    fails(
        "[[workload.topics]]\nname = \"a\"\ncount = 2\n",
        &o,
        2,
        "workload.topics[0].name",
        "{i}",
    );
    fails(
        "[[workload.topics]]\ncount = 2\n",
        &o,
        1,
        "workload.topics[0].name",
        "needs `name`",
    );
    fails(
        "[[workload.topics]]\nname = \"a\"\nshare = 0\n",
        &o,
        3,
        "workload.topics[0].share",
        "whole number",
    );
    fails(
        "[[workload.topics]]\nname = \"a\"\n[[workload.topics]]\nname = \"a\"\n",
        &o,
        3,
        "workload.topics.name",
        "listed twice",
    );
    fails(
        "[[workload.topics]]\nname = \"a b\"\n",
        &o,
        1,
        "workload.topics.name",
        "not a valid Kafka topic name",
    );
}

#[test]
fn topics_flag_and_list_together_are_refused() {
    let o = Overrides {
        flags: vec![("--topics", "workload.topic_count", "3".into())],
        ..Default::default()
    };
    let e = resolve_text("[[workload.topics]]\nname = \"a\"\n", &o).unwrap_err();
    assert!(
        e.contains("key `workload.topic_count`") && e.contains("[[workload.topics]]"),
        "{e}"
    );
    let o = Overrides {
        flags: vec![("--topics", "workload.topic_count", "0".into())],
        ..Default::default()
    };
    assert!(resolve_text("", &o).unwrap_err().contains("from 1 to"));
}

#[test]
fn a_partition_map_with_many_topics_is_refused() {
    let text =
        "[workload.partition_map]\n\"us\" = 0\n[[workload.topics]]\nname = \"a-{i}\"\ncount = 2\n";
    let e = resolve_text(text, &Overrides::default()).unwrap_err();
    assert!(e.contains("key `workload.partition_map`"), "{e}");
}

#[test]
fn the_route_cycle_holds_exact_shares_spread_out() {
    let c = route_cycle(&[1, 2, 1]);
    assert_eq!(c.len(), 4);
    let count = |t| c.iter().filter(|&&x| x == t).count();
    assert_eq!((count(0), count(1), count(2)), (1, 2, 1));
    // Topic 1's two records are not adjacent.
    assert!(c.windows(2).all(|w| !(w[0] == 1 && w[1] == 1)));
    // Shares reduce by their gcd; equal shares are a plain rotation.
    assert_eq!(route_cycle(&[4, 8, 4]), c);
    assert_eq!(route_cycle(&[3, 3, 3]), vec![0, 1, 2]);
    let big = route_cycle(&[5, 3, 2]);
    assert_eq!(big.len(), 10);
    assert_eq!(big.iter().filter(|&&x| x == 0).count(), 5);
}

#[test]
fn step_names_are_valid_topic_names_however_long_or_odd_the_parts() {
    assert_eq!(step_topic_name("kprod-bench", "s03"), "kprod-bench-s03");
    assert_eq!(
        step_topic_name("t", "profiles/lz4 fast.toml"),
        "t-profiles_lz4_fast.toml"
    );
    let long = "x".repeat(249);
    let n = step_topic_name(&long, "s12");
    assert!(valid_topic(&n), "{n}");
    assert!(n.ends_with("-s12"));
}

#[test]
fn the_step_suffix_names_every_topic_of_the_run() {
    let suffixed = |flags: Vec<(&'static str, &'static str, String)>, text: &str| {
        let o = Overrides {
            flags,
            topic_suffix: Some("s02".into()),
            ..Overrides::default()
        };
        resolve_text(text, &o).unwrap()
    };
    let p = suffixed(Vec::new(), "[workload]\ntopic = \"t\"\n");
    assert_eq!(p.workload.topic, "t-s02");
    assert!(p.workload.topics.is_empty(), "one topic stays one topic");
    let p = suffixed(
        vec![("--topics", "workload.topic_count", "2".into())],
        "[workload]\ntopic = \"t\"\npartitions = 4\n",
    );
    let names: Vec<&str> = p.workload.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t-0-s02", "t-1-s02"]);
    assert!(p.workload.topics.iter().all(|t| t.partitions == 4));
    let p = suffixed(Vec::new(), TWO);
    let names: Vec<&str> = p.workload.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["orders-0-s02", "orders-1-s02", "orders-2-s02", "audit-s02"]
    );
    assert_eq!(p.workload.topics[0].config["retention.ms"], "3600000");
}

#[test]
fn a_suffix_that_makes_two_long_names_equal_is_refused() {
    let a = "a".repeat(247);
    let text = format!(
        "[workload]\n[[workload.topics]]\nname = \"{a}x\"\n[[workload.topics]]\nname = \"{a}y\"\n"
    );
    let o = Overrides {
        topic_suffix: Some("s01".into()),
        ..Overrides::default()
    };
    let e = resolve_text(&text, &o).expect_err("names collide once cut");
    assert!(
        e.contains("become the same") && e.contains("shorter"),
        "{e}"
    );
}
