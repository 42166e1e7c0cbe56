//! `kprod check`: the CI regression gate. Compares a current run with a baseline run
//! against thresholds, prints a verdict table, writes a Markdown summary and JUnit XML.
//!
//! Without `--current` the baseline is rerun faithfully: its resolved profile is replayed
//! (see `check_replay.rs`) and verified identical before the run. Exit codes: 0 pass,
//! 1 regression (or the current run failed), 2 invalid input, 3 cluster unreachable,
//! 130 interrupted.

#[path = "check_replay.rs"]
mod replay;

use super::bench;
use crate::cli::CheckArgs;
use crate::engine::Observer;
use crate::error::{ConfigError, KprodError, Location};
use crate::profile::CheckCfg;
use crate::report::{self, RunReport, Status};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[path = "check_out.rs"]
mod out;
pub use out::{junit_xml, markdown_summary, verdict_table};

/// File the replayed baseline profile is written to, in the check's own directory.
pub const REPLAY_PROFILE: &str = "baseline-profile.toml";

/// Allowed regressions. Percentages are how much worse than the baseline a figure may get;
/// `errors` is how many more failed + unknown records. None = not checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub throughput: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub errors: Option<u64>,
}

impl Default for Thresholds {
    /// throughput=5%, p99=10%, p999=20%, errors=0; p50 unchecked (it moves with linger and
    /// batching more than with regressions).
    fn default() -> Self {
        Thresholds {
            throughput: Some(5.0),
            p50: None,
            p99: Some(10.0),
            p999: Some(20.0),
            errors: Some(0),
        }
    }
}

impl Thresholds {
    /// Layers a profile's `[check]` table over these thresholds.
    pub fn with_profile(mut self, c: &CheckCfg) -> Self {
        self.throughput = c.throughput.or(self.throughput);
        self.p50 = c.p50.or(self.p50);
        self.p99 = c.p99.or(self.p99);
        self.p999 = c.p999.or(self.p999);
        self.errors = c.errors.or(self.errors);
        self
    }

    /// Layers `--max-regression throughput=5%,p99=10%,errors=0` (`off` disables one).
    pub fn with_spec(mut self, spec: &str) -> Result<Self, ConfigError> {
        let err = |m: String| {
            ConfigError::new(m)
                .at(Location {
                    source: "--max-regression".into(),
                    ..Default::default()
                })
                .fix("write e.g. --max-regression throughput=5%,p99=10%,p999=20%,errors=0 (or p99=off)")
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| err(format!("{part:?} has no `=`")))?;
            let (k, v) = (k.trim(), v.trim());
            let off = v.eq_ignore_ascii_case("off");
            let pct = || -> Result<Option<f64>, ConfigError> {
                if off {
                    return Ok(None);
                }
                v.strip_suffix('%')
                    .and_then(|n| n.trim().parse::<f64>().ok())
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .map(Some)
                    .ok_or_else(|| err(format!("{k}={v}: expected a percentage such as 5%")))
            };
            match k {
                "throughput" => self.throughput = pct()?,
                "p50" => self.p50 = pct()?,
                "p99" => self.p99 = pct()?,
                "p999" | "p99.9" => self.p999 = pct()?,
                "errors" if off => self.errors = None,
                "errors" => {
                    self.errors = Some(v.parse().map_err(|_| {
                        err(format!("errors={v}: expected a whole number of records"))
                    })?)
                }
                _ => {
                    return Err(err(format!(
                        "unknown figure {k:?}: expected throughput, p50, p99, p999 or errors"
                    )))
                }
            }
        }
        Ok(self)
    }
}

/// One line of the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `throughput`, `p50`, `p99`, `p999`, `errors`, `run status`.
    pub name: String,
    pub baseline: String,
    pub current: String,
    /// Change relative to the baseline, e.g. `-3.2%`.
    pub change: String,
    /// What is allowed, e.g. `at most 5% lower`.
    pub allowed: String,
    pub passed: bool,
    /// Why it failed or was skipped.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub baseline: String,
    pub current: String,
    pub rows: Vec<Row>,
    /// Things a reviewer should know: profile differences, embedded-cluster note.
    pub notes: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.passed)
    }
    pub fn exit_code(&self) -> i32 {
        if self.passed() {
            0
        } else {
            1
        }
    }
}

