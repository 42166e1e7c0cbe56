//! The pure half of `kprod sweep`: parsing `--slo`, judging whether one step's report is
//! saturated, and the `--find-max` search (bracket by doubling, binary search, confirm).
//! Nothing here runs a benchmark, so all of it is unit-tested with synthetic steps.

use crate::error::ConfigError;
use crate::report::{self, RunReport, Status};

/// The achieved rate must reach this share of the target, or the step is saturated.
pub const ACHIEVED_SHARE: f64 = 0.98;

/// The rule printed with every sweep and stored in `sweep.json`.
pub const SATURATION_RULE: &str = "A step is saturated when the achieved rate is below 98% of the \
     target, the SLO is broken (corrected latency of the measured window), the producer queue \
     keeps growing (least-squares slope of the per-second queue depth over the measured window \
     above 2% of the target per second), the run did not complete, or records failed or were \
     left unknown.";

/// One term of an SLO: `p99<=20ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct SloTerm {
    /// `p50`, `p90`, `p99`, `p999`, `p9999` or `max`.
    pub figure: String,
    pub limit_us: u64,
}

impl SloTerm {
    pub fn text(&self) -> String {
        format!("{}<={}", self.figure, report::fmt_latency_us(self.limit_us))
    }

    /// The figure's corrected latency in `r`.
    pub fn value(&self, r: &RunReport) -> u64 {
        let c = &r.latency_us.corrected;
        match self.figure.as_str() {
            "p50" => c.p50,
            "p90" => c.p90,
            "p99" => c.p99,
            "p999" => c.p999,
            "p9999" => c.p9999,
            _ => c.max,
        }
    }
}

fn slo_error(m: String) -> ConfigError {
    ConfigError::flag("--slo", m, "write e.g. --slo \"p99<=20ms\" or --slo \"p50<=5ms,p999<=50ms\" (figures: p50, p90, p99, p999, p9999, max)")
}

/// Parses `p99<=20ms,p999<=50ms`.
pub fn parse_slo(spec: &str) -> Result<Vec<SloTerm>, ConfigError> {
    let mut terms = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (fig, limit) = part
            .split_once("<=")
            .ok_or_else(|| slo_error(format!("{part:?} has no `<=`")))?;
        let fig = match fig.trim().to_ascii_lowercase().as_str() {
            "p99.9" => "p999".to_string(),
            "p99.99" => "p9999".to_string(),
            f @ ("p50" | "p90" | "p99" | "p999" | "p9999" | "max") => f.to_string(),
            other => return Err(slo_error(format!("unknown latency figure {other:?}"))),
        };
        let d = crate::units::parse_duration(limit.trim()).map_err(slo_error)?;
        let limit_us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        terms.push(SloTerm {
            figure: fig,
            limit_us,
        });
    }
    if terms.is_empty() {
        return Err(slo_error("empty SLO".into()));
    }
    Ok(terms)
}

/// How one step went.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub slo_met: bool,
    pub queue_growing: bool,
    pub saturated: bool,
    /// Every reason the step is saturated, for the table and `sweep.json`.
    pub reasons: Vec<String>,
}

/// Least-squares slope of the queue depth (records per second) over the measured window.
/// The final interval is left out when it is a sliver (the run's end, mid-flush).
pub fn queue_slope(r: &RunReport) -> Option<f64> {
    let n = r.intervals.len();
    let pts: Vec<(f64, f64)> = r
        .intervals
        .iter()
        .enumerate()
        .filter(|(k, i)| {
            let prev = if *k == 0 { 0.0 } else { r.intervals[k - 1].t_s };
            let sliver = k + 1 == n && i.t_s - prev < 0.5;
            !i.in_warmup && !sliver
        })
        .map(|(_, i)| (i.t_s, i.queue_depth as f64))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let m = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / m;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / m;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Which rate must reach [`ACHIEVED_SHARE`] of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Delivered records over the measured window, which ends at the last delivery: a
    /// step whose latency is a sizeable part of its window falls short by that part.
    Achieved,
    /// Records handed to the producer over the generation window: whether the producer
    /// kept pace with the schedule. With failures, a growing queue and the SLO judged
    /// too, latency bounded means deliveries keep pace as well (Little's law), so a short
    /// trial is not failed for the latency of its last records.
    Sent,
}

/// Judges one step's report against the saturation rule and the SLO.
pub fn judge(r: &RunReport, slo: &[SloTerm]) -> Judgement {
    judge_by(r, slo, Pace::Achieved)
}

