//! The compact end-of-run summary: at most [`MAX_LINES`] lines of at most [`WIDTH`]
//! columns, headline first and the results path last, so a terminal shows the whole
//! verdict of a run without scrolling. `--details` prints the full table
//! ([`super::summary_table`]) above it.
//!
//! Lines carry ANSI styles through `domain::console::paint`; the console strips them where
//! colour is off. Like the table, it prints only fields that cannot hold secrets.

use super::table::{fmt_count, fmt_latency_us, fmt_mb_per_sec, fmt_rate};
use super::{RunReport, Status};
use crate::domain::console::{paint, Tone};
use crate::verdict::Verdict;

/// The most lines the summary takes, results path included.
pub const MAX_LINES: usize = 15;
/// The widest line, in characters (the results path alone may be longer: it is never cut).
pub const WIDTH: usize = 100;
/// Width of the label column.
const LABEL: usize = 12;

/// One judged `--threshold`: the text before the verdict, and the verdict.
#[derive(Debug, Clone)]
pub struct VerdictLine {
    pub text: String,
    pub verdict: Verdict,
}

/// What the command adds to a run's own figures.
#[derive(Debug, Clone, Default)]
pub struct SummaryExtras {
    /// `--threshold` verdicts, in order.
    pub verdicts: Vec<VerdictLine>,
    /// The last line, e.g. `results: results/2026…-durable` (never cut to [`WIDTH`]).
    pub results: Option<String>,
    /// The full table is printed above (`--details`): the summary points there instead.
    pub below_details: bool,
}

/// A line as styled segments, so it can be cut to [`WIDTH`] without splitting a style.
#[derive(Default)]
struct Line(Vec<(Option<Tone>, String)>);

impl Line {
    fn labelled(label: &str) -> Self {
        Line(vec![(None, format!("{label:<LABEL$}"))])
    }
    fn text(mut self, s: impl Into<String>) -> Self {
        self.0.push((None, s.into()));
        self
    }
    fn tone(mut self, t: Tone, s: impl Into<String>) -> Self {
        self.0.push((Some(t), s.into()));
        self
    }
    /// Rendered, cut to [`WIDTH`] characters with a trailing `…`.
    fn render(&self) -> String {
        let total: usize = self.0.iter().map(|(_, s)| s.chars().count()).sum();
        let mut budget = if total > WIDTH { WIDTH - 1 } else { WIDTH };
        let mut out = String::new();
        for (tone, s) in &self.0 {
            if budget == 0 {
                break;
            }
            let part: String = s.chars().take(budget).collect();
            budget -= part.chars().count();
            match tone {
                Some(t) => out.push_str(&paint(*t, &part)),
                None => out.push_str(&part),
            }
        }
        if total > WIDTH {
            out.push('…');
        }
        out
    }
}

fn status_word(s: Status) -> (&'static str, Tone) {
    match s {
        Status::Complete => ("COMPLETE", Tone::Good),
        Status::Interrupted => ("INTERRUPTED", Tone::Warn),
        Status::Aborted => ("ABORTED", Tone::Warn),
        Status::Failed => ("FAILED", Tone::Bad),
        Status::Empty => ("EMPTY", Tone::Bad),
    }
}

fn headline(r: &RunReport) -> Line {
    let (word, tone) = status_word(r.status);
    let profile = match r.profile.join("+") {
        p if p.is_empty() => "base".to_string(),
        p => p,
    };
    let cluster = match r.cluster.as_str() {
        "embedded" => "embedded cluster".to_string(),
        c => format!("brokers {c}"),
    };
    let plural = |n: u64, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let mut shape = format!(
        "{profile} · {cluster} · {} · {} · {:.1} s",
        plural(u64::from(r.producers), "producer"),
        plural(u64::from(r.partitions), "partition"),
        r.duration_s
    );
    match (r.instance, r.instances) {
        (Some(i), Some(n)) => shape.push_str(&format!(" · instance {i} of {n}")),
        (None, Some(n)) => shape.push_str(&format!(" · {n} instances merged")),
        _ => {}
    }
    Line::default()
        .tone(tone, word)
        .text("  ")
        .tone(Tone::Headline, shape)
}

