//! `kprod merge DIR...`: the run directories of one distributed run (`--instance I/N`) into
//! one run directory of the same schema: `report.json`, `intervals.csv`, `latency.hlog`,
//! `latency.hgrm`, `totals.json` and the charts, plus a `runs.csv` row.
//!
//! It reads only the files of the run directories (`report.json`, `totals.json`,
//! `latency.hlog`); `merge_check` decides what is refused and `report::merge` assembles
//! the merged run. Runs that differ in profile or
//! workload, or a set of instances with one missing or repeated, are refused (exit 2,
//! naming the field) unless `--force`, which turns each difference into a warning.

use super::merge_check::differences;
use crate::cli::MergeArgs;
use crate::error::{ConfigError, KprodError};
use crate::report::merge::{MergeInput, Merged};
use crate::report::{self, RunReport, REPORT_FILE};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// A written merge: its report and directory.
pub struct MergeOutcome {
    pub report: RunReport,
    pub dir: PathBuf,
}

pub fn run(args: &MergeArgs, cwd: &Path) -> Result<i32, KprodError> {
    let o = execute(args, cwd)?;
    let extras = report::SummaryExtras {
        verdicts: Vec::new(),
        results: Some(format!("merged: {}", o.dir.display())),
        ..Default::default()
    };
    super::bench::print_run(&o.report, args.details, false, &extras);
    Ok(0)
}

fn input_error(source: &Path, message: String, fix: &str) -> KprodError {
    KprodError::flag(&source.display().to_string(), message, fix)
}

/// Each argument is a run directory, or a directory whose subdirectories are (the `--out`
/// root of one distributed run, where a shell glob is not at hand, e.g. in a container).
fn run_dirs(args: &[PathBuf], cwd: &Path) -> Result<Vec<PathBuf>, KprodError> {
    let mut dirs = Vec::new();
    for a in args {
        let d = cwd.join(a);
        if d.join(REPORT_FILE).is_file() {
            dirs.push(d);
            continue;
        }
        let entries = std::fs::read_dir(&d).map_err(|e| {
            input_error(
                &d,
                format!("cannot read it: {e}"),
                "give run directories written by kprod bench",
            )
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join(REPORT_FILE).is_file())
            .collect();
        if found.is_empty() {
            return Err(input_error(
                &d,
                "neither a run directory (no report.json) nor a directory of run directories"
                    .into(),
                "give run directories written by kprod bench",
            ));
        }
        found.sort();
        dirs.extend(found);
    }
    Ok(dirs)
}

fn load(dir: PathBuf) -> Result<MergeInput, KprodError> {
    let bad = |e: report::ReportError| {
        input_error(
            &dir,
            e.to_string(),
            "merge run directories written by `kprod bench` (a kprod that writes totals.json)",
        )
    };
    let report = report::load_report(&dir).map_err(bad)?;
    report::usable(&report, &dir)?;
    let totals = report::read_totals(&dir).map_err(bad)?;
    let hists = totals.histograms.decode().map_err(|m| {
        bad(report::ReportError::Invalid {
            path: dir.join(report::TOTALS_FILE),
            message: m,
        })
    })?;
    let (_, intervals) = report::read_hlog_file(&dir.join(report::HLOG_FILE)).map_err(bad)?;
    // Only runs with consumers have one (and only since kprod wrote it).
    let e2e_path = dir.join(report::E2E_HLOG_FILE);
    let e2e_intervals = match e2e_path.is_file() {
        true => Some(report::read_hlog_file(&e2e_path).map_err(bad)?.1),
        false => None,
    };
    Ok(MergeInput {
        dir,
        report,
        totals,
        hists,
        intervals,
        e2e_intervals,
    })
}

/// Merge and write; the merged run directory is new, under `--out`.
pub fn execute(args: &MergeArgs, cwd: &Path) -> Result<MergeOutcome, KprodError> {
    let mut inputs = run_dirs(&args.dirs, cwd)?
        .into_iter()
        .map(load)
        .collect::<Result<Vec<_>, _>>()?;
    // Instance order, so the merged report's first-run fields are instance 0's.
    inputs.sort_by(|a, b| {
        (a.report.instance.is_none(), a.report.instance, &a.dir).cmp(&(
            b.report.instance.is_none(),
            b.report.instance,
            &b.dir,
        ))
    });
    let problems = differences(&inputs);
    if let Some((field, _)) = problems.first().filter(|_| !args.force) {
        let list: Vec<String> = problems.iter().map(|(_, m)| format!("  - {m}")).collect();
        return Err(ConfigError::new(format!(
            "these runs are not the instances of one distributed run:\n{}",
            list.join("\n")
        ))
        .key(field.clone())
        .fix("merge the instances of one run (same profile and workload, each instance once), or pass --force")
        .into());
    }
    let forced: Vec<String> = problems
        .into_iter()
        .map(|(_, m)| format!("merged with --force although {m}"))
        .collect();
    let Merged {
        mut report,
        hlog,
        e2e_hlog,
        totals,
    } = report::merge::merge(&inputs, forced)?;
    report.command_line = Some(super::run_name::command_line());

    let out_root = cwd.join(&args.out);
    let label = format!(
        "{}-merged-{}",
        if report.profile.is_empty() {
            "base".to_string()
        } else {
            report.profile.join("+")
        },
        inputs.len()
    );
    let t0 = UNIX_EPOCH + Duration::from_micros(totals.t0_unix_us);
    let dir = report::create_run_dir(&out_root, t0, &label)?;
    let hists = totals
        .histograms
        .decode()
        .map_err(|m| KprodError::Results {
            path: dir.clone(),
            message: m,
        })?;
    report::write_run(&out_root, &dir, &report, &hlog, &hists.corrected)?;
    if let Some(e2e) = &e2e_hlog {
        report::write_e2e_hlog(&dir, &report, e2e)?;
    }
    report::write_totals(&dir, &totals)?;
    // The charts of a merged run are those of any run (`charts::write_run_charts`).
    crate::charts::write_run_charts_or_warn(&dir, &report);
    Ok(MergeOutcome { report, dir })
}
