//! Who wins, by how much, and how sure: each variant against the first (the reference),
//! per figure, with the same bootstrap estimate over repeats as `check`, and the
//! hyperfine-style sentence under the table ("zstd vs lz4: p99 12% worse [4 .. 19],
//! compression 1.8× better, throughput same (within noise)").

use super::{CompareOutcome, CompareRun};
use crate::error::KprodError;
use crate::report::RunReport;
use crate::verdict::{
    estimate, overall, Bootstrap, FigureResult, InconclusivePolicy, Polarity, Scale, Side,
    Threshold,
};
use serde::{Deserialize, Serialize};

/// One variant against the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versus {
    pub variant: String,
    pub reference: String,
    pub figures: Vec<FigureResult>,
    /// Where the mean latency change came from (`report::attribution`); None when a
    /// side's runs have no `latency_breakdown_us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<crate::report::attribution::Attribution>,
}

/// Figures judged: compare.json key, short name, polarity, scale.
const JUDGED: [(&str, &str, Polarity, Scale); 6] = [
    ("p50_us", "p50", Polarity::LowerIsBetter, Scale::Relative),
    ("p99_us", "p99", Polarity::LowerIsBetter, Scale::Relative),
    ("p999_us", "p999", Polarity::LowerIsBetter, Scale::Relative),
    (
        "records_per_sec",
        "throughput",
        Polarity::HigherIsBetter,
        Scale::Relative,
    ),
    (
        "compression_ratio",
        "compression",
        Polarity::HigherIsBetter,
        Scale::Relative,
    ),
    ("errors", "errors", Polarity::LowerIsBetter, Scale::Absolute),
];

fn values(runs: &[CompareRun], variant: usize, key: &str) -> Vec<f64> {
    runs.iter()
        .filter(|r| r.variant == variant)
        .filter_map(|r| r.figures.get(key).copied().flatten())
        .collect()
}

/// Every variant after the first against the first.
pub fn versus(variants: &[String], runs: &[CompareRun]) -> Vec<Versus> {
    let cfg = Bootstrap::default();
    let Some(reference) = variants.first() else {
        return Vec::new();
    };
    (1..variants.len())
        .map(|v| Versus {
            variant: variants[v].clone(),
            reference: reference.clone(),
            figures: JUDGED
                .iter()
                .filter_map(|(key, name, polarity, scale)| {
                    let (b, c) = (values(runs, 0, key), values(runs, v, key));
                    let b = Side {
                        runs: &b,
                        intervals: &[],
                    };
                    let c = Side {
                        runs: &c,
                        intervals: &[],
                    };
                    let ch = estimate(b, c, *scale, &cfg)?;
                    Some(FigureResult::new(name, &ch, *scale, *polarity))
                })
                .collect(),
            attribution: None,
        })
        .collect()
}

/// Fills each variant's `attribution` from the runs' breakdowns (`reports` parallel to
/// `runs`).
pub fn attribute(versus: &mut [Versus], runs: &[CompareRun], reports: &[RunReport]) {
    let side = |variant: usize| {
        runs.iter()
            .zip(reports)
            .filter(|(r, _)| r.variant == variant)
            .filter_map(|(_, rep)| rep.latency_breakdown_us.as_ref())
            .collect::<Vec<_>>()
    };
    let reference = side(0);
    for (i, v) in versus.iter_mut().enumerate() {
        v.attribution = crate::report::attribution::attribute(&reference, &side(i + 1));
    }
}

/// `p99 12% worse [4 .. 19]`, `compression 1.8× better`, `throughput same (within noise)`.
fn phrase(f: &FigureResult) -> String {
    let dir = f.direction();
    if dir.starts_with("same") {
        return format!("{} {dir}", f.figure);
    }
    if f.figure == "compression" {
        return format!("{} {:.2}× {dir}", f.figure, 1.0 + f.change / 100.0);
    }
    let (lo, hi) = (
        f.ci_low.abs().min(f.ci_high.abs()),
        f.ci_low.abs().max(f.ci_high.abs()),
    );
    let unit = if f.scale == Scale::Relative { "%" } else { "" };
    let mut s = format!("{} {:.0}{unit} {dir}", f.figure, f.change.abs());
    if lo != hi {
        s.push_str(&format!(" [{lo:.0} .. {hi:.0}]"));
    }
    s
}

