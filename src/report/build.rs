//! Turns the engine's outcome into the immutable [`RunReport`].

use super::{
    percentiles, Config, Counts, Environment, ErrorInfo, FaultRecord, Interval, Latency,
    Measurement, Records, RunReport, Status, Throughput, Transactions, Verify, SCHEMA_VERSION,
};
use crate::domain::{MergedInterval, RunOutcome, EMBEDDED_NOTE};
use crate::plan::Plan;
use crate::profile::{self, SendMode};
use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

/// One `intervals[]` entry. `run_s` is the run's length (the last interval ends with it);
/// rows written while the run goes pass infinity. Seconds a fault covers are flagged.
pub fn interval_row(
    i: &MergedInterval,
    start_unix_ms: u64,
    warmup_s: f64,
    run_s: f64,
    faults: &[crate::faults::FaultSpec],
) -> Interval {
    // The last interval ends with the run, usually before a whole second.
    let start = i.idx as f64;
    let end = ((i.idx + 1) as f64).min(run_s.max(start + 1e-3));
    let len = end - start;
    Interval {
        t_s: end,
        unix_ms: start_unix_ms + (end * 1000.0) as u64,
        in_warmup: end <= warmup_s,
        sent: i.counts.sent,
        delivered: i.counts.delivered,
        failed: i.counts.failed,
        records_per_sec: i.counts.delivered as f64 / len,
        bytes_per_sec: i.counts.bytes as f64 / len,
        p50_us: i.p50_us,
        p99_us: i.p99_us,
        max_us: i.max_us,
        queue_depth: i.queue_depth,
        fault: crate::faults::label_at(faults, i.idx),
    }
}

/// The run report of a finished run: each section below builds one part of it from the
/// same outcome, so the parts cannot disagree.
pub fn build(plan: &Plan, out: &RunOutcome) -> RunReport {
    let p = &plan.profile;
    let m = &out.measurements;
    let warmup_s = p.workload.warmup.as_secs_f64();
    let ff = p.workload.send_mode == SendMode::FireAndForget;
    let (status, status_reason) = status(out);
    let (errors, error_details) = error_tables(out);
    RunReport {
        schema_version: SCHEMA_VERSION,
        status,
        status_reason,
        profile: p.names.clone(),
        description: p.description.clone(),
        cluster: out.cluster.clone(),
        cluster_note: out.embedded.then(|| EMBEDDED_NOTE.to_string()),
        topic: p.workload.topic.clone(),
        partitions: out.partitions,
        producers: p.workload.producers,
        send_mode: format!("{:?}", p.workload.send_mode).to_lowercase(),
        instance: (plan.instances > 1).then_some(plan.instance),
        instances: (plan.instances > 1).then_some(plan.instances),
        started_at: super::format_rfc3339_utc(out.started_at),
        duration_s: out.duration.as_secs_f64(),
        measurement: measurement(out, warmup_s, ff),
        records: records(out, ff),
        throughput: throughput(plan, out, warmup_s),
        latency_us: latency(out),
        errors,
        error_details,
        compression_ratio: m.stats.figures.compression_ratio(),
        librdkafka_stats: m.stats.figures.clone(),
        transactions: p.producer.transactional_id.as_ref().map(|_| Transactions {
            committed: m.committed,
            aborted: m.aborted,
            records_per_transaction: p.producer.records_per_transaction,
        }),
        config: Config {
            librdkafka: profile::redacted(&out.props),
            profile: serde_json::to_value(p)
                .map(redact_json)
                .unwrap_or(serde_json::Value::Null),
        },
        environment: environment(),
        warnings: warnings(plan, out),
        intervals: intervals(plan, out, warmup_s),
        faults: fault_records(out),
        verify: out.verify.as_ref().map(|v| match v {
            Ok(v) => v.clone(),
            Err(e) => Verify {
                error: Some(e.clone()),
                ..Verify::default()
            },
        }),
    }
}

/// `intervals[]`: every merged second, flagged with the faults in force.
fn intervals(plan: &Plan, out: &RunOutcome, warmup_s: f64) -> Vec<Interval> {
    let start_unix_ms = out
        .started_at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let run_s = out.duration.as_secs_f64();
    out.measurements
        .intervals
        .iter()
        .map(|i| interval_row(i, start_unix_ms, warmup_s, run_s, &plan.profile.faults))
        .collect()
}

/// `status` and `status_reason`: a signal beats a fatal error, which beats success.
fn status(out: &RunOutcome) -> (Status, Option<String>) {
    let m = &out.measurements;
    let status = if out.interrupted {
        Status::Interrupted
    } else if !m.fatal.is_empty() {
        Status::Failed
    } else {
        Status::Complete
    };
    let status_reason = match status {
        Status::Interrupted => {
            Some("interrupted by a signal; report covers the run until then".into())
        }
        Status::Failed => Some(m.fatal.join("; ")),
        Status::Complete => None,
    };
    (status, status_reason)
}

