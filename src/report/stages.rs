//! `stages[]` of report.json and the `stage` column of the intervals: what each load
//! stage (`[[workload.stages]]`) asked for and what the run did in it.
//!
//! The per-second histograms are kept (encoded) for the whole run, so a stage's
//! percentiles are exact merges of the seconds it covers, not averages of per-second
//! percentiles. A second belongs to the stage in force at its start; a stage boundary
//! inside a second is therefore rounded down to the whole second, and latency is bucketed
//! by the second a record was *delivered* in (hence `latency_us_by_delivery_second`).

use super::hdr::{new_histogram, percentiles};
use super::Percentiles;
use crate::domain::RunOutcome;
use crate::plan::Plan;
use crate::profile::stages::{pieces, Piece};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    pub index: u32,
    /// ramp, hold, spike or step.
    pub kind: String,
    /// Seconds after t0 (`end_s` cut at the run's duration).
    pub start_s: f64,
    pub end_s: f64,
    /// Target rate at the stage's start and end, records/s of this instance (a step
    /// ends at its last step's rate).
    pub target_from_per_sec: f64,
    pub target_to_per_sec: f64,
    /// Records the curve asks for within the stage (this instance).
    pub target_records: f64,
    /// Corners of the target curve within the stage, `[t_s, records/s]` (a ramp is two,
    /// a step two per step): what the timeline chart draws as the target line.
    #[serde(default)]
    pub target_curve: Vec<(f64, f64)>,
    /// Counts of the whole seconds assigned to the stage.
    pub seconds: u32,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    /// `sent` over the stage's span (`end_s − start_s`): the offered load achieved.
    pub sent_per_sec: f64,
    /// `delivered` over the same span.
    pub records_per_sec: f64,
    /// Corrected latency of the records delivered in the assigned seconds.
    pub latency_us_by_delivery_second: Percentiles,
}

/// The pieces of the stage curve the run reaches: those starting before `duration`.
pub fn run_pieces(stages: &[crate::profile::Stage], duration: Option<Duration>) -> Vec<Piece> {
    let mut p = pieces(stages);
    if let Some(d) = duration {
        p.retain(|p| p.start < d);
    }
    p
}

/// The stage in force at the start of second `idx` of a run with `pieces` (from
/// [`run_pieces`]); the flush after the last piece belongs to the last stage.
pub fn stage_at(pieces: &[Piece], idx: u64) -> Option<u32> {
    let t = Duration::from_secs(idx);
    let i = pieces.partition_point(|p| p.start <= t).checked_sub(1)?;
    Some(pieces[i].stage as u32)
}

/// `stages[]`: empty without stages.
pub fn build(plan: &Plan, out: &RunOutcome) -> Vec<StageReport> {
    let w = &plan.profile.workload;
    let pieces = pieces(&w.stages);
    let share = 1.0 / f64::from(plan.instances.max(1));
    let end = w.duration.map_or(f64::INFINITY, |d| d.as_secs_f64());
    let mut rows: Vec<(StageReport, hdrhistogram::Histogram<u64>)> = w
        .stages
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let own: Vec<&Piece> = pieces.iter().filter(|p| p.stage == n).collect();
            let start_s = own.first().map_or(0.0, |p| p.start.as_secs_f64());
            let end_s = own
                .last()
                .map_or(start_s, |p| (p.start + p.len).as_secs_f64())
                .min(end);
            let mut target_records = 0.0;
            let mut target_curve = Vec::new();
            for p in &own {
                let (a, b) = (p.start.as_secs_f64(), (p.start + p.len).as_secs_f64());
                let cut = b.min(end);
                if cut <= a {
                    continue;
                }
                let slope = (p.to - p.from) / (b - a);
                let rate_at_cut = p.from + slope * (cut - a);
                target_records += (p.from + rate_at_cut) / 2.0 * (cut - a) * share;
                target_curve.push((a, p.from * share));
                target_curve.push((cut, rate_at_cut * share));
            }
            let report = StageReport {
                index: n as u32,
                kind: s.kind().to_string(),
                start_s,
                end_s,
                target_from_per_sec: own.first().map_or(0.0, |p| p.from) * share,
                target_to_per_sec: own.last().map_or(0.0, |p| p.to) * share,
                target_records,
                target_curve,
                ..StageReport::default()
            };
            (report, new_histogram())
        })
        .collect();
    let reached = run_pieces(&w.stages, w.duration);
    for i in &out.measurements.intervals {
        let Some(n) = stage_at(&reached, i.idx) else {
            continue;
        };
        let Some((r, h)) = rows.get_mut(n as usize) else {
            continue;
        };
        r.seconds += 1;
        r.sent += i.counts.sent;
        r.delivered += i.counts.delivered;
        r.failed += i.counts.failed;
        // Same bounds on both sides: adding cannot fail; a failure would only lose samples.
        let _ = h.add(i.histogram());
    }
    rows.into_iter()
        .map(|(mut r, h)| {
            let len = r.end_s - r.start_s;
            if len > 0.0 {
                r.sent_per_sec = r.sent as f64 / len;
                r.records_per_sec = r.delivered as f64 / len;
            }
            r.latency_us_by_delivery_second = percentiles(&h);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_belong_to_the_stage_at_their_start() {
        let p = |stage, start, len| Piece {
            stage,
            start: Duration::from_millis(start),
            len: Duration::from_millis(len),
            from: 1.0,
            to: 1.0,
        };
        let pieces = [
            p(0, 0, 2000),
            p(1, 2000, 1500),
            p(1, 3500, 500),
            p(2, 4000, 1000),
        ];
        let got: Vec<Option<u32>> = (0..6).map(|i| stage_at(&pieces, i)).collect();
        // The flush tail (second 5) counts in the last stage.
        assert_eq!(got, [Some(0), Some(0), Some(1), Some(1), Some(2), Some(2)]);
        assert_eq!(stage_at(&[], 0), None);
    }
}
