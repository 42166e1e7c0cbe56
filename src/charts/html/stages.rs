//! The run page's "Load stages" table (`[[workload.stages]]` runs): each stage's span,
//! target, what was offered and delivered, and its latency, so a ramp's knee can be read
//! off the page beside the timeline chart's target line.

use super::{Cell, Page};
use crate::report::{fmt_count, fmt_latency_us, fmt_rate, RunReport};

pub(super) fn stages_block(page: &mut Page, r: &RunReport) {
    if r.stages.is_empty() {
        return;
    }
    let rows: Vec<Vec<Cell>> = r
        .stages
        .iter()
        .map(|s| {
            let target = if (s.target_from_per_sec - s.target_to_per_sec).abs() < 0.5 {
                fmt_rate(s.target_from_per_sec)
            } else {
                format!(
                    "{} → {}",
                    fmt_rate(s.target_from_per_sec),
                    fmt_rate(s.target_to_per_sec)
                )
            };
            let l = &s.latency_us_by_delivery_second;
            vec![
                format!("{} #{}", s.kind, s.index + 1).into(),
                format!("{:.0}–{:.0} s", s.start_s, s.end_s).into(),
                target.into(),
                fmt_rate(s.sent_per_sec).into(),
                fmt_rate(s.records_per_sec).into(),
                fmt_count(s.failed).into(),
                fmt_latency_us(l.p50).into(),
                fmt_latency_us(l.p99).into(),
                fmt_latency_us(l.p999).into(),
            ]
        })
        .collect();
    page.heading("Load stages (latency by delivery second)");
    page.table(
        "stages",
        &[
            "stage",
            "span",
            "target",
            "offered",
            "delivered",
            "failed",
            "p50",
            "p99",
            "p99.9",
        ],
        &rows,
    );
}