fn records_line(r: &RunReport) -> Line {
    let rec = &r.records;
    // Recomputed from the counts: the line must not claim what the numbers contradict.
    let holds = rec
        .delivered
        .checked_add(rec.failed)
        .and_then(|x| x.checked_add(rec.unknown))
        == Some(rec.sent);
    let inferred = if rec.delivered_inferred {
        " (inferred)"
    } else {
        ""
    };
    let line = Line::labelled("records").text(format!(
        "{} sent {} {} delivered{inferred} + {} failed + {} unknown  ",
        fmt_count(rec.sent),
        if holds { "=" } else { "≠" },
        fmt_count(rec.delivered),
        fmt_count(rec.failed),
        fmt_count(rec.unknown)
    ));
    let line = match holds {
        true => line.tone(Tone::Good, "✓"),
        false => line.tone(Tone::Bad, "✗ records unaccounted for"),
    };
    match rec.behind_schedule {
        0 => line,
        n => line.tone(
            Tone::Warn,
            format!(" · {} due but never sent", fmt_count(n)),
        ),
    }
}

fn throughput_line(r: &RunReport) -> Line {
    let t = &r.throughput;
    let line = Line::labelled("throughput").text(format!(
        "{} · {} · ",
        fmt_rate(t.records_per_sec),
        fmt_mb_per_sec(t.bytes_per_sec)
    ));
    match t.target_records_per_sec {
        Some(target) if target > 0.0 => {
            let pct = t.records_per_sec / target * 100.0;
            let text = format!("{pct:.2} % of {} target", fmt_rate(target));
            // Below 95 % the generator or the cluster did not keep up: worth a look.
            match pct < 95.0 {
                true => line.tone(Tone::Warn, text),
                false => line.text(text),
            }
        }
        _ => line.text("no target (unlimited rate)"),
    }
}

fn latency_line(r: &RunReport) -> Line {
    let l = &r.latency_us;
    let line = Line::labelled("latency");
    if l.corrected.count == 0 {
        return match r.records.delivered_inferred {
            true => line.text("not measured: fire-and-forget reports no successes"),
            false => line.tone(
                Tone::Warn,
                "no samples: nothing sent after the warm-up was delivered",
            ),
        };
    }
    let c = &l.corrected;
    let mut text = format!(
        "p50 {} · p99 {} · p99.9 {} · max {}",
        fmt_latency_us(c.p50),
        fmt_latency_us(c.p99),
        fmt_latency_us(c.p999),
        fmt_latency_us(c.max)
    );
    // Twice the enqueue-based figure: the generator fell behind its schedule, and the
    // uncorrected number is the one a closed-loop tool would have shown.
    let u = &l.uncorrected;
    if u.count > 0 && c.p99 >= u.p99.saturating_mul(2) {
        text.push_str(&format!(" · uncorrected p99 {}", fmt_latency_us(u.p99)));
    }
    line.text(text)
}

fn errors_line(r: &RunReport) -> Line {
    let line = Line::labelled("errors");
    let class = |name: &str| {
        r.error_details
            .get(name)
            .map_or("unclassified", |d| d.class.as_str())
            .to_string()
    };
    let mut top: Vec<(&String, &u64)> = r.errors.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let text = match top.as_slice() {
        [] => return line.text("none"),
        [(name, n)] => format!("{name} {} ({})", fmt_count(**n), class(name)),
        // Several kinds: how many first, so a cut at the right edge loses only names.
        many => {
            let shown: Vec<String> = many
                .iter()
                .take(3)
                .map(|(name, n)| format!("{name} {}", fmt_count(**n)))
                .collect();
            let more = match many.len() > 3 {
                true => format!(", +{} more", many.len() - 3),
                false => String::new(),
            };
            format!("{} kinds: {}{more}", many.len(), shown.join(", "))
        }
    };
    line.tone(Tone::Warn, text)
}

