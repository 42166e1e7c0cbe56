//! `kprod bench`: profile -> plan -> engine -> report -> files and table.

use super::progress::Progress;
use crate::cli::{BenchArgs, LayerArgs, ProfileArgs};
use crate::domain::console::{paint, Tone};
use crate::engine::{self, Observer};
use crate::error::{KprodError, Location};
use crate::plan::Plan;
use crate::profile::{self, Overrides, Profile};
use crate::report::{self, IntervalHistogram, RunReport, Status, SummaryExtras};
use crate::verdict::{BreachWatch, Threshold};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A finished bench run: its report and where it was written.
pub struct BenchOutcome {
    pub report: RunReport,
    pub dir: PathBuf,
}

pub fn overrides(a: &ProfileArgs) -> Overrides {
    Overrides {
        flags: a.key_flag_values(),
        topic_suffix: a.topic_suffix.clone(),
        ..layer_overrides(&a.layers)
    }
}

/// The `--java-config`, `--set` and `-X` layers (what `profiles show` also takes).
pub fn layer_overrides(l: &LayerArgs) -> Overrides {
    Overrides {
        java_config: l.java_config.clone(),
        sets: l.sets.clone(),
        flags: Vec::new(),
        librdkafka: l.librdkafka.clone(),
        java_props: l.producer_props.clone(),
        topic_suffix: None,
    }
}

/// Resolve the profile layers of a command line.
pub fn resolve(a: &ProfileArgs, cwd: &Path) -> Result<Profile, KprodError> {
    Ok(profile::resolve(&a.profiles, &overrides(a), cwd)?)
}

fn flush_timeout(s: &str) -> Result<Duration, KprodError> {
    crate::units::parse_duration(s)
        .map_err(|e| KprodError::flag("--flush-timeout", e, "give a duration such as 30s"))
}

/// The results root of `--out`, checked writable: an unwritable directory must fail
/// before a run, not after it.
pub fn results_root(out: &Path, cwd: &Path) -> Result<PathBuf, KprodError> {
    let root = if out.is_absolute() {
        out.to_path_buf()
    } else {
        cwd.join(out)
    };
    report::check_writable(&root).map_err(|e| {
        KprodError::flag(
            "--out",
            format!("cannot write results there: {e}"),
            "give --out a directory you can write to",
        )
    })?;
    Ok(root)
}

