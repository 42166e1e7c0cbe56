//! The latency breakdown bar of `report.html`: the run's mean corrected latency as one
//! horizontal bar cut into the stages of `latency_breakdown_us`, a legend row above it
//! with each stage's time and share. Drawn from `report.json` alone.

use super::axis;
use super::plot::{color, header, legend, y_ticks, Key, Plot};
use super::svg::{text_width, Anchor, Doc, Stroke};
use crate::report::breakdown::{fmt_signed_us, LatencyBreakdown, STAGES};
use crate::report::{Interval, RunReport};

const WIDTH: f64 = 760.0;
const MARGIN: f64 = 20.0;
const BAR_H: f64 = 30.0;
const FONT: u32 = 12;

/// The bar's SVG. A negative `unexplained` (the windows over-explain the mean) is not
/// drawn as a segment; the caption says by how much the stages overshoot.
pub fn breakdown_svg(b: &LatencyBreakdown) -> String {
    let parts = b.parts();
    let drawn: f64 = parts.iter().filter(|v| **v > 0.0).sum();
    let mut doc = Doc::new(WIDTH, 0.0);
    // Legend: swatch, label and "time (share)", wrapped onto as many rows as needed.
    let (mut x, mut y) = (MARGIN, 18.0);
    for (i, ((_, label), us)) in STAGES.iter().zip(parts).enumerate() {
        let share = match b.mean_corrected > 0.0 {
            true => format!(" ({:.0}%)", 100.0 * us / b.mean_corrected),
            false => String::new(),
        };
        let text = format!("{label} {}{share}", fmt_signed_us(us));
        let w = 16.0 + text_width(&text, FONT) + 18.0;
        if x + w > WIDTH - MARGIN {
            x = MARGIN;
            y += 18.0;
        }
        doc.rect(x, y - 10.0, 11.0, 11.0, color(i), 1.0);
        doc.text(x + 16.0, y, FONT, Anchor::Start, "#222222", &text);
        x += w;
    }
    let top = y + 12.0;
    let scale = if drawn > 0.0 {
        (WIDTH - 2.0 * MARGIN) / drawn
    } else {
        0.0
    };
    let mut left = MARGIN;
    for (i, us) in parts.iter().enumerate() {
        if *us > 0.0 {
            doc.rect(left, top, us * scale, BAR_H, color(i), 0.85);
            left += us * scale;
        }
    }
    let mut caption = format!(
        "mean corrected {} · stages from librdkafka's 1 s statistics windows ({} cluster); \
         means, not percentiles",
        fmt_signed_us(b.mean_corrected),
        b.measured_on
    );
    if b.unexplained < 0.0 {
        caption.push_str(&format!(
            " · the stages overshoot the mean by {}",
            fmt_signed_us(-b.unexplained)
        ));
    }
    doc.text(
        MARGIN,
        top + BAR_H + 18.0,
        11,
        Anchor::Start,
        "#555555",
        &caption,
    );
    doc.set_height(top + BAR_H + 28.0);
    doc.finish()
}

/// One second's stacked segments: queue wait, in-flight wait, broker RTT and the rest of
/// the second's mean (schedule lag and the unexplained part), µs; None without windows.
fn second_parts(i: &Interval) -> Option<[f64; 4]> {
    let (q, f, r) = (
        i.breakdown_queue_wait_us?,
        i.breakdown_inflight_wait_us.unwrap_or(0.0),
        i.breakdown_broker_rtt_us.unwrap_or(0.0),
    );
    let rest = i.mean_us.map_or(0.0, |m| (m - q - f - r).max(0.0));
    Some([q, f, r, rest])
}

