//! `kprod merge DIR...`: the run directories of one distributed run (`--instance I/N`) into
//! one run directory of the same schema: `report.json`, `intervals.csv`, `latency.hlog`,
//! `latency.hgrm`, `totals.json` and the charts, plus a `runs.csv` row.
//!
//! It reads only the files of the run directories (`report.json`, `totals.json`,
//! `latency.hlog`); `merge_check` decides what is refused, `merge_build` does the arithmetic. Runs that differ in profile or
//! workload, or a set of instances with one missing or repeated, are refused (exit 2,
//! naming the field) unless `--force`, which turns each difference into a warning.

use super::merge_build::{self as build, RunFigures, RunIntervals};
use super::merge_check::differences;
use crate::cli::MergeArgs;
use crate::error::{ConfigError, KprodError, Location};
use crate::report::{
    self, ErrorInfo, FaultRecord, Histograms, IntervalHistogram, Records, RunReport, RunTotals,
    Status, REPORT_FILE,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// A written merge: its report and directory.
pub struct MergeOutcome {
    pub report: RunReport,
    pub dir: PathBuf,
}

/// One input run, read back from its directory.
pub(super) struct Input {
    pub(super) dir: PathBuf,
    pub(super) report: RunReport,
    totals: RunTotals,
    hists: Histograms,
    intervals: Vec<IntervalHistogram>,
}

impl Input {
    pub(super) fn name(&self) -> String {
        match (self.report.instance, self.report.instances) {
            (Some(i), Some(n)) => format!("instance {i}/{n} ({})", self.dir.display()),
            _ => self.dir.display().to_string(),
        }
    }
}

pub fn run(args: &MergeArgs, cwd: &Path) -> Result<i32, KprodError> {
    let o = execute(args, cwd)?;
    crate::print_stdout(&report::summary_table(&o.report));
    crate::print_stdout(&format!("merged: {}\n", o.dir.display()));
    Ok(0)
}

fn input_error(source: &Path, message: String, fix: &str) -> KprodError {
    ConfigError::new(message)
        .at(Location {
            source: source.display().to_string(),
            ..Default::default()
        })
        .fix(fix)
        .into()
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

fn load(dir: PathBuf) -> Result<Input, KprodError> {
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
    Ok(Input {
        dir,
        report,
        totals,
        hists,
        intervals,
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
    let (report, hlog, totals) = merge(&inputs, forced)?;

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
    report::write_totals(&dir, &totals)?;
    // The charts of a merged run are those of any run (`charts::write_run_charts`).
    crate::charts::write_run_charts_or_warn(&dir, &report);
    Ok(MergeOutcome { report, dir })
}

/// The merged report, its interval log and its totals.
fn merge(
    inputs: &[Input],
    forced: Vec<String>,
) -> Result<(RunReport, Vec<IntervalHistogram>, RunTotals), KprodError> {
    let err = |m: String| KprodError::Results {
        path: inputs.first().map_or_else(PathBuf::new, |i| i.dir.clone()),
        message: m,
    };
    let first = &inputs
        .first()
        .ok_or_else(|| err("nothing to merge".into()))?
        .report;
    let t0_us = inputs
        .iter()
        .map(|i| i.totals.t0_unix_us)
        .min()
        .unwrap_or(0);
    let offset_us = |i: &Input| i.totals.t0_unix_us - t0_us;
    let offset_s = |i: &Input| offset_us(i) as f64 / 1e6;
    let reports: Vec<&RunReport> = inputs.iter().map(|i| &i.report).collect();

    let runs: Vec<RunIntervals<'_>> = inputs
        .iter()
        .map(|i| RunIntervals {
            name: i.name(),
            offset_us: offset_us(i),
            rows: &i.report.intervals,
            hists: &i.intervals,
        })
        .collect();
    let (intervals, hlog) = build::align_intervals(&runs, t0_us / 1000).map_err(err)?;
    let hists = build::histograms(&inputs.iter().map(|i| i.hists.clone()).collect::<Vec<_>>())
        .map_err(err)?;
    let figures: Vec<RunFigures<'_>> = inputs
        .iter()
        .map(|i| RunFigures {
            report: &i.report,
            totals: &i.totals,
            offset_s: offset_s(i),
        })
        .collect();
    let (throughput, rate_parts) = build::throughput(&figures, target(inputs, &reports));
    let (stats, weights) = build::stats(&figures);

    let sum = |f: fn(&Records) -> u64| reports.iter().map(|r| f(&r.records)).sum::<u64>();
    let counts = |f: fn(&Records) -> &report::Counts| report::Counts {
        sent: reports.iter().map(|r| f(&r.records).sent).sum(),
        delivered: reports.iter().map(|r| f(&r.records).delivered).sum(),
        failed: reports.iter().map(|r| f(&r.records).failed).sum(),
        unknown: reports.iter().map(|r| f(&r.records).unknown).sum(),
    };
    let (measured, warmup) = (counts(|r| &r.measured), counts(|r| &r.warmup));
    let (sent, delivered, failed, unknown) = (
        sum(|r| r.sent),
        sum(|r| r.delivered),
        sum(|r| r.failed),
        sum(|r| r.unknown),
    );
    let records = Records {
        sent,
        delivered,
        failed,
        unknown,
        identity_holds: reports.iter().all(|r| r.records.identity_holds)
            && sent == delivered + failed + unknown
            && measured.identity_holds()
            && warmup.identity_holds(),
        delivered_inferred: reports.iter().any(|r| r.records.delivered_inferred),
        behind_schedule: sum(|r| r.behind_schedule),
        measured,
        warmup,
    };

    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut error_details: BTreeMap<String, ErrorInfo> = BTreeMap::new();
    for r in &reports {
        for (k, n) in &r.errors {
            *errors.entry(k.clone()).or_default() += n;
        }
        for (k, d) in &r.error_details {
            error_details
                .entry(k.clone())
                .and_modify(|e| e.count += d.count)
                .or_insert_with(|| d.clone());
        }
    }

    let status = if reports.iter().any(|r| r.status == Status::Failed) {
        Status::Failed
    } else if reports.iter().any(|r| r.status == Status::Interrupted) {
        Status::Interrupted
    } else {
        Status::Complete
    };
    let reasons: Vec<String> = inputs
        .iter()
        .filter_map(|i| {
            i.report
                .status_reason
                .as_ref()
                .map(|s| format!("{}: {s}", i.name()))
        })
        .collect();

    let mut measurement = first.measurement.clone();
    measurement.histogram = format!(
        "{}; merged across {} instances (kprod merge)",
        measurement.histogram,
        inputs.len()
    );
    let merge_note = format!(
        "merged from {} runs: counts are sums, latency comes from the sum of their HDR \
         histograms, rates use the wall-clock window from the earliest start to the latest \
         end, and seconds are aligned on wall-clock time (each instance's second goes to \
         the nearest merged second)",
        inputs.len()
    );
    measurement.note = Some(match measurement.note.take() {
        Some(n) => format!("{n}; {merge_note}"),
        None => merge_note,
    });

    let mut hosts: Vec<&str> = reports
        .iter()
        .map(|r| r.environment.host.as_str())
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    let mut environment = first.environment.clone();
    environment.host = hosts.join(",");
    environment.cpus = reports.iter().map(|r| r.environment.cpus).sum();

    let total_hist = hists.encode().map_err(err)?;
    let commit = (!hists.commit.is_empty()).then(|| report::percentiles(&hists.commit));
    let transactions = first.transactions.as_ref().map(|t| report::Transactions {
        committed: reports
            .iter()
            .filter_map(|r| r.transactions.as_ref())
            .map(|t| t.committed)
            .sum(),
        aborted: reports
            .iter()
            .filter_map(|r| r.transactions.as_ref())
            .map(|t| t.aborted)
            .sum(),
        records_per_transaction: t.records_per_transaction,
    });
    let faults = inputs
        .iter()
        .flat_map(|i| {
            let off = offset_s(i);
            i.report.faults.iter().map(move |f| FaultRecord {
                applied_s: f.applied_s.map(|s| s + off),
                ended_s: f.ended_s.map(|s| s + off),
                ..f.clone()
            })
        })
        .collect();
    let verify = build::verify(&reports);
    let mut warnings = forced;
    if verify.is_none() && reports.iter().any(|r| r.verify.is_some()) {
        warnings
            .push("only some runs used --verify; the merged report has no verify section".into());
    }
    warnings.extend(run_warnings(inputs));

    let report = RunReport {
        schema_version: report::SCHEMA_VERSION,
        status,
        status_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        profile: first.profile.clone(),
        description: first.description.clone(),
        cluster: first.cluster.clone(),
        cluster_note: first.cluster_note.clone(),
        topic: first.topic.clone(),
        partitions: first.partitions,
        producers: reports.iter().map(|r| r.producers).sum(),
        send_mode: first.send_mode.clone(),
        instance: None,
        instances: Some(first.instances.unwrap_or(inputs.len() as u32)),
        started_at: report::format_rfc3339_utc(UNIX_EPOCH + Duration::from_micros(t0_us)),
        duration_s: inputs
            .iter()
            .map(|i| offset_s(i) + i.report.duration_s)
            .fold(0.0, f64::max),
        measurement,
        records,
        throughput,
        latency_us: report::Latency {
            corrected: report::percentiles(&hists.corrected),
            uncorrected: report::percentiles(&hists.uncorrected),
            schedule_lag: report::percentiles(&hists.schedule_lag),
            commit,
        },
        errors,
        error_details,
        compression_ratio: build::compression_ratio(&stats),
        librdkafka_stats: stats,
        transactions,
        config: first.config.clone(),
        environment,
        warnings,
        intervals,
        faults,
        verify,
    };
    let totals = RunTotals {
        schema_version: report::TOTALS_VERSION,
        t0_unix_us: t0_us,
        throughput: rate_parts,
        stats: weights,
        histograms: total_hist,
    };
    Ok((report, hlog, totals))
}

/// Target rate of the whole run: the profile's own figure when the runs are exactly the
/// instances of one profile (adding N shares of r/N could miss r by a rounding step),
/// else the sum of the runs' targets; None if any run was unlimited.
fn target(inputs: &[Input], reports: &[&RunReport]) -> Option<f64> {
    let targets: Option<Vec<f64>> = reports
        .iter()
        .map(|r| r.throughput.target_records_per_sec)
        .collect();
    let sum: f64 = targets?.iter().sum();
    let one_run = differences(inputs).is_empty() && reports.len() > 1;
    let profile_rate = reports
        .first()
        .and_then(|r| r.config.profile.pointer("/workload/rate/per_sec"))
        .and_then(Value::as_f64);
    Some(match (one_run, profile_rate) {
        (true, Some(r)) => r,
        _ => sum,
    })
}

/// Warnings of the runs: those every run has once, the others prefixed with their run.
fn run_warnings(inputs: &[Input]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in inputs {
        for w in &i.report.warnings {
            let everywhere = inputs.iter().all(|j| j.report.warnings.contains(w));
            let line = if everywhere {
                w.clone()
            } else {
                format!("{}: {w}", i.name())
            };
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}
