//! `report::merge`: several runs of one distributed run (`--instance I/N`), read back from
//! their directories, assembled into one [`RunReport`] with its interval log and totals —
//! the second way a report comes to be, beside `report::build` (engine outcome → report).
//!
//! Which runs may be merged is the command's decision (`commands::merge_check`); this
//! module only does the assembly. The arithmetic of counts, rates, seconds and statistics
//! is in `figures`.

mod consumers;
mod figures;
mod stages;

use super::{
    Counts, ErrorInfo, FaultRecord, Histograms, IntervalHistogram, Measurement, Records,
    ReportError, RunReport, RunTotals, Status,
};
use figures::{RunFigures, RunIntervals};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

/// One input run, read back from its directory (`report.json`, `totals.json`, `latency.hlog`).
pub struct MergeInput {
    pub dir: PathBuf,
    pub report: RunReport,
    pub totals: RunTotals,
    /// `totals.histograms`, decoded.
    pub hists: Histograms,
    pub intervals: Vec<IntervalHistogram>,
    /// `latency-e2e.hlog` (runs with consumers), the same intervals as `intervals`.
    pub e2e_intervals: Option<Vec<IntervalHistogram>>,
}

impl MergeInput {
    /// How errors and warnings name this run.
    pub fn name(&self) -> String {
        match (self.report.instance, self.report.instances) {
            (Some(i), Some(n)) => format!("instance {i}/{n} ({})", self.dir.display()),
            _ => self.dir.display().to_string(),
        }
    }
}

/// A merged run: what `report::write_run` and `report::write_totals` write.
pub struct Merged {
    pub report: RunReport,
    pub hlog: Vec<IntervalHistogram>,
    /// The merged `latency-e2e.hlog`: only when every run had one.
    pub e2e_hlog: Option<Vec<IntervalHistogram>>,
    pub totals: RunTotals,
}

/// Where the runs sit in time: the merged t0 (the earliest) and each run's offset from it.
struct Timeline {
    t0_us: u64,
    offsets_us: Vec<u64>,
}

impl Timeline {
    fn new(inputs: &[MergeInput]) -> Self {
        let t0_us = inputs
            .iter()
            .map(|i| i.totals.t0_unix_us)
            .min()
            .unwrap_or(0);
        let offsets_us = inputs.iter().map(|i| i.totals.t0_unix_us - t0_us).collect();
        Timeline { t0_us, offsets_us }
    }
    fn offset_s(&self, i: usize) -> f64 {
        self.offsets_us[i] as f64 / 1e6
    }
}

