//! `kprod check`: the CI regression gate. Compares current runs with baseline runs
//! figure by figure (median change with a 95% bootstrap interval, `crate::verdict`),
//! prints a verdict table, writes `check.json`, a Markdown summary and JUnit XML.
//!
//! Without `--current` the baseline is rerun faithfully: its resolved profile is replayed
//! (see `check_replay.rs`), verified identical, and run interleaved with the current
//! profile (B C B C …, `--repeat` each); against a baseline set only the current side runs
//! (`check_runs.rs`). Exit codes: 0 pass, 1 regression (or a current run failed),
//! 2 invalid input, 3 cluster unreachable, 5 inconclusive (`--inconclusive`), 130
//! interrupted.

#[path = "check_replay.rs"]
pub(crate) mod replay;

#[path = "check_eval.rs"]
mod eval;
pub use eval::threshold_rows;
#[path = "check_runs.rs"]
pub mod runs;

use super::bench;
use crate::cli::{BenchArgs, CheckArgs};
use crate::engine::Observer;
use crate::error::{ConfigError, KprodError, Location};
use crate::report::{self, RunReport, Status};
use crate::verdict::{
    overall, Bootstrap, FigureResult, InconclusivePolicy, Threshold, Verdict as Call,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[path = "check_allow.rs"]
mod allow;
pub use allow::{thresholds, Thresholds};

#[path = "check_out.rs"]
mod out;
pub use out::{
    current_runs, html_page, junit_xml, markdown_summary, verdict_rows_table, verdict_table,
};

/// The verdict file in the check's own directory.
pub const CHECK_JSON: &str = "check.json";
/// Runs per side without `--repeat`; calibrated in docs/ci.md.
pub const DEFAULT_REPEAT: u32 = 5;

/// One line of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `run status`, `throughput`, `p50`, `p99`, `p999`, `errors`, `threshold <expr>`.
    pub name: String,
    pub baseline: String,
    pub current: String,
    /// Change with its 95% interval, e.g. `+12.4% [+8.1 .. +16.9] worse`.
    pub change: String,
    /// What is allowed, e.g. `at most 5% lower`.
    pub allowed: String,
    pub verdict: Call,
    /// Not judged (e.g. the baseline has no latency samples); counts as a pass.
    pub skipped: bool,
    /// Why it failed or was skipped, or how the interval was estimated.
    pub detail: Option<String>,
    /// The estimate behind the row (None for the run status and skipped rows).
    pub figure: Option<FigureResult>,
}

/// A whole check: every row, the notes, and what an inconclusive result becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub baseline: String,
    pub current: String,
    pub rows: Vec<Row>,
    /// Things a reviewer should know: profile differences, embedded-cluster note.
    pub notes: Vec<String>,
    pub policy: InconclusivePolicy,
    /// Where the mean latency change came from (`report::attribution`); None when a
    /// side's runs have no `latency_breakdown_us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<report::attribution::Attribution>,
}

impl Verdict {
    /// The worst row, before `--inconclusive` is applied.
    pub fn overall(&self) -> Call {
        overall(self.rows.iter().map(|r| &r.verdict))
    }
    /// Pass after `--inconclusive`.
    pub fn passed(&self) -> bool {
        self.policy.apply(self.overall()) == Call::Pass
    }
    /// 0 pass, 1 fail, 5 inconclusive (see `--inconclusive`).
    pub fn exit_code(&self) -> i32 {
        self.policy.exit_code(self.overall())
    }
}

/// Judges `current` runs against `baseline` runs. Pure: no files, no cluster.
pub fn evaluate(
    baseline: &[RunReport],
    current: &[RunReport],
    t: &Thresholds,
    slos: &[Threshold],
    policy: InconclusivePolicy,
) -> Result<Verdict, KprodError> {
    let cfg = Bootstrap::default();
    let mut rows = vec![eval::status_row(baseline, current)];
    rows.extend(eval::figure_rows(baseline, current, t, &cfg));
    rows.extend(eval::threshold_rows(current, slos, &cfg)?);
    let (Some(b), Some(c)) = (baseline.first(), current.first()) else {
        return Err(KprodError::flag(
            "--baseline",
            "no runs to compare",
            "give a baseline and let the current runs finish",
        ));
    };
    let attribution = eval::attribute(&mut rows, baseline, current);
    Ok(Verdict {
        baseline: describe(b, baseline.len()),
        current: describe(c, current.len()),
        rows,
        notes: notes(b, c),
        policy,
        attribution,
    })
}

fn notes(baseline: &RunReport, current: &RunReport) -> Vec<String> {
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
    notes
}

