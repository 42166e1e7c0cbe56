//! Renderings of a comparison: the terminal table (medians, ranges, ratios, the noise
//! mark and rule), `compare.csv` and `report.html`.

use super::{CompareResult, FIGURES};
use crate::report::Status;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

/// Variant labels for the table: the names as given, with `#2`, `#3` on duplicates (an
/// A/A comparison is a fair way to see the noise floor).
pub(super) fn labels(variants: &[String]) -> Vec<String> {
    variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let before = variants[..i].iter().filter(|w| *w == v).count();
            if before == 0 {
                v.clone()
            } else {
                format!("{v} #{}", before + 1)
            }
        })
        .collect()
}

/// The comparison as a terminal table followed by the noise rule.
pub fn render_table(c: &CompareResult) -> String {
    let names = labels(&c.variants);
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if table.width().is_none() {
        table.set_width(140);
    }
    let mut header = vec!["figure".to_string()];
    header.extend(names.iter().cloned());
    table.set_header(header);
    for row in &c.figures {
        let plain: fn(f64) -> String = |v| format!("{v}");
        let fmt = FIGURES
            .iter()
            .find(|f| f.key == row.figure)
            .map_or(plain, |f| f.fmt);
        let mut cells = vec![row.label.clone()];
        for (i, v) in row.variants.iter().enumerate() {
            let mut cell = match v.median {
                Some(m) => fmt(m),
                None => "n/a".to_string(),
            };
            if let (Some(lo), Some(hi)) = (v.min, v.max) {
                if c.repeat > 1 {
                    cell.push_str(&format!("\n[{} .. {}]", fmt(lo), fmt(hi)));
                }
            }
            if i > 0 {
                let ratio = v.ratio_to_first.map_or("no ratio".to_string(), |r| {
                    format!("{r:.3}x of {}", names[0])
                });
                let noise = match v.within_noise {
                    Some(true) => " within noise",
                    _ => "",
                };
                cell.push_str(&format!("\n{ratio}{noise}"));
            }
            cells.push(cell);
        }
        table.add_row(cells);
    }
    let mut out = table.to_string();
    out.push('\n');
    let runs = c.runs.len();
    out.push_str(&format!(
        "{runs} runs: {} variants x {} repeats, interleaved. {}\n",
        c.variants.len(),
        c.repeat,
        if c.repeat > 1 {
            c.noise_rule.clone()
        } else {
            format!(
                "{} With one repeat nothing can be judged within noise.",
                c.noise_rule
            )
        }
    ));
    for r in c.runs.iter().filter(|r| r.status != Status::Complete) {
        out.push_str(&format!(
            "warning: run {} ({} repeat {}) is {:?}\n",
            r.run_dir,
            names.get(r.variant).map_or("?", String::as_str),
            r.repeat,
            r.status
        ));
    }
    out.push_str(&super::judge::summary(&c.versus));
    if let Some(note) = &c.cluster_note {
        out.push_str(&format!("Cluster: {note}\n"));
    }
    out
}

/// `compare.csv`: one row per figure and variant.
pub fn compare_csv(c: &CompareResult) -> Result<Vec<u8>, String> {
    let names = labels(&c.variants);
    let header = [
        "figure",
        "variant",
        "repeats",
        "median",
        "min",
        "max",
        "ratio_to_first",
        "within_noise",
    ];
    let mut rows = Vec::new();
    let num = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for row in &c.figures {
        for (i, v) in row.variants.iter().enumerate() {
            let repeats = c.runs.iter().filter(|r| r.variant == i).count();
            rows.push(vec![
                row.figure.clone(),
                names[i].clone(),
                repeats.to_string(),
                num(v.median),
                num(v.min),
                num(v.max),
                num(v.ratio_to_first),
                v.within_noise.map_or(String::new(), |b| b.to_string()),
            ]);
        }
    }
    crate::commands::sweep::csv_doc(&header, rows)
}

/// The `versus` name of a compare.json figure key, for the direction word.
fn judged_name(key: &str) -> Option<&'static str> {
    Some(match key {
        "p50_us" => "p50",
        "p99_us" => "p99",
        "p999_us" => "p999",
        "records_per_sec" => "throughput",
        "compression_ratio" => "compression",
        "errors" => "errors",
        _ => return None,
    })
}

