//! SVG charts of saved results and the self-contained `report.html`: the latency
//! percentile spectrum (from each run's `latency.hgrm`, i.e. the merged HDR histogram,
//! never from the few percentiles in `report.json`), throughput and latency over time (from
//! `report.intervals`), the sweep curve, and the HTML page that inlines them (`html`).
//! Everything here is derived: `kprod report DIR` can always redraw it.

mod axis;
pub mod breakdown;
mod hgrm;
pub mod html;
mod plot;
mod svg;
mod timeline;

pub use axis::{percentile_label, rate_tick};
pub use hgrm::{parse_hgrm, read_hgrm_file, SpectrumPoint};
pub use plot::{color_hex, HLine, Line, Marker, SweepChart};
pub use svg::escape;

use crate::report::{self, ReportError, RunReport, HGRM_FILE};
use std::path::{Path, PathBuf};

pub const SPECTRUM_SVG: &str = "latency-spectrum.svg";
pub const TIMELINE_SVG: &str = "throughput-p99.svg";
pub const SWEEP_SVG: &str = "sweep.svg";
pub const REPORT_HTML: &str = "report.html";

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

/// The SVG text of a group's two charts.
#[derive(Debug, Clone)]
pub struct GroupCharts {
    pub spectrum: String,
    pub timeline: String,
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

/// Writes a chart or page atomically (and scrubbed of secrets, as every result file).
fn write_text(path: PathBuf, text: &str) -> Result<PathBuf, ReportError> {
    report::write_atomic(&path, text.as_bytes())?;
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

/// The workload facts of one run for a chart subtitle: rate, size, acks, codec, start.
fn facts(r: &RunReport) -> Vec<String> {
    let p = &r.config.profile;
    let rate = r
        .throughput
        .target_records_per_sec
        .map_or("unlimited rate".to_string(), |t| {
            format!("target {}", rate_tick(t))
        });
    let size = match crate::report::topics::fixed_record_bytes(p) {
        Some((b, false)) => format!("{b} B records"),
        Some((b, true)) => format!("{b:.0} B records (share-weighted over topics)"),
        None if crate::report::topics::has_topic_sizes(p) => "per-topic record sizes".into(),
        None => match p.pointer("/workload/size/kind").and_then(|k| k.as_str()) {
            Some(k) => format!("{k} record sizes"),
            None => "record size n/a".into(),
        },
    };
    let lib = &r.config.librdkafka;
    let acks = format!("acks={}", lib.get("acks").map_or("n/a", String::as_str));
    let codec = lib
        .get("compression.codec")
        .or_else(|| lib.get("compression.type"))
        .map_or("codec n/a".to_string(), |c| format!("codec {c}"));
    let producers = format!(
        "{} producer{}",
        r.producers,
        if r.producers == 1 { "" } else { "s" }
    );
    let date = r
        .started_at
        .get(..16)
        .unwrap_or(&r.started_at)
        .replace('T', " ");
    vec![rate, size, acks, codec, producers, format!("{date} UTC")]
}

/// The subtitle of a group: the facts every run shares (a compare's variants differ in
/// some, which the legend names instead).
pub fn subtitle(reports: &[&RunReport]) -> String {
    let Some(first) = reports.first() else {
        return String::new();
    };
    let mut shared = facts(first);
    for r in &reports[1..] {
        let f = facts(r);
        shared.retain(|x| f.contains(x) || x.ends_with(" UTC"));
    }
    shared.join(" · ")
}

/// Draws a group's spectrum and timeline (SVG text) without writing them.
pub fn group_charts(title: &str, runs: &[RunSeries<'_>]) -> Result<GroupCharts, ReportError> {
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
    let reports: Vec<&RunReport> = runs.iter().map(|r| r.report).collect();
    let sub = subtitle(&reports);
    Ok(GroupCharts {
        spectrum: plot::spectrum(
            &format!("{title}: corrected latency spectrum"),
            &sub,
            &spectrum,
        ),
        timeline: timeline::timeline(
            &format!("{title}: throughput and latency per second"),
            &sub,
            runs,
        ),
    })
}

/// Writes the spectrum and the timeline of a group of runs into `out`.
pub fn write_group_charts(
    out: &Path,
    title: &str,
    runs: &[RunSeries<'_>],
) -> Result<Vec<PathBuf>, ReportError> {
    let c = group_charts(title, runs)?;
    Ok(vec![
        write_text(out.join(SPECTRUM_SVG), &c.spectrum)?,
        write_text(out.join(TIMELINE_SVG), &c.timeline)?,
    ])
}

/// The charts of one run as SVG text.
pub fn run_charts(dir: &Path, report: &RunReport) -> Result<GroupCharts, ReportError> {
    let label = run_label(report);
    let runs = [RunSeries {
        label: label.clone(),
        color: 0,
        legend: true,
        dir: dir.to_path_buf(),
        report,
    }];
    group_charts(&label, &runs)
}

/// The charts and `report.html` of one bench (or merged) run, written into its directory.
pub fn write_run_charts(dir: &Path, report: &RunReport) -> Result<Vec<PathBuf>, ReportError> {
    let c = run_charts(dir, report)?;
    let page = html::run_page(dir, report, &c);
    Ok(vec![
        write_text(dir.join(SPECTRUM_SVG), &c.spectrum)?,
        write_text(dir.join(TIMELINE_SVG), &c.timeline)?,
        write_text(dir.join(REPORT_HTML), &page)?,
    ])
}

/// Rewrites only `report.html` of a run directory, with `extra` blocks under the headline
/// (see [`html::run_page_with`]); the charts and data files are left as they are.
pub fn write_run_page_with(
    dir: &Path,
    report: &RunReport,
    extra: &dyn Fn(&mut html::Page),
) -> Result<PathBuf, ReportError> {
    let c = run_charts(dir, report)?;
    write_text(
        dir.join(REPORT_HTML),
        &html::run_page_with(dir, report, &c, extra),
    )
}

/// [`write_run_charts`] for the end of a run: the report and its data files are already
/// safely written, so a chart that cannot be drawn is a warning, not a failed run.
pub fn write_run_charts_or_warn(dir: &Path, report: &RunReport) {
    if let Err(e) = write_run_charts(dir, report) {
        crate::domain::print_stderr(&format!("warning: charts not written: {e}"));
    }
}

/// Draws a sweep curve (SVG text, see [`plot::sweep`]).
pub fn sweep_chart(c: &SweepChart<'_>) -> String {
    plot::sweep(c)
}

/// Writes `report.html` (any page built with [`html::Page`]) into `dir`.
pub fn write_html(dir: &Path, page: &str) -> Result<PathBuf, ReportError> {
    write_text(dir.join(REPORT_HTML), page)
}
