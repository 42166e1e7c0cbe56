//! Live metrics (`--metrics-addr`): OpenMetrics text for Prometheus during a run.
//!
//! [`Metrics`] is an [`Observer`]: the engine calls it on the collector thread once per
//! finished second with the interval already merged over producers, so producer threads
//! never see it. It keeps the run-so-far histogram itself (added up from the per-second
//! histograms) and publishes plain numbers into a [`Snapshot`] behind a mutex that only the
//! collector thread and the server thread touch; the server formats at each scrape.
//!
//! When the run ends, [`Metrics::finish`] sets the counts from the final report, so a
//! scrape with `kprod_run_finished 1` equals `report.json` (`--metrics-linger` keeps the
//! endpoint up for that scrape). Failed records by error name arrive then too: producers
//! count errors on their own threads and hand them over once, when they finish.

mod http;
mod text;

pub use http::{Server, OPENMETRICS_CONTENT_TYPE};
pub use text::{escape, render, run_labels};

use crate::domain::{MergedInterval, Observer};
use crate::error::KprodError;
use crate::plan::Plan;
use crate::report::{new_histogram, percentiles, RunReport};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Percentiles of one histogram, µs, with the count and sum a summary needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quantiles {
    pub count: u64,
    pub sum_us: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
}

impl Quantiles {
    fn of(h: &Histogram<u64>) -> Quantiles {
        let p = percentiles(h);
        Quantiles {
            count: p.count,
            sum_us: p.mean * p.count as f64,
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            p999: p.p999,
            p9999: p.p9999,
            max: p.max,
        }
    }
}

/// What a scrape shows. Written by the collector thread, read by the server thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub finished: bool,
    pub elapsed_s: f64,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Failed records by librdkafka error name (final counts, at the end of the run).
    pub errors: BTreeMap<String, u64>,
    pub queue_depth: u64,
    pub target_rate: Option<f64>,
    pub achieved_rate: f64,
    pub send_rate: f64,
    /// The last second.
    pub interval: Option<Quantiles>,
    /// Every second after the warm-up so far.
    pub run: Quantiles,
}

type Shared = Arc<Mutex<Snapshot>>;

fn lock(s: &Shared) -> MutexGuard<'_, Snapshot> {
    // A panic elsewhere must not take the metrics down with it: the numbers stay valid.
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `--metrics-*` observer; does nothing without `--metrics-addr`.
pub struct Metrics {
    shared: Shared,
    server: Option<Server>,
    run_hist: Histogram<u64>,
    warmup_s: f64,
    linger: Duration,
}

/// Resolves `--metrics-addr`; refuses non-loopback addresses unless `allow_remote`.
pub fn parse_addr(text: &str, allow_remote: bool) -> Result<SocketAddr, KprodError> {
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| {
            KprodError::flag(
                "--metrics-addr",
                format!("`{text}` is not HOST:PORT ({e})"),
                "give an address such as 127.0.0.1:9464",
            )
        })?
        .collect();
    let Some(&first) = addrs.first() else {
        return Err(KprodError::flag(
            "--metrics-addr",
            format!("`{text}` resolves to no address"),
            "give an address such as 127.0.0.1:9464",
        ));
    };
    if !allow_remote && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(KprodError::flag(
            "--metrics-addr",
            format!("{text} is not a loopback address and the endpoint has no authentication"),
            "use 127.0.0.1:PORT, or add --metrics-allow-remote to serve it on that address \
             (e.g. 0.0.0.0:9464 in a pod that Prometheus scrapes)",
        ));
    }
    Ok(first)
}

/// The `--metrics-*` flags as given on the command line, not yet checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsFlags<'a> {
    /// `--metrics-addr HOST:PORT`; None serves nothing.
    pub addr: Option<&'a str>,
    /// `--metrics-allow-remote`.
    pub allow_remote: bool,
    /// `--metrics-linger DURATION`.
    pub linger: Option<&'a str>,
}

