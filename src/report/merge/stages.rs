//! `stages[]` of a merged run. The instances of one distributed run share the stage
//! schedule and each carries its share of the target: counts and targets add, each stage's
//! rates are the sum of the instances' (each over its own stage span, so instances a few
//! ms apart add up to what they offered together), and latency comes from the merged
//! per-second histograms of the seconds the merged intervals assign to the stage, exact
//! merges as in a single run.

use crate::report::stages::StageReport;
use crate::report::IntervalHistogram;
use crate::report::{new_histogram, percentiles};
use crate::report::{Interval, RunReport};

/// Empty when any instance has no `stages[]` (no stages, or an older report) or the
/// instances disagree on the stage list.
pub(super) fn stages(
    reports: &[&RunReport],
    intervals: &[Interval],
    hlog: &[IntervalHistogram],
) -> Vec<StageReport> {
    let Some(first) = reports.first() else {
        return Vec::new();
    };
    let same_schedule = reports.iter().all(|r| {
        r.stages.len() == first.stages.len()
            && r.stages
                .iter()
                .zip(&first.stages)
                .all(|(a, b)| a.kind == b.kind)
    });
    if first.stages.is_empty() || !same_schedule {
        return Vec::new();
    }
    let mut merged: Vec<StageReport> = first
        .stages
        .iter()
        .map(|s| StageReport {
            target_from_per_sec: 0.0,
            target_to_per_sec: 0.0,
            target_records: 0.0,
            target_curve: s.target_curve.iter().map(|&(t, _)| (t, 0.0)).collect(),
            ..StageReport {
                index: s.index,
                kind: s.kind.clone(),
                start_s: s.start_s,
                end_s: s.end_s,
                ..StageReport::default()
            }
        })
        .collect();
    for r in reports {
        for (m, s) in merged.iter_mut().zip(&r.stages) {
            m.target_from_per_sec += s.target_from_per_sec;
            m.target_to_per_sec += s.target_to_per_sec;
            m.target_records += s.target_records;
            if m.target_curve.len() == s.target_curve.len() {
                for (c, &(_, y)) in m.target_curve.iter_mut().zip(&s.target_curve) {
                    c.1 += y;
                }
            }
            m.end_s = m.end_s.max(s.end_s);
            m.sent += s.sent;
            m.delivered += s.delivered;
            m.failed += s.failed;
            m.sent_per_sec += s.sent_per_sec;
            m.records_per_sec += s.records_per_sec;
        }
    }
    let mut hists: Vec<_> = merged.iter().map(|_| new_histogram()).collect();
    for (row, h) in intervals.iter().zip(hlog) {
        let Some(n) = row.stage else { continue };
        if let (Some(m), Some(acc)) = (merged.get_mut(n as usize), hists.get_mut(n as usize)) {
            m.seconds += 1;
            // Same bounds on both sides: adding cannot fail; a failure would only lose
            // samples.
            let _ = acc.add(&h.hist);
        }
    }
    for (m, h) in merged.iter_mut().zip(&hists) {
        m.latency_us_by_delivery_second = percentiles(h);
    }
    merged
}
