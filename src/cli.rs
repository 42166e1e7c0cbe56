//! Command-line definitions (clap). Parsing only: every command's logic lives in
//! `commands/`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "kprod",
    version,
    about = "Load generator and benchmark for Kafka producers",
    long_about = "Load generator and benchmark for Kafka producers.\n\nWithout --brokers every run \
                  uses an embedded Kafka cluster (librdkafka's mock brokers), so `kprod bench` works \
                  on a machine with no Kafka installed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process; the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a producer benchmark and write its results.
    Bench(BenchArgs),
    /// List the built-in profiles, or show one resolved.
    Profiles(ProfilesArgs),
}

/// Profile selection and overrides shared by every command that resolves a profile.
#[derive(Debug, Clone, Args, Default)]
pub struct ProfileArgs {
    /// Profile: a built-in name (durable), a name in ./profiles/, or a path. Repeat to layer
    /// left to right.
    #[arg(short = 'p', long = "profile", value_name = "NAME|PATH")]
    pub profiles: Vec<String>,
    /// Java producer .properties file, translated to kprod keys (above profiles, below --set).
    #[arg(long, value_name = "FILE")]
    pub java_config: Option<PathBuf>,
    /// Override one profile key, e.g. `--set producer.acks=all`. Repeatable.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,
    /// Pass a librdkafka property through, e.g. `-X socket.nagle.disable=true`. Repeatable;
    /// overrides the profile's [librdkafka] table.
    #[arg(short = 'X', value_name = "PROP=VALUE")]
    pub librdkafka: Vec<String>,
    /// Records per second across all producers (`50k`), or `unlimited`.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<String>,
    /// Run length including warm-up (`30s`, `2m`).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Stop after this many records in total (`1m` = one million).
    #[arg(long, value_name = "COUNT")]
    pub records: Option<String>,
    /// Produced but excluded from latency and throughput (`5s`).
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<String>,
    /// Independent producer clients, each on its own thread.
    #[arg(long, value_name = "N")]
    pub producers: Option<String>,
    /// Fixed record value size (`1KiB`).
    #[arg(long, value_name = "SIZE")]
    pub size: Option<String>,
    /// Topic to produce to (created when missing).
    #[arg(long)]
    pub topic: Option<String>,
    /// Bootstrap list of a real cluster; without it the embedded cluster is used.
    #[arg(long, value_name = "HOST:PORT,...")]
    pub brokers: Option<String>,
    /// Broker count of the embedded cluster.
    #[arg(long, value_name = "N")]
    pub mock_brokers: Option<String>,
    /// Seed of every random choice (values, sizes, keys).
    #[arg(long)]
    pub seed: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Root directory for result directories.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// No progress output; the summary table is still printed.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show librdkafka's own log lines.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// After generation stops, wait this long for outstanding delivery reports; what is
    /// still outstanding then is purged and counted as unknown.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub flush_timeout: String,
}

#[derive(Debug, Clone, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub action: Option<ProfilesAction>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ProfilesAction {
    /// List the built-in profiles (the default).
    List,
    /// Print a profile resolved, with the exact librdkafka properties it sets.
    Show {
        /// Profile names or paths, layered left to right.
        #[arg(required = true)]
        profiles: Vec<String>,
        #[command(flatten)]
        overrides: ShowOverrides,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ShowOverrides {
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,
    #[arg(short = 'X', value_name = "PROP=VALUE")]
    pub librdkafka: Vec<String>,
    #[arg(long, value_name = "FILE")]
    pub java_config: Option<PathBuf>,
}
