//! `kprod bench` as the command line runs it: one run, or `--repeat N` runs saved as a
//! baseline set (`<ts>-<name>-set/` with the runs and `set.json`, usable as
//! `check --baseline`), with `--threshold`s judged on the result. The set gets its own
//! `report.html` (every run with a link to its page, median and spread per figure, the
//! threshold rows); a single run with thresholds gets the rows on its page.

use super::bench;
use super::check::{self, runs, Row};
use super::json_out;
use crate::charts::html::{
    rate_text, run_details, shell_words, status_tone, status_word, Cell, Fact, Page, Tone,
};
use crate::cli::BenchArgs;
use crate::error::{ConfigError, KprodError, Location};
use crate::report::{self, fmt_latency_us, RunReport, Status, SummaryExtras, VerdictLine};
use crate::verdict::{overall, Bootstrap, Threshold, Verdict};
use std::path::{Path, PathBuf};
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
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut set_dir: Option<PathBuf> = None;
    let (results, json_file) = if n == 1 {
        let o = bench::execute(args, cwd, None)?;
        reports.push(o.report);
        dirs.push(o.dir.clone());
        (
            format!("results: {}", o.dir.display()),
            o.dir.join(report::REPORT_FILE),
        )
    } else {
        let root = bench::results_root(&args.output.out, cwd)?;
        let set = report::create_run_dir(&root, SystemTime::now(), &set_label(args))?;
        let mut one = args.clone();
        one.output.out = set.clone();
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
        let exprs: Vec<String> = slos.iter().map(|t| t.expr.clone()).collect();
        runs::write_set_judged(&set, &args.profile.profiles, &dirs, &exprs)?;
        set_dir = Some(set.clone());
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
    let rows = judge(&reports, &slos)?;
    // The results are written; a page that cannot be drawn is a warning, not a failed run.
    let page = match (&set_dir, dirs.first()) {
        (Some(set), _) => runs::read_set(set)
            .map_err(|m| KprodError::Results {
                path: set.join(runs::SET_FILE),
                message: m,
            })
            .and_then(|s| write_set_page(set, &s, &reports, &rows)),
        (None, Some(dir)) if !rows.is_empty() => {
            crate::charts::write_run_page_with(dir, &reports[0], &|p| {
                p.heading("Thresholds (--threshold)");
                check::verdict_rows_table(p, "thresholds", &rows);
            })
            .map_err(KprodError::from)
        }
        _ => Ok(PathBuf::new()),
    };
    if let Err(e) = page {
        crate::print_stderr(&format!("warning: report.html not written: {e}"));
    }
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

/// The threshold rows of a run or set: none without thresholds, or when a run did not
/// complete (its exit code already decides).
fn judge(reports: &[RunReport], slos: &[Threshold]) -> Result<Vec<Row>, KprodError> {
    let code = reports
        .iter()
        .map(bench::exit_code)
        .find(|c| *c != 0)
        .unwrap_or(0);
    if slos.is_empty() || code != 0 {
        return Ok(Vec::new());
    }
    check::threshold_rows(reports, slos, &Bootstrap::default())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One figure of the set's runs: median, min, max.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(reports: &[RunReport], f: impl Fn(&RunReport) -> f64) -> Spread {
        let v: Vec<f64> = reports.iter().map(f).collect();
        Spread {
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            median: median(v),
        }
    }

    /// max − min as a percentage of the median: the noise a check against the set allows for.
    fn width(&self) -> String {
        if self.median > 0.0 && self.median.is_finite() {
            format!("{:.1}%", 100.0 * (self.max - self.min) / self.median)
        } else {
            "n/a".into()
        }
    }
}

