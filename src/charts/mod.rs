//! SVG charts of saved results: the latency percentile spectrum (from each run's
//! `latency.hgrm`, i.e. the merged HDR histogram, never from the few percentiles in
//! `report.json`), throughput and p99 over time (from `report.intervals`), and the sweep
//! curve. Charts are derived files: `kprod report DIR` can always redraw them.

mod hgrm;
mod plot;

pub use hgrm::{parse_hgrm, read_hgrm_file, SpectrumPoint};
pub use plot::{color_hex, HLine, Line, Marker};

use crate::report::{self, ReportError, RunReport, HGRM_FILE};
use std::path::{Path, PathBuf};

pub const SPECTRUM_SVG: &str = "latency-spectrum.svg";
pub const TIMELINE_SVG: &str = "throughput-p99.svg";
pub const SWEEP_SVG: &str = "sweep.svg";

/// One run to draw, as a member of a group (a compare variant, or the run itself).
pub struct RunSeries<'a> {
    /// Legend label: the variant name.
    pub label: String,
    /// Palette slot; every repeat of one variant shares it.
    pub color: usize,
    /// Only the first repeat of a variant gets a legend entry.
    pub legend: bool,
    /// The run directory holding `latency.hgrm`.
    pub dir: PathBuf,
    pub report: &'a RunReport,
}

/// Spectrum coordinates (x = 1/(1-p), y = ms) of a percentile distribution. The p = 1 row
/// has no finite x; the row before it already carries the maximum at 3 significant digits.
pub fn spectrum_points(points: &[SpectrumPoint]) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter(|p| p.percentile < 1.0)
        .map(|p| (1.0 / (1.0 - p.percentile), p.value_us as f64 / 1000.0))
        .collect()
}

fn svg_error(path: &Path, e: String) -> ReportError {
    ReportError::Invalid {
        path: path.to_path_buf(),
        message: format!("cannot draw chart: {e}"),
    }
}

fn write_svg(path: PathBuf, svg: Result<String, String>) -> Result<PathBuf, ReportError> {
    let svg = svg.map_err(|e| svg_error(&path, e))?;
    report::write_atomic(&path, svg.as_bytes())?;
    Ok(path)
}

fn run_label(r: &RunReport) -> String {
    if r.profile.is_empty() {
        "base".into()
    } else {
        r.profile.join(" + ")
    }
}

/// Intervals worth drawing over time. The last interval ends with the run, often a few
/// milliseconds after the previous one; its per-second rate (a handful of records over a
/// sliver of time) would draw as a spike that never happened, so a final interval shorter
/// than half a second is left out.
fn timeline_intervals(r: &RunReport) -> impl Iterator<Item = &report::Interval> {
    let n = r.intervals.len();
    r.intervals.iter().enumerate().filter_map(move |(k, i)| {
        let prev = if k == 0 { 0.0 } else { r.intervals[k - 1].t_s };
        // Reports older than the `partial` flag only tell it by the gap.
        let short = (i.partial && i.length_s < 0.5) || (k + 1 == n && i.t_s - prev < 0.5);
        (!short).then_some(i)
    })
}

/// Writes the spectrum and the throughput/p99 timeline of a group of runs into `out`.
pub fn write_group_charts(
    out: &Path,
    title: &str,
    runs: &[RunSeries<'_>],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut spectrum = Vec::with_capacity(runs.len());
    for r in runs {
        let points = read_hgrm_file(&r.dir.join(HGRM_FILE))?;
        spectrum.push(Line {
            label: r.label.clone(),
            legend: r.legend,
            color: r.color,
            points: spectrum_points(&points),
        });
    }
    let series = |f: fn(&report::Interval) -> f64| -> Vec<Line> {
        runs.iter()
            .map(|r| Line {
                label: r.label.clone(),
                legend: r.legend,
                color: r.color,
                points: timeline_intervals(r.report)
                    .map(|i| (i.t_s, f(i)))
                    .collect(),
            })
            .collect()
    };
    let throughput = series(|i| i.records_per_sec);
    let p99 = series(|i| i.p99_us as f64 / 1000.0);
    let warmup = runs.first().map(|r| r.report.measurement.warmup_s);
    Ok(vec![
        write_svg(
            out.join(SPECTRUM_SVG),
            plot::spectrum(&format!("{title}: corrected latency spectrum"), &spectrum),
        )?,
        write_svg(
            out.join(TIMELINE_SVG),
            plot::timeline(
                &format!("{title}: throughput and p99 per second"),
                &throughput,
                &p99,
                warmup,
            ),
        )?,
    ])
}

/// The charts of one bench run, written into its run directory.
pub fn write_run_charts(dir: &Path, report: &RunReport) -> Result<Vec<PathBuf>, ReportError> {
    let label = run_label(report);
    let runs = [RunSeries {
        label: label.clone(),
        color: 0,
        legend: true,
        dir: dir.to_path_buf(),
        report,
    }];
    write_group_charts(dir, &label, &runs)
}

/// [`write_run_charts`] for the end of a run: the report and its data files are already
/// safely written, so a chart that cannot be drawn is a warning, not a failed run.
pub fn write_run_charts_or_warn(dir: &Path, report: &RunReport) {
    if let Err(e) = write_run_charts(dir, report) {
        crate::domain::print_stderr(&format!("warning: charts not written: {e}"));
    }
}

/// Draws a sweep curve into `path` (see [`plot::sweep`]).
pub fn write_sweep_chart(
    path: PathBuf,
    title: &str,
    x_desc: &str,
    lines: &[Line],
    slo: &[HLine],
    knee: Option<&Marker>,
    x_labels: Option<&[String]>,
) -> Result<PathBuf, ReportError> {
    let svg = plot::sweep(title, x_desc, lines, slo, knee, x_labels);
    write_svg(path, svg)
}
