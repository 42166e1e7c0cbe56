//! The three renderings of a `kprod check` verdict: the terminal table, the Markdown
//! summary (CI job summary, pull-request comment) and JUnit XML (one test case per
//! threshold, so CI systems list each figure as passed or failed).

use super::{Row, Verdict};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

fn result_word(r: &Row) -> &'static str {
    if !r.passed {
        "FAIL"
    } else if r.detail.is_some() {
        "skipped"
    } else {
        "pass"
    }
}

fn headline(v: &Verdict) -> &'static str {
    if v.passed() {
        "PASS"
    } else {
        "FAIL: regression"
    }
}

/// The verdict for a terminal.
pub fn verdict_table(v: &Verdict) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if t.width().is_none() {
        t.set_width(120);
    }
    t.set_header([
        "check", "baseline", "current", "change", "allowed", "result",
    ]);
    for r in &v.rows {
        let mut result = result_word(r).to_string();
        if let Some(d) = &r.detail {
            result.push_str(&format!("\n{d}"));
        }
        t.add_row([
            r.name.as_str(),
            r.baseline.as_str(),
            r.current.as_str(),
            r.change.as_str(),
            r.allowed.as_str(),
            result.as_str(),
        ]);
    }
    let mut out = format!(
        "kprod check: {}\nbaseline: {}\ncurrent:  {}\n{t}\n",
        headline(v),
        v.baseline,
        v.current
    );
    out.push_str("Latency figures are corrected (from intended send time); throughput is delivered records/s.\n");
    for n in &v.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// Makes text safe inside a Markdown table cell.
fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// The verdict as GitHub-flavoured Markdown: a headline, the table, then the notes.
pub fn markdown_summary(v: &Verdict) -> String {
    let mut out = format!("## kprod check: {}\n\n", headline(v));
    out.push_str(&format!("- baseline: {}\n", md_cell(&v.baseline)));
    out.push_str(&format!("- current: {}\n\n", md_cell(&v.current)));
    out.push_str("| check | baseline | current | change | allowed | result |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in &v.rows {
        let mut result = result_word(r).to_string();
        if let Some(d) = &r.detail {
            result.push_str(&format!(": {d}"));
        }
        let cells = [
            r.name.as_str(),
            &r.baseline,
            &r.current,
            &r.change,
            &r.allowed,
            &result,
        ];
        let cells: Vec<String> = cells.iter().map(|c| md_cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(
        "Latency figures are corrected (measured from each record's intended send time); \
         throughput is delivered records per second in the measured window.\n",
    );
    for n in &v.notes {
        out.push_str(&format!("\n> {}\n", md_cell(n)));
    }
    out
}

/// Escapes text for XML attribute values and character data.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The verdict as JUnit XML: suite `kprod check`, one test case per row.
pub fn junit_xml(v: &Verdict) -> String {
    let failures = v.rows.iter().filter(|r| !r.passed).count();
    let skipped = v
        .rows
        .iter()
        .filter(|r| r.passed && r.detail.is_some())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"kprod\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n\
         \x20 <testsuite name=\"kprod check\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n",
        n = v.rows.len()
    ));
    out.push_str(&format!(
        "    <properties>\n      <property name=\"baseline\" value=\"{}\"/>\n      <property name=\"current\" value=\"{}\"/>\n    </properties>\n",
        xml(&v.baseline),
        xml(&v.current)
    ));
    for r in &v.rows {
        let summary = format!(
            "baseline {}, current {}{}, allowed: {}",
            r.baseline,
            r.current,
            if r.change.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.change)
            },
            r.allowed
        );
        out.push_str(&format!(
            "    <testcase classname=\"kprod.check\" name=\"{}\">\n",
            xml(&r.name)
        ));
        match (&r.detail, r.passed) {
            (Some(d), false) => out.push_str(&format!(
                "      <failure message=\"{}\" type=\"regression\">{}</failure>\n",
                xml(d),
                xml(&summary)
            )),
            (Some(d), true) => out.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(d))),
            (None, _) => out.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                xml(&summary)
            )),
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot; ");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
    }
}
