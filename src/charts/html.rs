//! `report.html`: one self-contained page per result directory (inline CSS and inline SVG;
//! no script, no network, no external font), built from the saved results only.
//!
//! [`Page`] holds the building blocks (headline, charts, tables, preformatted text) and
//! escapes every string it is given, so profile names, topics and error texts from a
//! report can never become markup. The run page (bench and merge directories) is built
//! in `html/run.rs`; compare, sweep and check pages are assembled by their commands from
//! the same blocks. Key numbers carry an `id` so the browser test can find them.

mod run;
mod stages;
mod topics;

pub use run::{
    run_details, run_facts, run_page, run_page_with, shell_quote, shell_words, status_tone,
    status_word,
};

use super::svg::escape;
use crate::report::fmt_count;
use std::fmt::Write;

/// How a status or verdict reads: colour of its badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Warn,
    Neutral,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Warn => "warn",
            Tone::Neutral => "neutral",
        }
    }
}

/// One headline figure: a label, the value as shown, an optional `id` for tests and
/// scripts, and a note under it ("of 2k/s target").
#[derive(Debug, Clone, Default)]
pub struct Fact {
    pub label: String,
    pub value: String,
    pub id: Option<String>,
    pub note: String,
}

impl Fact {
    pub fn new(label: &str, value: impl Into<String>) -> Fact {
        Fact {
            label: label.into(),
            value: value.into(),
            ..Default::default()
        }
    }
    pub fn id(mut self, id: impl Into<String>) -> Fact {
        self.id = Some(id.into());
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Fact {
        self.note = note.into();
        self
    }
}

/// One table cell: text, an optional tone (a verdict or direction word) and an optional
/// link (a relative path to another result directory's page).
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub tone: Option<Tone>,
    pub href: Option<String>,
}

impl<T: Into<String>> From<T> for Cell {
    fn from(t: T) -> Cell {
        Cell {
            text: t.into(),
            tone: None,
            href: None,
        }
    }
}

impl Cell {
    pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone: Some(tone),
            href: None,
        }
    }

    /// A cell linking to `path`, relative to the page (percent-encoded here).
    pub fn link(text: impl Into<String>, path: &str) -> Cell {
        Cell {
            text: text.into(),
            tone: None,
            href: Some(url_path(path)),
        }
    }
}