/// [`judge`] with the rate that must keep up with the target chosen by `pace`.
pub fn judge_by(r: &RunReport, slo: &[SloTerm], pace: Pace) -> Judgement {
    let mut reasons = Vec::new();
    let (what, rate) = match pace {
        Pace::Achieved => ("achieved", r.throughput.records_per_sec),
        Pace::Sent => ("sent", r.throughput.send_records_per_sec),
    };
    let achieved = r.throughput.records_per_sec;
    let target = r.throughput.target_records_per_sec;
    if let Some(t) = target {
        if rate < ACHIEVED_SHARE * t {
            reasons.push(format!(
                "{what} {} is {:.1}% of the target {}",
                report::fmt_rate(rate),
                rate / t * 100.0,
                report::fmt_rate(t)
            ));
        }
    }
    let mut slo_met = true;
    for term in slo {
        let v = term.value(r);
        if r.latency_us.corrected.count == 0 || v > term.limit_us {
            slo_met = false;
            reasons.push(format!(
                "SLO {} broken: {} is {}",
                term.text(),
                term.figure,
                report::fmt_latency_us(v)
            ));
        }
    }
    let scale = target.unwrap_or(achieved).max(1.0);
    let slope = queue_slope(r);
    let queue_growing = slope.is_some_and(|s| s > 0.02 * scale);
    if queue_growing {
        reasons.push(format!(
            "producer queue grows by {:.0} records/s",
            slope.unwrap_or(0.0)
        ));
    }
    if r.status != Status::Complete {
        reasons.push(format!("run {:?}", r.status).to_lowercase());
    }
    let errors = r.records.failed + r.records.unknown;
    if errors > 0 {
        reasons.push(format!("{errors} records failed or unknown"));
    }
    Judgement {
        slo_met,
        queue_growing,
        saturated: !reasons.is_empty(),
        reasons,
    }
}

/// Which part of the `--find-max` search a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Bracket,
    Search,
    Confirm,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Bracket => "bracket",
            Phase::Search => "search",
            Phase::Confirm => "confirm",
        }
    }
}

/// Outcome of a step for the search: passed, or None when the sweep must stop (interrupted).
pub type StepVerdict = Option<bool>;

/// Where the search ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Highest rate that passed (the found maximum), if any did.
    pub lo: Option<f64>,
    /// Lowest rate that failed, if any did (None: capped by `max_rate`).
    pub hi: Option<f64>,
    /// The confirmation hold: (rate, passed).
    pub confirm: Option<(f64, bool)>,
    /// Stopped early (interrupted).
    pub stopped: bool,
}

/// Rates are whole records per second; nothing below this is tried.
const MIN_RATE: f64 = 1.0;

