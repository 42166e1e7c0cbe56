//! Property tests of the profile loader and the unit parsers: whatever the text, they return
//! a value or a located `ConfigError`, never panic, and printed units parse back exactly.
//! The case counts keep the whole file to a few seconds so CI runs it every time.

use kprod::profile::limits::MAX_PLANNED_MEMORY;
use kprod::profile::{self, Overrides};
use kprod::units::{
    format_duration, format_size, parse_count, parse_duration, parse_rate, parse_size,
};
use proptest::prelude::*;
use std::time::Duration;

/// Every key of the profile format (src/profile/keys.rs), so generated documents mostly hit
/// real keys and reach the converters and validation rather than "unknown key".
const KEYS: &[&str] = &[
    "producer.acks",
    "producer.idempotence",
    "producer.max_in_flight",
    "producer.retries",
    "producer.delivery_timeout",
    "producer.request_timeout",
    "producer.retry_backoff",
    "producer.transactional_id",
    "producer.records_per_transaction",
    "batching.batch_bytes",
    "batching.batch_messages",
    "batching.linger",
    "compression.codec",
    "compression.level",
    "backpressure.buffer_bytes",
    "backpressure.buffer_messages",
    "backpressure.on_full",
    "backpressure.max_block",
    "backpressure.max_in_flight_records",
    "workload.topic",
    "workload.partitions",
    "workload.replication_factor",
    "workload.rate",
    "workload.duration",
    "workload.records",
    "workload.warmup",
    "workload.producers",
    "workload.size",
    "workload.value",
    "workload.keys",
    "workload.key_count",
    "workload.zipf_s",
    "workload.partitioner",
    "workload.send_mode",
    "workload.seed",
    "workload.partition_map",
    "workload.headers.count",
    "workload.headers.value_bytes",
    "workload.headers.fixed",
    "cluster.brokers",
    "cluster.mock_brokers",
    "librdkafka.socket.nagle.disable",
    "librdkafka.sasl.password",
];

/// The keys whose values decide how much a run allocates.
const SIZING: &[&str] = &[
    "workload.partitions",
    "workload.producers",
    "workload.key_count",
    "workload.size",
    "workload.headers.count",
    "workload.headers.value_bytes",
    "workload.replication_factor",
    "cluster.mock_brokers",
    "backpressure.buffer_bytes",
    "backpressure.buffer_messages",
];

/// A count or size from 0 to far past any range, plain or with a unit suffix.
fn magnitude() -> impl Strategy<Value = String> {
    (
        0u32..40,
        prop::sample::select(vec!["", "k", "M", "G", "KiB", "MiB", "GiB"]),
    )
        .prop_map(|(exp, unit)| format!("{}{unit}", 1u64 << exp))
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 300,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text shaped like the units kprod reads, plus junk around the edges.
fn unitish() -> impl Strategy<Value = String> {
    "[ +-]?[0-9_.]{0,24}[ ]?(ns|us|µs|ms|s|m|min|h|B|b|KiB|kib|MiB|GiB|KB|kB|Kb|MB|GB|k|K|M|G|g|/s|e5|x|)[ ]?"
}

/// A TOML value as text: numbers, strings, units, booleans, tables, arrays and junk.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        unitish().prop_map(|s| format!("{s:?}")),
        "[ -~]{0,16}".prop_map(|s| format!("{s:?}")),
        "\\PC{0,8}".prop_map(|s| format!("{s:?}")),
        (unitish(), unitish())
            .prop_map(|(a, b)| format!("{{ dist = \"uniform\", min = {a:?}, max = {b:?} }}")),
        (unitish(), unitish())
            .prop_map(|(a, b)| format!("{{ dist = \"normal\", mean = {a:?}, stddev = {b:?} }}")),
        "[a-z]{0,6}".prop_map(|s| format!("{{ {s:?} = 1 }}")),
        Just("[1, \"a\"]".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        Just("${KPROD_PROPTEST_MISSING}".to_string()),
        Just("\"${KPROD_PROPTEST_MISSING}\"".to_string()),
        "[ -~]{0,10}",
    ]
}

