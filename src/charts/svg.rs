//! A minimal SVG writer: the handful of elements the charts draw, every string
//! XML-escaped, coordinates rounded to 0.1 px so a redraw is byte-identical.
//!
//! Hand-written rather than plotters: the fixed charts need things plotters makes awkward
//! (legends in their own row outside the data area, shaded time spans, clipped points with
//! markers, a log x axis with chosen ticks), and owning the markup lets the same SVG be
//! inlined in `report.html` and parsed back by the tests without guessing its structure.

use std::fmt::Write;

/// Escapes text and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text alignment relative to its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Stroke of a line: colour (`#RRGGBB`), width and an optional dash pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    pub color: &'static str,
    pub width: f64,
    pub dash: Option<&'static str>,
}

impl Stroke {
    pub fn solid(color: &'static str, width: f64) -> Self {
        Stroke {
            color,
            width,
            dash: None,
        }
    }
    pub fn dashed(color: &'static str, width: f64, dash: &'static str) -> Self {
        Stroke {
            color,
            width,
            dash: Some(dash),
        }
    }
    fn attrs(&self) -> String {
        let mut a = format!(
            r#"fill="none" stroke="{}" stroke-width="{}""#,
            self.color,
            n(self.width)
        );
        if let Some(d) = self.dash {
            let _ = write!(a, r#" stroke-dasharray="{d}""#);
        }
        a
    }
}

/// A coordinate with one decimal, trailing `.0` dropped.
pub fn n(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{:.1}", v);
    match s.strip_suffix(".0") {
        Some("-0") => "0".into(),
        Some(i) => i.to_string(),
        None => s,
    }
}

/// An SVG document being drawn.
pub struct Doc {
    width: f64,
    height: f64,
    body: String,
}

impl Doc {
    pub fn new(width: f64, height: f64) -> Doc {
        Doc {
            width,
            height,
            body: String::new(),
        }
    }

    /// Sets the height once the layout below the first element is known.
    pub fn set_height(&mut self, height: f64) {
        self.height = height;
    }

    pub fn text(&mut self, x: f64, y: f64, size: u32, anchor: Anchor, fill: &str, s: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{size}" text-anchor="{}" fill="{fill}">{}</text>"#,
            n(x),
            n(y),
            anchor.name(),
            escape(s)
        );
    }

    /// Text turned 90° counter-clockwise about its anchor (a y-axis description).
    pub fn vtext(&mut self, x: f64, y: f64, size: u32, s: &str) {
        let _ = writeln!(
            self.body,
            r##"<text x="0" y="0" font-size="{size}" text-anchor="middle" fill="#222222" transform="translate({},{}) rotate(-90)">{}</text>"##,
            n(x),
            n(y),
            escape(s)
        );
    }

    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), stroke: Stroke) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {}/>"#,
            n(a.0),
            n(a.1),
            n(b.0),
            n(b.1),
            stroke.attrs()
        );
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: Stroke) {
        if points.is_empty() {
            return;
        }
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
            .collect();
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" {}/>"#,
            pts.join(" "),
            stroke.attrs()
        );
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, opacity: f64) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" fill-opacity="{}"/>"#,
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0)),
            opacity
        );
    }

    /// An unfilled frame (the plot area's border).
    pub fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: Stroke) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" {}/>"#,
            n(x),
            n(y),
            n(w),
            n(h),
            stroke.attrs()
        );
    }

    pub fn circle(&mut self, c: (f64, f64), r: f64, stroke: Stroke, fill: Option<&str>) {
        let mut attrs = stroke.attrs();
        if let Some(f) = fill {
            attrs = attrs.replacen(r#"fill="none""#, &format!(r#"fill="{f}""#), 1);
        }
        let _ = writeln!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" {attrs}/>"#,
            n(c.0),
            n(c.1),
            n(r)
        );
    }

    /// A filled triangle pointing up with its tip at `tip` (a clipped point's marker).
    pub fn up_triangle(&mut self, tip: (f64, f64), size: f64, fill: &str) {
        let (x, y) = tip;
        let _ = writeln!(
            self.body,
            r#"<polygon points="{},{} {},{} {},{}" fill="{fill}"/>"#,
            n(x),
            n(y),
            n(x - size),
            n(y + size * 1.6),
            n(x + size),
            n(y + size * 1.6)
        );
    }

    /// An × of two strokes centred on `c` (a saturated sweep step).
    pub fn cross(&mut self, c: (f64, f64), size: f64, stroke: Stroke) {
        let (x, y) = c;
        self.line((x - size, y - size), (x + size, y + size), stroke);
        self.line((x - size, y + size), (x + size, y - size), stroke);
    }

    /// The finished document, with a white background.
    pub fn finish(self) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">\n<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\"/>\n{}</svg>\n",
            self.body,
            w = n(self.width),
            h = n(self.height)
        )
    }
}

/// Rough rendered width of `s` at `size` px in a sans-serif font: enough to lay out a
/// legend row without a font backend.
pub fn text_width(s: &str, size: u32) -> f64 {
    s.chars().count() as f64 * size as f64 * 0.52
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        let mut d = Doc::new(10.0, 10.0);
        d.text(1.0, 2.0, 12, Anchor::Start, "#000000", "<a&b>\"'");
        let s = d.finish();
        assert!(s.contains("&lt;a&amp;b&gt;&quot;&#39;"), "{s}");
        assert!(!s.contains("<a&b>"));
    }

    #[test]
    fn coordinates_have_one_decimal_and_no_negative_zero() {
        assert_eq!(n(1.04), "1");
        assert_eq!(n(1.26), "1.3");
        assert_eq!(n(-0.01), "0");
        assert_eq!(n(f64::NAN), "0");
    }
}