/// Merges `inputs` (instance order: the first run's config and versions are kept).
/// `forced` lists the differences merged over with `--force`, as warnings; empty means the
/// runs are exactly the instances of one run, whose profile then gives the target rate.
pub fn merge(inputs: &[MergeInput], forced: Vec<String>) -> Result<Merged, ReportError> {
    let err = |m: String| ReportError::Invalid {
        path: inputs.first().map_or_else(PathBuf::new, |i| i.dir.clone()),
        message: m,
    };
    let first = &inputs
        .first()
        .ok_or_else(|| err("nothing to merge".into()))?
        .report;
    let time = Timeline::new(inputs);
    let reports: Vec<&RunReport> = inputs.iter().map(|i| &i.report).collect();
    let runs: Vec<RunIntervals<'_>> = inputs
        .iter()
        .zip(&time.offsets_us)
        .map(|(i, &offset_us)| RunIntervals {
            name: i.name(),
            offset_us,
            rows: &i.report.intervals,
            hists: &i.intervals,
            e2e: i.e2e_intervals.as_deref(),
        })
        .collect();
    let figures::Aligned {
        rows: intervals,
        hlog,
        e2e_hlog,
    } = figures::align_intervals(&runs, time.t0_us / 1000).map_err(err)?;
    let hists = figures::histograms(&inputs.iter().map(|i| i.hists.clone()).collect::<Vec<_>>())
        .map_err(err)?;
    let one_run = forced.is_empty() && reports.len() > 1;
    let (throughput, rate_parts, stats, weights) = rates_and_stats(inputs, &time, one_run);
    let (errors, error_details) = errors(&reports);
    let (status, status_reason) = status(inputs);
    let duration_s = (0..inputs.len())
        .map(|k| time.offset_s(k) + reports[k].duration_s)
        .fold(0.0, f64::max);
    let merged_stages = stages::stages(&reports, &intervals, &hlog);
    let (e2e, consumers, consumers_warning) =
        consumers::consumers(&reports, &hists, &intervals, duration_s);
    let mut measured = measurement(&first.measurement, inputs.len());
    if e2e.is_none() {
        measured.e2e = None;
    }
    let report = RunReport {
        schema_version: super::SCHEMA_VERSION,
        status,
        status_reason,
        profile: first.profile.clone(),
        description: first.description.clone(),
        // The instances' name when they all agree (one distributed run is given one name).
        name: first
            .name
            .clone()
            .filter(|n| reports.iter().all(|r| r.name.as_deref() == Some(n))),
        cluster: first.cluster.clone(),
        cluster_note: first.cluster_note.clone(),
        topic: first.topic.clone(),
        partitions: first.partitions,
        producers: reports.iter().map(|r| r.producers).sum(),
        send_mode: first.send_mode.clone(),
        instance: None,
        instances: Some(first.instances.unwrap_or(inputs.len() as u32)),
        started_at: super::format_rfc3339_utc(UNIX_EPOCH + Duration::from_micros(time.t0_us)),
        duration_s,
        // The latest instance's end: merged t0 + the merged duration.
        ended_at: Some(super::format_rfc3339_utc(
            UNIX_EPOCH
                + Duration::from_micros(time.t0_us)
                + Duration::from_secs_f64(duration_s.max(0.0)),
        )),
        measurement: measured,
        records: records(&reports),
        throughput,
        latency_us: super::Latency {
            e2e,
            ..latency(&hists)
        },
        errors,
        error_details,
        compression_ratio: figures::compression_ratio(&stats),
        librdkafka_stats: stats,
        transactions: transactions(first, &reports),
        // `kprod merge` puts its own command line here; the instances' are in their runs.
        command_line: None,
        config: first.config.clone(),
        environment: environment(first, &reports),
        warnings: warnings(inputs, &reports, forced, consumers_warning),
        intervals,
        faults: faults(inputs, &time),
        stages: merged_stages,
        // Not merged across instances: the windows' weights are not kept with a run.
        latency_breakdown_us: match reports.as_slice() {
            [one] => one.latency_breakdown_us.clone(),
            _ => None,
        },
        consumers,
        verify: figures::verify(&reports),
        topics: Vec::new(),
    };
    let window_s = report.throughput.window_end_s - report.throughput.window_start_s;
    let report = RunReport {
        topics: super::topics::merge(&reports, window_s),
        ..report
    };
    let totals = RunTotals {
        schema_version: super::TOTALS_VERSION,
        t0_unix_us: time.t0_us,
        throughput: rate_parts,
        stats: weights,
        histograms: hists.encode().map_err(err)?,
    };
    Ok(Merged {
        report,
        hlog,
        e2e_hlog,
        totals,
    })
}

/// Throughput over the merged window and the librdkafka statistics, with what
/// `totals.json` keeps of them.
fn rates_and_stats(
    inputs: &[MergeInput],
    time: &Timeline,
    one_run: bool,
) -> (
    super::Throughput,
    super::RateParts,
    super::LibrdkafkaStats,
    super::StatsWeights,
) {
    let figs: Vec<RunFigures<'_>> = inputs
        .iter()
        .enumerate()
        .map(|(k, i)| RunFigures {
            report: &i.report,
            totals: &i.totals,
            offset_s: time.offset_s(k),
        })
        .collect();
    let reports: Vec<&RunReport> = inputs.iter().map(|i| &i.report).collect();
    let (throughput, parts) = figures::throughput(&figs, target(&reports, one_run));
    let (stats, weights) = figures::stats(&figs);
    (throughput, parts, stats, weights)
}

/// Latency of every record of every run: percentiles of the summed histograms.
fn latency(h: &Histograms) -> super::Latency {
    super::Latency {
        corrected: super::percentiles(&h.corrected),
        uncorrected: super::percentiles(&h.uncorrected),
        schedule_lag: super::percentiles(&h.schedule_lag),
        commit: (!h.commit.is_empty()).then(|| super::percentiles(&h.commit)),
        // Set by `consumers::consumers`, which knows whether every run measured it.
        e2e: None,
    }
}

