//! Renderings of a tune: the line per trial, the terminal table (frontier, winner, the
//! comparison with the best built-in), `tune.csv`, `frontier.svg` and `report.html`.

use super::{Candidate, Confirmation, Trial, TuneResult, FRONTIER_SVG};
use crate::charts::{self, HLine, Line, Marker};
use crate::commands::sweep::csv_doc;
use crate::commands::sweep::judge::parse_slo;
use crate::error::KprodError;
use crate::report::{self, fmt_latency_us, fmt_rate};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::path::{Path, PathBuf};

/// A candidate's settings in one short cell: `linger=5ms batch_bytes=64KiB ...`.
pub fn settings_text(c: &Candidate) -> String {
    c.settings
        .iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn what(c: &Candidate) -> String {
    match &c.builtin {
        Some(b) => format!("built-in {b}"),
        None => c.label.clone(),
    }
}

/// One line on stderr as each trial ends.
pub fn trial_line(t: &Trial, c: &Candidate) -> String {
    format!(
        "tune: trial {} ({}) {} at {}: achieved {}, p99 {}: {}",
        t.index + 1,
        t.phase,
        what(c),
        t.target_records_per_sec
            .map_or("unlimited".into(), fmt_rate),
        fmt_rate(t.achieved_records_per_sec),
        fmt_latency_us(t.p99_us),
        if t.saturated {
            format!("saturated: {}", t.reasons.join("; "))
        } else {
            "ok".into()
        }
    )
}

fn figure_text(c: &Confirmation, v: f64) -> String {
    match c.figure.as_str() {
        "records_per_sec" => fmt_rate(v),
        "cpu_ms_per_1k_records" => format!("{v:.3} CPU ms/1k records"),
        _ => format!("{v:.1} wire B/record"),
    }
}

/// `X (95% CI a–b), p99 P, n/m passed at R`.
pub fn confirmation_text(c: &Confirmation) -> String {
    format!(
        "{} (95% CI {} – {}), p99 {}, {}/{} repeats passed{}",
        figure_text(c, c.median),
        figure_text(c, c.ci_low),
        figure_text(c, c.ci_high),
        fmt_latency_us(c.p99_us_median),
        c.passed,
        c.values.len(),
        c.target_records_per_sec
            .map_or(String::new(), |r| format!(" at target {}", fmt_rate(r)))
    )
}

/// The sentence that answers the question: winner confirmed X vs best built-in Y: Z×.
pub fn verdict_line(r: &TuneResult) -> String {
    let (Some(w), Some(b)) = (&r.winner, &r.best_builtin) else {
        return match &r.winner {
            Some(w) => format!("winner {} confirmed {}", w.label, figure_text(w, w.median)),
            None => "no configuration met the SLO".into(),
        };
    };
    let ratio = r.ratio.as_ref().map_or(String::new(), |x| {
        format!(
            ": {:.2}× (95% CI {:.2}–{:.2}{})",
            x.value,
            x.ci_low,
            x.ci_high,
            if x.method == "point" {
                ", too few repeats for an interval"
            } else {
                ""
            }
        )
    });
    format!(
        "winner {} confirmed {} vs best built-in {} (profile {}){ratio}{}",
        w.label,
        figure_text(w, w.median),
        figure_text(b, b.median),
        b.label,
        if w.confirmed && b.confirmed {
            ""
        } else {
            " [NOT confirmed: a majority of repeats failed for one side]"
        }
    )
}

/// The tune for a terminal: the frontier per codec, the candidates that reached the last
/// rung, the verdict line and where it ran.
pub fn render_table(r: &TuneResult) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if t.width().is_none() {
        t.set_width(140);
    }
    t.set_header(["codec", "achieved", "p99", "candidate", "settings", "trial"]);
    for p in &r.frontier {
        let c = &r.candidates[p.candidate];
        t.add_row([
            p.codec.clone(),
            fmt_rate(p.records_per_sec),
            fmt_latency_us(p.p99_us),
            what(c),
            settings_text(c),
            (p.trial + 1).to_string(),
        ]);
    }
    let mut out = format!("Pareto frontier (throughput vs p99 per codec, passing trials):\n{t}\n");
    out.push_str(&format!(
        "{} trials in {:.0} s of a {:.0} s budget ({} candidates: {} built-in, {} sampled){}\n",
        r.trials.len(),
        r.elapsed_s,
        r.plan.budget_s,
        r.candidates.len(),
        r.candidates.iter().filter(|c| c.builtin.is_some()).count(),
        r.candidates.iter().filter(|c| c.builtin.is_none()).count(),
        if r.budget_exhausted {
            "; budget or rung cap reached"
        } else {
            ""
        }
    ));
    out.push_str(&format!("SLO: {}\n", r.slo.join(", ")));
    if let Some(w) = &r.winner {
        let c = &r.candidates[w.candidate];
        out.push_str(&format!(
            "winner: {} {}: {}\n",
            what(c),
            settings_text(c),
            confirmation_text(w)
        ));
    }
    if let Some(b) = &r.best_builtin {
        out.push_str(&format!(
            "best built-in: {}: {}\n",
            b.label,
            confirmation_text(b)
        ));
    }
    out.push_str(&format!("{}\n", verdict_line(r)));
    if let Some(p) = &r.winner_profile {
        out.push_str(&format!(
            "winning profile: {p} (kprod bench --profile <dir>/{p})\n"
        ));
    }
    out.push_str(&format!("{}\n", cluster_line(r)));
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if r.interrupted {
        out.push_str("INTERRUPTED: the tune stopped early; the trials above are complete\n");
    }
    out
}

