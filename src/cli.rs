//! Command-line definitions (clap). Parsing only: every command's logic lives in
//! `commands/`.

mod profile_args;

pub use profile_args::{LayerArgs, ProfileArgs, KEY_FLAGS};
use profile_args::{CLUSTER, PRODUCER};

use clap::{Args, Parser, Subcommand};

mod examples;
use std::path::PathBuf;

mod verdict;
pub use verdict::{CompareVerdictArgs, VerdictArgs, VERDICT};

#[derive(Debug, Parser)]
#[command(
    name = "kprod",
    version,
    about = "Load generator and benchmark for Kafka producers",
    long_about = "Load generator and benchmark for Kafka producers.\n\nWithout --brokers every run \
                  uses an embedded Kafka cluster (librdkafka's mock brokers), so `kprod bench` works \
                  on a machine with no Kafka installed.",
    after_help = examples::TOP,
    // Wrapped to the terminal, never wider than 100 columns (wide lines are hard to read).
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour on the terminal: `auto` follows NO_COLOR / CLICOLOR_FORCE and uses colour
    /// only on a terminal; `always` and `never` override both.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: clap::ColorChoice,
}

// Parsed once per process; the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a producer benchmark and write its results.
    ///
    /// Exit codes: 0 complete (and every --threshold passed), 1 failed / measured nothing
    /// / a threshold failed, 2 invalid input, 3 cluster unreachable, 4 --verify lost
    /// acknowledged records, 5 a threshold inconclusive, 6 aborted by --abort-on-breach,
    /// 130 interrupted.
    #[command(after_help = examples::BENCH)]
    Bench(BenchArgs),
    /// List the built-in profiles, or show one resolved.
    #[command(after_help = examples::PROFILES)]
    Profiles(ProfilesArgs),
    /// Run one workload under several profiles (e.g. `lz4 zstd`) and compare them.
    #[command(after_help = examples::COMPARE)]
    Compare(CompareArgs),
    /// CI gate: compare a run with a baseline; exit 1 on a regression.
    #[command(after_help = examples::CHECK)]
    Check(CheckArgs),
    /// Step through rates or a profile key; find the highest rate that meets an SLO.
    #[command(after_help = examples::SWEEP)]
    Sweep(SweepArgs),
    /// Search producer settings for the best configuration at an SLO (successive halving).
    #[command(after_help = examples::TUNE)]
    Tune(TuneArgs),
    /// Redraw the table, CSV and charts of a saved bench, compare, sweep or tune directory.
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// Merge the run directories of one distributed run (`--instance I/N`) into one run.
    #[command(after_help = examples::MERGE)]
    Merge(MergeArgs),
    /// Run the embedded cluster on its own, for several kprod processes or any client.
    #[command(after_help = examples::CLUSTER)]
    Cluster(ClusterArgs),
    /// Print a shell completion script to stdout.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Write the man pages (kprod.1 and one per subcommand), generated from these flags.
    #[command(after_help = examples::MAN)]
    Man(ManArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write kprod.1 and kprod-SUBCOMMAND.1 files into DIR (created if missing); without
    /// it kprod.1 alone is printed to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Help heading of the output flags.
const OUTPUT: &str = "Output";

#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = OUTPUT)]
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
    /// Print the full results table (every section, the complete statement of what was
    /// measured) above the compact summary; compare, sweep and check print it for each run
    /// as it finishes.
    #[arg(long)]
    pub details: bool,
    /// Print the result JSON on stdout (bench: report.json, or set.json with --repeat;
    /// compare.json, sweep.json, check.json) and the summary on stderr, for scripts:
    /// `kprod bench --json | jq .throughput`.
    #[arg(long)]
    pub json: bool,
    /// A name for this run: it goes into the run directory's name and into report.json
    /// and runs.csv as `name` (letters, digits, `.`, `_`, `-`; other characters become `_`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// What one benchmark run takes: `kprod bench`'s flags, and what `compare`, `check` and
/// `sweep` hand `commands::bench::execute` for each of their runs ([`RunArgs::bench`]).
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// After generation stops, wait this long for outstanding delivery reports; what is
    /// still outstanding then is purged and counted as unknown.
    #[arg(long, value_name = "DURATION", default_value = "30s", help_heading = PRODUCER)]
    pub flush_timeout: String,
    /// Inject a fault into the embedded cluster during the run (repeatable), e.g.
    /// `broker-down:2@10s+5s`, `rtt:1=50ms@5s+10s`, `errors:produce=NOT_ENOUGH_REPLICAS*20@8s`,
    /// `leader:0=3@12s`. Added to the profile's [[fault]] tables.
    #[arg(long = "fault", value_name = "SPEC", help_heading = CLUSTER)]
    pub faults: Vec<String>,
    /// Read the produced records back (while producing, then every partition to its end)
    /// and report lost, duplicated and reordered records (each record carries its producer
    /// and sequence in a header). The concurrent reader shares the brokers: expect higher
    /// tail latency than without --verify; compare latency only between runs alike in this.
    #[arg(long, help_heading = VERDICT)]
    pub verify: bool,
    #[command(flatten)]
    pub instance: InstanceArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub verdict: VerdictArgs,
    /// The run directory's label when a command chooses it (sweep steps); None = from the
    /// profiles and flags (`commands::run_name`).
    #[arg(skip)]
    pub label: Option<String>,
}

