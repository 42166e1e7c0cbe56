//! The timeline chart (`throughput-p99.svg`): delivered records/s on top, corrected latency
//! per second below, over run time, with the warm-up and fault seconds shaded and the target
//! rate drawn.
//!
//! The y ranges are robust: latency goes up to the measured window's p99.9 (or the highest
//! measured per-second p99 or p99.9, if higher), throughput up to the measured seconds'
//! peak or the target. A warm-up spike (a 500 ms first second) or a per-second max above
//! that is drawn on the top edge and marked with a triangle, so it cannot flatten the
//! steady 11 ms p99. The lines are p50, p99 and p99.9 per second; one run also gets a thin
//! dotted per-second max. Reports older than `Interval::p999_us` (all zero) get no p99.9
//! line rather than a false one at 0 ms.

use super::plot::{self, color, header, legend, Key, Plot, INK, PALETTE, REFERENCE};
use super::svg::{Doc, Stroke};
use super::{axis, timeline_intervals, RunSeries};
use crate::report::Interval;

const WARMUP_FILL: &str = "#9E9E9E";
const FAULT_FILL: &str = "#FF7F0E";
const PANEL_H: f64 = 250.0;
/// Several runs: p99.9 dotted, beside p99 solid and p50 dashed.
const P999_DASH: &str = "1.5 3";

type Pts = Vec<(f64, f64)>;

