//! The profile flags, each defined once: `profile_args!` turns one line per flag (doc,
//! field, flag name, optional short and aliases, value name, help heading, profile key)
//! into the clap field of [`ProfileArgs`], the
//! [`KEY_FLAGS`] table and [`ProfileArgs::key_flag_values`], so help, parsing and the key a
//! flag sets cannot drift apart. `--set`, `-X` and `--java-config` live in [`LayerArgs`],
//! which `profiles show` flattens too.

use clap::Args;
use std::path::PathBuf;

/// Help heading of the flags that pick and change the profile and the producer's settings.
pub const PRODUCER: &str = "Producer";
/// Help heading of the flags that shape the load.
pub const WORKLOAD: &str = "Workload";
/// Help heading of the flags that say which cluster to use.
pub const CLUSTER: &str = "Cluster";
/// Help heading of the flags that run consumers during the run.
pub const CONSUMERS: &str = "Consumers";

/// The layers above the profiles that are not single keys: `--java-config`, `--set`, `-X`.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = PRODUCER)]
pub struct LayerArgs {
    /// Java producer .properties file (`bootstrap.servers`, `acks`, `linger.ms`, ...),
    /// translated to kprod keys; it layers above the --profile files and below --set.
    /// Properties without a kprod key are refused, naming the line.
    #[arg(long, value_name = "FILE")]
    pub java_config: Option<PathBuf>,
    /// Override one profile key, e.g. `--set producer.acks=1` or `--set
    /// batching.linger=20ms` (keys: profiles/README.md). Repeatable; above --java-config,
    /// below the single-key flags (--rate, --size, ...).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,
    /// Pass a librdkafka property through, e.g. `-X socket.nagle.disable=true`.
    /// Repeatable; overrides the profile's [librdkafka] table. Properties kprod sets from
    /// its own keys (`acks`, `linger.ms`, ...) are refused, naming the --set key to use.
    /// Secret values (passwords) are redacted in all output.
    #[arg(short = 'X', value_name = "PROP=VALUE")]
    pub librdkafka: Vec<String>,
    /// kafka-producer-perf-test's flag: Java producer properties, several after one flag
    /// (`--producer-props acks=1 linger.ms=5 bootstrap.servers=kafka:9092`), translated
    /// like --java-config (with the Java client's defaults) and layered just above it.
    #[arg(long, value_name = "PROP=VALUE", num_args = 1..)]
    pub producer_props: Vec<String>,
}

macro_rules! profile_args {
    ($( $(#[doc = $doc:literal])*
        $field:ident: $flag:literal $(-$short:literal)? $(| $alias:literal)* <$value:literal>
        in $heading:ident => $key:literal; )*) => {
        /// Profile selection and overrides shared by every command that resolves a profile.
        #[derive(Debug, Clone, Args, Default)]
        pub struct ProfileArgs {
            /// Profile: a built-in name (`durable`; `kprod profiles` lists them), a name in
            /// ./profiles/, or a path. Repeat to layer left to right over the built-in
            /// defaults (`base`).
            #[arg(short = 'p', long = "profile", value_name = "NAME|PATH", help_heading = PRODUCER)]
            pub profiles: Vec<String>,
            #[command(flatten)]
            pub layers: LayerArgs,
            $(
                $(#[doc = $doc])*
                #[arg(long = $flag, value_name = $value, help_heading = $heading
                      $(, short = $short)? $(, visible_alias = $alias)*)]
                pub $field: Option<String>,
            )*
            /// kafka-producer-perf-test's --throughput: --rate, with `-1` meaning unlimited
            /// (a negative --rate stays an error).
            #[arg(long, value_name = "RATE", help_heading = WORKLOAD,
                  allow_negative_numbers = true, conflicts_with = "rate")]
            pub throughput: Option<String>,

            /// Not a flag: `sweep` and `compare` set it for a step that gets fresh topics
            /// (`profile::Overrides::topic_suffix`).
            #[arg(skip)]
            pub topic_suffix: Option<String>,
        }

        /// Every flag that is a shorthand for one profile key: (`--flag`, `section.key`).
        pub const KEY_FLAGS: &[(&str, &str)] = &[$((concat!("--", $flag), $key)),*];

        impl ProfileArgs {
            /// (`--flag`, `section.key`, value) of every key flag given, in [`KEY_FLAGS`] order.
            pub fn key_flag_values(&self) -> Vec<(&'static str, &'static str, String)> {
                let mut out = Vec::new();
                $(
                    if let Some(v) = &self.$field {
                        out.push((concat!("--", $flag), $key, v.clone()));
                    }
                )*
                if let Some(v) = &self.throughput {
                    let v = if v.trim() == "-1" { "unlimited" } else { v.as_str() };
                    out.push(("--throughput", "workload.rate", v.to_string()));
                }
                out
            }
        }
    };
}