/// Run one benchmark end to end. `observer` = None picks the terminal progress display.
pub fn execute(
    args: &BenchArgs,
    cwd: &Path,
    observer: Option<&mut dyn Observer>,
) -> Result<BenchOutcome, KprodError> {
    let mut profile = resolve(&args.profile, cwd)?;
    add_faults(&mut profile, &args.faults)?;
    let flush = flush_timeout(&args.flush_timeout)?;
    // Distributed-run flags are plain input: checked before anything touches the disk.
    let s = &args.instance;
    let instance_flags = crate::instance::InstanceFlags {
        instance: s.instance.as_deref(),
        instances: s.instances.as_deref(),
    };
    let instance = crate::instance::resolve(&instance_flags, |k| std::env::var(k).ok())?;
    let start_at = s.start_at.as_deref();
    let mut gate =
        crate::instance::StartGate::new(start_at.map(crate::instance::parse_start_at).transpose()?);
    let out_root = results_root(&args.output.out, cwd)?;
    crate::engine::native::VERBOSE.store(args.output.verbose, std::sync::atomic::Ordering::Relaxed);
    for w in &profile.warnings {
        crate::print_stderr(&paint(Tone::Warn, &format!("warning: {w}")));
    }
    let mut plan = Plan::new(profile, flush, cwd.to_path_buf())?;
    plan.verify = args.verify;
    if plan.verify && !plan.profile.workload.topics.is_empty() {
        return Err(crate::error::ConfigError::flag(
            "--verify",
            "--verify reads back one topic; this run has several (workload.topics / --topics)",
            "drop --verify, or run one topic (drop --topics / [[workload.topics]])",
        )
        .key("workload.topics")
        .into());
    }
    if let Some(id) = instance {
        plan.set_instance(id.index, id.count)?;
    }
    let m = &args.metrics;
    let metrics_flags = crate::metrics::MetricsFlags {
        addr: m.metrics_addr.as_deref(),
        allow_remote: m.metrics_allow_remote,
        linger: m.metrics_linger.as_deref(),
    };
    let mut metrics = crate::metrics::Metrics::start(&metrics_flags, &plan)?;
    let flags = engine::new_flags();
    let mut breach = breach_watch(args, &plan)?;
    let mut no_breach = engine::Silent;
    let breach_obs: &mut dyn Observer = match &mut breach {
        Some(w) => w,
        None => &mut no_breach,
    };
    let mut default_obs;
    let obs: &mut dyn Observer = match observer {
        Some(o) => o,
        None => {
            default_obs = Progress::new(&plan, args.output.quiet);
            &mut default_obs
        }
    };
    let label = super::run_name::label(args, &plan.profile);
    let label = &match instance {
        Some(id) => format!("{label}-{}", id.label()),
        None => label.to_string(),
    };
    // Creates the run directory just before t0 and appends intervals.csv as seconds end.
    let mut live = report::LiveWriter::new(
        &out_root,
        label,
        plan.profile.workload.warmup,
        &plan.profile.faults,
        plan.profile.workload.send_mode == crate::profile::SendMode::FireAndForget,
    )
    .with_stages(
        &plan.profile.workload.stages,
        plan.profile.workload.duration,
    );
    // The start gate goes first: the run directory is created once the wait is over.
    let mut inner = engine::Both(&mut live, obs);
    let mut observers = engine::Both(&mut inner, &mut metrics);
    let mut watched = engine::Both(&mut observers, breach_obs);
    let outcome = engine::run(&plan, flags, &mut engine::Both(&mut gate, &mut watched))?;
    let mut report = report::build::build(&plan, &outcome);
    report.warnings.append(&mut gate.warnings);
    report.name = super::run_name::name(args);
    report.command_line = Some(super::run_name::command_line());
    let dir = match live.dir() {
        Some(d) => d.to_path_buf(),
        None => report::create_run_dir(&out_root, outcome.started_at, label)?,
    };
    write_results(&out_root, &dir, &plan, &outcome, &report)?;
    metrics.finish(&report);
    metrics.linger();
    Ok(BenchOutcome { report, dir })
}

/// The thresholds of a run: a profile's `[check] thresholds` (checked when it loaded),
/// then the command line's `--threshold`s, which add to them (an expression given twice
/// counts once).
pub fn thresholds(profile: &[String], flags: &[String]) -> Result<Vec<Threshold>, KprodError> {
    let mut out: Vec<Threshold> = Vec::new();
    let sourced = profile.iter().map(|e| (e, "[check] thresholds"));
    for (e, source) in sourced.chain(flags.iter().map(|e| (e, "--threshold"))) {
        let t = Threshold::parse(e, source)?;
        if !out.iter().any(|o| o.expr == t.expr) {
            out.push(t);
        }
    }
    Ok(out)
}

/// `--abort-on-breach K`: the watcher over the run's thresholds, or None without the flag.
/// Refused when no threshold can be judged per second: the flag would silently do nothing.
fn breach_watch(args: &BenchArgs, plan: &Plan) -> Result<Option<BreachWatch>, KprodError> {
    let Some(k) = args.verdict.abort_on_breach else {
        return Ok(None);
    };
    let slos = thresholds(&plan.profile.check.thresholds, &args.verdict.thresholds)?;
    match BreachWatch::new(&slos, k, plan.target_rate(), plan.profile.workload.warmup) {
        Some(w) => Ok(Some(w)),
        None => Err(KprodError::flag(
            "--abort-on-breach",
            "no threshold to watch: it needs a --threshold such as 'p99<=20ms' \
             ('throughput>=N%' only with a target rate)",
            "add --threshold 'p99<=20ms' (or another), or drop --abort-on-breach",
        )),
    }
}

