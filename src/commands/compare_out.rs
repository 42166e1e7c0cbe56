//! Renderings of a comparison: the terminal table (medians, ranges, ratios, the noise
//! mark and rule) and `compare.csv`.

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
