//! Judging current runs against baseline runs, figure by figure: each figure's change with
//! a bootstrap interval (`crate::verdict`), judged against the allowance of `Thresholds`;
//! absolute `--threshold`s judged on the current runs alone.

use super::{Row, Thresholds};
use crate::error::KprodError;
use crate::report::{self, Interval, RunReport, Status};
use crate::verdict::{
    estimate, Bootstrap, FigureResult, Polarity, Scale, Side, Threshold, Verdict,
};

/// A figure `check` judges: how to read it off a run and off each measured second.
struct Figure {
    name: &'static str,
    polarity: Polarity,
    scale: Scale,
    run: fn(&RunReport) -> f64,
    /// None: the figure has no per-second counterpart (p99.9).
    second: Option<fn(&Interval) -> f64>,
    allowed: fn(&Thresholds) -> Option<f64>,
    fmt: fn(f64) -> String,
}

fn lat(v: f64) -> String {
    report::fmt_latency_us(v.round().max(0.0) as u64)
}

fn errors(r: &RunReport) -> f64 {
    (r.records.failed + r.records.unknown) as f64
}

/// A corrected latency: lower is better, judged relative to the baseline.
const fn latency(
    name: &'static str,
    run: fn(&RunReport) -> f64,
    second: Option<fn(&Interval) -> f64>,
    allowed: fn(&Thresholds) -> Option<f64>,
) -> Figure {
    Figure {
        name,
        polarity: Polarity::LowerIsBetter,
        scale: Scale::Relative,
        run,
        second,
        allowed,
        fmt: lat,
    }
}

const FIGURES: [Figure; 5] = [
    Figure {
        name: "throughput",
        polarity: Polarity::HigherIsBetter,
        scale: Scale::Relative,
        run: |r| r.throughput.records_per_sec,
        second: Some(|i| i.records_per_sec),
        allowed: |t| t.throughput,
        fmt: report::fmt_rate,
    },
    latency(
        "p50",
        |r| r.latency_us.corrected.p50 as f64,
        Some(|i| i.p50_us as f64),
        |t| t.p50,
    ),
    latency(
        "p99",
        |r| r.latency_us.corrected.p99 as f64,
        Some(|i| i.p99_us as f64),
        |t| t.p99,
    ),
    latency(
        "p999",
        |r| r.latency_us.corrected.p999 as f64,
        None,
        |t| t.p999,
    ),
    Figure {
        name: "errors",
        polarity: Polarity::LowerIsBetter,
        scale: Scale::Absolute,
        run: errors,
        second: Some(|i| i.failed as f64),
        allowed: |t| t.errors.map(|e| e as f64),
        fmt: |v| report::fmt_count(v.round().max(0.0) as u64),
    },
];

/// The figure of each run, and each run's measured seconds.
fn values(runs: &[RunReport], f: &Figure) -> (Vec<f64>, Vec<Vec<f64>>) {
    let per_run = runs.iter().map(f.run).collect();
    let seconds = match f.second {
        Some(get) => runs
            .iter()
            .map(|r| {
                r.intervals
                    .iter()
                    .filter(|i| !i.in_warmup)
                    .map(get)
                    .collect()
            })
            .collect(),
        None => Vec::new(),
    };
    (per_run, seconds)
}

fn row(name: &str, allowed: String) -> Row {
    Row {
        name: name.into(),
        baseline: String::new(),
        current: String::new(),
        change: String::new(),
        allowed,
        verdict: Verdict::Pass,
        skipped: false,
        detail: None,
        figure: None,
    }
}

fn no_latency(runs: &[RunReport]) -> bool {
    runs.iter().any(|r| r.latency_us.corrected.count == 0)
}

/// One row per figure with an allowance.
pub fn figure_rows(
    base: &[RunReport],
    cur: &[RunReport],
    t: &Thresholds,
    cfg: &Bootstrap,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for f in &FIGURES {
        let Some(allowed) = (f.allowed)(t) else {
            continue;
        };
        let (bv, bs) = values(base, f);
        let (cv, cs) = values(cur, f);
        let unit = if f.scale == Scale::Relative { "%" } else { "" };
        let word = match (f.scale, f.polarity) {
            (Scale::Absolute, _) => "more",
            (_, Polarity::LowerIsBetter) => "higher",
            _ => "lower",
        };
        let mut r = row(f.name, format!("at most {allowed}{unit} {word}"));
        let is_latency = f.name.starts_with('p');
        if is_latency && no_latency(base) {
            r.skipped = true;
            r.detail = Some("skipped: the baseline has no latency samples".into());
        } else if is_latency && no_latency(cur) {
            r.verdict = Verdict::Fail;
            r.detail = Some("the current run has no latency samples".into());
        } else {
            let (b, c) = (
                Side {
                    runs: &bv,
                    intervals: &bs,
                },
                Side {
                    runs: &cv,
                    intervals: &cs,
                },
            );
            match estimate(b, c, f.scale, cfg) {
                Some(ch) => {
                    let fr =
                        FigureResult::new(f.name, &ch, f.scale, f.polarity).judged(&ch, allowed);
                    r.baseline = (f.fmt)(fr.baseline);
                    r.current = (f.fmt)(fr.current);
                    r.change = fr.change_text();
                    r.verdict = fr.verdict.unwrap_or(Verdict::Pass);
                    r.detail = fr.note.clone();
                    if f.name == "errors" && r.verdict != Verdict::Pass {
                        r.detail = Some(error_names(cur, r.detail.take()));
                    }
                    r.figure = Some(fr);
                }
                None => {
                    r.skipped = true;
                    r.detail = Some(format!("skipped: baseline {} is 0", f.name));
                }
            }
        }
        rows.push(r);
    }
    rows
}