/// The run directory's files: report, interval log, totals for `kprod merge`, charts.
fn write_results(
    out_root: &Path,
    dir: &Path,
    plan: &Plan,
    outcome: &engine::RunOutcome,
    report: &RunReport,
) -> Result<(), KprodError> {
    let hlog: Vec<IntervalHistogram> = outcome
        .measurements
        .intervals
        .iter()
        .map(|i| IntervalHistogram {
            start_s: i.idx as f64,
            duration_s: 1.0,
            hist: i.histogram(),
        })
        .collect();
    report::write_run(
        out_root,
        dir,
        report,
        &hlog,
        &outcome.measurements.totals.corrected,
    )?;
    if let Some(e2e) = report::consumers::e2e_interval_histograms(outcome) {
        report::write_e2e_hlog(dir, report, &e2e)?;
    }
    // Whole-run histograms and rate parts, for `kprod merge`.
    report::write_outcome_totals(dir, outcome, plan)?;
    crate::charts::write_run_charts_or_warn(dir, report);
    Ok(())
}

/// Appends `--fault` specs to the profile's `[[fault]]` list and checks them all.
fn add_faults(profile: &mut Profile, specs: &[String]) -> Result<(), KprodError> {
    let at = Location::flag("--fault");
    for s in specs {
        profile.faults.push(crate::faults::parse(s, &at)?);
    }
    Ok(profile::check_faults(profile)?)
}

/// Exit code of a run `--abort-on-breach` stopped.
pub const EXIT_ABORTED: i32 = 6;

/// Exit code of a finished run: 0 complete, 130 interrupted, 1 failed or empty (nothing
/// measured is never a pass), 6 aborted (`--abort-on-breach`), 4 when `--verify`
/// found acknowledged records missing although the profile promises no loss (acks=all).
pub fn exit_code(r: &RunReport) -> i32 {
    match r.status {
        Status::Complete if lost_despite_acks_all(r) => 4,
        Status::Complete => 0,
        Status::Interrupted => 130,
        Status::Failed | Status::Empty => 1,
        Status::Aborted => EXIT_ABORTED,
    }
}

/// The last line of a run that measured nothing, failed or was aborted: the status and its reason, in
/// red on a terminal, so a scrolled-away table cannot hide that the numbers mean nothing.
pub fn status_line(r: &RunReport) -> Option<String> {
    let what = match r.status {
        Status::Failed => "FAILED",
        Status::Empty => "EMPTY",
        Status::Aborted => "ABORTED",
        Status::Complete | Status::Interrupted => return None,
    };
    let why = r.status_reason.as_deref().unwrap_or("no reason recorded");
    Some(format!("run {what}: {why}"))
}

/// Prints [`status_line`] on stderr, red where stderr takes colour.
pub fn print_status_line(r: &RunReport) {
    if let Some(line) = status_line(r) {
        crate::print_stderr(&paint(Tone::Bad, &line));
    }
}

/// Prints a finished run on stdout: with `details`, the full table (and every threshold
/// line, which the summary may have to count instead of listing) first; then the compact
/// summary, so the headline is what stays on screen. Under `--json` all of it goes to
/// stderr, so stdout holds only the result file.
pub fn print_run(r: &RunReport, details: bool, json: bool, extras: &SummaryExtras) {
    if details {
        let mut full = report::summary_table(r);
        for v in &extras.verdicts {
            full.push_str(&format!("threshold {} → {}\n", v.text, v.verdict.label()));
        }
        full.push('\n');
        super::json_out::say(json, &full);
    }
    let extras = SummaryExtras {
        below_details: details,
        ..extras.clone()
    };
    super::json_out::say(json, &report::compact_summary(r, &extras));
}

/// `--details` in `compare`, `sweep` and `check`: each run's full table and summary as it
/// finishes, before the command's own table.
pub fn print_run_details(output: &crate::cli::OutputArgs, o: &BenchOutcome) {
    if output.details {
        let extras = SummaryExtras {
            verdicts: Vec::new(),
            results: Some(format!("results: {}", o.dir.display())),
            ..Default::default()
        };
        print_run(&o.report, true, output.json, &extras);
        // A blank line before the next run's table or the command's own.
        super::json_out::say(output.json, "");
    }
}

fn lost_despite_acks_all(r: &RunReport) -> bool {
    let acks_all = matches!(
        r.config.librdkafka.get("acks").map(String::as_str),
        Some("all" | "-1")
    );
    acks_all && r.verify.as_ref().is_some_and(|v| v.lost > 0)
}