/// Which cluster answered, and what that means for the result.
pub fn cluster_line(r: &TuneResult) -> String {
    let faults = if r.faults.is_empty() {
        String::new()
    } else {
        format!(" with faults {}", r.faults.join(", "))
    };
    if r.cluster == "brokers" {
        format!("Cluster: real brokers (--brokers){faults}: the answer for that cluster")
    } else {
        format!(
            "Cluster: embedded (librdkafka's mock brokers in-process){faults}: this tunes the \
             client side; rerun with --brokers for the real answer"
        )
    }
}

/// `tune.csv`: one row per trial.
pub fn tune_csv(r: &TuneResult) -> Result<Vec<u8>, String> {
    let header = [
        "trial",
        "phase",
        "candidate",
        "builtin",
        "codec",
        "settings",
        "target_records_per_sec",
        "achieved_records_per_sec",
        "p50_us",
        "p99_us",
        "p999_us",
        "slo_met",
        "saturated",
        "on_frontier",
        "cpu_s",
        "wire_bytes_per_record",
        "trial_s",
        "run_dir",
        "reasons",
    ];
    let rows = r.trials.iter().map(|t| {
        let c = &r.candidates[t.candidate];
        vec![
            (t.index + 1).to_string(),
            t.phase.clone(),
            c.label.clone(),
            c.builtin.clone().unwrap_or_default(),
            c.codec.clone(),
            settings_text(c),
            t.target_records_per_sec
                .map_or(String::new(), |v| v.to_string()),
            t.achieved_records_per_sec.to_string(),
            t.p50_us.to_string(),
            t.p99_us.to_string(),
            t.p999_us.to_string(),
            t.slo_met.to_string(),
            t.saturated.to_string(),
            r.frontier.iter().any(|p| p.trial == t.index).to_string(),
            format!("{:.3}", t.cpu_s),
            t.wire_bytes_per_record
                .map_or(String::new(), |v| format!("{v:.1}")),
            t.trial_s.to_string(),
            t.run_dir.clone(),
            t.reasons.join("; "),
        ]
    });
    csv_doc(&header, rows)
}

/// `frontier.svg`: p99 against achieved records/s, one line per codec's frontier, the SLO
/// and the winner's confirmation marked.
pub fn frontier_svg(r: &TuneResult) -> String {
    let mut codecs: Vec<&str> = r.frontier.iter().map(|p| p.codec.as_str()).collect();
    codecs.dedup();
    let lines: Vec<Line> = codecs
        .iter()
        .enumerate()
        .map(|(i, codec)| Line {
            label: format!("{codec} frontier"),
            legend: true,
            color: i,
            points: r
                .frontier
                .iter()
                .filter(|p| p.codec == *codec)
                .map(|p| (p.records_per_sec, p.p99_us as f64 / 1000.0))
                .collect(),
        })
        .collect();
    let slo: Vec<HLine> = r
        .slo
        .iter()
        .filter_map(|t| {
            let term = parse_slo(t).ok()?.into_iter().next()?;
            Some(HLine {
                label: format!("SLO {t}"),
                y: term.limit_us as f64 / 1000.0,
            })
        })
        .collect();
    let winner = r.winner.as_ref().map(|w| Marker {
        label: format!("winner {}: {} confirmed", w.label, fmt_rate(w.median)),
        x: if w.figure == "records_per_sec" {
            w.median
        } else {
            w.target_records_per_sec.unwrap_or(0.0)
        },
        y: w.p99_us_median as f64 / 1000.0,
    });
    let subtitle = format!(
        "{} cluster · {} trials · SLO {} · {}",
        r.cluster,
        r.trials.len(),
        r.slo.join(", "),
        r.created_at
            .get(..16)
            .unwrap_or(&r.created_at)
            .replace('T', " ")
            + " UTC"
    );
    charts::sweep_chart(&charts::SweepChart {
        title: "tune: Pareto frontier, p99 against achieved throughput per codec",
        subtitle: &subtitle,
        x_desc: "achieved records/s",
        lines: &lines,
        slo: &slo,
        knee: winner.as_ref(),
        saturated: &[],
        x_labels: None,
    })
}

