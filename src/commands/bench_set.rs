//! `kprod bench` as the command line runs it: one run, or `--repeat N` runs saved as a
//! baseline set (`<ts>-<name>-set/` with the runs and `set.json`, usable as
//! `check --baseline`), with `--threshold`s judged on the result.

use super::bench;
use super::check::{self, runs, Row};
use super::json_out;
use crate::cli::BenchArgs;
use crate::error::KprodError;
use crate::report::{self, RunReport, Status, SummaryExtras, VerdictLine};
use crate::verdict::{overall, Bootstrap, Threshold};
use std::path::Path;
use std::time::SystemTime;

fn set_label(args: &BenchArgs) -> String {
    let name = check::profile_stems(&args.profile.profiles);
    let base = format!("{}-set", if name.is_empty() { "run" } else { &name });
    super::run_name::named(&base, args.output.name.as_deref())
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
    let json = args.output.json;
    let mut reports: Vec<RunReport> = Vec::new();
    let (results, json_file) = if n == 1 {
        let o = bench::execute(args, cwd, None)?;
        reports.push(o.report);
        (
            format!("results: {}", o.dir.display()),
            o.dir.join(report::REPORT_FILE),
        )
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
        (
            format!("baseline set ({} runs): {}", dirs.len(), set.display()),
            set.join(runs::SET_FILE),
        )
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
        bench::print_run(last, args.output.details, json, &extras);
        // Last on stderr too: a failed run's reason must not hide above the summary.
        bench::print_status_line(last);
    }
    json_out::print_file(json, &json_file)?;
    if rows.is_empty() {
        return Ok(code);
    }
    Ok(args
        .verdict
        .inconclusive
        .exit_code(overall(rows.iter().map(|r| &r.verdict))))
}
