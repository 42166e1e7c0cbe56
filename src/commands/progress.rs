//! Live progress: a bar on a terminal, plain periodic lines otherwise, nothing with --quiet.
//! All of it goes to stderr so stdout carries only the summary.
//!
//! Every finished second is one line, on a terminal printed above the bar
//! (`ProgressBar::println`, as oha and k6 do) so the per-second history stays in the
//! scrollback when the bar is cleared at the end. The bar counts seconds, or records when
//! the record count is what ends the run.

use crate::domain::console::{paint, stderr_has_color, Tone};
use crate::engine::Observer;
use crate::measure::collector::MergedInterval;
use crate::plan::Plan;
use crate::report::{fmt_count, fmt_latency_us, fmt_mb_per_sec, fmt_rate};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// What the bar counts: the run's length in whole seconds, or its record count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarLength {
    Seconds(u64),
    Records(u64),
}

/// The bar of a run that ends after `duration`, after `records` sent, or at whichever comes
/// first: records when they are expected to end it (no duration, an unlimited rate, or
/// fewer records than the rate sends in the duration).
pub fn bar_length(
    duration: Option<Duration>,
    records: Option<u64>,
    rate: Option<f64>,
) -> BarLength {
    let secs = |d: Duration| BarLength::Seconds(d.as_secs_f64().ceil().max(1.0) as u64);
    match (duration, records) {
        (Some(d), None) => secs(d),
        (None, Some(n)) => BarLength::Records(n),
        (Some(d), Some(n)) => match rate {
            Some(r) if r > 0.0 && n as f64 / r >= d.as_secs_f64() => secs(d),
            _ => BarLength::Records(n),
        },
        (None, None) => BarLength::Seconds(1),
    }
}

/// How long the run goes, in words: "for 10s", "until 1,000 records are sent", or both.
pub fn run_span(duration: Option<Duration>, records: Option<u64>) -> String {
    let until = |n: u64| format!("until {} records are sent", fmt_count(n));
    match (duration, records) {
        (Some(d), None) => format!("for {}s", d.as_secs_f64()),
        (None, Some(n)) => until(n),
        (Some(d), Some(n)) => format!(
            "for {}s or {}, whichever comes first",
            d.as_secs_f64(),
            until(n)
        ),
        (None, None) => "until stopped".to_string(),
    }
}

/// The banner printed before t0.
pub fn banner(
    cluster: &str,
    duration: Option<Duration>,
    records: Option<u64>,
    warmup: Duration,
) -> String {
    let what = if cluster == "embedded" {
        "the embedded cluster (librdkafka mock brokers; absolute numbers do not predict a real cluster)".to_string()
    } else {
        cluster.to_string()
    };
    let warm = match warmup.is_zero() {
        true => "no warm-up".to_string(),
        false => format!("warm-up {}s excluded", warmup.as_secs_f64()),
    };
    format!(
        "kprod: producing to {what} {}, {warm}",
        run_span(duration, records)
    )
}

/// Whether second `idx` (`length_s` long) belongs to the warm-up: the rule of
/// `intervals.csv`'s `in_warmup` (it ends by the end of the warm-up), so the live tag and
/// the file agree on every second, the last warm-up second included.
pub fn in_warmup(idx: u64, length_s: f64, warmup: Duration) -> bool {
    idx as f64 + length_s <= warmup.as_secs_f64()
}

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    quiet: bool,
    total: Option<Duration>,
    records: Option<u64>,
    length: BarLength,
    warmup: Duration,
    errors: u64,
    sent: u64,
    faults: Vec<crate::faults::FaultSpec>,
    fire_and_forget: bool,
    color: bool,
}

impl Progress {
    pub fn new(plan: &Plan, quiet: bool) -> Self {
        let w = &plan.profile.workload;
        // This instance's share of the record count, which is what ends its run.
        let records = w
            .records
            .map(|_| plan.shares.iter().filter_map(|s| s.records).sum::<u64>());
        let length = bar_length(w.duration, records, plan.target_rate());
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let (len, template) = match length {
                BarLength::Seconds(s) => (s, "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len}s {msg}"),
                BarLength::Records(n) => (
                    n,
                    "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} records {msg}",
                ),
            };
            let pb = ProgressBar::with_draw_target(Some(len.max(1)), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            pb.set_style(style);
            pb
        });
        Progress {
            bar,
            plain: !quiet && !tty,
            quiet,
            total: w.duration,
            records,
            length,
            warmup: w.warmup,
            errors: 0,
            sent: 0,
            faults: plan.profile.faults.clone(),
            fire_and_forget: w.send_mode == crate::profile::SendMode::FireAndForget,
            color: stderr_has_color(),
        }
    }

    /// What one interval moved. Fire-and-forget gets no success reports, so it shows what
    /// was sent; the run's short last interval shows counts, not a rate extrapolated from
    /// a few milliseconds to a whole second.
    fn volume(&self, i: &MergedInterval) -> String {
        let (what, n) = if self.fire_and_forget {
            ("sent ", i.counts.sent)
        } else {
            ("", i.counts.delivered)
        };
        if i.partial() {
            return format!(
                "{what}{} records, {} B in the last {:.0} ms (partial)",
                fmt_count(n),
                fmt_count(i.counts.bytes),
                i.length_s * 1e3
            );
        }
        format!(
            "{what}{}  {}",
            fmt_rate(n as f64 / i.length_s),
            fmt_mb_per_sec(i.bytes_per_sec())
        )
    }

    fn tone(&self, tone: Tone, text: &str) -> String {
        match self.color {
            true => paint(tone, text),
            false => text.to_string(),
        }
    }

    /// The line of one finished second: `[   2s] 20.0k/s  20.48 MB/s  p99 …`.
    fn line(&self, i: &MergedInterval) -> String {
        let phase = match in_warmup(i.idx, i.length_s, self.warmup) {
            true => format!(" {}", self.tone(Tone::Warn, "(warm-up)")),
            false => String::new(),
        };
        let fault = crate::faults::label_at(&self.faults, i.idx).map_or(String::new(), |f| {
            format!("  {}", self.tone(Tone::Warn, &format!("FAULT {f}")))
        });
        // Fire-and-forget measures no latency: a "p99 0 µs" would read as a figure.
        // Nor does a second with no delivery.
        let p99 = match self.fire_and_forget || i.counts.delivered == 0 {
            true => String::new(),
            false => format!("  p99 {}", fmt_latency_us(i.p99_us)),
        };
        let at = match i.partial() {
            true => format!("{:.3}", i.idx as f64 + i.length_s),
            false => (i.idx + 1).to_string(),
        };
        format!(
            "[{at:>4}s] {}{p99}  errors {}  queue {}{phase}{fault}",
            self.volume(i),
            self.errors,
            i.queue_depth
        )
    }
}