fn pct_change(base: f64, cur: f64) -> Option<f64> {
    (base > 0.0 && base.is_finite() && cur.is_finite()).then(|| (cur - base) / base * 100.0)
}

fn latency_row(name: &str, base: u64, cur: u64, limit: f64, samples: (u64, u64)) -> Row {
    let mut row = Row {
        name: name.into(),
        baseline: report::fmt_latency_us(base),
        current: report::fmt_latency_us(cur),
        change: String::new(),
        allowed: format!("at most {limit}% higher"),
        passed: true,
        detail: None,
    };
    match (samples, pct_change(base as f64, cur as f64)) {
        ((0, _), _) => row.detail = Some("skipped: the baseline has no latency samples".into()),
        ((_, 0), _) => {
            row.passed = false;
            row.detail = Some("the current run has no latency samples".into());
        }
        (_, Some(c)) => {
            row.change = format!("{c:+.1}%");
            if c > limit {
                row.passed = false;
                row.detail = Some(format!("{name} rose {c:.1}%, more than {limit}%"));
            }
        }
        (_, None) => row.detail = Some("skipped: baseline value is 0".into()),
    }
    row
}

/// Judges `current` against `baseline`. Pure: no files, no cluster.
pub fn evaluate(baseline: &RunReport, current: &RunReport, t: &Thresholds) -> Verdict {
    let mut rows = Vec::new();
    let status_ok = current.status == Status::Complete && current.records.identity_holds;
    rows.push(Row {
        name: "run status".into(),
        baseline: format!("{:?}", baseline.status).to_lowercase(),
        current: format!("{:?}", current.status).to_lowercase(),
        change: String::new(),
        allowed: "complete, every record accounted for".into(),
        passed: status_ok,
        detail: (!status_ok).then(|| {
            current.status_reason.clone().unwrap_or_else(|| {
                "sent != delivered + failed + unknown: records unaccounted for".into()
            })
        }),
    });
    if let Some(limit) = t.throughput {
        let (b, c) = (
            baseline.throughput.records_per_sec,
            current.throughput.records_per_sec,
        );
        let change = pct_change(b, c);
        let passed = change.is_none_or(|x| -x <= limit);
        rows.push(Row {
            name: "throughput".into(),
            baseline: report::fmt_rate(b),
            current: report::fmt_rate(c),
            change: change.map_or(String::new(), |x| format!("{x:+.1}%")),
            allowed: format!("at most {limit}% lower"),
            passed,
            detail: match change {
                None => Some("skipped: baseline throughput is 0".into()),
                Some(x) if !passed => {
                    Some(format!("throughput fell {:.1}%, more than {limit}%", -x))
                }
                Some(_) => None,
            },
        });
    }
    let (bl, cl) = (
        &baseline.latency_us.corrected,
        &current.latency_us.corrected,
    );
    let samples = (bl.count, cl.count);
    for (name, limit, b, c) in [
        ("p50", t.p50, bl.p50, cl.p50),
        ("p99", t.p99, bl.p99, cl.p99),
        ("p999", t.p999, bl.p999, cl.p999),
    ] {
        if let Some(limit) = limit {
            rows.push(latency_row(name, b, c, limit, samples));
        }
    }
    if let Some(limit) = t.errors {
        let errs = |r: &RunReport| r.records.failed + r.records.unknown;
        let (b, c) = (errs(baseline), errs(current));
        let passed = c <= b.saturating_add(limit);
        rows.push(Row {
            name: "errors".into(),
            baseline: report::fmt_count(b),
            current: report::fmt_count(c),
            change: format!("{:+}", c as i128 - b as i128),
            allowed: format!("at most {limit} more"),
            passed,
            detail: (!passed).then(|| {
                let names: Vec<String> = current
                    .errors
                    .iter()
                    .map(|(k, n)| format!("{k} x{n}"))
                    .collect();
                format!(
                    "{} more failed or unknown records than the baseline{}",
                    c - b,
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", names.join(", "))
                    }
                )
            }),
        });
    }
    let mut notes = Vec::new();
    let diffs = replay::differences(
        &baseline.config.profile,
        &current.config.profile,
        &["check"],
    );
    if !diffs.is_empty() {
        notes.push(format!(
            "the current run's profile differs from the baseline's: {}",
            diffs.join("; ")
        ));
    }
    if baseline.cluster != current.cluster {
        notes.push(format!(
            "clusters differ: baseline {}, current {}",
            baseline.cluster, current.cluster
        ));
    }
    if let Some(n) = current
        .cluster_note
        .as_ref()
        .or(baseline.cluster_note.as_ref())
    {
        notes.push(n.clone());
    }
    Verdict {
        baseline: describe(baseline),
        current: describe(current),
        rows,
        notes,
    }
}