/// A profile document: `[section]` headers with `key = value` lines, in random order,
/// sometimes with a line of junk.
fn document() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        8 => (prop::sample::select(KEYS), value()).prop_map(|(k, v)| {
            let (section, key) = k.rsplit_once('.').unwrap_or(("", k));
            let section = section.strip_prefix("librdkafka").map_or(section.to_string(), |_| "librdkafka".to_string());
            let key = match k.strip_prefix("librdkafka.") {
                Some(prop) => format!("{prop:?}"),
                None => key.to_string(),
            };
            format!("[{section}]\n{key} = {v}\n")
        }),
        1 => "[ -~\n]{0,30}",
        1 => prop::sample::select(vec![
            "extends = \"durable\"\n",
            "extends = \"nope\"\n",
            "description = 5\n",
            "[[fault]]\nspec = \"broker-down:1@1s\"\n",
        ]).prop_map(str::to_string),
    ];
    prop::collection::vec(line, 0..6).prop_map(|lines| lines.concat())
}

fn check_location(e: &kprod::ConfigError, source: &str, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!e.message.is_empty());
    if let Some(loc) = &e.location {
        if loc.source == source {
            if let Some(line) = loc.line {
                prop_assert!(
                    line >= 1 && line <= text.lines().count() + 1,
                    "line {line} outside the file:\n{text}\n{e}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unit_parsers_never_panic(s in prop_oneof![unitish(), "\\PC{0,40}", any::<String>()]) {
        for r in [parse_size(&s).err(), parse_count(&s).err(), parse_duration(&s).err(), parse_rate(&s).err()]
            .into_iter()
            .flatten()
        {
            prop_assert!(r.starts_with("invalid"), "{r}");
        }
    }

    #[test]
    fn printed_units_parse_back_exactly(n in any::<u64>(), scale in 0u32..4) {
        let n = n >> (scale * 16);
        prop_assert_eq!(parse_size(&format_size(n)), Ok(n));
        prop_assert_eq!(parse_count(&n.to_string()), Ok(n));
        let d = Duration::from_nanos(n);
        prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }

    #[test]
    fn profile_files_load_or_fail_with_a_location(text in prop_oneof![document(), any::<String>()]) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("p.toml"), &text).expect("write");
        let res = profile::resolve(&["./p.toml".to_string()], &Overrides::default(), dir.path());
        if let Err(e) = res {
            check_location(&e, "./p.toml", &text)?;
        }
    }

    #[test]
    fn set_and_x_values_load_or_fail(key in prop::sample::select(KEYS), v in value(), x in "[ -~]{0,24}") {
        let dir = tempfile::tempdir().expect("temp dir");
        let unquoted = v.trim_matches('"').to_string();
        let o = Overrides {
            sets: vec![format!("{key}={unquoted}")],
            librdkafka: vec![x],
            ..Overrides::default()
        };
        if let Err(e) = profile::resolve(&[], &o, dir.path()) {
            prop_assert!(!e.message.is_empty());
        }
    }

    /// Any combination of the keys that size a run, at any magnitude: resolving never
    /// panics, and whatever validation accepts plans at most the memory cap.
    #[test]
    fn accepted_profiles_plan_memory_under_the_cap(
        sets in prop::collection::vec((prop::sample::select(SIZING), magnitude()), 1..8)
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut all = vec!["workload.keys=uniform".to_string()];
        all.extend(sets.iter().map(|(k, v)| format!("{k}={v}")));
        let o = Overrides { sets: all, ..Overrides::default() };
        match profile::resolve(&[], &o, dir.path()) {
            Ok(p) => {
                let planned = p.planned_memory().total();
                prop_assert!(planned <= MAX_PLANNED_MEMORY, "{planned} bytes planned for {sets:?}");
            }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    #[test]
    fn java_configs_load_or_fail_with_a_location(text in "([ -~]{0,30}\n){0,6}") {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("p.properties"), &text).expect("write");
        let o = Overrides {
            java_config: Some("p.properties".into()),
            ..Overrides::default()
        };
        if let Err(e) = profile::resolve(&[], &o, dir.path()) {
            check_location(&e, "p.properties", &text)?;
        }
    }
}