/// A relative file path as a URL path: every byte but unreserved characters and `/`
/// percent-encoded, so a run named `a#b` or `50%` still links to its directory.
pub fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const CSS: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#222;background:#f6f7f9}\
main{max-width:1100px;margin:0 auto;padding:24px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}\
.sub{color:#666;font-size:13px;margin-bottom:16px}\
.headline{background:#fff;border:1px solid #ddd;border-radius:8px;padding:16px 18px}\
.badge{display:inline-block;font-weight:700;padding:3px 10px;border-radius:4px;color:#fff;letter-spacing:.03em}\
.good{background:#2e7d32}.bad{background:#c62828}.warn{background:#ef6c00}.neutral{background:#607d8b}\
td.good,td.bad,td.warn{background:none;font-weight:600;overflow-wrap:normal}td.good{color:#2e7d32}td.bad{color:#c62828}td.warn{color:#ef6c00}\
.reason{margin-left:10px;color:#444}\
.facts{display:flex;flex-wrap:wrap;gap:10px;margin-top:14px}\
.fact{flex:1 1 150px;background:#f9fafb;border:1px solid #e5e7eb;border-radius:6px;padding:8px 10px}\
.fact .l{font-size:12px;color:#666}.fact .v{font-size:20px;font-weight:600;white-space:nowrap}.fact .n{font-size:12px;color:#666}\
figure{margin:0 0 18px;background:#fff;border:1px solid #ddd;border-radius:8px;padding:8px}\
figure svg{width:100%;height:auto;display:block}\
.scroll{overflow-x:auto}table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}td{overflow-wrap:anywhere}table.kv td:first-child{white-space:nowrap;width:1%;color:#555}\
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
pre{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;font-size:12px;overflow:auto;max-height:480px}\
pre.cmd{white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px;background:#f0f2f5;margin-top:2px}\
.cap{font-size:12px;color:#555;margin-top:10px}.w{white-space:pre}p{font-size:14px}\
ul{margin:6px 0}li{margin:2px 0}.warnings li{color:#8a4b00}\
footer{color:#888;font-size:12px;margin-top:30px}";

/// A report page being built.
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// A page titled `title` (also the `<h1>`) with a line of context under it.
    pub fn new(title: &str, sub: &str) -> Page {
        let mut body = String::new();
        let _ = write!(
            body,
            "<h1>{}</h1>\n<div class=\"sub\">{}</div>\n",
            escape(title),
            escape(sub)
        );
        Page {
            title: title.into(),
            body,
        }
    }

    /// The headline: a status or verdict badge, why, and the key figures.
    pub fn headline(&mut self, badge: &str, tone: Tone, reason: &str, facts: &[Fact]) {
        let _ = write!(
            self.body,
            "<section class=\"headline\"><span class=\"badge {}\" id=\"status\">{}</span>",
            tone.class(),
            escape(badge)
        );
        if !reason.is_empty() {
            let _ = write!(
                self.body,
                "<span class=\"reason\">{}</span>",
                escape(reason)
            );
        }
        self.body.push_str("<div class=\"facts\">");
        for f in facts {
            let id =
                f.id.as_ref()
                    .map_or(String::new(), |i| format!(" id=\"{}\"", escape(i)));
            let _ = write!(
                self.body,
                "<div class=\"fact\"><div class=\"l\">{}</div><div class=\"v\"{id}>{}</div><div class=\"n\">{}</div></div>",
                escape(&f.label),
                escape(&f.value),
                escape(&f.note)
            );
        }
        self.body.push_str("</div></section>\n");
    }

    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
    }

    /// A chart, inlined. `svg` must come from this module's chart functions (their text is
    /// escaped when drawn), never from a file a user could have edited.
    pub fn chart(&mut self, heading: &str, svg: &str) {
        self.heading(heading);
        let _ = writeln!(self.body, "<figure>{}</figure>", svg.trim());
    }

    pub fn paragraph(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
    }

    /// A bulleted list; `warn` styles it as warnings.
    pub fn list(&mut self, items: &[String], warn: bool) {
        if items.is_empty() {
            return;
        }
        let class = if warn { " class=\"warnings\"" } else { "" };
        let _ = write!(self.body, "<ul{class}>");
        for i in items {
            let _ = write!(self.body, "<li>{}</li>", escape(i));
        }
        self.body.push_str("</ul>\n");
    }

    /// A table; cells that look numeric are right-aligned.
    pub fn table(&mut self, id: &str, header: &[&str], rows: &[Vec<Cell>]) {
        self.table_with(id, header, rows, true);
    }

    /// A table of mixed text and numbers, everything left-aligned.
    pub fn text_table(&mut self, id: &str, header: &[&str], rows: &[Vec<Cell>]) {
        self.table_with(id, header, rows, false);
    }

    /// A two-column key/value table: no header row, nothing right-aligned. Each value cell
    /// gets the id `ID-KEY` (spaces as `-`: `run-details-ended`) for tests and scripts.
    pub fn kv_table(&mut self, id: &str, rows: &[(&str, String)]) {
        let _ = write!(
            self.body,
            "<div class=\"scroll\"><table id=\"{}\" class=\"kv\"><tbody>",
            escape(id)
        );
        for (k, v) in rows {
            let _ = write!(
                self.body,
                "<tr><td>{}</td><td id=\"{}-{}\">{}</td></tr>",
                escape(k),
                escape(id),
                escape(&k.replace(' ', "-")),
                escape(v).replace('\n', "<br>")
            );
        }
        self.body.push_str("</tbody></table></div>\n");
    }

    fn table_with(&mut self, id: &str, header: &[&str], rows: &[Vec<Cell>], num: bool) {
        let _ = write!(
            self.body,
            "<div class=\"scroll\"><table id=\"{}\">",
            escape(id)
        );
        self.body.push_str("<thead><tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        self.body.push_str("</tr></thead>");
        self.body.push_str("<tbody>");
        for r in rows {
            self.body.push_str("<tr>");
            for c in r {
                let mut classes: Vec<&str> = Vec::new();
                if num && looks_numeric(&c.text) {
                    classes.push("num");
                }
                if let Some(t) = c.tone {
                    classes.push(t.class());
                }
                let class = if classes.is_empty() {
                    String::new()
                } else {
                    format!(" class=\"{}\"", classes.join(" "))
                };
                let mut text = escape(&c.text).replace('\n', "<br>");
                if let Some(h) = &c.href {
                    text = format!("<a href=\"{}\">{text}</a>", escape(h));
                }
                let _ = write!(self.body, "<td{class}>{text}</td>");
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</tbody></table></div>\n");
    }

    /// A command line under a small caption, whole and copyable; `id` is on the `<code>`.
    /// Each word is kept on one line when the line wraps (`--threshold` never splits after
    /// its dashes); the words are separated by plain spaces, so a copy is the command.
    pub fn code(&mut self, id: &str, caption: &str, words: &[String]) {
        let _ = write!(
            self.body,
            "<div class=\"cap\">{}</div><pre class=\"cmd\"><code id=\"{}\">",
            escape(caption),
            escape(id)
        );
        for (k, w) in words.iter().enumerate() {
            let sep = if k == 0 { "" } else { " " };
            let _ = write!(self.body, "{sep}<span class=\"w\">{}</span>", escape(w));
        }
        self.body.push_str("</code></pre>\n");
    }

    /// Preformatted text (a profile, a JSON document).
    pub fn pre(&mut self, id: &str, text: &str) {
        let _ = writeln!(
            self.body,
            "<pre id=\"{}\">{}</pre>",
            escape(id),
            escape(text)
        );
    }

    /// The finished document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body><main>\n{}\
             <footer>Written by kprod {} from the files in this directory; \
             <code>kprod report DIR --html</code> rewrites it.</footer>\n</main></body>\n</html>\n",
            escape(&self.title),
            self.body,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// A number with at most a short unit ("53.023 ms", "2.00k/s", "1,234"): right-aligned.
fn looks_numeric(s: &str) -> bool {
    let t = s.trim();
    t.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
        && t.chars().filter(|c| c.is_alphabetic()).count() <= 4
        && !t.contains('\n')
}

/// A rate as shown: thousands separators, one decimal, "/s" ("19,901.2/s").
pub fn rate_text(per_sec: f64) -> String {
    if !per_sec.is_finite() {
        return "n/a".into();
    }
    let tenths = (per_sec * 10.0).round() as u64;
    format!("{}.{}/s", fmt_count(tenths / 10), tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_numbers_with_short_units_are_right_aligned() {
        for n in ["53.023 ms", "2.00k/s", "1,234", "850 µs", "+0.3%"] {
            assert!(looks_numeric(n), "{n}");
        }
        for t in ["+856.6% [+95.3 .. +1617.9] worse", "pass", "1.0\n2.0", ""] {
            assert!(!looks_numeric(t), "{t}");
        }
    }

    #[test]
    fn link_paths_are_percent_encoded() {
        assert_eq!(
            url_path("20261202-a#b 50%/report.html"),
            "20261202-a%23b%2050%25/report.html"
        );
    }

    #[test]
    fn rates_show_one_decimal_with_separators() {
        assert_eq!(rate_text(19_901.23), "19,901.2/s");
        assert_eq!(rate_text(2000.0), "2,000.0/s");
    }
}