/// `BenchArgs` less the distributed-run and metrics flags, which mean nothing to a
/// command that runs several benches itself (`compare`, `check`, `sweep`). `V` is the
/// verdict flags the command takes: [`VerdictArgs`], or [`NoVerdict`] for `sweep`, whose
/// steps are judged by `--slo` and saturation.
#[derive(Debug, Clone, Args)]
pub struct RunArgs<V: Args + Clone + Into<VerdictArgs> = VerdictArgs> {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// After generation stops, wait this long for outstanding delivery reports; what is
    /// still outstanding then is purged and counted as unknown.
    #[arg(long, value_name = "DURATION", default_value = "30s", help_heading = PRODUCER)]
    pub flush_timeout: String,
    /// Inject a fault into the embedded cluster during each run (repeatable), e.g.
    /// `broker-down:2@10s+5s`, `rtt:1=50ms@5s+10s`. Added to the profile's [[fault]] tables.
    #[arg(long = "fault", value_name = "SPEC", help_heading = CLUSTER)]
    pub faults: Vec<String>,
    /// Read each run's records back and report lost, duplicated and reordered records
    /// (the reader shares the brokers: expect higher tail latency).
    #[arg(long, help_heading = VERDICT)]
    pub verify: bool,
    #[command(flatten)]
    pub verdict: V,
}

/// No verdict flags (`sweep`): each run gets the defaults.
#[derive(Debug, Clone, Args, Default)]
pub struct NoVerdict {}

impl From<NoVerdict> for VerdictArgs {
    fn from(_: NoVerdict) -> Self {
        VerdictArgs::default()
    }
}

impl<V: Args + Clone + Into<VerdictArgs>> RunArgs<V> {
    /// The arguments of one of the command's runs: no instance, start gate or metrics.
    pub fn bench(&self) -> BenchArgs {
        BenchArgs {
            profile: self.profile.clone(),
            output: self.output.clone(),
            flush_timeout: self.flush_timeout.clone(),
            faults: self.faults.clone(),
            verify: self.verify,
            instance: InstanceArgs::default(),
            metrics: MetricsArgs::default(),
            verdict: self.verdict.clone().into(),
            label: None,
        }
    }
}

/// Help heading of the distributed-run and live-metrics flags.
const SCALE_OUT: &str = "Scale-out";

/// Distributed runs (`kprod bench`): what `instance::InstanceFlags` and the start gate take.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = SCALE_OUT)]
pub struct InstanceArgs {
    /// This process is instance I of N of a distributed run (0-based: `0/3`, `1/3`, `2/3`):
    /// it takes 1/N of the rate and of the record count and its own slice of the keys.
    /// Also read from KPROD_INSTANCE=I/N.
    #[arg(long, value_name = "I/N")]
    pub instance: Option<String>,
    /// Instance count N; the index then comes from JOB_COMPLETION_INDEX (Kubernetes
    /// Indexed Jobs, 0-based) unless --instance or KPROD_INSTANCE give it.
    #[arg(long, value_name = "N")]
    pub instances: Option<String>,
    /// Wait until this wall-clock time before t0, so the intervals of all instances line
    /// up: RFC 3339 (`2026-05-01T12:00:00Z`) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
}