/// One sentence per variant, for under the table.
pub fn summary(versus: &[Versus]) -> String {
    let mut out = String::new();
    for v in versus {
        let mut parts: Vec<String> = v.figures.iter().map(phrase).collect();
        // The first latency figure that moved carries where the mean's change came from.
        let moved =
            |f: &FigureResult| f.figure.starts_with('p') && !f.direction().starts_with("same");
        let moved = (v.figures.iter())
            .position(|f| f.figure == "p99" && moved(f))
            .or_else(|| v.figures.iter().position(moved));
        if let (Some(i), Some(a)) = (moved, &v.attribution) {
            parts[i] = format!("{}: {}", parts[i], a.phrase());
        }
        out.push_str(&format!(
            "{} vs {}: {}\n",
            v.variant,
            v.reference,
            parts.join(", ")
        ));
        if let Some(n) = v.figures.iter().find_map(|f| f.note.as_ref()) {
            out.push_str(&format!("  ({n}: give --repeat 3 or more for intervals)\n"));
        }
    }
    out
}

/// `--threshold` expressions, parsed before any run.
/// Judges every variant's repeats against the thresholds, prints one line per variant and
/// threshold, and returns the exit code (0 pass, 1 fail, 5 inconclusive).
pub fn thresholds(
    o: &CompareOutcome,
    slos: &[Threshold],
    policy: InconclusivePolicy,
    json: bool,
) -> Result<i32, KprodError> {
    let mut verdicts = Vec::new();
    for (vi, name) in o.result.variants.iter().enumerate() {
        let reports: Vec<RunReport> = o
            .result
            .runs
            .iter()
            .zip(&o.reports)
            .filter(|(run, _)| run.variant == vi)
            .map(|(_, r)| r.clone())
            .collect();
        for row in super::super::check::threshold_rows(&reports, slos, &Bootstrap::default())? {
            super::super::json_out::say(
                json,
                &format!(
                    "{name}: {}: {} (interval {}) → {}",
                    row.name,
                    row.current,
                    row.change,
                    row.verdict.label()
                ),
            );
            verdicts.push(row.verdict);
        }
    }
    Ok(policy.exit_code(overall(&verdicts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(variant: usize, p99: f64, rps: f64, ratio: f64) -> CompareRun {
        let mut figures = BTreeMap::new();
        figures.insert("p99_us".to_string(), Some(p99));
        figures.insert("records_per_sec".to_string(), Some(rps));
        figures.insert("compression_ratio".to_string(), Some(ratio));
        CompareRun {
            variant,
            repeat: 1,
            run_dir: String::new(),
            status: crate::report::Status::Complete,
            figures,
            topic: None,
            partitions: None,
            topics: None,
        }
    }

    #[test]
    fn says_who_wins_by_how_much_and_how_sure() {
        let mut runs = Vec::new();
        for (i, jitter) in [0.0, 1.0, -1.0, 0.5].iter().enumerate() {
            runs.push(run(
                0,
                1000.0 + 10.0 * jitter,
                10_000.0 + 100.0 * jitter,
                2.0 + 0.01 * i as f64,
            ));
            runs.push(run(
                1,
                1120.0 + 10.0 * jitter,
                10_000.0 - 100.0 * jitter,
                3.6 + 0.01 * i as f64,
            ));
        }
        let v = versus(&["lz4".into(), "zstd".into()], &runs);
        let s = summary(&v);
        assert!(s.starts_with("zstd vs lz4: p99 12% worse ["), "{s}");
        assert!(s.contains("compression 1.79× better"), "{s}");
        assert!(s.contains("throughput same (within noise)"), "{s}");
    }
}