/// Record counts add; the identity must hold in every run and in the sums.
fn records(reports: &[&RunReport]) -> Records {
    let sum = |f: fn(&Records) -> u64| reports.iter().map(|r| f(&r.records)).sum::<u64>();
    let counts = |f: fn(&Records) -> &Counts| Counts {
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
    Records {
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
    }
}

type Errors = (BTreeMap<String, u64>, BTreeMap<String, ErrorInfo>);

/// Failed records by error name, summed.
fn errors(reports: &[&RunReport]) -> Errors {
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut details: BTreeMap<String, ErrorInfo> = BTreeMap::new();
    for r in reports {
        for (k, n) in &r.errors {
            *errors.entry(k.clone()).or_default() += n;
        }
        for (k, d) in &r.error_details {
            details
                .entry(k.clone())
                .and_modify(|e| e.count += d.count)
                .or_insert_with(|| d.clone());
        }
    }
    (errors, details)
}

/// The worst status of the runs, and every run's reason, named.
fn status(inputs: &[MergeInput]) -> (Status, Option<String>) {
    let any = |s: Status| inputs.iter().any(|i| i.report.status == s);
    let status = if any(Status::Failed) {
        Status::Failed
    } else if any(Status::Aborted) {
        Status::Aborted
    } else if any(Status::Interrupted) {
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
    (status, (!reasons.is_empty()).then(|| reasons.join("; ")))
}

/// The first run's measurement, saying how the figures were merged.
fn measurement(first: &Measurement, runs: usize) -> Measurement {
    let mut m = first.clone();
    m.histogram = format!(
        "{}; merged across {runs} instances (kprod merge)",
        m.histogram
    );
    let merge_note = format!(
        "merged from {runs} runs: counts are sums, latency comes from the sum of their HDR \
         histograms, rates use the wall-clock window from the earliest start to the latest \
         end, and seconds are aligned on wall-clock time (each instance's second goes to \
         the nearest merged second)"
    );
    m.note = Some(match m.note.take() {
        Some(n) => format!("{n}; {merge_note}"),
        None => merge_note,
    });
    m
}

/// The first run's environment with every host listed and the CPUs summed.
fn environment(first: &RunReport, reports: &[&RunReport]) -> super::Environment {
    let mut hosts: Vec<&str> = reports
        .iter()
        .map(|r| r.environment.host.as_str())
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    let mut environment = first.environment.clone();
    environment.host = hosts.join(",");
    environment.cpus = reports.iter().map(|r| r.environment.cpus).sum();
    environment
}

fn transactions(first: &RunReport, reports: &[&RunReport]) -> Option<super::Transactions> {
    let all = || reports.iter().filter_map(|r| r.transactions.as_ref());
    first.transactions.as_ref().map(|t| super::Transactions {
        committed: all().map(|t| t.committed).sum(),
        aborted: all().map(|t| t.aborted).sum(),
        records_per_transaction: t.records_per_transaction,
    })
}

/// Every run's faults, their seconds moved onto the merged timeline.
fn faults(inputs: &[MergeInput], time: &Timeline) -> Vec<FaultRecord> {
    inputs
        .iter()
        .enumerate()
        .flat_map(|(k, i)| {
            let off = time.offset_s(k);
            i.report.faults.iter().map(move |f| FaultRecord {
                applied_s: f.applied_s.map(|s| s + off),
                ended_s: f.ended_s.map(|s| s + off),
                ..f.clone()
            })
        })
        .collect()
}

/// Target rate of the whole run: the profile's own figure when the runs are exactly the
/// instances of one profile (adding N shares of r/N could miss r by a rounding step),
/// else the sum of the runs' targets; None if any run was unlimited.
fn target(reports: &[&RunReport], one_run: bool) -> Option<f64> {
    let targets: Option<Vec<f64>> = reports
        .iter()
        .map(|r| r.throughput.target_records_per_sec)
        .collect();
    let sum: f64 = targets?.iter().sum();
    let profile_rate = reports
        .first()
        .and_then(|r| r.config.profile.pointer("/workload/rate/per_sec"))
        .and_then(Value::as_f64);
    Some(match (one_run, profile_rate) {
        (true, Some(r)) => r,
        _ => sum,
    })
}

/// `--force` differences first, then a partial `--verify`, then the runs' own warnings:
/// those every run has once, the others prefixed with their run.
fn warnings(
    inputs: &[MergeInput],
    reports: &[&RunReport],
    forced: Vec<String>,
    consumers: Option<String>,
) -> Vec<String> {
    let mut out = forced;
    out.extend(consumers);
    let verified = reports.iter().filter(|r| r.verify.is_some()).count();
    if verified > 0 && verified < reports.len() {
        out.push("only some runs used --verify; the merged report has no verify section".into());
    }
    let mut own: Vec<String> = Vec::new();
    for i in inputs {
        for w in &i.report.warnings {
            let everywhere = inputs.iter().all(|j| j.report.warnings.contains(w));
            let line = if everywhere {
                w.clone()
            } else {
                format!("{}: {w}", i.name())
            };
            if !own.contains(&line) {
                own.push(line);
            }
        }
    }
    out.extend(own);
    out
}
