//! The plotters drawing code: three chart shapes rendered to SVG strings. Data preparation
//! (which runs, which files) lives in `charts/mod.rs`; this file only draws.
//!
//! plotters runs without a font backend here: SVG text is written as `<text>` elements and
//! the viewer's fonts render it, while layout uses plotters' built-in size estimate.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

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

/// A labelled marker (the sweep's knee).
#[derive(Debug, Clone)]
pub struct Marker {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];
const REFERENCE: RGBColor = RGBColor(96, 96, 96);
const SIZE: (u32, u32) = (960, 600);
const FONT: &str = "sans-serif";

/// The colour of palette slot `i` as the SVG writes it (`#RRGGBB`), for tests.
pub fn color_hex(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Lowest and highest y of the lines and references, padded so nothing sits on the frame;
/// a degenerate or empty range becomes a visible one.
fn y_range(lines: &[Line], refs: &[HLine]) -> std::ops::Range<f64> {
    let ys = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(refs.iter().map(|r| r.y))
        .filter(|y| y.is_finite());
    let hi = ys.fold(0.0f64, f64::max);
    0.0..if hi > 0.0 { hi * 1.08 } else { 1.0 }
}

fn x_range(lines: &[Line]) -> (f64, f64) {
    let xs: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .filter(|x| x.is_finite())
        .collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi > lo {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 0.5, lo + 0.5)
    } else {
        (0.0, 1.0)
    }
}

/// `1/(1-p)` axis labels as percentiles: 10 -> "90%", 1000 -> "99.9%".
fn percentile_label(x: &f64) -> String {
    if *x <= 1.0 {
        return "0%".into();
    }
    let pct = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{pct:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

fn draw_legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()
        .map_err(err)
}

fn lines_into<'a, 'b: 'a, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    lines: &[Line],
) -> Result<(), String> {
    for l in lines {
        let c = color(l.color);
        let series = chart
            .draw_series(LineSeries::new(l.points.iter().copied(), c.stroke_width(2)))
            .map_err(err)?;
        if l.legend {
            series.label(l.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
            });
        }
    }
    Ok(())
}

fn finish(root: DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String> {
    root.present().map_err(err)
}

/// Latency percentile spectrum: x = 1/(1-p) on a log axis labelled as percentiles,
/// y = latency in milliseconds.
pub fn spectrum(title: &str, lines: &[Line]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (_, hi) = x_range(lines);
        // Whole decades, so the last label is a round percentile such as 99.99%.
        let x_hi = 10f64.powf(hi.max(10.0).log10().ceil());
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            // Room for the last percentile label, which is centred on the right edge.
            .margin_right(40)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((1.0f64..x_hi).log_scale(), y_range(lines, &[]))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile (axis is 1/(1-p), log scale)")
            .y_desc("corrected latency (ms)")
            .x_label_formatter(&percentile_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        lines_into(&mut chart, lines)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        finish(root)?;
    }
    Ok(svg)
}

/// Two panels over run time: delivered records/s on top, corrected p99 (ms) below.
/// `warmup_end_s` draws the end of the warm-up on both panels.
pub fn timeline(
    title: &str,
    throughput: &[Line],
    p99: &[Line],
    warmup_end_s: Option<f64>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, SIZE.1 + 200)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, (FONT, 22)).map_err(err)?;
        let (top, bottom) = root.split_vertically((SIZE.1 + 160) / 2);
        let (x_lo, x_hi) = x_range(&[throughput, p99].concat());
        let x = x_lo.min(0.0)..x_hi;
        // Throughput sits high and latency low in their panels: keep the legend off them.
        let panels = [
            (
                top,
                throughput,
                "delivered records/s",
                SeriesLabelPosition::LowerRight,
            ),
            (
                bottom,
                p99,
                "corrected p99 (ms)",
                SeriesLabelPosition::UpperRight,
            ),
        ];
        for (area, lines, desc, legend_at) in panels {
            let mut chart = ChartBuilder::on(&area)
                .margin(16)
                .x_label_area_size(45)
                .y_label_area_size(80)
                .build_cartesian_2d(x.clone(), y_range(lines, &[]))
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("seconds since start")
                .y_desc(desc)
                .y_label_formatter(&|v: &f64| crate::report::fmt_count(v.round().max(0.0) as u64))
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 16))
                .draw()
                .map_err(err)?;
            lines_into(&mut chart, lines)?;
            if let Some(w) = warmup_end_s.filter(|w| *w > 0.0) {
                let top_y = y_range(lines, &[]).end;
                chart
                    .draw_series(LineSeries::new(
                        [(w, 0.0), (w, top_y)],
                        REFERENCE.stroke_width(1),
                    ))
                    .map_err(err)?
                    .label("end of warm-up")
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], REFERENCE.stroke_width(1))
                    });
            }
            draw_legend(&mut chart, legend_at)?;
        }
        finish(root)?;
    }
    Ok(svg)
}