fn pts(r: &RunSeries<'_>, f: impl Fn(&Interval) -> f64) -> Pts {
    timeline_intervals(r.report)
        .map(|i| (i.t_s, f(i)))
        .collect()
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Highest value among the seconds that lie wholly after the warm-up, in every run. A
/// second that straddles the end of the warm-up (a 500 ms warm-up ends inside the first
/// second) still holds the start-up spike, so it does not set the scale either.
fn measured_max(runs: &[RunSeries<'_>], f: impl Fn(&Interval) -> f64) -> f64 {
    runs.iter()
        .flat_map(|r| {
            let warmup = r.report.measurement.warmup_s;
            timeline_intervals(r.report)
                .filter(move |i| !i.in_warmup && i.t_s - i.length_s >= warmup - 1e-6)
        })
        .map(&f)
        .fold(0.0, f64::max)
}

fn all_max(runs: &[RunSeries<'_>], f: impl Fn(&Interval) -> f64) -> f64 {
    runs.iter()
        .flat_map(|r| timeline_intervals(r.report))
        .map(&f)
        .fold(0.0, f64::max)
}

/// Whether the run's intervals carry a per-second p99.9 (reports written before the field
/// read it as 0 in every second).
fn has_p999(r: &RunSeries<'_>) -> bool {
    r.report.intervals.iter().any(|i| i.p999_us > 0)
}

/// Seconds in which a fault was in force, merged into spans, and the faults' names.
fn fault_spans(runs: &[RunSeries<'_>]) -> (Vec<(f64, f64)>, Vec<String>) {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut secs: Vec<(f64, f64, &str)> = runs
        .iter()
        .flat_map(|r| r.report.intervals.iter())
        .filter_map(|i| Some((i.t_s - i.length_s, i.t_s, i.fault.as_deref()?)))
        .collect();
    secs.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (a, b, f) in secs {
        match spans.last_mut() {
            Some(last) if a <= last.1 + 1e-6 => last.1 = last.1.max(b),
            _ => spans.push((a, b)),
        }
        for part in f.split("; ") {
            if !names.iter().any(|n| n == part) {
                names.push(part.to_string());
            }
        }
    }
    (spans, names)
}

/// Draws the two panels for a group of runs. One run draws p50, p99 and p99.9 in three
/// colours and the per-second max thin and dotted; several runs draw one colour each, p99
/// solid, p50 dashed and p99.9 dotted.
pub fn timeline(title: &str, subtitle: &str, runs: &[RunSeries<'_>]) -> String {
    let mut doc = Doc::new(plot::WIDTH, 800.0);
    let single = runs.len() == 1;
    let warmup = runs
        .iter()
        .map(|r| r.report.measurement.warmup_s)
        .fold(0.0, f64::max);
    let x_hi = all_max(runs, |i| i.t_s).max(warmup).max(1.0);
    let (faults, fault_names) = fault_spans(runs);
    // A run in load stages draws its stage curve; its single target is only their mean.
    let curves: Vec<Pts> = runs
        .iter()
        .map(|r| {
            r.report
                .stages
                .iter()
                .flat_map(|s| s.target_curve.iter().copied())
                .collect()
        })
        .collect();
    let mut targets: Vec<f64> = runs
        .iter()
        .filter(|r| r.report.stages.is_empty())
        .filter_map(|r| r.report.throughput.target_records_per_sec)
        .filter(|t| t.is_finite() && *t > 0.0)
        .collect();
    targets.sort_by(f64::total_cmp);
    targets.dedup();

    let shading = |doc: &mut Doc, p: &Plot| {
        if warmup > 0.0 {
            p.shade(doc, 0.0, warmup, WARMUP_FILL, 0.18);
        }
        for (a, b) in &faults {
            p.shade(doc, *a, *b, FAULT_FILL, 0.16);
        }
    };
    let span_keys = |keys: &mut Vec<(Key, String)>| {
        if warmup > 0.0 {
            keys.push((
                Key::Swatch(WARMUP_FILL, 0.35),
                "warm-up (excluded from results)".into(),
            ));
        }
        if !faults.is_empty() {
            keys.push((
                Key::Swatch(FAULT_FILL, 0.3),
                format!("fault: {}", fault_names.join("; ")),
            ));
        }
    };
    let x_ticks: Vec<(f64, String)> = {
        let t = axis::linear_ticks(0.0, x_hi, 10);
        let labels = axis::uniform_labels(&t);
        t.into_iter().zip(labels).collect()
    };
    let y0 = header(&mut doc, title, subtitle);

    // Throughput panel.
    let rps = |i: &Interval| i.records_per_sec;
    let mut hi = measured_max(runs, rps);
    if hi <= 0.0 {
        hi = all_max(runs, rps);
    }
    let hi = targets.iter().fold(hi, |a, t| a.max(*t));
    let hi = curves.iter().flatten().fold(hi, |a, p| a.max(p.1));
    let mut keys: Vec<(Key, String)> = Vec::new();
    for r in runs.iter().filter(|r| r.legend) {
        let label = if single {
            "delivered records/s".to_string()
        } else {
            r.label.clone()
        };
        keys.push((Key::Line(Stroke::solid(color(r.color), 2.0)), label));
    }
    for t in &targets {
        keys.push((
            Key::Line(Stroke::dashed(REFERENCE, 1.5, "6 4")),
            format!("target {}", axis::rate_tick(*t)),
        ));
    }
    if curves.iter().any(|c| !c.is_empty()) {
        keys.push((
            Key::Line(Stroke::dashed(REFERENCE, 1.5, "6 4")),
            "target (load stages)".to_string(),
        ));
    }
    // One run with consumers: what they read per second, dotted in the run's colour.
    let consumed = runs
        .first()
        .filter(|r| single && r.report.consumers.is_some())
        .map(|r| {
            (
                Stroke::dashed(color(r.color), 1.5, "2 3"),
                pts(r, |i| i.consumed_per_sec),
            )
        });
    if let Some((stroke, _)) = &consumed {
        keys.push((Key::Line(*stroke), "consumed records/s".to_string()));
    }
    span_keys(&mut keys);
    let series: Vec<Pts> = runs.iter().map(|r| pts(r, rps)).collect();
    let peak = series.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let y_hi = plot::headroom(hi);
    if peak > y_hi {
        keys.push((
            Key::Triangle(INK),
            format!("clipped (peak {})", axis::rate_tick(peak.round())),
        ));
    }
    let top = legend(&mut doc, y0, &keys) + 6.0;
    let p = Plot::new(top, top + PANEL_H, (0.0, x_hi, false), (0.0, y_hi));
    shading(&mut doc, &p);
    let y_ticks: Vec<(f64, String)> =
        p.y.ticks(6)
            .into_iter()
            .map(|v| (v, axis::rate_tick(v)))
            .collect();
    p.axes(
        &mut doc,
        &x_ticks,
        &y_ticks,
        "seconds since start",
        "delivered records/s",
    );
    for t in &targets {
        p.hline(&mut doc, *t, Stroke::dashed(REFERENCE, 1.5, "6 4"));
    }
    for c in curves.iter().filter(|c| !c.is_empty()) {
        p.series(&mut doc, c, Stroke::dashed(REFERENCE, 1.5, "6 4"));
    }
    for (r, s) in runs.iter().zip(&series) {
        let clipped = p.series(&mut doc, s, Stroke::solid(color(r.color), 2.0));
        p.clip_marks(&mut doc, &clipped, INK);
    }
    if let Some((stroke, pts)) = consumed {
        // A drain faster than production may pass the top: clipped and marked.
        let clipped = p.series(&mut doc, &pts, stroke);
        p.clip_marks(&mut doc, &clipped, INK);
    }

    // Latency panel.
    let p99 = |i: &Interval| ms(i.p99_us);
    let p999 = |i: &Interval| ms(i.p999_us);
    let robust = runs
        .iter()
        .map(|r| ms(r.report.latency_us.corrected.p999))
        .fold(measured_max(runs, p99), f64::max)
        .max(measured_max(runs, p999));
    let mut hi = if robust > 0.0 {
        robust
    } else {
        all_max(runs, p99)
    };
    // One run also draws the per-second max: a measured max within 3× of the range is
    // shown whole; a larger one is an outlier, clipped and marked like the warm-up.
    let measured_peak = measured_max(runs, |i| ms(i.max_us));
    if single && measured_peak <= 3.0 * hi {
        hi = hi.max(measured_peak);
    }
    let y_hi = plot::headroom(hi);
    let mut lines: Vec<(usize, Stroke, Pts)> = Vec::new();
    let mut keys: Vec<(Key, String)> = Vec::new();
    if single {
        let r = &runs[0];
        let has_p999 = has_p999(r);
        for (name, stroke, f) in [
            (
                "p50",
                Stroke::solid(PALETTE[2], 2.0),
                (|i: &Interval| ms(i.p50_us)) as fn(&Interval) -> f64,
            ),
            ("p99", Stroke::solid(PALETTE[0], 2.0), p99),
            ("p99.9", Stroke::solid(PALETTE[4], 2.0), p999),
            (
                "max (per second)",
                Stroke::dashed(PALETTE[7], 1.2, "2 3"),
                |i: &Interval| ms(i.max_us),
            ),
        ] {
            if name == "p99.9" && !has_p999 {
                continue;
            }
            keys.push((Key::Line(stroke), name.to_string()));
            lines.push((0, stroke, pts(r, f)));
        }
    } else {
        for r in runs {
            let c = color(r.color);
            lines.push((r.color, Stroke::solid(c, 2.0), pts(r, p99)));
            lines.push((
                r.color,
                Stroke::dashed(c, 1.5, "5 3"),
                pts(r, |i| ms(i.p50_us)),
            ));
            if has_p999(r) {
                lines.push((r.color, Stroke::dashed(c, 1.5, P999_DASH), pts(r, p999)));
            }
            if r.legend {
                keys.push((Key::Line(Stroke::solid(c, 2.0)), r.label.clone()));
            }
        }
        keys.push((Key::Line(Stroke::dashed(INK, 1.5, "5 3")), "p50".into()));
        keys.push((Key::Line(Stroke::solid(INK, 2.0)), "p99".into()));
        if runs.iter().any(has_p999) {
            keys.push((
                Key::Line(Stroke::dashed(INK, 1.5, P999_DASH)),
                "p99.9".into(),
            ));
        }
    }
    span_keys(&mut keys);
    let peak = lines
        .iter()
        .flat_map(|l| l.2.iter())
        .map(|p| p.1)
        .fold(0.0, f64::max);
    if peak > y_hi {
        keys.push((
            Key::Triangle(INK),
            format!("clipped above {y_hi:.1} ms (peak {peak:.1} ms)"),
        ));
    }
    let top = legend(&mut doc, p.bottom() + 50.0, &keys) + 6.0;
    let p = Plot::new(top, top + PANEL_H, (0.0, x_hi, false), (0.0, y_hi));
    shading(&mut doc, &p);
    p.axes(
        &mut doc,
        &x_ticks,
        &plot::y_ticks(&p.y, 7),
        "seconds since start",
        "corrected latency (ms)",
    );
    for (_, stroke, s) in &lines {
        let clipped = p.series(&mut doc, s, *stroke);
        p.clip_marks(&mut doc, &clipped, INK);
    }
    doc.set_height(p.bottom() + 56.0);
    doc.finish()
}