fn html_page(r: &TuneResult, svg: &str) -> String {
    use crate::charts::html::{Cell, Fact, Page, Tone};
    let mut page = Page::new(
        "kprod tune",
        &format!(
            "{} · {} cluster · SLO {} · objective {}",
            r.created_at,
            r.cluster,
            r.slo.join(", "),
            r.objective
        ),
    );
    let (badge, tone) = match (&r.winner, r.interrupted) {
        (_, true) => ("INTERRUPTED", Tone::Warn),
        (Some(w), _) if w.confirmed => ("WINNER", Tone::Good),
        (Some(_), _) => ("NOT CONFIRMED", Tone::Warn),
        (None, _) => ("NO WINNER", Tone::Bad),
    };
    let mut facts = Vec::new();
    if let Some(w) = &r.winner {
        facts.push(
            Fact::new("winner", figure_text(w, w.median))
                .id("winner")
                .note(w.label.clone()),
        );
    }
    if let Some(b) = &r.best_builtin {
        facts.push(
            Fact::new("best built-in", figure_text(b, b.median))
                .id("best-builtin")
                .note(b.label.clone()),
        );
    }
    if let Some(x) = &r.ratio {
        facts.push(
            Fact::new("ratio", format!("{:.2}×", x.value))
                .id("ratio")
                .note(format!("95% CI {:.2}–{:.2}", x.ci_low, x.ci_high)),
        );
    }
    page.headline(badge, tone, &verdict_line(r), &facts);
    page.chart("Pareto frontier", svg);
    page.paragraph(&cluster_line(r));
    let rows: Vec<Vec<Cell>> = r
        .frontier
        .iter()
        .map(|p| {
            let c = &r.candidates[p.candidate];
            vec![
                p.codec.clone().into(),
                fmt_rate(p.records_per_sec).into(),
                fmt_latency_us(p.p99_us).into(),
                what(c).into(),
                settings_text(c).into(),
                Cell::link(
                    r.trials[p.trial].run_dir.clone(),
                    &format!("{}/report.html", r.trials[p.trial].run_dir),
                ),
            ]
        })
        .collect();
    page.heading("Frontier");
    page.table(
        "frontier",
        &["codec", "achieved", "p99", "candidate", "settings", "run"],
        &rows,
    );
    let trials: Vec<Vec<Cell>> = r
        .trials
        .iter()
        .map(|t| {
            let c = &r.candidates[t.candidate];
            vec![
                (t.index + 1).to_string().into(),
                t.phase.clone().into(),
                what(c).into(),
                t.target_records_per_sec
                    .map_or("unlimited".into(), fmt_rate)
                    .into(),
                fmt_rate(t.achieved_records_per_sec).into(),
                fmt_latency_us(t.p99_us).into(),
                if t.saturated {
                    Cell::toned(t.reasons.join("; "), Tone::Bad)
                } else {
                    Cell::toned("ok", Tone::Good)
                },
                Cell::link(t.run_dir.clone(), &format!("{}/report.html", t.run_dir)),
            ]
        })
        .collect();
    page.heading("Trials");
    page.table(
        "trials",
        &[
            "trial",
            "phase",
            "candidate",
            "target",
            "achieved",
            "p99",
            "verdict",
            "run",
        ],
        &trials,
    );
    page.paragraph(&format!("Method: {}", r.method));
    page.paragraph(&format!("Space: {}", r.space.join(", ")));
    page.finish()
}

/// Writes `frontier.svg` and `report.html`.
pub fn write_chart(dir: &Path, r: &TuneResult) -> Result<PathBuf, KprodError> {
    let svg = frontier_svg(r);
    let path = dir.join(FRONTIER_SVG);
    report::write_atomic(&path, svg.as_bytes())?;
    charts::write_html(dir, &html_page(r, &svg))?;
    Ok(path)
}