impl Observer for Progress {
    fn started(&mut self, cluster: &str) {
        if !self.quiet {
            crate::print_stderr(&banner(cluster, self.total, self.records, self.warmup));
        }
    }

    fn interval(&mut self, i: &MergedInterval, _elapsed: Duration) {
        self.errors += i.counts.failed;
        self.sent += i.counts.sent;
        let line = self.line(i);
        if let Some(b) = &self.bar {
            b.set_position(match self.length {
                BarLength::Seconds(_) => i.idx + 1,
                BarLength::Records(_) => self.sent,
            });
            // Above the bar, so the history survives `finish_and_clear`.
            b.println(&line);
        } else if self.plain {
            crate::print_stderr(&line);
        }
    }

    fn verifying(&mut self) {
        if self.quiet {
            return;
        }
        let msg = "kprod: run over; reading the records back to verify them";
        match &self.bar {
            Some(b) => b.println(msg),
            None => crate::print_stderr(msg),
        }
    }

    fn tick(&mut self, _elapsed: Duration) {
        if let Some(b) = &self.bar {
            b.tick();
        }
    }

    fn client_error(&mut self, message: &str) {
        if !self.quiet {
            match &self.bar {
                Some(b) => b.println(format!("librdkafka: {message}")),
                None => crate::print_stderr(&format!("librdkafka: {message}")),
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Option<Duration> = |s| Some(Duration::from_secs(s));

    #[test]
    fn every_warmup_second_is_tagged_including_the_last() {
        let w = Duration::from_secs(2);
        // Seconds 1 and 2 (idx 0, 1) are warm-up, second 3 is measured.
        let tagged: Vec<bool> = (0..4).map(|idx| in_warmup(idx, 1.0, w)).collect();
        assert_eq!(tagged, [true, true, false, false]);
        assert!(!in_warmup(0, 1.0, Duration::ZERO));
        // A half-second warm-up: the first second runs past it, as intervals.csv says.
        assert!(!in_warmup(0, 1.0, Duration::from_millis(500)));
    }

    #[test]
    fn the_bar_counts_records_when_they_end_the_run() {
        assert_eq!(bar_length(S(10), None, Some(1e3)), BarLength::Seconds(10));
        assert_eq!(
            bar_length(None, Some(5_000), Some(1e3)),
            BarLength::Records(5_000)
        );
        // 5,000 records at 1k/s end a 10 s run after 5 s; at 100/s the duration ends it.
        assert_eq!(
            bar_length(S(10), Some(5_000), Some(1e3)),
            BarLength::Records(5_000)
        );
        assert_eq!(
            bar_length(S(10), Some(5_000), Some(100.0)),
            BarLength::Seconds(10)
        );
        assert_eq!(
            bar_length(S(10), Some(5_000), None),
            BarLength::Records(5_000)
        );
        assert_eq!(
            bar_length(Some(Duration::from_millis(2_500)), None, None),
            BarLength::Seconds(3)
        );
    }

    #[test]
    fn the_banner_words_each_kind_of_end() {
        let b = |d, r| banner("localhost:9092", d, r, Duration::from_secs(2));
        assert_eq!(
            b(S(10), None),
            "kprod: producing to localhost:9092 for 10s, warm-up 2s excluded"
        );
        assert_eq!(
            b(None, Some(1_000_000)),
            "kprod: producing to localhost:9092 until 1,000,000 records are sent, warm-up 2s excluded"
        );
        assert_eq!(
            b(S(10), Some(500)),
            "kprod: producing to localhost:9092 for 10s or until 500 records are sent, \
             whichever comes first, warm-up 2s excluded"
        );
        for d in [S(10), None] {
            assert!(!b(d, Some(5)).contains("for until"));
        }
        let none = banner("embedded", S(1), None, Duration::ZERO);
        assert!(none.ends_with("for 1s, no warm-up"), "{none}");
    }
}
