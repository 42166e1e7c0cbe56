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

/// One `intervals[]` entry; rates divide by the interval's real length. Seconds a fault
/// covers are flagged.
pub fn interval_row(
    i: &MergedInterval,
    start_unix_ms: u64,
    warmup_s: f64,
    faults: &[crate::faults::FaultSpec],
    fire_and_forget: bool,
    stages: &[crate::profile::stages::Piece],
) -> Interval {
    let end = i.idx as f64 + i.length_s;
    // Taken back from `end` so that anyone who recomputes it from `t_s` (`kprod merge`)
    // gets the same bits.
    let len = end - i.idx as f64;
    Interval {
        t_s: end,
        unix_ms: start_unix_ms + (end * 1000.0) as u64,
        length_s: len,
        partial: i.partial(),
        in_warmup: end <= warmup_s,
        sent: i.counts.sent,
        delivered: i.counts.delivered,
        failed: i.counts.failed,
        // Fire-and-forget gets no success reports: its rate is what was handed over and not
        // reported failed, as the run's own inferred delivered count is.
        records_per_sec: if fire_and_forget {
            i.counts.sent.saturating_sub(i.counts.failed) as f64 / len
        } else {
            i.counts.delivered as f64 / len
        },
        bytes_per_sec: i.counts.bytes as f64 / len,
        p50_us: i.p50_us,
        p99_us: i.p99_us,
        p999_us: i.p999_us,
        run_id: None,
        max_us: i.max_us,
        queue_depth: i.queue_depth,
        stage: super::stages::stage_at(stages, i.idx),
        fault: crate::faults::label_at(faults, i.idx),
        ..Interval::default()
    }
}

/// The run report of a finished run: each section below builds one part of it from the
/// same outcome, so the parts cannot disagree.
pub fn build(plan: &Plan, out: &RunOutcome) -> RunReport {
    let p = &plan.profile;
    let m = &out.measurements;
    let warmup_s = p.workload.warmup.as_secs_f64();
    let ff = p.workload.send_mode == SendMode::FireAndForget;
    let (status, status_reason) = status(out, warmup_s);
    let (errors, error_details) = error_tables(out);
    let mut r = RunReport {
        schema_version: SCHEMA_VERSION,
        status,
        status_reason,
        profile: p.names.clone(),
        description: p.description.clone(),
        // `kprod bench --name` sets it: the name is the command's, not the plan's.
        name: None,
        cluster: out.cluster.clone(),
        cluster_note: out.embedded.then(|| EMBEDDED_NOTE.to_string()),
        topic: p.workload.topic.clone(),
        partitions: out.partitions,
        producers: p.workload.producers,
        send_mode: format!("{:?}", p.workload.send_mode).to_lowercase(),
        instance: (plan.instances > 1).then_some(plan.instance),
        instances: (plan.instances > 1).then_some(plan.instances),
        started_at: super::format_rfc3339_utc(out.started_at),
        ended_at: Some(super::format_rfc3339_utc(out.started_at + out.duration)),
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
        // Set by the command that has the argv (`commands::bench`).
        command_line: None,
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
        stages: super::stages::build(plan, out),
        latency_breakdown_us: super::breakdown::build(out, warmup_s),
        consumers: None,
        topics: Vec::new(),
    };
    super::consumers::apply(plan, out, &mut r);
    super::topics::apply(plan, out, &mut r);
    r
}

/// `intervals[]`: every merged second, flagged with the faults in force.
fn intervals(plan: &Plan, out: &RunOutcome, warmup_s: f64) -> Vec<Interval> {
    let w = &plan.profile.workload;
    let pieces = super::stages::run_pieces(&w.stages, w.duration);
    let start_unix_ms = out
        .started_at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    out.measurements
        .intervals
        .iter()
        .map(|i| {
            let ff = plan.profile.workload.send_mode == SendMode::FireAndForget;
            let mut row = interval_row(
                i,
                start_unix_ms,
                warmup_s,
                &plan.profile.faults,
                ff,
                &pieces,
            );
            let h = i.histogram();
            let mean = (!h.is_empty()).then(|| h.mean());
            let sums = super::breakdown::second_sums(out, i.idx, warmup_s);
            super::breakdown::fill_interval(&mut row, mean, sums.as_ref());
            row
        })
        .collect()
}

