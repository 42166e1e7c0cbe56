//! `kprod report DIR`: re-renders a saved result directory without running anything.
//! A bench run directory gets its summary (and with `--details` the full table), `intervals.csv` and charts back; a compare
//! directory its table, `compare.csv` and charts; a sweep directory its table, `sweep.csv`
//! and `sweep.svg`; a check directory its verdict table; a baseline set (`bench --repeat N`)
//! its runs and recorded threshold rows; a tune directory its table, `tune.csv` and
//! `frontier.svg`. Every kind gets its `report.html`
//! rewritten (`--html` prints its path instead of the table). The JSON files are the
//! source and are never rewritten.

use super::{bench_set, check, compare, sweep, tune};
use crate::cli::ReportArgs;
use crate::error::{ConfigError, KprodError, Location};
use crate::report::{self, INTERVALS_CSV_FILE, REPORT_FILE};
use std::path::Path;

/// What kind of result directory `dir` is, by the file that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bench,
    Compare,
    Sweep,
    Check,
    /// A baseline set (`bench --repeat N`): `set.json` and its runs' directories.
    Set,
    Tune,
}

pub fn kind_of(dir: &Path) -> Option<Kind> {
    if dir.join(sweep::SWEEP_JSON).is_file() {
        Some(Kind::Sweep)
    } else if dir.join(compare::COMPARE_JSON).is_file() {
        Some(Kind::Compare)
    } else if dir.join(check::CHECK_JSON).is_file() {
        Some(Kind::Check)
    } else if dir.join(tune::TUNE_JSON).is_file() {
        Some(Kind::Tune)
    } else if dir.join(check::runs::SET_FILE).is_file() {
        Some(Kind::Set)
    } else if dir.join(REPORT_FILE).is_file() {
        Some(Kind::Bench)
    } else {
        None
    }
}

/// Re-renders `dir`; returns the table to print.
pub fn execute(args: &ReportArgs, cwd: &Path) -> Result<String, KprodError> {
    let dir = cwd.join(&args.dir);
    match kind_of(&dir) {
        Some(Kind::Sweep) => sweep::rerender(&dir),
        Some(Kind::Compare) => compare::rerender(&dir),
        Some(Kind::Set) => bench_set::rerender(&dir),
        Some(Kind::Tune) => tune::rerender(&dir),
        Some(Kind::Check) => {
            let v = check::load(&dir)?;
            let page = check::html_page(&v, &check::current_runs(&dir));
            crate::charts::write_html(&dir, &page)?;
            Ok(check::verdict_table(&v))
        }
        Some(Kind::Bench) => {
            // A truncated or foreign report.json is bad input (exit 2), as for check and merge.
            let r = report::load_report(&dir).map_err(|e| {
                ConfigError::new(e.to_string())
                    .at(Location {
                        source: "report DIR".into(),
                        ..Default::default()
                    })
                    .fix("give a run directory written by this kprod (kprod bench)")
            })?;
            let path = dir.join(INTERVALS_CSV_FILE);
            let csv = report::intervals_csv(&r, &report::run_id(&dir)).map_err(|message| {
                KprodError::Results {
                    path: path.clone(),
                    message,
                }
            })?;
            report::write_atomic(&path, &csv)?;
            crate::charts::write_run_charts(&dir, &r)?;
            // Styled: `run` prints it through the console, which strips what it must.
            let mut out = match args.details {
                true => report::summary_table(&r) + "\n",
                false => String::new(),
            };
            let extras = report::SummaryExtras {
                verdicts: Vec::new(),
                results: Some(format!("results: {}", dir.display())),
                below_details: args.details,
            };
            out.push_str(&report::compact_summary(&r, &extras));
            Ok(out)
        }
        None => Err(ConfigError::new(if !dir.exists() {
            format!("{}: no such directory", dir.display())
        } else if !dir.is_dir() {
            format!("{} is a file, not a directory", dir.display())
        } else {
            format!(
                "{} holds no report.json, compare.json, sweep.json, check.json, set.json or tune.json",
                dir.display()
            )
        })
        .at(Location::flag("report DIR"))
        .fix("give a directory written by kprod bench (or bench --repeat N), compare, sweep, check or tune (under results/)")
        .into()),
    }
}

/// `kprod report` for the command line.
pub fn run(args: &ReportArgs, cwd: &Path) -> Result<i32, KprodError> {
    let table = execute(args, cwd)?;
    if args.html {
        let page = cwd.join(&args.dir).join(crate::charts::REPORT_HTML);
        crate::print_stdout(&page.display().to_string());
    } else {
        crate::print_stdout(&table);
    }
    Ok(0)
}