/// `report.html` of a comparison: the summary first, the overlaid charts, the table with
/// direction words (each variant against the first), then how each variant ran.
pub fn html_page(
    c: &CompareResult,
    charts: &crate::charts::GroupCharts,
    reports: &[crate::report::RunReport],
) -> String {
    use crate::charts::html::{rate_text, Cell, Fact, Page, Tone};
    let names = labels(&c.variants);
    let mut page = Page::new(
        &format!("kprod compare: {}", names.join(" vs ")),
        &format!(
            "{} · {} runs: {} variants × {} repeats, interleaved",
            c.created_at,
            c.runs.len(),
            c.variants.len(),
            c.repeat
        ),
    );
    let incomplete = c
        .runs
        .iter()
        .filter(|r| r.status != Status::Complete)
        .count();
    let (badge, tone, reason) = if incomplete == 0 {
        ("COMPLETE", Tone::Good, String::new())
    } else {
        (
            "INCOMPLETE",
            Tone::Warn,
            format!("{incomplete} run(s) did not complete"),
        )
    };
    let figure = |key: &str, v: usize| {
        c.figures
            .iter()
            .find(|f| f.figure == key)
            .and_then(|f| f.variants.get(v))
            .and_then(|x| x.median)
    };
    let facts: Vec<Fact> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Fact::new(
                &format!("{n}: records/s (median)"),
                figure("records_per_sec", i).map_or("n/a".into(), rate_text),
            )
            .id(format!("records-per-sec-{i}"))
            .note(format!(
                "p99 {}",
                figure("p99_us", i).map_or("n/a".into(), |v| crate::report::fmt_latency_us(
                    v.round() as u64
                ))
            ))
        })
        .collect();
    page.headline(badge, tone, &reason, &facts);
    let summary: Vec<String> = super::judge::summary(&c.versus)
        .lines()
        .map(str::to_string)
        .collect();
    page.list(&summary, false);
    page.chart("Latency spectrum (every run overlaid)", &charts.spectrum);
    page.chart("Throughput and latency over time", &charts.timeline);

    let mut header = vec!["figure"];
    header.extend(names.iter().map(String::as_str));
    let rows: Vec<Vec<Cell>> = c
        .figures
        .iter()
        .map(|row| {
            let plain: fn(f64) -> String = |v| format!("{v}");
            let fmt = FIGURES
                .iter()
                .find(|f| f.key == row.figure)
                .map_or(plain, |f| f.fmt);
            let mut cells = vec![Cell::from(row.label.clone())];
            for (i, v) in row.variants.iter().enumerate() {
                let mut text = v.median.map_or("n/a".to_string(), fmt);
                if let (Some(lo), Some(hi), true) = (v.min, v.max, c.repeat > 1) {
                    text.push_str(&format!("\n[{} .. {}]", fmt(lo), fmt(hi)));
                }
                let versus = judged_name(&row.figure).and_then(|name| {
                    c.versus
                        .get(i.wrapping_sub(1))
                        .and_then(|vs| vs.figures.iter().find(|f| f.figure == name))
                });
                let mut tone = None;
                if let Some(f) = versus {
                    text.push_str(&format!("\n{}", f.change_text()));
                    tone = match f.direction() {
                        "better" => Some(Tone::Good),
                        "worse" => Some(Tone::Bad),
                        _ => None,
                    };
                } else if i > 0 {
                    if let Some(r) = v.ratio_to_first {
                        text.push_str(&format!("\n{r:.3}x of {}", names[0]));
                    }
                }
                cells.push(Cell {
                    text,
                    tone,
                    href: None,
                });
            }
            cells
        })
        .collect();
    page.heading("Comparison (medians; each variant against the first)");
    page.text_table("compare", &header, &rows);
    page.paragraph(&c.noise_rule);
    if let Some(note) = &c.cluster_note {
        page.paragraph(&format!("Cluster: {note}"));
    }
    for (i, n) in names.iter().enumerate() {
        let Some((run, r)) = c.runs.iter().zip(reports).find(|(run, _)| run.variant == i) else {
            continue;
        };
        crate::charts::html::run_details(
            &mut page,
            r,
            &format!("How it ran: {n} ({})", run.run_dir),
        );
    }
    page.finish()
}
