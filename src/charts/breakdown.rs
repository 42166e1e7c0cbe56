//! The latency breakdown bar of `report.html`: the run's mean corrected latency as one
//! horizontal bar cut into the stages of `latency_breakdown_us`, a legend row above it
//! with each stage's time and share. Drawn from `report.json` alone.

use super::plot::color;
use super::svg::{text_width, Anchor, Doc};
use crate::report::breakdown::{fmt_signed_us, LatencyBreakdown, STAGES};

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
}