fn stats_line(r: &RunReport) -> Line {
    let st = &r.librdkafka_stats;
    let line = Line::labelled("librdkafka");
    if st.stats_samples == 0 {
        return line.text("no statistics received");
    }
    let us = |v: Option<f64>| match v {
        Some(v) if v.is_finite() && v >= 0.0 => fmt_latency_us(v.round() as u64),
        _ => "n/a".to_string(),
    };
    let batch = st
        .avg_batch_records
        .map_or("n/a".to_string(), |v| format!("{v:.1}"));
    line.text(format!(
        "batch {batch} records avg · broker rtt avg {} p99 {} · peak queue {} records",
        us(st.rtt_avg_us),
        us(st.rtt_p99_us),
        fmt_count(st.peak_queue_records)
    ))
}

fn verify_line(r: &RunReport) -> Option<Line> {
    let v = r.verify.as_ref()?;
    let line = Line::labelled("verify");
    let no_loss = matches!(
        r.config.librdkafka.get("acks").map(String::as_str),
        Some("all" | "-1")
    );
    let lost = format!("lost {}", fmt_count(v.lost));
    let line = match v.lost > 0 && no_loss {
        true => line.tone(Tone::Bad, format!("{lost} despite acks=all")),
        false => line.text(lost),
    };
    let line = line.text(format!(
        " · duplicated {} · reordered {} · unknown {} ({} written)",
        fmt_count(v.duplicated),
        fmt_count(v.reordered),
        fmt_count(v.unknown.total),
        fmt_count(v.unknown.found)
    ));
    Some(match &v.error {
        Some(e) => line.tone(Tone::Warn, format!(" · INCOMPLETE: {e}")),
        None => line,
    })
}

/// `[consumers]`: end-to-end latency and whether every group consumed what was delivered.
fn e2e_line(r: &RunReport) -> Option<Line> {
    let c = r.consumers.as_ref()?;
    let mut text = match &r.latency_us.e2e {
        Some(e) if e.count > 0 => format!(
            "p50 {} · p99 {} · ",
            fmt_latency_us(e.p50),
            fmt_latency_us(e.p99)
        ),
        _ => "no samples · ".to_string(),
    };
    let all = c.consumed.iter().all(|n| *n == r.records.delivered);
    // Kept short: the line must fit 100 columns with the backlog figure.
    text.push_str(&match (all, c.groups) {
        (true, 1) => "all consumed".to_string(),
        (true, g) => format!("all consumed ({g} groups)"),
        (false, _) => format!(
            "consumed {} of {} delivered",
            fmt_count(c.consumed.iter().copied().min().unwrap_or(0)),
            fmt_count(r.records.delivered)
        ),
    });
    if let Some(b) = &c.backlog {
        text.push_str(&match b.catch_up_s {
            Some(s) => format!(" · backlog drained {s:.1} s"),
            None => " · backlog not caught up".to_string(),
        });
    }
    let line = Line::labelled("end-to-end");
    Some(match all && c.caught_up {
        true => line.text(text),
        false => line.tone(Tone::Warn, text),
    })
}

fn faults_line(r: &RunReport) -> Option<Line> {
    if r.faults.is_empty() {
        return None;
    }
    let specs: Vec<&str> = r.faults.iter().map(|f| f.spec.as_str()).collect();
    let line = Line::labelled("faults").text(specs.join(", "));
    let refused = r.faults.iter().filter(|f| f.error.is_some()).count();
    Some(match refused {
        0 => line,
        n => line.tone(Tone::Warn, format!(" ({n} refused by the cluster)")),
    })
}

/// The clause of a measurement description before its elaboration:
/// `"intended send time t0 + i/rate (…)"` → `"intended send time"`, `"delivery report
/// served by …"` → `"delivery report"`; the whole text when nothing would be left.
fn short_clause(s: &str) -> &str {
    let cut = [" (", " t0", ":", ";", ",", " served"]
        .iter()
        .filter_map(|p| s.find(p))
        .min()
        .unwrap_or(s.len());
    match s[..cut].trim() {
        "" => s.trim(),
        short => short,
    }
}