impl Metrics {
    /// Starts serving (before the run, so the endpoint is up while producers connect).
    pub fn start(args: &MetricsFlags<'_>, plan: &Plan) -> Result<Metrics, KprodError> {
        let linger = match args.linger {
            None => Duration::ZERO,
            Some(_) if args.addr.is_none() => {
                return Err(KprodError::flag(
                    "--metrics-linger",
                    "--metrics-linger needs --metrics-addr",
                    "add --metrics-addr 127.0.0.1:9464, or drop --metrics-linger",
                ))
            }
            Some(text) => crate::units::parse_duration(text).map_err(|e| {
                KprodError::flag(
                    "--metrics-linger",
                    e.to_string(),
                    "give a duration such as 30s",
                )
            })?,
        };
        let p = &plan.profile;
        let shared: Shared = Arc::new(Mutex::new(Snapshot {
            target_rate: plan.target_rate(),
            ..Snapshot::default()
        }));
        let server = match args.addr {
            None => None,
            Some(text) => {
                let addr = parse_addr(text, args.allow_remote)?;
                let profile = if p.names.is_empty() {
                    "base".to_string()
                } else {
                    p.names.join("+")
                };
                let labels = run_labels(&profile, plan.instance, plan.instances);
                let cluster = p.cluster.brokers.as_deref().unwrap_or("embedded");
                let info = format!(
                    "topic=\"{}\",cluster=\"{}\"",
                    escape(&p.workload.topic),
                    escape(cluster)
                );
                let state = shared.clone();
                let render = Box::new(move || {
                    let snap = lock(&state).clone();
                    render(&snap, &labels, &info)
                });
                let server = Server::start(addr, render).map_err(|e| {
                    KprodError::flag(
                        "--metrics-addr",
                        format!("cannot listen on {addr}: {e}"),
                        "pick a free port (0 lets the system choose one)",
                    )
                })?;
                crate::domain::print_stderr(&format!(
                    "kprod: metrics at http://{}/metrics",
                    server.addr()
                ));
                Some(server)
            }
        };
        Ok(Metrics {
            shared,
            server,
            run_hist: new_histogram(),
            warmup_s: p.workload.warmup.as_secs_f64(),
            linger,
        })
    }

    /// The served address, when serving.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(Server::addr)
    }

    /// What a scrape would show now.
    pub fn snapshot(&self) -> Snapshot {
        lock(&self.shared).clone()
    }

    /// The run is over: the counts become the report's, and stay there.
    pub fn finish(&mut self, report: &RunReport) {
        let mut s = lock(&self.shared);
        let r = &report.records;
        // Never below what was already published: counters must not go backwards.
        s.sent = s.sent.max(r.sent);
        s.delivered = s.delivered.max(r.delivered);
        s.failed = s.failed.max(r.failed);
        s.unknown = s.unknown.max(r.unknown);
        s.errors = report.errors.clone();
        s.elapsed_s = report.duration_s;
        s.finished = true;
    }

    /// `--metrics-linger`: keeps serving the final values, ending early on a signal.
    pub fn linger(&self) {
        let Some(server) = &self.server else { return };
        if self.linger.is_zero() {
            return;
        }
        crate::domain::print_stderr(&format!(
            "kprod: serving the final metrics at http://{}/metrics for {:.0} s",
            server.addr(),
            self.linger.as_secs_f64()
        ));
        let end = Instant::now() + self.linger;
        while !crate::signals::signalled() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}

impl Observer for Metrics {
    fn interval(&mut self, i: &MergedInterval, elapsed: Duration) {
        if self.server.is_none() {
            return;
        }
        let hist = i.histogram();
        // The report's warm-up seconds are those that end at or before the warm-up.
        if (i.idx + 1) as f64 > self.warmup_s {
            let _ = self.run_hist.add(&hist);
        }
        let interval = Quantiles::of(&hist);
        let run = Quantiles::of(&self.run_hist);
        let mut s = lock(&self.shared);
        s.sent += i.counts.sent;
        s.delivered += i.counts.delivered;
        s.failed += i.counts.failed;
        s.queue_depth = i.queue_depth;
        // The run's last, partial second (a few ms of flush) would extrapolate to a spike:
        // the gauges keep the last whole second's rates.
        if !i.partial() {
            s.achieved_rate = i.counts.delivered as f64 / i.length_s;
            s.send_rate = i.counts.sent as f64 / i.length_s;
        }
        s.elapsed_s = elapsed.as_secs_f64();
        s.interval = Some(interval);
        s.run = run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_unless_allowed() {
        assert!(parse_addr("127.0.0.1:0", false).is_ok());
        assert!(parse_addr("[::1]:0", false).is_ok());
        let err = parse_addr("0.0.0.0:9464", false).expect_err("not loopback");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--metrics-addr"), "{err}");
        assert!(parse_addr("0.0.0.0:9464", true).is_ok());
        assert!(parse_addr("no port", false).is_err());
    }
}
