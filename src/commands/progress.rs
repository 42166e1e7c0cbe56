//! Live progress: a bar on a terminal, plain periodic lines otherwise, nothing with --quiet.
//! All of it goes to stderr so stdout carries only the summary.

use crate::engine::Observer;
use crate::measure::collector::MergedInterval;
use crate::plan::Plan;
use crate::report::{fmt_bytes_per_sec, fmt_count, fmt_latency_us, fmt_rate};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    quiet: bool,
    total: Option<Duration>,
    warmup: Duration,
    errors: u64,
    faults: Vec<crate::faults::FaultSpec>,
    fire_and_forget: bool,
}

impl Progress {
    pub fn new(plan: &Plan, quiet: bool) -> Self {
        let w = &plan.profile.workload;
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let len = w.duration.map(|d| d.as_secs()).unwrap_or(0);
            let pb = ProgressBar::with_draw_target(Some(len.max(1)), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len}s {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            pb.set_style(style);
            pb
        });
        Progress {
            bar,
            plain: !quiet && !tty,
            quiet,
            total: w.duration,
            warmup: w.warmup,
            errors: 0,
            faults: plan.profile.faults.clone(),
            fire_and_forget: w.send_mode == crate::profile::SendMode::FireAndForget,
        }
    }
}

impl Progress {
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
            fmt_bytes_per_sec(i.bytes_per_sec())
        )
    }
}

impl Observer for Progress {
    fn started(&mut self, cluster: &str) {
        if !self.quiet {
            let what = if cluster == "embedded" {
                "the embedded cluster (librdkafka mock brokers; absolute numbers do not predict a real cluster)".to_string()
            } else {
                cluster.to_string()
            };
            let total = self
                .total
                .map(|d| format!("{}s", d.as_secs_f64()))
                .unwrap_or_else(|| "until the record count".into());
            crate::print_stderr(&format!(
                "kprod: producing to {what} for {total}, warm-up {}s excluded",
                self.warmup.as_secs_f64()
            ));
        }
    }

    fn interval(&mut self, i: &MergedInterval, elapsed: Duration) {
        self.errors += i.counts.failed;
        let phase = if elapsed <= self.warmup {
            " (warm-up)"
        } else {
            ""
        };
        let fault = crate::faults::label_at(&self.faults, i.idx)
            .map_or(String::new(), |f| format!("  FAULT {f}"));
        // Fire-and-forget measures no latency: a "p99 0 µs" would read as a figure.
        let p99 = match self.fire_and_forget {
            true => String::new(),
            false => format!("  p99 {}", fmt_latency_us(i.p99_us)),
        };
        let msg = format!(
            "{}{p99}  errors {}  queue {}{phase}{fault}",
            self.volume(i),
            self.errors,
            i.queue_depth
        );
        if let Some(b) = &self.bar {
            b.set_position(i.idx + 1);
            b.set_message(msg);
        } else if self.plain {
            let at = match i.partial() {
                true => format!("{:.3}", i.idx as f64 + i.length_s),
                false => (i.idx + 1).to_string(),
            };
            crate::print_stderr(&format!("[{at:>4}s] {msg}"));
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