/// `status` and `status_reason`: an abort on a breached threshold (which stops the run
/// like a signal) beats a signal, which beats a fatal error, which beats a run that
/// measured nothing, which beats success.
fn status(out: &RunOutcome, warmup_s: f64) -> (Status, Option<String>) {
    let m = &out.measurements;
    if let Some(why) = &out.aborted {
        return (
            Status::Aborted,
            Some(format!("{why}; report covers the run until then")),
        );
    }
    if out.interrupted {
        let why = "interrupted by a signal; report covers the run until then";
        return (Status::Interrupted, Some(why.into()));
    }
    if !m.fatal.is_empty() {
        return (Status::Failed, Some(m.fatal.join("; ")));
    }
    match nothing_measured(out, warmup_s) {
        Some((status, why)) => (status, Some(why)),
        None => (Status::Complete, None),
    }
}

/// Why a run's measured window holds no delivered record, or None when it holds some.
/// Every measured record failed: `failed`; otherwise (none sent after the warm-up, or
/// none reported before the flush deadline): `empty`.
fn nothing_measured(out: &RunOutcome, warmup_s: f64) -> Option<(Status, String)> {
    let t = &out.measurements.totals;
    let c = &t.measured;
    if c.delivered > 0 {
        return None;
    }
    if c.sent == 0 {
        let why = if t.warmup.sent > 0 {
            format!(
                "nothing measured: the warm-up ({warmup_s} s) took all {} records sent; \
                 lower --warmup or raise --duration / --records",
                t.warmup.sent
            )
        } else {
            "nothing measured: no record was sent after the warm-up".to_string()
        };
        return Some((Status::Empty, why));
    }
    if c.failed == c.sent {
        let names: Vec<String> = out.measurements.errors().into_keys().collect();
        let why = format!(
            "every one of the {} records sent after the warm-up failed ({})",
            c.sent,
            names.join(", ")
        );
        return Some((Status::Failed, why));
    }
    Some((
        Status::Empty,
        format!(
            "nothing measured: none of the {} records sent after the warm-up was delivered \
             ({} failed, {} unknown: no delivery report before the flush deadline, e.g. a \
             linger or timeout longer than the run)",
            c.sent, c.failed, c.unknown
        ),
    ))
}

/// The profile's validation warnings, then what the run itself found.
/// The run's topic has another partition count than the profile asks for: it existed
/// before (kprod never changes an existing topic), or the cluster created it on demand with
/// its default. `partitions` is what metadata showed; this says the profile's was not used.
fn partitions_warning(plan: &Plan, out: &RunOutcome) -> Option<String> {
    let w = &plan.profile.workload;
    if !w.topics.is_empty() {
        // Many topics: each against its own entry.
        let off: Vec<String> = w
            .topics
            .iter()
            .zip(&out.topic_partitions)
            .filter(|(t, n)| t.partitions != **n)
            .map(|(t, n)| format!("`{}` has {n}, not {}", t.name, t.partitions))
            .collect();
        return (!off.is_empty()).then(|| {
            format!(
                "topic partitions differ from the profile's: {}; the run used the topics as \
                 they are (kprod never changes an existing topic)",
                off.join(", ")
            )
        });
    }
    (out.partitions != w.partitions).then(|| {
        format!(
            "topic `{}` has {} partition(s), not the {} the profile asks for \
             (workload.partitions): the run used the topic as it is; for {} partitions use a \
             topic that does not exist yet (--topic NAME), which kprod creates with them",
            w.topic, out.partitions, w.partitions, w.partitions
        )
    })
}

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
    if let Some(w) = retention_warning(out) {
        warnings.push(w);
    }
    if let Some(w) = producer_id_warning(out, plan.profile.workload.warmup.as_secs_f64()) {
        warnings.push(w);
    }
    if let Some(w) = partitions_warning(plan, out) {
        warnings.push(w);
    }
    if !m.client_errors.is_empty() {
        warnings.push(format!("client errors: {}", m.client_errors.join(" | ")));
    }
    warnings
}

/// An idempotent producer's id came after the warm-up: records sent before it waited for
/// it, a start-up cost a long-running producer does not pay, in the measured latency.
fn producer_id_warning(out: &RunOutcome, warmup_s: f64) -> Option<String> {
    let ms = out.measurements.stats.figures.producer_id_assigned_ms?;
    let warmup = match warmup_s > 0.0 {
        true => format!(
            "after the {} warm-up",
            crate::units::format_duration(std::time::Duration::from_secs_f64(warmup_s))
        ),
        false => "with no warm-up".to_string(),
    };
    (ms > warmup_s * 1e3).then(|| {
        format!(
            "the idempotent producer got its producer id {:.2} s after t0, {warmup}: \
             librdkafka held every record sent before it, so that wait is in the measured \
             latency (a long-running producer has its id). Raise the warm-up, e.g. \
             --warmup {}s, to measure the steady state",
            ms / 1e3,
            (ms / 1e3 + 1.0).ceil()
        )
    })
}

