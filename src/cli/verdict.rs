//! Flags of verdicts you can gate on (`--repeat`, `--threshold`, `--inconclusive`),
//! shared by `bench`, `check` and `compare` through `BenchArgs`.

use crate::verdict::InconclusivePolicy;
use clap::Args;

/// Help heading of the verdict flags.
pub const VERDICT: &str = "Verdict";

#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = VERDICT)]
pub struct VerdictArgs {
    /// Runs per side. bench: N runs saved as a baseline set (`<ts>-<name>-set/`, usable as
    /// `check --baseline`), default 1. check: default 5; a single-report baseline is rerun
    /// interleaved with the current profile (B C B C ...), a set baseline is compared with
    /// N current runs. compare: runs per variant, interleaved, default 3 (fewer than 3
    /// gives no between-run noise estimate).
    /// 1..=1000.
    #[arg(long, value_name = "N", value_parser = repeat, allow_hyphen_values = true)]
    pub repeat: Option<u32>,
    /// Absolute threshold, k6-style, repeatable: `p99<=20ms`, `p999<1s`, `errors==0`,
    /// `errors<=10`, `throughput>=95%` (of the target rate) or `throughput>=50k/s`. Added
    /// to the profile's `[check] thresholds`. With repeats a threshold fails only when the
    /// 95% interval of the median breaches it as a whole.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// What an inconclusive verdict (the confidence interval straddles the allowance: noise
    /// too large to tell) becomes: `fail` (exit 1), `pass` (exit 0) or `inconclusive`
    /// (exit 5, the default).
    #[arg(long, value_name = "POLICY", default_value = "inconclusive")]
    pub inconclusive: InconclusivePolicy,
    /// Stop a run early once a threshold (`--threshold` or the profile's `[check]
    /// thresholds`) that can be judged per second (p50, p99,
    /// p999 of the second, its throughput, errors so far) is broken for K consecutive
    /// measured seconds (default 3; warm-up seconds do not count): the run flushes like at
    /// a first Ctrl-C, the partial report says status `aborted` with the reason, and kprod
    /// exits 6. bench and check (the current runs; a replayed baseline is never aborted).
    #[arg(long, value_name = "K", num_args = 0..=1, default_missing_value = "3",
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub abort_on_breach: Option<u32>,
}

/// `compare`'s verdict flags: `VerdictArgs` without `--abort-on-breach` (an aborted
/// variant would leave nothing to compare).
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = VERDICT)]
pub struct CompareVerdictArgs {
    /// Runs per variant, interleaved A B A B ..., default 3 (fewer than 3 gives no
    /// between-run noise estimate). 1..=1000.
    #[arg(long, value_name = "N", value_parser = repeat, allow_hyphen_values = true)]
    pub repeat: Option<u32>,
    /// Absolute threshold each variant is judged by, k6-style, repeatable: `p99<=20ms`,
    /// `errors==0`, `throughput>=95%` (of the target rate). Added to the profile's `[check]
    /// thresholds`; with repeats a threshold fails only when the 95% interval of the
    /// median breaches it as a whole.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// What an inconclusive threshold verdict becomes: `fail` (exit 1), `pass` (exit 0)
    /// or `inconclusive` (exit 5, the default).
    #[arg(long, value_name = "POLICY", default_value = "inconclusive")]
    pub inconclusive: InconclusivePolicy,
}

impl From<CompareVerdictArgs> for VerdictArgs {
    fn from(c: CompareVerdictArgs) -> Self {
        VerdictArgs {
            repeat: c.repeat,
            thresholds: c.thresholds,
            inconclusive: c.inconclusive,
            abort_on_breach: None,
        }
    }
}

/// The most runs per side `--repeat` takes: beyond it a gate would run for hours.
pub const MAX_REPEAT: u32 = 1000;

/// `--repeat`: the range named in the message (clap's own would say 0..=4294967295
/// although 0 is refused).
fn repeat(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_REPEAT).contains(n))
        .ok_or_else(|| format!("--repeat must be 1..={MAX_REPEAT}, got {s}"))
}
