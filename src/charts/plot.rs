//! Drawing: the parts every chart shares (title and subtitle, a legend row above the data,
//! the plot frame with grid and tick labels, clipping to the plot) and the spectrum and
//! sweep charts. The timeline has its own file (`timeline.rs`). Data preparation (which
//! runs, which files) lives in `charts/mod.rs`; this file only draws.

use super::axis::{self, Axis};
use super::svg::{text_width, Anchor, Doc, Stroke};

/// A polyline of one series. Several lines may share a colour (repeats of one variant);
/// only those with `legend` set get a legend entry.
#[derive(Debug, Clone)]
pub struct Line {
    pub label: String,
    pub legend: bool,
    pub color: usize,
    pub points: Vec<(f64, f64)>,
}

/// A horizontal reference line (an SLO threshold), in the y unit of the chart.
#[derive(Debug, Clone)]
pub struct HLine {
    pub label: String,
    pub y: f64,
}

/// A labelled marker (the sweep's knee, a saturated step).
#[derive(Debug, Clone)]
pub struct Marker {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

pub(super) const PALETTE: [&str; 8] = [
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F",
];
pub(super) const REFERENCE: &str = "#555555";
pub(super) const GRID: &str = "#E4E4E4";
pub(super) const INK: &str = "#222222";
pub(super) const MUTED: &str = "#666666";
pub(super) const WIDTH: f64 = 960.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 30.0;

/// The colour of palette slot `i` as the SVG writes it (`#RRGGBB`).
pub fn color_hex(i: usize) -> String {
    PALETTE[i % PALETTE.len()].to_string()
}

pub(super) fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// What a legend entry shows before its label.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key {
    Line(Stroke),
    Swatch(&'static str, f64),
    Triangle(&'static str),
    Ring,
    Cross(&'static str),
}

/// Title and subtitle; returns the y below them.
pub(super) fn header(doc: &mut Doc, title: &str, subtitle: &str) -> f64 {
    doc.text(LEFT - 60.0, 26.0, 18, Anchor::Start, INK, title);
    if subtitle.is_empty() {
        return 38.0;
    }
    doc.text(LEFT - 60.0, 46.0, 13, Anchor::Start, MUTED, subtitle);
    56.0
}

/// A legend laid out in rows from `top`, above the plot so it never covers data;
/// returns the y below it.
pub(super) fn legend(doc: &mut Doc, top: f64, entries: &[(Key, String)]) -> f64 {
    if entries.is_empty() {
        return top;
    }
    let (x0, x_max, row_h) = (LEFT, WIDTH - RIGHT, 20.0);
    let (mut x, mut y) = (x0, top + 12.0);
    for (key, label) in entries {
        let w = 26.0 + text_width(label, 13) + 18.0;
        if x > x0 && x + w > x_max {
            x = x0;
            y += row_h;
        }
        let mid = y - 4.0;
        match key {
            Key::Line(s) => doc.polyline(&[(x, mid), (x + 20.0, mid)], *s),
            Key::Swatch(fill, op) => doc.rect(x, mid - 6.0, 20.0, 12.0, fill, *op),
            Key::Triangle(fill) => doc.up_triangle((x + 10.0, mid - 6.0), 5.0, fill),
            Key::Ring => doc.circle((x + 10.0, mid), 6.0, Stroke::solid(INK, 2.0), None),
            Key::Cross(c) => doc.cross((x + 10.0, mid), 5.0, Stroke::solid(c, 2.5)),
        }
        doc.text(x + 26.0, y, 13, Anchor::Start, INK, label);
        x += w;
    }
    y + 10.0
}

/// The data area of one chart and its axes.
pub(super) struct Plot {
    pub x: Axis,
    pub y: Axis,
}

impl Plot {
    /// A plot whose data area spans `top..bottom` vertically and the chart's width.
    pub fn new(top: f64, bottom: f64, x: (f64, f64, bool), y: (f64, f64)) -> Plot {
        let (l, r) = (LEFT, WIDTH - RIGHT);
        let xa = if x.2 {
            Axis::log(x.0, x.1, l, r)
        } else {
            Axis::linear(x.0, x.1, l, r)
        };
        Plot {
            x: xa,
            y: Axis::linear(y.0, y.1, bottom, top),
        }
    }

    pub fn left(&self) -> f64 {
        self.x.p0
    }
    pub fn right(&self) -> f64 {
        self.x.p1
    }
    pub fn top(&self) -> f64 {
        self.y.p1
    }
    pub fn bottom(&self) -> f64 {
        self.y.p0
    }

    /// Pixel of a data point, y clamped into the plot: a value above the range is drawn
    /// on the top edge (and marked by the caller), never outside the frame.
    pub fn pt(&self, p: (f64, f64)) -> (f64, f64) {
        let y = p.1.clamp(self.y.lo, self.y.hi);
        (self.x.px(p.0), self.y.px(y))
    }

    pub fn clipped(&self, p: (f64, f64)) -> bool {
        p.1 > self.y.hi
    }

    /// Shades the x span `from..to` over the whole plot height.
    pub fn shade(&self, doc: &mut Doc, from: f64, to: f64, fill: &str, opacity: f64) {
        let (a, b) = (self.x.px(from.max(self.x.lo)), self.x.px(to.min(self.x.hi)));
        if b > a {
            doc.rect(
                a,
                self.top(),
                b - a,
                self.bottom() - self.top(),
                fill,
                opacity,
            );
        }
    }

    /// Grid, frame, tick labels and axis descriptions.
    pub fn axes(
        &self,
        doc: &mut Doc,
        x_ticks: &[(f64, String)],
        y_ticks: &[(f64, String)],
        x_desc: &str,
        y_desc: &str,
    ) {
        let grid = Stroke::solid(GRID, 1.0);
        for (v, label) in y_ticks {
            let y = self.y.px(*v);
            doc.line((self.left(), y), (self.right(), y), grid);
            doc.text(self.left() - 8.0, y + 4.0, 12, Anchor::End, INK, label);
        }
        for (v, label) in x_ticks {
            let x = self.x.px(*v);
            doc.line((x, self.top()), (x, self.bottom()), grid);
            doc.text(x, self.bottom() + 18.0, 12, Anchor::Middle, INK, label);
        }
        doc.frame(
            self.left(),
            self.top(),
            self.right() - self.left(),
            self.bottom() - self.top(),
            Stroke::solid("#999999", 1.0),
        );
        let mid_x = (self.left() + self.right()) / 2.0;
        doc.text(mid_x, self.bottom() + 38.0, 13, Anchor::Middle, INK, x_desc);
        doc.vtext(
            self.left() - 62.0,
            (self.top() + self.bottom()) / 2.0,
            13,
            y_desc,
        );
    }

    /// A series drawn as one polyline (clamped); returns the x of each clipped point.
    pub fn series(&self, doc: &mut Doc, points: &[(f64, f64)], stroke: Stroke) -> Vec<f64> {
        let px: Vec<(f64, f64)> = points.iter().map(|p| self.pt(*p)).collect();
        doc.polyline(&px, stroke);
        points
            .iter()
            .filter(|p| self.clipped(**p))
            .map(|p| p.0)
            .collect()
    }

    /// A horizontal line across the plot at `y`.
    pub fn hline(&self, doc: &mut Doc, y: f64, stroke: Stroke) {
        let py = self.y.px(y);
        doc.line((self.left(), py), (self.right(), py), stroke);
    }

    /// Triangles on the top edge where a series was clipped.
    pub fn clip_marks(&self, doc: &mut Doc, xs: &[f64], fill: &str) {
        for x in xs {
            doc.up_triangle((self.x.px(*x), self.top() + 1.0), 4.0, fill);
        }
    }
}

/// y ticks with one shared number of decimals.
pub(super) fn y_ticks(a: &Axis, target: usize) -> Vec<(f64, String)> {
    let t = a.ticks(target);
    let labels = axis::uniform_labels(&t);
    t.into_iter().zip(labels).collect()
}

/// Highest finite y of the lines and references; 0 when there is none.
pub(super) fn y_max(lines: &[Line], refs: &[HLine]) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(refs.iter().map(|r| r.y))
        .filter(|y| y.is_finite())
        .fold(0.0f64, f64::max)
}

/// 0 up to `hi` with headroom; a degenerate range becomes a visible one.
pub(super) fn headroom(hi: f64) -> f64 {
    if hi > 0.0 {
        hi * 1.08
    } else {
        1.0
    }
}

fn x_extent(lines: &[Line]) -> Option<(f64, f64)> {
    let xs = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .filter(|x| x.is_finite());
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    lo.is_finite().then_some((lo, hi))
}

fn legend_lines(lines: &[Line]) -> Vec<(Key, String)> {
    lines
        .iter()
        .filter(|l| l.legend)
        .map(|l| {
            (
                Key::Line(Stroke::solid(color(l.color), 2.0)),
                l.label.clone(),
            )
        })
        .collect()
}

/// Latency percentile spectrum: x = 1/(1-p) on a log axis labelled as percentiles,
/// y = latency in milliseconds; every run overlaid.
pub fn spectrum(title: &str, subtitle: &str, lines: &[Line]) -> String {
    let height = 600.0;
    let mut doc = Doc::new(WIDTH, height);
    let y0 = header(&mut doc, title, subtitle);
    let top = legend(&mut doc, y0, &legend_lines(lines)) + 6.0;
    let hi = x_extent(lines).map_or(10.0, |(_, h)| h);
    // Whole decades, so the last label is a round percentile such as 99.99%.
    let x_hi = 10f64.powf(hi.max(10.0).log10().ceil());
    let plot = Plot::new(
        top,
        height - 56.0,
        (1.0, x_hi, true),
        (0.0, headroom(y_max(lines, &[]))),
    );
    let decades = x_hi.log10().round() as i32;
    let x_ticks: Vec<(f64, String)> = (0..=decades)
        .map(|d| {
            let v = 10f64.powi(d);
            (v, axis::percentile_label(v))
        })
        .collect();
    plot.axes(
        &mut doc,
        &x_ticks,
        &y_ticks(&plot.y, 8),
        "percentile (axis is 1/(1-p), log scale)",
        "corrected latency (ms)",
    );
    for l in lines {
        plot.series(&mut doc, &l.points, Stroke::solid(color(l.color), 2.0));
    }
    doc.finish()
}

/// What the sweep chart shows besides its latency lines.
pub struct SweepChart<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    pub x_desc: &'a str,
    pub lines: &'a [Line],
    pub slo: &'a [HLine],
    pub knee: Option<&'a Marker>,
    /// Saturated steps, at their p99.
    pub saturated: &'a [Marker],
    /// Categorical sweeps (`--param`): one label per integer x position.
    pub x_labels: Option<&'a [String]>,
}

/// Sweep curve: latency percentiles (ms) against the achieved rate, with the SLO lines,
/// the knee and the saturated steps. Rates that span a factor of 3 or more (doubling
/// steps) get a log x axis, so the low steps are not crammed against zero.
pub fn sweep(c: &SweepChart<'_>) -> String {
    let height = 600.0;
    let mut doc = Doc::new(WIDTH, height);
    let y0 = header(&mut doc, c.title, c.subtitle);
    let mut keys = legend_lines(c.lines);
    for h in c.slo {
        keys.push((
            Key::Line(Stroke::dashed(REFERENCE, 2.0, "8 4")),
            h.label.clone(),
        ));
    }
    if let Some(k) = c.knee {
        keys.push((Key::Ring, k.label.clone()));
    }
    if !c.saturated.is_empty() {
        keys.push((Key::Cross(PALETTE[3]), "saturated step".into()));
    }
    let top = legend(&mut doc, y0, &keys) + 6.0;
    let (lo, hi) = x_extent(c.lines).unwrap_or((0.0, 1.0));
    let log = c.x_labels.is_none() && lo > 0.0 && hi / lo >= 3.0;
    let x = match c.x_labels {
        Some(_) => (lo - 0.5, hi + 0.5, false),
        None if log => (lo / 1.15, hi * 1.15, true),
        None => {
            let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.05).max(1e-9);
            ((lo - pad).max(0.0), hi + pad, false)
        }
    };
    let plot = Plot::new(
        top,
        height - 56.0,
        x,
        (0.0, headroom(y_max(c.lines, c.slo))),
    );
    let x_ticks: Vec<(f64, String)> = match c.x_labels {
        Some(labels) => labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i as f64, l.clone()))
            .collect(),
        None => plot
            .x
            .ticks(6)
            .into_iter()
            .map(|v| (v, axis::rate_tick(v)))
            .collect(),
    };
    let x_desc = if log {
        format!("{} (log scale)", c.x_desc)
    } else {
        c.x_desc.to_string()
    };
    plot.axes(
        &mut doc,
        &x_ticks,
        &y_ticks(&plot.y, 8),
        &x_desc,
        "corrected latency (ms)",
    );
    for h in c.slo {
        plot.hline(&mut doc, h.y, Stroke::dashed(REFERENCE, 2.0, "8 4"));
    }
    for l in c.lines {
        let col = color(l.color);
        plot.series(&mut doc, &l.points, Stroke::solid(col, 2.0));
        for p in &l.points {
            doc.circle(plot.pt(*p), 3.0, Stroke::solid(col, 1.0), Some(col));
        }
    }
    for s in c.saturated {
        doc.cross(plot.pt((s.x, s.y)), 7.0, Stroke::solid(PALETTE[3], 2.5));
    }
    if let Some(k) = c.knee {
        doc.circle(plot.pt((k.x, k.y)), 9.0, Stroke::solid(INK, 2.0), None);
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_data_still_renders_a_chart() {
        let svg = spectrum("empty", "", &[]);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("empty"));
    }

    #[test]
    fn clamped_points_stay_inside_the_frame() {
        let p = Plot::new(100.0, 300.0, (0.0, 10.0, false), (0.0, 5.0));
        assert_eq!(p.pt((0.0, 50.0)).1, 100.0);
        assert!(p.clipped((0.0, 50.0)));
        assert!(!p.clipped((0.0, 5.0)));
    }
}