/// The short statement of what was measured: latency origin and end, unit, warm-up, and
/// the cluster note that qualifies every figure; one sentence a line, wrapped at [`WIDTH`].
fn measured_lines(r: &RunReport, below_details: bool) -> Vec<String> {
    let m = &r.measurement;
    let unit = match m.latency_unit.as_str() {
        "microseconds" | "us" => "µs",
        u => u,
    };
    let warmup = match (m.warmup_s > 0.0, m.warmup_excluded) {
        (false, _) => "no warm-up".to_string(),
        (true, true) => format!("warm-up {:.1} s excluded", m.warmup_s),
        (true, false) => format!("warm-up {:.1} s included", m.warmup_s),
    };
    // `m.note` (fire-and-forget) is what the latency and records lines already say.
    let mut sentences = vec![format!(
        "Measured: latency in {unit} from {} to {}; {warmup}.",
        short_clause(&m.corrected_from),
        short_clause(&m.latency_to)
    )];
    if let Some(note) = &r.cluster_note {
        // "embedded cluster (…): absolute numbers …; compare ratios …" → its first claim.
        let first = note.split(';').next().unwrap_or(note);
        let short = match (first.find(" ("), first.find("):")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &first[..a], &first[b + 1..]),
            _ => first.to_string(),
        };
        let mut chars = short.chars();
        let cap: String = chars
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default();
        sentences.push(format!("{cap}{}.", chars.as_str()));
    }
    let hint = match below_details {
        true => "The full statement is above.",
        false => "--details: the full statement.",
    };
    let mut lines: Vec<String> = sentences.iter().flat_map(|s| wrap(s)).collect();
    match lines.last_mut() {
        Some(last) if last.chars().count() + 1 + hint.len() <= WIDTH => {
            last.push(' ');
            last.push_str(hint);
        }
        _ => lines.push(hint.to_string()),
    }
    lines
}

/// `text` broken at spaces into lines of at most [`WIDTH`] characters.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn verdict_line(v: &VerdictLine) -> Line {
    let tone = match v.verdict {
        Verdict::Pass => Tone::Good,
        Verdict::Fail => Tone::Bad,
        Verdict::Inconclusive => Tone::Warn,
    };
    Line::labelled("threshold")
        .text(format!("{} → ", v.text))
        .tone(tone, v.verdict.label())
}

/// The compact summary of one run (see the module doc), ending with a newline.
pub fn compact_summary(r: &RunReport, extras: &SummaryExtras) -> String {
    let mut top = vec![headline(r)];
    if let Some(reason) = r.status_reason.as_deref() {
        let (_, tone) = status_word(r.status);
        top.push(Line::labelled("reason").tone(tone, reason));
    }
    top.extend([records_line(r), throughput_line(r), latency_line(r)]);
    // The one line the budget has room for: where the mean latency went.
    top.extend(
        r.latency_breakdown_us
            .as_ref()
            .map(|b| Line::labelled("breakdown").text(super::breakdown::summary_line(b))),
    );
    top.extend([errors_line(r), stats_line(r)]);
    top.extend(verify_line(r));
    top.extend(e2e_line(r));
    top.extend(faults_line(r));

    // The honesty statement is never cut, only wrapped (two lines with today's texts).
    let measured = measured_lines(r, extras.below_details);
    let fixed = top.len() + measured.len() + usize::from(extras.results.is_some());

    // Thresholds before warnings; what does not fit is counted on one line.
    let mut optional: Vec<Line> = extras.verdicts.iter().map(verdict_line).collect();
    optional.extend(
        r.warnings
            .iter()
            .map(|w| Line::labelled("warning").tone(Tone::Warn, w.as_str())),
    );
    let room = MAX_LINES.saturating_sub(fixed);
    if optional.len() > room {
        let keep = room.saturating_sub(1);
        let verdicts_cut = extras.verdicts.len().saturating_sub(keep);
        let warnings_cut = optional.len() - keep - verdicts_cut;
        optional.truncate(keep);
        let mut what = Vec::new();
        if verdicts_cut > 0 {
            what.push(format!("+{verdicts_cut} more thresholds"));
        }
        if warnings_cut > 0 {
            what.push(format!("+{warnings_cut} more warnings"));
        }
        optional.push(Line::labelled("").tone(
            Tone::Warn,
            format!("{} (--details lists them)", what.join(", ")),
        ));
    }

    let mut out = String::new();
    for line in top.iter().chain(&optional) {
        out.push_str(&line.render());
        out.push('\n');
    }
    for line in &measured {
        out.push_str(line);
        out.push('\n');
    }
    if let Some(results) = &extras.results {
        out.push_str(results);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