type Figure = (&'static str, fn(&RunReport) -> f64, fn(f64) -> String);

fn lat(v: f64) -> String {
    fmt_latency_us(v.round().max(0.0) as u64)
}

const FIGURES: [Figure; 5] = [
    ("records/s", |r| r.throughput.records_per_sec, rate_text),
    ("p50 corrected", |r| r.latency_us.corrected.p50 as f64, lat),
    ("p99 corrected", |r| r.latency_us.corrected.p99 as f64, lat),
    (
        "p99.9 corrected",
        |r| r.latency_us.corrected.p999 as f64,
        lat,
    ),
    ("max corrected", |r| r.latency_us.corrected.max as f64, lat),
];

/// `report.html` of a baseline set: the verdict (thresholds) or the runs' status first,
/// the median figures, each run with a link to its own page, the median and spread of each
/// figure, the threshold rows, and how the first run ran. `set.runs` are the run
/// directories relative to the set, in the order of `reports`.
pub fn set_page(
    set_dir: &Path,
    set: &runs::BaselineSet,
    reports: &[RunReport],
    rows: &[Row],
) -> String {
    let label = match set.profile.is_empty() {
        true => "base".to_string(),
        false => set.profile.join(" + "),
    };
    let title = match reports.first().and_then(|r| r.name.as_deref()) {
        Some(n) => format!("kprod bench --repeat {}: {n} ({label})", reports.len()),
        None => format!("kprod bench --repeat {}: {label}", reports.len()),
    };
    let mut page = Page::new(
        &title,
        &format!(
            "{} · baseline set of {} runs · created {}",
            set_dir
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            reports.len(),
            set.created_at
        ),
    );
    let complete = reports
        .iter()
        .filter(|r| r.status == Status::Complete)
        .count();
    let (badge, tone) = if !rows.is_empty() {
        let v = overall(rows.iter().map(|r| &r.verdict));
        let tone = match v {
            Verdict::Pass => Tone::Good,
            Verdict::Fail => Tone::Bad,
            Verdict::Inconclusive => Tone::Warn,
        };
        (v.label(), tone)
    } else {
        match reports.iter().find(|r| r.status != Status::Complete) {
            Some(r) => (status_word(r.status), status_tone(r.status)),
            None => (status_word(Status::Complete), Tone::Good),
        }
    };
    let reason = format!(
        "{complete} of {} runs complete{}",
        reports.len(),
        if rows.is_empty() {
            ""
        } else {
            " · thresholds judged on all runs"
        }
    );
    let spreads: Vec<Spread> = FIGURES.iter().map(|f| Spread::of(reports, f.1)).collect();
    let fact = |k: usize, id: &str| {
        let (name, _, fmt) = FIGURES[k];
        let s = &spreads[k];
        Fact::new(&format!("median {name}"), fmt(s.median))
            .id(id)
            .note(format!(
                "{} .. {} (spread {})",
                fmt(s.min),
                fmt(s.max),
                s.width()
            ))
    };
    let facts = [
        fact(0, "records-per-sec"),
        fact(2, "p99"),
        fact(3, "p999"),
        Fact::new("runs", reports.len().to_string())
            .id("runs")
            .note(format!("{complete} complete")),
    ];
    page.headline(badge, tone, &reason, &facts);
    let warnings: Vec<String> = set
        .runs
        .iter()
        .zip(reports)
        .filter(|(_, r)| r.status != Status::Complete)
        .map(|(d, r)| {
            format!(
                "{d}: {}{}",
                status_word(r.status),
                r.status_reason
                    .as_deref()
                    .map_or(String::new(), |w| format!(" ({w})"))
            )
        })
        .collect();
    page.list(&warnings, true);
    if !rows.is_empty() {
        page.heading("Thresholds (--threshold)");
        check::verdict_rows_table(&mut page, "thresholds", rows);
    }
    page.heading("Runs");
    let run_rows: Vec<Vec<Cell>> = set
        .runs
        .iter()
        .zip(reports)
        .enumerate()
        .map(|(k, (d, r))| {
            let c = &r.latency_us.corrected;
            vec![
                (k + 1).to_string().into(),
                Cell::link(d.clone(), &format!("{d}/{}", crate::charts::REPORT_HTML)),
                Cell::toned(status_word(r.status), status_tone(r.status)),
                rate_text(r.throughput.records_per_sec).into(),
                fmt_latency_us(c.p50).into(),
                fmt_latency_us(c.p99).into(),
                fmt_latency_us(c.p999).into(),
                fmt_latency_us(c.max).into(),
            ]
        })
        .collect();
    page.table(
        "runs",
        &[
            "#",
            "run",
            "status",
            "records/s",
            "p50",
            "p99",
            "p99.9",
            "max",
        ],
        &run_rows,
    );
    page.heading("Median and spread (spread = (max − min) / median)");
    let spread_rows: Vec<Vec<Cell>> = FIGURES
        .iter()
        .zip(&spreads)
        .map(|((name, _, fmt), s)| {
            vec![
                (*name).into(),
                fmt(s.median).into(),
                fmt(s.min).into(),
                fmt(s.max).into(),
                s.width().into(),
            ]
        })
        .collect();
    page.table(
        "spread",
        &["figure", "median", "min", "max", "spread"],
        &spread_rows,
    );
    page.code(
        "check-command",
        "judge a change against this set (its spread is the noise floor)",
        &shell_words(&[
            "kprod".into(),
            "check".into(),
            "--baseline".into(),
            set_dir.display().to_string(),
        ]),
    );
    if let (Some(r), Some(d)) = (reports.first(), set.runs.first()) {
        run_details(&mut page, r, &format!("How the runs ran (run 1: {d})"));
    }
    page.finish()
}

fn write_set_page(
    set_dir: &Path,
    set: &runs::BaselineSet,
    reports: &[RunReport],
    rows: &[Row],
) -> Result<PathBuf, KprodError> {
    Ok(crate::charts::write_html(
        set_dir,
        &set_page(set_dir, set, reports, rows),
    )?)
}

/// `kprod report SETDIR`: rewrites the set's `report.html` from `set.json` and the runs'
/// `report.json` (judging the recorded thresholds again: the bootstrap is seeded, so the
/// rows are the same) and returns a short text summary.
pub fn rerender(dir: &Path) -> Result<String, KprodError> {
    let bad = |m: String| -> KprodError {
        ConfigError::new(m)
            .at(Location::flag("report DIR"))
            .fix("give a set directory written by kprod bench --repeat N")
            .into()
    };
    let set = runs::read_set(dir).map_err(bad)?;
    let mut reports = Vec::new();
    for run in &set.runs {
        reports.push(report::load_report(&dir.join(run)).map_err(|e| bad(e.to_string()))?);
    }
    let slos: Vec<Threshold> = set
        .thresholds
        .iter()
        .map(|e| Threshold::parse(e, "set.json thresholds"))
        .collect::<Result<_, _>>()?;
    let rows = judge(&reports, &slos)?;
    write_set_page(dir, &set, &reports, &rows)?;
    let mut out = format!(
        "baseline set of {} runs: {}\n",
        reports.len(),
        dir.display()
    );
    for (d, r) in set.runs.iter().zip(&reports) {
        out.push_str(&format!(
            "  {:<11} {:>14}  p99 {:>10}  {d}\n",
            status_word(r.status),
            rate_text(r.throughput.records_per_sec),
            fmt_latency_us(r.latency_us.corrected.p99),
        ));
    }
    for r in &rows {
        let v = verdict_line(r);
        out.push_str(&format!("threshold {} → {}\n", v.text, v.verdict.label()));
    }
    Ok(out)
}