/// Live metrics (`kprod bench`): what `metrics::MetricsFlags` takes.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = SCALE_OUT)]
pub struct MetricsArgs {
    /// Serve OpenMetrics (Prometheus) at http://ADDR/metrics during the run, e.g.
    /// `127.0.0.1:9464` (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Allow --metrics-addr on a non-loopback address (the endpoint has no authentication).
    #[arg(long)]
    pub metrics_allow_remote: bool,
    /// Keep serving the final metrics this long after the run (`30s`), so the last scrape
    /// sees the final counts.
    #[arg(long, value_name = "DURATION")]
    pub metrics_linger: Option<String>,
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
    #[command(after_help = examples::PROFILES_SHOW)]
    Show {
        /// Profile names or paths, layered left to right.
        #[arg(required = true, value_name = "NAME|PATH")]
        profiles: Vec<String>,
        #[command(flatten)]
        overrides: LayerArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Variant profiles (names or paths). Each is layered last, over the shared --profile
    /// layers, so variants differ only in what the variant profile sets.
    #[arg(required = true, num_args = 2.., value_name = "PROFILE")]
    pub variants: Vec<String>,
    /// Keep the topics kprod creates per variant when the variants' topics differ in count,
    /// partitions, replication or configs against --brokers (deleted at the end by default).
    #[arg(long, help_heading = CLUSTER)]
    pub keep_topics: bool,
    #[command(flatten)]
    pub bench: RunArgs<CompareVerdictArgs>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Baseline: a run directory or its report.json.
    #[arg(long, value_name = "PATH")]
    pub baseline: PathBuf,
    /// The run to judge. Without it, the baseline's own profile and workload run now.
    #[arg(long, value_name = "PATH")]
    pub current: Option<PathBuf>,
    /// Allowed regressions, e.g. `throughput=5%,p50=10%,p99=10%,p999=20%,errors=0` (those
    /// are the defaults; `off` disables one). Overrides a profile's [check] table.
    #[arg(long, value_name = "SPEC")]
    pub max_regression: Option<String>,
    /// Write a Markdown summary (CI job summary, pull-request comment).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Write a JUnit XML report (one test case per threshold).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// `--profile` layers supply [check] thresholds; when the baseline is rerun they and
    /// every other override are layered over the baseline's own profile.
    #[command(flatten)]
    pub bench: RunArgs,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["rates", "find_max", "param"])))]
pub struct SweepArgs {
    /// Fixed target rates, one step each: `10k,20k,50k`.
    #[arg(long, value_name = "RATE,...")]
    pub rates: Option<String>,
    /// Find the highest rate that is not saturated (and meets --slo): double until a step
    /// fails, then binary search, then confirm just below the result.
    #[arg(long)]
    pub find_max: bool,
    /// Latency objective(s) a step must meet: `p99<=20ms`, `p50<=5ms,p999<=50ms`. (A
    /// sweep takes no --repeat, --threshold, --inconclusive or --abort-on-breach: each step
    /// is one run judged by this objective and the saturation rule.)
    #[arg(long, value_name = "SLO")]
    pub slo: Option<String>,
    /// Sweep a profile key instead of the rate: `batching.linger=0ms,5ms,20ms`.
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub param: Option<String>,
    /// How long each step runs (its --duration, warm-up included).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub step_duration: String,
    /// --find-max: the first rate tried.
    #[arg(long, value_name = "RATE", default_value = "1k")]
    pub start_rate: String,
    /// --find-max: never try above this rate.
    #[arg(long, value_name = "RATE", default_value = "10M")]
    pub max_rate: String,
    /// --find-max: stop the binary search when the bracket is this narrow (relative).
    #[arg(long, value_name = "PERCENT", default_value = "5%")]
    pub precision: String,
    /// Keep the topics kprod creates per step when --param sweeps workload.partitions,
    /// workload.replication_factor or workload.topic_count against --brokers (deleted at
    /// the end by default).
    #[arg(long, help_heading = CLUSTER)]
    pub keep_topics: bool,
    #[command(flatten)]
    pub bench: RunArgs<NoVerdict>,
}