/// Profile names as file stems joined by `+` (a replayed profile is named after the
/// baseline's own, so it reads as that profile).
pub fn profile_stems(profiles: &[String]) -> String {
    let names: Vec<String> = profiles
        .iter()
        .map(|p| {
            Path::new(p)
                .file_stem()
                .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    names.join("+")
}

fn profile_label(r: &RunReport) -> String {
    profile_stems(&r.profile)
}

fn describe(r: &RunReport, runs: usize) -> String {
    let n = if runs > 1 {
        format!("{runs} runs, first ")
    } else {
        String::new()
    };
    format!(
        "{} ({n}started {}, {} on {})",
        profile_label(r),
        r.started_at,
        r.environment.kprod_version,
        r.environment.host
    )
}

fn invalid(message: String, fix: &str) -> KprodError {
    ConfigError::new(message)
        .at(Location::flag("--baseline"))
        .fix(fix)
        .into()
}

const RERUN_YOURSELF: &str = "run the current build yourself and pass it with --current";

/// Writes the baseline's resolved profile into the check directory, named after the
/// baseline's profile, and proves that it alone resolves to the baseline's profile.
fn replay_profile(baseline: &RunReport, dir: &Path, cwd: &Path) -> Result<String, KprodError> {
    let text =
        replay::profile_toml(&baseline.config.profile, &baseline.description).map_err(|m| {
            invalid(
                format!("cannot reproduce the baseline run: {m}"),
                RERUN_YOURSELF,
            )
        })?;
    let name = report::sanitize_label(&profile_label(baseline));
    let path = dir.join(format!("{name}.toml"));
    report::write_atomic(&path, text.as_bytes())?;
    let arg = path.display().to_string();
    let alone = crate::profile::resolve(std::slice::from_ref(&arg), &Default::default(), cwd)?;
    let alone_json = serde_json::to_value(&alone).unwrap_or_default();
    let diffs = replay::differences(&baseline.config.profile, &alone_json, &[]);
    if !diffs.is_empty() {
        return Err(invalid(
            format!(
                "cannot reproduce the baseline run: its recorded profile does not replay exactly ({})",
                diffs.join("; ")
            ),
            RERUN_YOURSELF,
        ));
    }
    Ok(arg)
}

/// The runs a verdict is drawn from.
#[derive(Default)]
struct Trials {
    baseline: Vec<RunReport>,
    current: Vec<RunReport>,
    current_dirs: Vec<PathBuf>,
    interrupted: bool,
    /// Every run this check made, and whether it is complete (what a failed check keeps).
    finished: Vec<(PathBuf, bool)>,
}

/// Runs the trials: B C B C … for a single-report baseline, C C … against a set.
fn run_trials(
    args: &CheckArgs,
    saved: runs::Saved,
    dir: &Path,
    cwd: &Path,
    mut observer: Option<&mut dyn Observer>,
    t: &mut Trials,
) -> Result<(), KprodError> {
    let replay = replay_profile(&saved.reports[0], dir, cwd)?;
    let cur = runs::current_args(args, &replay, cwd)?;
    let base = (!saved.is_set).then(|| runs::baseline_args(args, &replay));
    let n = args.bench.verdict.repeat.unwrap_or(DEFAULT_REPEAT);
    if saved.is_set {
        t.baseline = saved.reports;
    }
    let sides: Vec<(&BenchArgs, bool)> = base
        .iter()
        .map(|b| (b, true))
        .chain([(&cur, false)])
        .collect();
    let total = n as usize * sides.len();
    'trials: for _ in 0..n {
        for (bench_args, is_base) in &sides {
            if !args.bench.output.quiet {
                let k = t.baseline.len() * usize::from(base.is_some()) + t.current.len() + 1;
                let side = if *is_base {
                    "baseline (replayed)"
                } else {
                    "current"
                };
                crate::print_stderr(&format!("check: run {k}/{total}: {side}"));
            }
            let obs = observer.as_mut().map(|o| &mut **o as &mut dyn Observer);
            let o = bench::execute(bench_args, cwd, obs)?;
            bench::print_run_details(&bench_args.output, &o);
            t.finished
                .push((o.dir.clone(), o.report.status == Status::Complete));
            t.interrupted |= o.report.status == Status::Interrupted;
            // An aborted current run fails the check (its status row): the rest is moot.
            let aborted = o.report.status == Status::Aborted;
            if *is_base {
                t.baseline.push(o.report);
            } else {
                t.current.push(o.report);
                t.current_dirs.push(o.dir);
            }
            if t.interrupted || aborted {
                break 'trials;
            }
        }
    }
    Ok(())
}

/// A finished check.
pub struct CheckOutcome {
    pub verdict: Verdict,
    /// The last current run's directory (None with `--current`).
    pub current_dir: Option<PathBuf>,
    /// The check's own directory with the replayed profile and `check.json` (None with
    /// `--current`, which runs nothing).
    pub check_dir: Option<PathBuf>,
    pub interrupted: bool,
    /// The text of `check.json` (also built with `--current`, which writes no file), for
    /// `--json`.
    pub json: String,
}

/// `check.json`: the verdict with every figure's estimate, interval and allowance.
#[derive(Serialize)]
struct CheckJson<'a> {
    schema_version: u32,
    kind: &'static str,
    overall: Call,
    exit_code: i32,
    baseline_runs: usize,
    current_runs: Vec<String>,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

/// Refuses saved runs that cannot be compared: not complete, or nothing measured
/// (`report::usable`), whether they come as the baseline or as `--current`.
fn refuse_incomplete(saved: &runs::Saved) -> Result<(), KprodError> {
    for (r, dir) in saved.reports.iter().zip(&saved.dirs) {
        report::usable(r, dir)?;
    }
    match saved.reports.iter().find(|r| r.status != Status::Complete) {
        Some(r) => Err(invalid(
            format!(
                "the baseline run is {:?}, not complete: a partial run is no baseline",
                r.status
            )
            .to_lowercase(),
            "record a new baseline with kprod bench",
        )),
        None => Ok(()),
    }
}

/// Runs the check; writes `check.json`, `--summary` and `--junit`.
pub fn execute(
    args: &CheckArgs,
    cwd: &Path,
    observer: Option<&mut dyn Observer>,
) -> Result<CheckOutcome, KprodError> {
    let saved = runs::load(&args.baseline, "--baseline", cwd)?;
    refuse_incomplete(&saved)?;
    let (t, slos) = thresholds(args, &saved.reports[0], cwd)?;
    if args.bench.verdict.abort_on_breach.is_some() && slos.is_empty() {
        return Err(KprodError::flag(
            "--abort-on-breach",
            "no threshold to watch: it needs a --threshold such as 'p99<=20ms'",
            "add --threshold 'p99<=20ms' (or another), or drop --abort-on-breach",
        ));
    }
    let (trials, check_dir) = match &args.current {
        Some(p) => {
            let cur = runs::load(p, "--current", cwd)?;
            for (r, dir) in cur.reports.iter().zip(&cur.dirs) {
                report::usable(r, dir)?;
            }
            let t = Trials {
                baseline: saved.reports,
                current: cur.reports,
                ..Trials::default()
            };
            (t, None)
        }
        None => {
            let root = bench::results_root(&args.bench.output.out, cwd)?;
            let label = super::run_name::named("check", args.bench.output.name.as_deref());
            let dir = report::create_run_dir(&root, SystemTime::now(), &label)?;
            let mut t = Trials::default();
            if let Err(e) = run_trials(args, saved, &dir, cwd, observer, &mut t) {
                return Err(runs::abandon(&dir, &t.finished, e));
            }
            (t, Some(dir))
        }
    };
    let done = conclude(args, cwd, &trials, &t, &slos, check_dir.as_deref());
    match (done, &check_dir) {
        (Err(e), Some(dir)) => Err(runs::abandon(dir, &trials.finished, e)),
        (Err(e), None) => Err(e),
        (Ok((verdict, json)), _) => Ok(CheckOutcome {
            verdict,
            json,
            current_dir: trials.current_dirs.last().cloned(),
            check_dir,
            interrupted: trials.interrupted,
        }),
    }
}

/// The verdict and its files: `check.json` (in the check directory, when runs were made),
/// `--summary`, `--junit`.
fn conclude(
    args: &CheckArgs,
    cwd: &Path,
    trials: &Trials,
    t: &Thresholds,
    slos: &[Threshold],
    check_dir: Option<&Path>,
) -> Result<(Verdict, String), KprodError> {
    let verdict = evaluate(
        &trials.baseline,
        &trials.current,
        t,
        slos,
        args.bench.verdict.inconclusive,
    )?;
    let json = CheckJson {
        schema_version: 1,
        kind: "check",
        overall: verdict.overall(),
        exit_code: verdict.exit_code(),
        baseline_runs: trials.baseline.len(),
        current_runs: trials
            .current_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
        verdict: &verdict,
    };
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    if let Some(dir) = check_dir {
        report::write_atomic(&dir.join(CHECK_JSON), text.as_bytes())?;
        crate::charts::write_html(dir, &out::html_page(&verdict, &json.current_runs))?;
    }
    if let Some(path) = &args.summary {
        report::write_atomic(&cwd.join(path), markdown_summary(&verdict).as_bytes())?;
    }
    if let Some(path) = &args.junit {
        report::write_atomic(&cwd.join(path), junit_xml(&verdict).as_bytes())?;
    }
    Ok((verdict, text))
}

/// Loads a check directory's `check.json` (for `kprod report`).
pub fn load(dir: &Path) -> Result<Verdict, KprodError> {
    let path = dir.join(CHECK_JSON);
    let bytes = std::fs::read(&path).map_err(|e| KprodError::Results {
        path: path.clone(),
        message: format!("cannot read: {e}"),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| KprodError::Results {
        path,
        message: format!("not a kprod check.json: {e}"),
    })
}

/// `kprod check` for the command line.
pub fn run(args: &CheckArgs, cwd: &Path) -> Result<i32, KprodError> {
    let o = execute(args, cwd, None)?;
    let json = args.bench.output.json;
    super::json_out::say(json, &verdict_table(&o.verdict));
    if let Some(d) = &o.check_dir {
        super::json_out::say(json, &format!("check: {}", d.display()));
    }
    match &o.check_dir {
        Some(d) => super::json_out::print_file(json, &d.join(CHECK_JSON))?,
        // --current wrote no check.json: the same document, scrubbed like a written file.
        None if json => crate::print_stdout(&o.json),
        None => {}
    }
    Ok(if o.interrupted {
        130
    } else {
        o.verdict.exit_code()
    })
}