/// The `--find-max` search. `step(rate, phase)` runs one step and says whether it passed.
/// Doubles from `start` until a step fails (halving instead while even `start` fails),
/// then bisects until (hi - lo) / lo <= `precision`, then holds just below `lo`
/// (`lo * (1 - min(precision, 5%))`) to confirm.
pub fn find_max<E>(
    start: f64,
    max_rate: f64,
    precision: f64,
    mut step: impl FnMut(f64, Phase) -> Result<StepVerdict, E>,
) -> Result<Search, E> {
    let mut s = Search {
        lo: None,
        hi: None,
        confirm: None,
        stopped: false,
    };
    let mut r = start.min(max_rate).round().max(MIN_RATE);
    loop {
        let Some(pass) = step(r, Phase::Bracket)? else {
            s.stopped = true;
            return Ok(s);
        };
        if pass {
            s.lo = Some(r);
            if s.hi.is_some() || r >= max_rate {
                break;
            }
            r = (r * 2.0).min(max_rate).round();
        } else {
            s.hi = Some(r);
            if s.lo.is_some() || r <= MIN_RATE {
                break;
            }
            r = (r / 2.0).round().max(MIN_RATE);
        }
    }
    while let (Some(lo), Some(hi)) = (s.lo, s.hi) {
        let mid = ((lo + hi) / 2.0).round();
        if (hi - lo) / lo <= precision || mid <= lo || mid >= hi {
            break;
        }
        match step(mid, Phase::Search)? {
            None => {
                s.stopped = true;
                return Ok(s);
            }
            Some(true) => s.lo = Some(mid),
            Some(false) => s.hi = Some(mid),
        }
    }
    if let Some(lo) = s.lo {
        // Just below the result: a coarse --precision must not turn the hold into a test
        // of a much lower rate.
        let c = (lo * (1.0 - precision.min(0.05))).round().max(MIN_RATE);
        match step(c, Phase::Confirm)? {
            None => s.stopped = true,
            Some(pass) => s.confirm = Some((c, pass)),
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::sample_report;

    fn search(capacity: f64, start: f64, max: f64) -> (Search, Vec<(f64, Phase)>) {
        let mut tried = Vec::new();
        let s = find_max::<()>(start, max, 0.05, |r, p| {
            tried.push((r, p));
            Ok(Some(r <= capacity))
        })
        .unwrap();
        (s, tried)
    }

    #[test]
    fn brackets_by_doubling_then_bisects_to_the_precision() {
        let (s, tried) = search(37_000.0, 1000.0, 1e7);
        let (lo, hi) = (s.lo.unwrap(), s.hi.unwrap());
        assert!(lo <= 37_000.0 && hi > 37_000.0, "{s:?}");
        assert!((hi - lo) / lo <= 0.05, "{s:?}");
        let bracket: Vec<f64> = tried
            .iter()
            .filter(|t| t.1 == Phase::Bracket)
            .map(|t| t.0)
            .collect();
        assert_eq!(
            bracket,
            [1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 32000.0, 64000.0]
        );
        assert_eq!(s.confirm, Some(((lo * 0.95).round(), true)));
        assert_eq!(tried.last().unwrap().1, Phase::Confirm);
    }

    #[test]
    fn halves_when_the_start_rate_already_fails_and_caps_at_max() {
        let (s, _) = search(300.0, 1000.0, 1e7);
        assert!(s.lo.unwrap() <= 300.0 && s.hi.unwrap() > 300.0, "{s:?}");
        let (s, _) = search(1e9, 1000.0, 5000.0);
        assert_eq!((s.lo, s.hi), (Some(5000.0), None));
        let (s, _) = search(0.0, 4.0, 100.0);
        assert_eq!(s.lo, None);
        assert_eq!(s.confirm, None);
    }

    #[test]
    fn an_interrupted_step_stops_the_search() {
        let mut n = 0;
        let s = find_max::<()>(1000.0, 1e7, 0.05, |_, _| {
            n += 1;
            Ok((n < 3).then_some(true))
        })
        .unwrap();
        assert!(s.stopped);
        assert_eq!(s.lo, Some(2000.0));
    }

    #[test]
    fn slo_parses_and_rejects_garbage() {
        let t = parse_slo("p99<=20ms, p99.9<=1s").unwrap();
        assert_eq!(t[0].limit_us, 20_000);
        assert_eq!(t[1].figure, "p999");
        assert_eq!(t[1].text(), "p999<=1000.000 ms");
        for bad in ["p99<20ms", "p98<=1ms", "p99<=fast", ""] {
            assert!(parse_slo(bad).unwrap_err().fix.is_some(), "{bad}");
        }
    }

    #[test]
    fn judge_flags_each_saturation_reason() {
        let mut r = sample_report();
        r.records.failed = 0;
        r.records.unknown = 0;
        r.throughput.target_records_per_sec = Some(10_000.0);
        r.throughput.records_per_sec = 9_850.0;
        for (k, i) in r.intervals.iter_mut().enumerate() {
            i.in_warmup = false;
            i.queue_depth = 10;
            i.t_s = k as f64 + 1.0;
        }
        let slo = parse_slo("p99<=1s").unwrap();
        let ok = judge(&r, &slo);
        assert!(!ok.saturated, "{ok:?}");
        r.throughput.records_per_sec = 9_700.0;
        assert!(judge(&r, &slo).reasons[0].contains("of the target"));
        r.throughput.records_per_sec = 10_000.0;
        let tight = parse_slo("p99<=1ms").unwrap();
        let j = judge(&r, &tight);
        assert!(!j.slo_met && j.saturated);
        for (k, i) in r.intervals.iter_mut().enumerate() {
            i.queue_depth = 1000 * k as u64;
        }
        let j = judge(&r, &slo);
        assert!(j.queue_growing && j.saturated, "{j:?}");
    }

    #[test]
    fn judged_on_sends_a_step_is_not_failed_for_its_last_deliveries_latency() {
        let mut r = sample_report();
        r.records.failed = 0;
        r.records.unknown = 0;
        r.throughput.target_records_per_sec = Some(10_000.0);
        for (k, i) in r.intervals.iter_mut().enumerate() {
            i.in_warmup = false;
            i.queue_depth = 10;
            i.t_s = k as f64 + 1.0;
        }
        let slo = parse_slo("p99<=1s").unwrap();
        // Every record sent on schedule, the window stretched by the last one's latency.
        r.throughput.send_records_per_sec = 9_990.0;
        r.throughput.records_per_sec = 9_000.0;
        assert!(judge(&r, &slo).saturated);
        let j = judge_by(&r, &slo, Pace::Sent);
        assert!(!j.saturated, "{j:?}");
        // A producer that fell behind its schedule is saturated either way.
        r.throughput.send_records_per_sec = 9_500.0;
        let j = judge_by(&r, &slo, Pace::Sent);
        assert!(j.saturated && j.reasons[0].starts_with("sent "), "{j:?}");
    }
}
