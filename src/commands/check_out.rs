//! The three renderings of a `kprod check` verdict: the terminal table, the Markdown
//! summary (CI job summary, pull-request comment) and JUnit XML (one test case per
//! threshold, so CI systems list each figure as passed or failed), and `report.html`.

use super::{Call, Row, Verdict};
use crate::domain::console::{paint, Tone};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

fn result_word(r: &Row) -> &'static str {
    match r.verdict {
        Call::Fail => "FAIL",
        Call::Inconclusive => "INCONCLUSIVE",
        Call::Pass if r.skipped => "skipped",
        Call::Pass => "pass",
    }
}

/// The overall verdict, and what `--inconclusive` made of it.
fn headline(v: &Verdict) -> String {
    let raw = v.overall();
    let applied = v.policy.apply(raw);
    let word = match applied {
        Call::Pass => "PASS",
        Call::Fail => "FAIL: regression",
        Call::Inconclusive => "INCONCLUSIVE: noise too large to tell (exit 5)",
    };
    if raw == applied {
        word.to_string()
    } else {
        let as_ = if applied == Call::Pass {
            "pass"
        } else {
            "fail"
        };
        format!("{word} (inconclusive, counted as {as_} by --inconclusive)")
    }
}

/// Rows that failed the gate: failures, and inconclusive rows when the policy says fail.
fn failed(v: &Verdict, r: &Row) -> bool {
    v.policy.apply(r.verdict) == Call::Fail
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
    // Styled outside the table only: comfy-table would count escape codes as width.
    let tone = match v.policy.apply(v.overall()) {
        Call::Pass => Tone::Good,
        Call::Fail => Tone::Bad,
        Call::Inconclusive => Tone::Warn,
    };
    let mut out = format!(
        "kprod check: {}\nbaseline: {}\ncurrent:  {}\n{t}\n",
        paint(tone, &headline(v)),
        v.baseline,
        v.current
    );
    out.push_str("Latency figures are corrected (from intended send time); throughput is delivered records/s.\n");
    out.push_str(METHOD);
    for n in &v.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// How to read the change column, under the table and the Markdown summary.
const METHOD: &str = "Change: median of the current runs against the median of the baseline runs, \
     [95% bootstrap interval]; FAIL only when the whole interval is beyond the allowance, \
     INCONCLUSIVE when it straddles it.\n";

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
    out.push_str(METHOD);
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
    let failures = v.rows.iter().filter(|r| failed(v, r)).count();
    let skipped = v
        .rows
        .iter()
        .filter(|r| !failed(v, r) && (r.skipped || r.verdict == Call::Inconclusive))
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
        let message = match (r.figure.as_ref().map(|f| f.line()), &r.detail) {
            (Some(l), Some(d)) if !l.contains(d.as_str()) => format!("{l}: {d}"),
            (Some(l), _) => l,
            (None, Some(d)) => d.clone(),
            (None, None) => summary.clone(),
        };
        if failed(v, r) {
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"regression\">{}</failure>\n",
                xml(&message),
                xml(&summary)
            ));
        } else if r.skipped || r.verdict == Call::Inconclusive {
            out.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(&message)));
        } else {
            out.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                xml(&message)
            ));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The current run directories a `check.json` lists (for the HTML page's run details);
/// empty when the file is unreadable, which `check::load` reports on its own.
pub fn current_runs(dir: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join(super::CHECK_JSON)) else {
        return Vec::new();
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("current_runs")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// The check/threshold rows as an HTML table: each row's baseline (or bound), current
/// figure, change with its interval, allowance and result, coloured by verdict. Also the
/// `--threshold` rows of a bench run's and a baseline set's pages.
pub fn verdict_rows_table(page: &mut crate::charts::html::Page, id: &str, rows: &[Row]) {
    use crate::charts::html::{Cell, Tone};
    let tone = |c: Call| match c {
        Call::Pass => Tone::Good,
        Call::Fail => Tone::Bad,
        Call::Inconclusive => Tone::Warn,
    };
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            let mut result = result_word(r).to_string();
            if let Some(d) = &r.detail {
                result.push_str(&format!("\n{d}"));
            }
            let t = if r.skipped {
                Tone::Neutral
            } else {
                tone(r.verdict)
            };
            vec![
                r.name.clone().into(),
                r.baseline.clone().into(),
                r.current.clone().into(),
                r.change.clone().into(),
                r.allowed.clone().into(),
                Cell::toned(result, t),
            ]
        })
        .collect();
    page.table(
        id,
        &[
            "check", "baseline", "current", "change", "allowed", "result",
        ],
        &cells,
    );
}

/// `report.html` of a check: the verdict first, every row with its change and verdict,
/// the notes, and how the first current run ran.
pub fn html_page(v: &Verdict, current_runs: &[String]) -> String {
    use crate::charts::html::{run_details, Fact, Page, Tone};
    let mut page = Page::new(
        &format!("kprod check: {} against {}", v.current, v.baseline),
        &format!(
            "exit code {} · an inconclusive result counts as {}",
            v.exit_code(),
            format!("{:?}", v.policy).to_lowercase()
        ),
    );
    let tone = |c: Call| match c {
        Call::Pass => Tone::Good,
        Call::Fail => Tone::Bad,
        Call::Inconclusive => Tone::Warn,
    };
    let applied = v.policy.apply(v.overall());
    let facts: Vec<Fact> = v
        .rows
        .iter()
        .filter(|r| !r.skipped && r.figure.is_some())
        .take(4)
        .map(|r| {
            Fact::new(&r.name, r.current.clone()).note(format!(
                "baseline {} · {}",
                r.baseline,
                result_word(r)
            ))
        })
        .collect();
    page.headline(applied.label(), tone(applied), &headline(v), &facts);
    page.heading("Verdict");
    verdict_rows_table(&mut page, "verdict", &v.rows);
    page.list(&v.notes, true);
    if let Some(first) = current_runs.first() {
        let dir = std::path::Path::new(first);
        if let Ok(r) = crate::report::load_report(dir) {
            run_details(&mut page, &r, &format!("How the current run ran ({first})"));
        }
    }
    page.finish()
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