/// `--verify` on the embedded cluster read back a log the mock broker had already trimmed:
/// say why, and how many partitions would have kept every record.
fn retention_warning(out: &RunOutcome) -> Option<String> {
    let v = out.verify.as_ref()?.as_ref().ok()?;
    if !out.embedded || v.expired == 0 {
        return None;
    }
    let kept = v.acknowledged.saturating_sub(v.expired).max(1);
    let needed = (u64::from(out.partitions) * v.acknowledged).div_ceil(kept) + 1;
    Some(format!(
        "--verify: {} records were trimmed from the embedded cluster's log before they could \
         be read back (it keeps about {} MiB per partition, a fixed librdkafka mock limit): \
         counted expired, neither lost nor found. Spread the run over more partitions \
         (--set workload.partitions={needed}) or shorten it to verify every record",
        v.expired,
        crate::domain::MOCK_RETAINED_BYTES_PER_PARTITION >> 20,
    ))
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
        e2e: None,
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

/// `throughput`: measured records over the measured window [the first one's schedule slot
/// (end of warm-up when none), the later of the delivery of the last of them and the end
/// of generation], so neither a warm-up backlog nor a slow rate's early last delivery can
/// inflate it, and a slow rate's late first slot cannot deflate it.
fn throughput(plan: &Plan, out: &RunOutcome, warmup_s: f64) -> Throughput {
    let t = &out.measurements.totals;
    let window_start_s = t.measured_window_start_us((warmup_s * 1e6).round() as u64) as f64 / 1e6;
    let window_end_s = t.measured_window_end_us(schedule_end_us(plan)) as f64 / 1e6;
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

/// Where the schedule ends, µs since t0: the duration, when one bounds the run.
pub fn schedule_end_us(plan: &Plan) -> Option<u64> {
    let d = plan.profile.workload.duration?;
    Some(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `latency_us`: percentiles of the whole-run histograms.
fn latency(out: &RunOutcome) -> Latency {
    let t = &out.measurements.totals;
    Latency {
        corrected: percentiles(&t.corrected),
        uncorrected: percentiles(&t.uncorrected),
        schedule_lag: percentiles(&t.schedule_lag),
        commit: (!t.commit.is_empty()).then(|| percentiles(&t.commit)),
        e2e: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Counts, Measurements, Totals};

    fn outcome(measured: Counts, warmup: Counts) -> RunOutcome {
        RunOutcome {
            measurements: Measurements {
                totals: Totals {
                    measured,
                    warmup,
                    ..Totals::default()
                },
                ..Measurements::default()
            },
            ..crate::report::testing::empty_outcome()
        }
    }

    fn counts(sent: u64, delivered: u64, failed: u64, unknown: u64) -> Counts {
        Counts {
            sent,
            delivered,
            failed,
            unknown,
        }
    }

    #[test]
    fn a_run_that_delivered_nothing_measured_is_empty_or_failed_with_a_reason() {
        let none = Counts::default();
        let cases = [
            (
                counts(0, 0, 0, 0),
                counts(40, 40, 0, 0),
                Status::Empty,
                "warm-up",
            ),
            (
                counts(10, 0, 0, 10),
                none.clone(),
                Status::Empty,
                "10 unknown",
            ),
            (
                counts(10, 0, 10, 0),
                none.clone(),
                Status::Failed,
                "every one of the 10",
            ),
            (counts(10, 1, 9, 0), none.clone(), Status::Complete, ""),
        ];
        for (measured, warmup, want, says) in cases {
            let (got, why) = status(&outcome(measured.clone(), warmup), 2.0);
            assert_eq!(got, want, "{measured:?}");
            assert!(why.unwrap_or_default().contains(says), "{measured:?}");
        }
        // A signal still wins: the report covers the run until then.
        let mut o = outcome(counts(0, 0, 0, 0), none);
        o.interrupted = true;
        assert_eq!(status(&o, 2.0).0, Status::Interrupted);
    }

    #[test]
    fn verify_against_a_trimmed_embedded_log_says_how_many_partitions_would_keep_it() {
        let mut o = outcome(counts(10, 10, 0, 0), Counts::default());
        assert_eq!(retention_warning(&o), None);
        o.verify = Some(Ok(Verify {
            acknowledged: 100_000,
            expired: 40_000,
            ..Verify::default()
        }));
        let w = retention_warning(&o).expect("warned");
        // 6 partitions kept 60%: 10 would keep it all, one more for headroom.
        assert!(w.contains("40000 records were trimmed"), "{w}");
        assert!(w.contains("workload.partitions=11"), "{w}");
        o.embedded = false;
        assert_eq!(retention_warning(&o), None);
    }
}