profile_args! {
    /// Records per second across all producers (`50k`), or `unlimited`. Default: from the
    /// profile (base: 20k).
    rate: "rate" -'r' <"RATE"> in WORKLOAD => "workload.rate";
    /// Run length including warm-up (`30s`, `2m`). Default: from the profile (base: 10s).
    duration: "duration" -'d' <"DURATION"> in WORKLOAD => "workload.duration";
    /// Stop after this many records in total (`1m` = one million). Refused when they all
    /// fit inside the warm-up (records <= rate x warmup): nothing would be measured.
    /// Default: from the profile (base: none, the duration decides).
    records: "records" -'n' | "num-records" <"COUNT"> in WORKLOAD => "workload.records";
    /// Produced but excluded from latency and throughput (`5s`). It is never shortened:
    /// --records that fit inside it are refused. Default: from the profile (base: 2s).
    warmup: "warmup" <"DURATION"> in WORKLOAD => "workload.warmup";
    /// Independent producer clients, each on its own thread (1..=1024; a run's planned
    /// memory, queues included, is capped at 8 GiB: see profiles/README.md). Default: from
    /// the profile (base: 1).
    producers: "producers" <"N"> in PRODUCER => "workload.producers";
    /// Fixed record value size (`1KiB`). Default: from the profile (base: 512B).
    size: "size" -'s' | "record-size" <"SIZE"> in WORKLOAD => "workload.size";
    /// Topic to produce to (created when missing). Default: from the profile (base:
    /// kprod-bench).
    topic: "topic" -'t' <"TOPIC"> in WORKLOAD => "workload.topic";
    /// Partitions of the topic (of each topic with --topics) when kprod creates it; an
    /// existing topic keeps its own (the report warns). Default: from the profile (base: 6).
    partitions: "partitions" <"N"> in WORKLOAD => "workload.partitions";
    /// Produce to N topics `<topic>-0` .. `<topic>-N-1` (each with the profile's partitions,
    /// equal shares of every producer's records) instead of the one topic; per-topic
    /// figures in the report. For other shapes use [[workload.topics]] in a profile.
    topics: "topics" <"N"> in WORKLOAD => "workload.topic_count";
    /// Bootstrap list of a real cluster; without it the embedded cluster is used.
    brokers: "brokers" -'b' <"HOST:PORT,..."> in CLUSTER => "cluster.brokers";
    /// Broker count of the embedded cluster. Default: from the profile (base: 3).
    mock_brokers: "mock-brokers" <"N"> in CLUSTER => "cluster.mock_brokers";
    /// Seed of every random choice (values, sizes, keys). Default: from the profile
    /// (base: 42).
    seed: "seed" <"SEED"> in WORKLOAD => "workload.seed";
    /// Consumer threads per group reading the topic during the run, for end-to-end
    /// latency (`latency_us.e2e`) and consumer lag; values carry a 16-byte stamp. Default:
    /// from the profile (base: 0, no consumers).
    consumers: "consumers" <"N"> in CONSUMERS => "consumers.count";
    /// Consumer groups; each reads every record. Default: from the profile (base: 1).
    consumer_groups: "consumer-groups" <"G"> in CONSUMERS => "consumers.groups";
    /// Keep the consumers paused this long after the warm-up, then resume: the report's
    /// `consumers.backlog` gives the drain rate and the time to catch up.
    backlog: "backlog" <"DURATION"> in CONSUMERS => "consumers.backlog";
    /// Run the consumers (their threads and librdkafka's) on these CPUs, e.g. `1` or `2-3`,
    /// so they do not share cores with the producers (start kprod under `taskset -c 0` to
    /// keep the producers and the embedded cluster on the others).
    consumer_cpus: "consumer-cpus" <"CPUS"> in CONSUMERS => "consumers.cpus";
}

impl ProfileArgs {
    /// Whether the key flag `flag` (`--rate`, ...) or another spelling of its key
    /// (`--throughput`) was given.
    pub fn key_flag_given(&self, flag: &str) -> bool {
        let key = KEY_FLAGS.iter().find(|(f, _)| *f == flag).map(|(_, k)| *k);
        self.key_flag_values()
            .iter()
            .any(|(f, k, _)| *f == flag || Some(*k) == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        p: ProfileArgs,
    }

    #[test]
    fn each_key_flag_parses_into_its_key() {
        let mut argv = vec!["t".to_string()];
        for (i, (flag, _)) in KEY_FLAGS.iter().enumerate() {
            argv.push(flag.to_string());
            argv.push(format!("v{i}"));
        }
        let t = T::try_parse_from(&argv).expect("every key flag parses");
        let got = t.p.key_flag_values();
        assert_eq!(got.len(), KEY_FLAGS.len());
        for (i, ((flag, key), (f, k, v))) in KEY_FLAGS.iter().zip(&got).enumerate() {
            assert_eq!((flag, key, format!("v{i}")), (f, k, v.clone()));
        }
        assert!(t.p.key_flag_given("--mock-brokers"));
        assert!(!T::try_parse_from(["t"]).unwrap().p.key_flag_given("--rate"));
    }

    #[test]
    fn flags_cover_their_keys() {
        let argv = [
            "t",
            "--rate",
            "unlimited",
            "--duration",
            "1m",
            "--records",
            "2k",
            "--warmup",
            "0",
            "--producers",
            "4",
            "--size",
            "{dist=\"uniform\",min=\"1B\",max=\"1KiB\"}",
            "--topic",
            "t1",
            "--brokers",
            "localhost:9092",
            "--mock-brokers",
            "5",
            "--seed",
            "99",
        ];
        let t = T::try_parse_from(argv).expect("parses");
        let o = crate::profile::Overrides {
            flags: t.p.key_flag_values(),
            ..Default::default()
        };
        let p = crate::profile::resolve(&[], &o, &std::env::temp_dir()).expect("resolves");
        let w = &p.workload;
        assert_eq!(w.rate, crate::profile::Rate::Unlimited);
        assert_eq!(
            (w.duration, w.records, w.warmup),
            (
                Some(std::time::Duration::from_secs(60)),
                Some(2000),
                std::time::Duration::ZERO
            )
        );
        assert_eq!((w.producers, w.topic.as_str(), w.seed), (4, "t1", 99));
        assert_eq!(
            w.size,
            crate::profile::SizeDist::Uniform { min: 1, max: 1024 }
        );
        assert_eq!(p.cluster.brokers.as_deref(), Some("localhost:9092"));
        assert_eq!(p.cluster.mock_brokers, 5);
    }
}