/// What `kprod tune` optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TuneObjective {
    /// The highest rate that meets the SLO without saturating (with --rate: meets it, lowest p99).
    Throughput,
    /// Fewest bytes on the wire per record at --rate.
    Bytes,
    /// Least CPU per record at --rate.
    Cpu,
}

impl TuneObjective {
    pub fn name(self) -> &'static str {
        match self {
            TuneObjective::Throughput => "throughput",
            TuneObjective::Bytes => "bytes",
            TuneObjective::Cpu => "cpu",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    /// Latency objective every accepted trial meets: `p99<=20ms` (figures p50, p90, p99,
    /// p999, p9999, max).
    #[arg(long, value_name = "SLO")]
    pub slo: String,
    /// What to optimise. Without --rate only `throughput` (the rate is searched); with
    /// --rate every trial runs at that rate and cpu or bytes pick among those that keep up.
    #[arg(long, value_enum, default_value = "throughput")]
    pub objective: TuneObjective,
    /// Hard wall-clock cap of the whole tune, confirmation included (`10m`).
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub budget: String,
    /// The search space: `key=lo..hi` (durations, sizes, counts; wide ranges sampled on a
    /// log scale) or `key=a|b|c`, comma-separated. Short keys: linger, batch_bytes,
    /// batch_messages, codec, level, max_in_flight, producers, buffer_bytes; or any
    /// section.key. Default:
    /// `linger=0..50ms,batch_bytes=16KiB..1MiB,codec=none|lz4|zstd,max_in_flight=1..5,producers=1..4`.
    #[arg(long, value_name = "SPACE")]
    pub space: Option<String>,
    /// Allow the space and the profiles to turn acks=all or idempotence off (and built-in
    /// profiles that do, such as `latency`, into the baselines).
    #[arg(long)]
    pub allow_unsafe: bool,
    /// Length of the shortest trials (first rung); later rungs and the confirmation run
    /// twice as long.
    #[arg(long, value_name = "DURATION", default_value = "3s")]
    pub trial_duration: String,
    /// The built-in profiles to beat (comma-separated); default: every built-in that keeps
    /// acks=all and idempotence (all of them with --allow-unsafe).
    #[arg(long, value_name = "NAME,...")]
    pub baselines: Option<String>,
    /// Confirmation runs of the winner and of the best built-in (interleaved).
    #[arg(long, value_name = "N", default_value = "3")]
    pub confirm_repeat: usize,
    /// Seed of the sample of the space (same seed, same candidates).
    #[arg(long, value_name = "SEED", default_value = "1")]
    pub search_seed: u64,
    /// The first rate tried (without --rate).
    #[arg(long, value_name = "RATE", default_value = "10k")]
    pub start_rate: String,
    /// Never try above this rate.
    #[arg(long, value_name = "RATE", default_value = "10M")]
    pub max_rate: String,
    #[command(flatten)]
    pub bench: RunArgs<NoVerdict>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A result directory written by bench, compare, sweep, check, tune or merge.
    pub dir: PathBuf,
    /// A run directory: print the full results table above the compact summary.
    #[arg(long)]
    pub details: bool,
    /// Print the path of the regenerated report.html (one self-contained page with the
    /// charts) instead of the summary. Plain `kprod report DIR` refreshes it too.
    #[arg(long)]
    pub html: bool,
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Run directories (or directories holding them, e.g. one `--out` per distributed run).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Root directory for the merged run directory.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Merge even when the runs differ in profile or workload, or instances are missing
    /// or repeated (the differences become warnings in the merged report).
    #[arg(long)]
    pub force: bool,
    /// Print the merged run's full results table above the compact summary.
    #[arg(long)]
    pub details: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Broker count of the embedded cluster.
    #[arg(long, value_name = "N", default_value = "3")]
    pub mock_brokers: String,
    /// Create this topic up front with --partitions (any other topic is created when a
    /// client first asks for it, with 4 partitions).
    #[arg(long)]
    pub topic: Option<String>,
    /// Partitions of --topic.
    #[arg(long, value_name = "P", default_value = "6")]
    pub partitions: String,
    /// Replication factor of --topic (at most the broker count).
    #[arg(long, value_name = "R", default_value = "1")]
    pub replication_factor: String,
}