/// Sweep curve: latency percentiles (ms) against the achieved rate, with the SLO lines
/// and the knee. `x_labels` (categorical sweeps such as `--param`) replaces the numeric x
/// labels with one label per integer position.
pub fn sweep(
    title: &str,
    x_desc: &str,
    lines: &[Line],
    slo: &[HLine],
    knee: Option<&Marker>,
    x_labels: Option<&[String]>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (lo, hi) = x_range(lines);
        let pad = (hi - lo) * 0.05;
        let x = match x_labels {
            Some(_) => (lo - 0.5)..(hi + 0.5),
            None => (lo - pad).max(0.0)..(hi + pad),
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y_range(lines, slo))
            .map_err(err)?;
        let categorical = |v: &f64| -> String {
            let i = v.round();
            match x_labels {
                Some(labels) if (v - i).abs() < 1e-6 && i >= 0.0 => {
                    labels.get(i as usize).cloned().unwrap_or_default()
                }
                Some(_) => String::new(),
                None => crate::report::fmt_rate(*v),
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(x_desc)
            .y_desc("corrected latency (ms)")
            .x_label_formatter(&categorical)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16));
        if let Some(labels) = x_labels {
            mesh.x_labels(labels.len().max(2));
        }
        mesh.draw().map_err(err)?;
        lines_into(&mut chart, lines)?;
        for l in lines {
            let c = color(l.color);
            chart
                .draw_series(l.points.iter().map(|p| Circle::new(*p, 3, c.filled())))
                .map_err(err)?;
        }
        references(&mut chart, slo, knee)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        finish(root)?;
    }
    Ok(svg)
}

/// The SLO lines across the whole x range and the knee's ring, with legend entries.
fn references<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    slo: &[HLine],
    knee: Option<&Marker>,
) -> Result<(), String> {
    let x_span = chart.x_range();
    for h in slo {
        chart
            .draw_series(LineSeries::new(
                [(x_span.start, h.y), (x_span.end, h.y)],
                REFERENCE.stroke_width(2),
            ))
            .map_err(err)?
            .label(h.label.clone())
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], REFERENCE.stroke_width(2))
            });
    }
    if let Some(k) = knee {
        chart
            .draw_series(std::iter::once(Circle::new(
                (k.x, k.y),
                8,
                BLACK.stroke_width(2),
            )))
            .map_err(err)?
            .label(k.label.clone())
            .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.stroke_width(2)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels_read_as_percentiles() {
        assert_eq!(percentile_label(&1.0), "0%");
        assert_eq!(percentile_label(&10.0), "90%");
        assert_eq!(percentile_label(&100.0), "99%");
        assert_eq!(percentile_label(&1000.0), "99.9%");
        assert_eq!(percentile_label(&2.0), "50%");
    }

    #[test]
    fn empty_data_still_renders_a_chart() {
        let svg = spectrum("empty", &[]).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("empty"));
    }
}