fn describe(r: &RunReport) -> String {
    // Profile paths (such as the replayed baseline's) read better as file names.
    let names: Vec<String> = r
        .profile
        .iter()
        .map(|p| {
            Path::new(p)
                .file_name()
                .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    format!(
        "{} started {} ({} on {})",
        names.join("+"),
        r.started_at,
        r.environment.kprod_version,
        r.environment.host
    )
}

/// A report named by the user: missing, unreadable or not a kprod report is invalid input.
fn load_input(path: &Path, flag: &str, cwd: &Path) -> Result<RunReport, KprodError> {
    let full = cwd.join(path);
    report::load_report(&full).map_err(|e| {
        ConfigError::new(e.to_string())
            .at(Location {
                source: flag.into(),
                ..Default::default()
            })
            .fix("give a run directory written by kprod bench, or its report.json")
            .into()
    })
}

/// Thresholds for this check: defaults < the baseline's recorded [check] table < the
/// `--profile` layers' [check] tables < `--max-regression`.
pub fn thresholds(
    args: &CheckArgs,
    baseline: &RunReport,
    cwd: &Path,
) -> Result<Thresholds, KprodError> {
    let mut t = Thresholds::default();
    if let Some(c) = baseline.config.profile.get("check") {
        if let Ok(c) = serde_json::from_value::<CheckCfg>(c.clone()) {
            t = t.with_profile(&c);
        }
    }
    if !args.bench.profile.profiles.is_empty() {
        let p = crate::profile::resolve(&args.bench.profile.profiles, &Default::default(), cwd)?;
        t = t.with_profile(&p.check);
    }
    match &args.max_regression {
        Some(spec) => Ok(t.with_spec(spec)?),
        None => Ok(t),
    }
}

fn invalid(message: String, fix: &str) -> KprodError {
    ConfigError::new(message)
        .at(Location {
            source: "--baseline".into(),
            ..Default::default()
        })
        .fix(fix)
        .into()
}

/// Reruns the baseline's profile and workload, with the command line's overrides on top.
/// Returns the current report and its run directory.
fn rerun(
    args: &CheckArgs,
    baseline: &RunReport,
    cwd: &Path,
    observer: Option<&mut dyn Observer>,
) -> Result<(RunReport, PathBuf), KprodError> {
    let text =
        replay::profile_toml(&baseline.config.profile, &baseline.description).map_err(|m| {
            invalid(
                format!("cannot reproduce the baseline run: {m}"),
                "run the current build yourself and pass it with --current",
            )
        })?;
    let root = cwd.join(&args.bench.output.out);
    let dir = report::create_run_dir(&root, SystemTime::now(), "check")?;
    let replay_path = dir.join(REPLAY_PROFILE);
    report::write_atomic(&replay_path, text.as_bytes())?;
    let replay_arg = replay_path.display().to_string();

    // The replay alone must be the baseline's profile, key for key, before anything runs.
    let alone =
        crate::profile::resolve(std::slice::from_ref(&replay_arg), &Default::default(), cwd)?;
    let alone_json = serde_json::to_value(&alone).unwrap_or_default();
    let diffs = replay::differences(&baseline.config.profile, &alone_json, &[]);
    if !diffs.is_empty() {
        return Err(invalid(
            format!(
                "cannot reproduce the baseline run: its recorded profile does not replay exactly ({})",
                diffs.join("; ")
            ),
            "run the current build yourself and pass it with --current",
        ));
    }
    let mut bench_args = args.bench.clone();
    bench_args.profile.profiles = std::iter::once(replay_arg)
        .chain(args.bench.profile.profiles.iter().cloned())
        .collect();
    let resolved = bench::resolve(&bench_args.profile, cwd)?;
    if let Some((k, _)) = resolved
        .librdkafka
        .iter()
        .find(|(_, v)| v.as_str() == "[redacted]")
    {
        return Err(invalid(
            format!(
                "the baseline's librdkafka property `{k}` is a secret the report does not keep"
            ),
            &format!("supply it again: -X {k}=..."),
        ));
    }
    let o = bench::execute(&bench_args, cwd, observer)?;
    Ok((o.report, o.dir))
}

/// A finished check.
pub struct CheckOutcome {
    pub verdict: Verdict,
    /// The rerun's run directory (None with `--current`).
    pub current_dir: Option<PathBuf>,
    pub interrupted: bool,
}

/// Runs the check; writes `--summary` and `--junit` when asked.
pub fn execute(
    args: &CheckArgs,
    cwd: &Path,
    observer: Option<&mut dyn Observer>,
) -> Result<CheckOutcome, KprodError> {
    let baseline = load_input(&args.baseline, "--baseline", cwd)?;
    report::usable(&baseline, &args.baseline)?;
    if baseline.status != Status::Complete {
        return Err(invalid(
            format!(
                "the baseline run is {:?}, not complete: a partial run is no baseline",
                baseline.status
            )
            .to_lowercase(),
            "record a new baseline with kprod bench",
        ));
    }
    let t = thresholds(args, &baseline, cwd)?;
    let (current, current_dir) = match &args.current {
        Some(p) => (load_input(p, "--current", cwd)?, None),
        None => {
            let (r, d) = rerun(args, &baseline, cwd, observer)?;
            (r, Some(d))
        }
    };
    report::usable(
        &current,
        current_dir
            .as_deref()
            .or(args.current.as_deref())
            .unwrap_or(cwd),
    )?;
    let verdict = evaluate(&baseline, &current, &t);
    if let Some(path) = &args.summary {
        report::write_atomic(&cwd.join(path), markdown_summary(&verdict).as_bytes())?;
    }
    if let Some(path) = &args.junit {
        report::write_atomic(&cwd.join(path), junit_xml(&verdict).as_bytes())?;
    }
    Ok(CheckOutcome {
        verdict,
        current_dir,
        interrupted: current.status == Status::Interrupted,
    })
}

/// `kprod check` for the command line.
pub fn run(args: &CheckArgs, cwd: &Path) -> Result<i32, KprodError> {
    let o = execute(args, cwd, None)?;
    crate::print_stdout(&verdict_table(&o.verdict));
    if let Some(d) = &o.current_dir {
        crate::print_stdout(&format!("current run: {}", d.display()));
    }
    Ok(if o.interrupted {
        130
    } else {
        o.verdict.exit_code()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_overrides_profile_over_defaults() {
        let c = CheckCfg {
            p99: Some(15.0),
            errors: Some(3),
            ..Default::default()
        };
        let t = Thresholds::default()
            .with_profile(&c)
            .with_spec("throughput=2%, p999=off")
            .unwrap();
        assert_eq!(t.throughput, Some(2.0));
        assert_eq!(t.p99, Some(15.0));
        assert_eq!(t.p999, None);
        assert_eq!(t.errors, Some(3));
        assert_eq!(t.p50, None);
    }

    #[test]
    fn bad_specs_are_config_errors_with_a_fix() {
        for bad in ["p99=10", "p98=1%", "errors=many", "throughput"] {
            let e = Thresholds::default().with_spec(bad).unwrap_err();
            assert!(e.fix.is_some(), "{bad}: {e}");
        }
    }
}