/// The error classes of the current runs, for a failing `errors` row.
fn error_names(cur: &[RunReport], note: Option<String>) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for r in cur {
        for (k, n) in &r.errors {
            *counts.entry(k.as_str()).or_insert(0u64) += n;
        }
    }
    let names: Vec<String> = counts.iter().map(|(k, n)| format!("{k} x{n}")).collect();
    let mut s = format!(
        "more failed or unknown records than the baseline ({})",
        names.join(", ")
    );
    if let Some(n) = note {
        s.push_str(&format!("; {n}"));
    }
    s
}

/// Every current run must be complete with every record accounted for.
pub fn status_row(base: &[RunReport], cur: &[RunReport]) -> Row {
    let word = |runs: &[RunReport]| {
        let mut s: Vec<String> = runs
            .iter()
            .map(|r| format!("{:?}", r.status).to_lowercase())
            .collect();
        s.dedup();
        s.join(", ")
    };
    let mut r = row("run status", "complete, every record accounted for".into());
    r.baseline = word(base);
    r.current = word(cur);
    if let Some(bad) = cur
        .iter()
        .find(|r| r.status != Status::Complete || !r.records.identity_holds)
    {
        r.verdict = Verdict::Fail;
        r.detail = Some(bad.status_reason.clone().unwrap_or_else(|| {
            "sent != delivered + failed + unknown: records unaccounted for".into()
        }));
    }
    r
}

/// The value of a threshold's figure in one run.
fn slo_value(t: &Threshold, r: &RunReport) -> f64 {
    use crate::verdict::slo::SloFigure as F;
    let l = &r.latency_us.corrected;
    match t.figure {
        F::P50 => l.p50 as f64,
        F::P99 => l.p99 as f64,
        F::P999 => l.p999 as f64,
        F::Errors => errors(r),
        F::Throughput => r.throughput.records_per_sec,
    }
}

/// One row per absolute threshold, judged on `runs` alone.
pub fn threshold_rows(
    runs: &[RunReport],
    slos: &[Threshold],
    cfg: &Bootstrap,
) -> Result<Vec<Row>, KprodError> {
    let mut rows = Vec::new();
    let target = runs
        .first()
        .and_then(|r| r.throughput.target_records_per_sec);
    for t in slos {
        let vals: Vec<f64> = runs.iter().map(|r| slo_value(t, r)).collect();
        let fr = t.evaluate(&vals, target, cfg).map_err(|m| {
            KprodError::flag(
                "--threshold",
                m,
                "give throughput in records/s, e.g. throughput>=50k/s",
            )
        })?;
        let fmt = |v: f64| match t.figure {
            crate::verdict::slo::SloFigure::Throughput => report::fmt_rate(v),
            crate::verdict::slo::SloFigure::Errors => report::fmt_count(v.round().max(0.0) as u64),
            _ => lat(v),
        };
        let mut r = row(&format!("threshold {}", t.expr), t.expr.clone());
        r.baseline = format!("bound {}", fmt(fr.baseline));
        r.current = fmt(fr.current);
        r.change = format!(
            "[{} .. {}]",
            fmt(fr.ci_low + fr.baseline),
            fmt(fr.ci_high + fr.baseline)
        );
        r.verdict = fr.verdict.unwrap_or(Verdict::Pass);
        r.figure = Some(fr);
        rows.push(r);
    }
    Ok(rows)
}

/// Where the mean latency change came from, and on each latency row that moved (worse
/// or better, not within noise) the phrase after its detail: "mostly broker RTT (+2.1 ms
/// of +2.6 ms mean change)".
pub fn attribute(
    rows: &mut [Row],
    baseline: &[RunReport],
    current: &[RunReport],
) -> Option<crate::report::attribution::Attribution> {
    let b: Vec<_> = (baseline.iter())
        .filter_map(|r| r.latency_breakdown_us.as_ref())
        .collect();
    let c: Vec<_> = (current.iter())
        .filter_map(|r| r.latency_breakdown_us.as_ref())
        .collect();
    let a = crate::report::attribution::attribute(&b, &c)?;
    for r in rows.iter_mut() {
        let moved = r
            .figure
            .as_ref()
            .is_some_and(|f| !f.direction().starts_with("same"));
        if ["p50", "p99", "p999"].contains(&r.name.as_str()) && moved {
            r.detail = Some(match r.detail.take() {
                Some(d) => format!("{d}; {}", a.phrase()),
                None => a.phrase(),
            });
        }
    }
    Some(a)
}