/// The profile's validation warnings, then what the run itself found.
fn warnings(plan: &Plan, out: &RunOutcome) -> Vec<String> {
    let m = &out.measurements;
    let t = &m.totals;
    let mut warnings = plan.profile.warnings.clone();
    if t.lag_saturated > 0 {
        warnings.push(format!(
            "{} records fell more than 268 s behind schedule; their uncorrected latency is overstated",
            t.lag_saturated
        ));
    }
    if t.behind_schedule > 0 {
        warnings.push(format!(
            "the generator fell behind: {} records were due before the end but never sent; \
             the target rate was not reached (see schedule lag)",
            t.behind_schedule
        ));
    }
    if !m.client_errors.is_empty() {
        warnings.push(format!("client errors: {}", m.client_errors.join(" | ")));
    }
    warnings
}

/// What the numbers mean, stored with them.
fn measurement(out: &RunOutcome, warmup_s: f64, ff: bool) -> Measurement {
    Measurement {
        clock: format!("monotonic ({}), t0 = start of generation", out.clock),
        latency_unit: "microseconds".into(),
        corrected_from: "intended send time t0 + i/rate (unlimited rate: the moment the generator picked the record)".into(),
        uncorrected_from: "enqueue: the produce() call that librdkafka accepted".into(),
        latency_to: "delivery report served by the producer thread's poll of librdkafka's event queue".into(),
        warmup_s,
        warmup_excluded: warmup_s > 0.0,
        histogram: "HdrHistogram, 3 significant digits, 1 µs to 1 h, merged across producers".into(),
        note: ff.then(|| "fire-and-forget: successes are not reported, so no latency is measured and delivered = sent - failed - unknown".into()),
    }
}

/// `records`: whole-run counts, split by intended send time into measured and warm-up.
fn records(out: &RunOutcome, ff: bool) -> Records {
    let t = &out.measurements.totals;
    let total = Counts {
        sent: t.measured.sent + t.warmup.sent,
        delivered: t.measured.delivered + t.warmup.delivered,
        failed: t.measured.failed + t.warmup.failed,
        unknown: t.measured.unknown + t.warmup.unknown,
    };
    Records {
        sent: total.sent,
        delivered: total.delivered,
        failed: total.failed,
        unknown: total.unknown,
        identity_holds: total.identity_holds()
            && t.measured.identity_holds()
            && t.warmup.identity_holds(),
        delivered_inferred: ff,
        behind_schedule: t.behind_schedule,
        measured: t.measured.clone(),
        warmup: t.warmup.clone(),
    }
}

/// `throughput`: measured records over the measured window [end of warm-up, delivery of
/// the last of them], so a warm-up backlog cannot inflate it.
fn throughput(plan: &Plan, out: &RunOutcome, warmup_s: f64) -> Throughput {
    let t = &out.measurements.totals;
    let window_start_s = warmup_s;
    let window_end_s = t.measured_last_delivery_us as f64 / 1e6;
    let window = (window_end_s - window_start_s).max(1e-9);
    let gen_window = (t.generation_end_us as f64 / 1e6 - window_start_s).max(1e-9);
    let has_window = window_end_s > window_start_s;
    Throughput {
        records_per_sec: if has_window {
            t.measured.delivered as f64 / window
        } else {
            0.0
        },
        bytes_per_sec: if has_window {
            t.measured_bytes as f64 / window
        } else {
            0.0
        },
        // A distributed run's instance reports its own share; `kprod merge` adds them up.
        target_records_per_sec: plan.target_rate(),
        send_records_per_sec: t.measured.sent as f64 / gen_window,
        window_start_s,
        window_end_s,
    }
}

/// `latency_us`: percentiles of the whole-run histograms.
fn latency(out: &RunOutcome) -> Latency {
    let t = &out.measurements.totals;
    Latency {
        corrected: percentiles(&t.corrected),
        uncorrected: percentiles(&t.uncorrected),
        schedule_lag: percentiles(&t.schedule_lag),
        commit: (!t.commit.is_empty()).then(|| percentiles(&t.commit)),
    }
}

/// `errors` (name -> failed records) and `error_details` (with class and description).
fn error_tables(out: &RunOutcome) -> (BTreeMap<String, u64>, BTreeMap<String, ErrorInfo>) {
    let errors = out.measurements.errors();
    let counts = errors.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    let details = errors
        .iter()
        .map(|(k, (n, class, desc))| {
            (
                k.clone(),
                ErrorInfo {
                    count: *n,
                    class: class.to_string(),
                    description: desc.clone(),
                },
            )
        })
        .collect();
    (counts, details)
}

/// `faults[]`: what the schedule really did with each fault.
fn fault_records(out: &RunOutcome) -> Vec<FaultRecord> {
    out.faults
        .iter()
        .map(|a| FaultRecord {
            spec: a.spec.clone(),
            applied_s: a.applied_s,
            ended_s: a.ended_s,
            error: a.error.clone(),
        })
        .collect()
}

fn environment() -> Environment {
    Environment {
        kprod_version: env!("CARGO_PKG_VERSION").into(),
        librdkafka_version: crate::client::librdkafka_version(),
        host: hostname(),
        os: std::env::consts::OS.into(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    }
}

/// Secrets inside the profile's pass-through table are redacted like the properties.
fn redact_json(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(t) = v.get_mut("librdkafka").and_then(|t| t.as_object_mut()) {
        for (k, val) in t.iter_mut() {
            if profile::is_secret(k) {
                *val = serde_json::Value::String("[redacted]".into());
            }
        }
    }
    v
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