/// Per second, the stages as a stacked bar under the second's mean corrected latency
/// (a line). The y range is the measured seconds' (warm-up seconds, whose first window
/// holds the connection set-up, are shaded and clipped to the top edge with a ▲). None
/// when no second has statistics windows (older reports, merged runs).
pub fn breakdown_timeline_svg(r: &RunReport) -> Option<String> {
    let rows: Vec<(&Interval, [f64; 4])> = (r.intervals.iter())
        .filter(|i| !i.partial)
        .filter_map(|i| Some((i, second_parts(i)?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let height = |p: &[f64; 4], i: &Interval| p.iter().sum::<f64>().max(i.mean_us.unwrap_or(0.0));
    let measured = rows.iter().filter(|(i, _)| !i.in_warmup);
    let mut hi = measured.map(|(i, p)| height(p, i)).fold(0.0, f64::max);
    if hi <= 0.0 {
        hi = rows.iter().map(|(i, p)| height(p, i)).fold(0.0, f64::max);
    }
    let hi = (hi * 1.1).max(1.0);
    let x_hi = rows.iter().map(|(i, _)| i.t_s).fold(1.0, f64::max);
    let mut doc = Doc::new(super::plot::WIDTH, 0.0);
    let top = header(
        &mut doc,
        "Latency breakdown per second",
        "mean corrected latency of the records delivered each second, split by librdkafka's windows",
    );
    let mut keys: Vec<(Key, String)> = [1, 2, 3]
        .iter()
        .map(|&k| (Key::Swatch(color(k), 0.85), STAGES[k].1.to_string()))
        .collect();
    keys.push((
        Key::Swatch(color(4), 0.85),
        "schedule lag + unexplained".into(),
    ));
    keys.push((
        Key::Line(Stroke::solid("#222222", 2.0)),
        "mean corrected".into(),
    ));
    let plot_top = legend(&mut doc, top, &keys) + 8.0;
    let plot = Plot::new(plot_top, plot_top + 240.0, (0.0, x_hi, false), (0.0, hi));
    for (i, _) in rows.iter().filter(|(i, _)| i.in_warmup) {
        plot.shade(&mut doc, i.t_s - i.length_s, i.t_s, "#9E9E9E", 0.25);
    }
    let ms = |v: f64| v / 1000.0;
    let y_axis = super::axis::Axis::linear(0.0, ms(hi), plot.bottom(), plot.top());
    let y_labels: Vec<(f64, String)> = y_ticks(&y_axis, 5)
        .into_iter()
        .map(|(v, l)| (v * 1000.0, l))
        .collect();
    let x_ticks: Vec<(f64, String)> = {
        let t = axis::linear_ticks(0.0, x_hi, 10);
        let labels = axis::uniform_labels(&t);
        t.into_iter().zip(labels).collect()
    };
    plot.axes(
        &mut doc,
        &x_ticks,
        &y_labels,
        "seconds since start",
        "latency (ms)",
    );
    let mut clipped = Vec::new();
    let mut line = Vec::new();
    for (i, parts) in &rows {
        let (x0, x1) = (plot.x.px(i.t_s - i.length_s) + 1.0, plot.x.px(i.t_s) - 1.0);
        let mut base = 0.0;
        for (k, v) in parts.iter().enumerate() {
            let (y_lo, y_hi) = (plot.pt((i.t_s, base)).1, plot.pt((i.t_s, base + v)).1);
            doc.rect(x0, y_hi, x1 - x0, y_lo - y_hi, color(k + 1), 0.85);
            base += v;
        }
        if plot.clipped((i.t_s, height(parts, i))) {
            clipped.push(i.t_s - i.length_s / 2.0);
        }
        if let Some(m) = i.mean_us {
            line.push((i.t_s - i.length_s / 2.0, m));
        }
    }
    plot.series(&mut doc, &line, Stroke::solid("#222222", 2.0));
    plot.clip_marks(&mut doc, &clipped, "#222222");
    doc.set_height(plot.bottom() + 50.0);
    Some(doc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_proportional_and_every_stage_is_in_the_legend() {
        let b = LatencyBreakdown {
            schedule_lag: 100.0,
            queue_wait: Some(3_000.0),
            inflight_wait: Some(100.0),
            broker_rtt: Some(600.0),
            unexplained: 200.0,
            mean_corrected: 4_000.0,
            sum_explained: 3_800.0,
            measured_on: "embedded".into(),
            ..LatencyBreakdown::default()
        };
        let svg = breakdown_svg(&b);
        assert!(svg.contains("queue wait/linger 3.000 ms (75%)"), "{svg}");
        assert!(svg.contains("broker RTT 600 µs (15%)"), "{svg}");
        // 720 px of bar over 4 ms: the queue wait's segment is 540 px wide.
        assert!(svg.contains(r#"width="540""#), "{svg}");
        let over = LatencyBreakdown {
            unexplained: -300.0,
            ..b
        };
        assert!(breakdown_svg(&over).contains("overshoot the mean by 300 µs"));
    }

    #[test]
    fn the_per_second_chart_stacks_each_second_and_needs_windows() {
        let mut r = crate::report::testing::sample_report();
        assert!(breakdown_timeline_svg(&r).is_none(), "no windows, no chart");
        for i in r.intervals.iter_mut() {
            i.mean_us = Some(4_000.0);
            i.breakdown_queue_wait_us = Some(3_000.0);
            i.breakdown_inflight_wait_us = Some(100.0);
            i.breakdown_broker_rtt_us = Some(400.0);
        }
        let svg = breakdown_timeline_svg(&r).expect("chart");
        let full = r.intervals.iter().filter(|i| !i.partial).count();
        // Four segments per whole second, in the stage colours.
        assert_eq!(
            svg.matches(&format!(r#"fill="{}""#, color(1))).count(),
            full + 1
        );
        assert!(svg.contains("schedule lag + unexplained"), "{svg}");
    }
}
