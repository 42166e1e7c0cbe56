//! `kprod bench` as the command line runs it: one run, or `--repeat N` runs saved as a
//! baseline set (`<ts>-<name>-set/` with the runs and `set.json`, usable as
//! `check --baseline`), with `--threshold`s judged on the result.

use super::bench;
use super::check::{self, runs, Row};
use crate::cli::{BenchArgs, VerdictArgs};
use crate::error::KprodError;
use crate::report::{self, RunReport, Status, SummaryExtras, VerdictLine};
use crate::verdict::{overall, Bootstrap, InconclusivePolicy, Threshold};
use std::path::Path;
use std::time::SystemTime;

fn set_label(args: &BenchArgs) -> String {
    let name = check::profile_stems(&args.profile.profiles);
    format!("{}-set", if name.is_empty() { "run" } else { &name })
}

fn verdict_line(r: &Row) -> VerdictLine {
    VerdictLine {
        text: format!(
            "{}: {} {} (interval {})",
            // The summary's label column already says "threshold".
            r.name.strip_prefix("threshold ").unwrap_or(&r.name),
            r.current,
            r.baseline,
            r.change
        ),
        verdict: r.verdict,
    }
}

/// Runs `kprod bench`; returns the exit code: the run's own code when it is not 0, else
/// the thresholds' verdict (0 pass, 1 fail, 5 inconclusive).
pub fn run(args: &BenchArgs, cwd: &Path) -> Result<i32, KprodError> {
    let profile = bench::resolve(&args.profile, cwd)?;
    let slos: Vec<Threshold> =
        bench::thresholds(&profile.check.thresholds, &args.verdict.thresholds)?;
    let n = args.verdict.repeat.unwrap_or(1);
    let mut reports: Vec<RunReport> = Vec::new();
    let results = if n == 1 {
        let o = bench::execute(args, cwd, None)?;
        reports.push(o.report);
        format!("results: {}", o.dir.display())
    } else {
        let root = bench::results_root(&args.output.out, cwd)?;
        let set = report::create_run_dir(&root, SystemTime::now(), &set_label(args))?;
        let mut one = args.clone();
        one.output.out = set.clone();
        let mut dirs = Vec::new();
        for k in 1..=n {
            if !args.output.quiet {
                crate::print_stderr(&format!("bench: run {k}/{n}"));
            }
            let o = bench::execute(&one, cwd, None)?;
            // An aborted run already decided the exit code: more runs would not change it.
            let stop = matches!(o.report.status, Status::Interrupted | Status::Aborted);
            // The last run's status line follows its summary below.
            if k < n && !stop {
                bench::print_status_line(&o.report);
            }
            dirs.push(o.dir);
            reports.push(o.report);
            if stop {
                break;
            }
        }
        runs::write_set(&set, &args.profile.profiles, &dirs)?;
        format!("baseline set ({} runs): {}", dirs.len(), set.display())
    };
    let code = reports
        .iter()
        .map(bench::exit_code)
        .find(|c| *c != 0)
        .unwrap_or(0);
    let rows = match slos.is_empty() || code != 0 {
        true => Vec::new(),
        false => check::threshold_rows(&reports, &slos, &Bootstrap::default())?,
    };
    if let Some(last) = reports.last() {
        let extras = SummaryExtras {
            verdicts: rows.iter().map(verdict_line).collect(),
            results: Some(results),
            ..Default::default()
        };
        bench::print_run(last, args.output.details, &extras);
        // Last on stderr too: a failed run's reason must not hide above the summary.
        bench::print_status_line(last);
    }
    if rows.is_empty() {
        return Ok(code);
    }
    Ok(args
        .verdict
        .inconclusive
        .exit_code(overall(rows.iter().map(|r| &r.verdict))))
}

/// Refuses the verdict flags among `which` that `command` would otherwise take through
/// `BenchArgs` and silently ignore (exit 2, naming the flag). `--inconclusive` counts as
/// given when it differs from its default.
pub fn refuse_verdict_flags(
    v: &VerdictArgs,
    command: &str,
    which: &[&str],
    fix: &str,
) -> Result<(), KprodError> {
    let given = |flag: &str| match flag {
        "--repeat" => v.repeat.is_some(),
        "--threshold" => !v.thresholds.is_empty(),
        "--inconclusive" => v.inconclusive != InconclusivePolicy::default(),
        "--abort-on-breach" => v.abort_on_breach.is_some(),
        _ => false,
    };
    match which.iter().find(|f| given(f)) {
        Some(flag) => Err(KprodError::flag(
            flag,
            format!("{flag} does not apply to {command}"),
            fix,
        )),
        None => Ok(()),
    }
}
