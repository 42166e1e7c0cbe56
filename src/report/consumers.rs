//! The consumers' part of the report (`[consumers]`): `latency_us.e2e`, the `consumers`
//! section with its `backlog` figures, and the per-second `consumed`, `consumed_per_sec`,
//! `consumer_lag` and `e2e_p99_us` columns of `intervals[]`.
//!
//! Lag is counted from the report's own figures: records delivered so far (by delivery
//! second) minus records consumed so far by the slowest group (by poll second), never
//! below 0. Consumption after the producers' last second (the drain after the flush) is
//! counted in the last interval, as the flush tail is.

use super::{percentiles, Interval, RunReport};
use crate::domain::{ConsumerOutcome, RunOutcome};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsumersReport {
    pub groups: u32,
    pub per_group_threads: u32,
    /// Records of this run consumed, per group (each group reads every record; the
    /// warm-up's included, like `records.delivered`).
    pub consumed: Vec<u64>,
    /// Records per second per group: `consumed` (mean over groups) over t0 → the end of the
    /// drain (`duration_s` + `catch_up_s`; + the drain timeout when not caught up).
    pub consumed_per_sec: f64,
    /// The largest `intervals[].consumer_lag`.
    pub lag_max_records: u64,
    /// Every consumer reached the topic's end offsets taken after the flush.
    pub caught_up: bool,
    /// End of the producers' flush → the last consumer reached those offsets.
    pub catch_up_s: Option<f64>,
    /// `fetch.wait.max.ms` and `fetch.min.bytes` as the consumers were configured
    /// (None = librdkafka's default).
    pub fetch_wait_max_ms: Option<u64>,
    pub fetch_min_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<BacklogReport>,
    /// `--consumer-cpus`: the CPUs the consumers ran on (as given); None = not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
}

/// `--backlog`: consumers paused from t0 until warm-up + backlog, then resumed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BacklogReport {
    pub backlog_s: f64,
    /// When the consumers resumed, seconds since t0.
    pub resumed_at_s: Option<f64>,
    /// Consumer lag at the end of the last second before the resume.
    pub records_at_resume: u64,
    /// Records the slowest group consumed from the resume until it caught up, per second.
    pub drain_records_per_sec: Option<f64>,
    /// Resume → the end of the first second whose lag was at most that second's delivered
    /// records (one second of production), or the end of the drain after the flush.
    /// None = never caught up.
    pub catch_up_s: Option<f64>,
}

/// Fills the consumers' figures into `r`; nothing without consumers.
pub(super) fn apply(plan: &Plan, out: &RunOutcome, r: &mut RunReport) {
    let Some(c) = &out.consumers else { return };
    r.latency_us.e2e = Some(percentiles(&c.e2e));
    r.measurement.e2e = Some(
        "end-to-end = intended send time (carried in the value's first 16 bytes) -> record \
         returned by the consumer's poll, on the same clock; records intended after the \
         warm-up, every group's"
            .into(),
    );
    let idxs: Vec<u64> = out.measurements.intervals.iter().map(|i| i.idx).collect();
    let per_group = fill_intervals(c, &idxs, &mut r.intervals);
    let cfg = &plan.profile.consumers;
    let wait = cfg.fetch_wait_max_ms.or(out.embedded.then_some(10));
    let span = r.duration_s + c.catch_up_s.unwrap_or(30.0);
    let mean_consumed = c.consumed.iter().sum::<u64>() as f64 / f64::from(c.groups.max(1));
    let backlog = cfg
        .backlog
        .map(|b| backlog(b.as_secs_f64(), c, &r.intervals, &per_group, r.duration_s));
    r.consumers = Some(ConsumersReport {
        groups: c.groups,
        per_group_threads: c.per_group_threads,
        consumed: c.consumed.clone(),
        consumed_per_sec: if span > 0.0 {
            mean_consumed / span
        } else {
            0.0
        },
        lag_max_records: r
            .intervals
            .iter()
            .map(|i| i.consumer_lag)
            .max()
            .unwrap_or(0),
        caught_up: c.caught_up,
        catch_up_s: c.catch_up_s,
        fetch_wait_max_ms: wait,
        fetch_min_bytes: cfg.fetch_min_bytes,
        backlog,
        cpus: cfg.cpus.clone(),
    });
    r.warnings.extend(c.warnings.iter().cloned());
    let delivered = r.records.delivered;
    for (g, n) in c.consumed.iter().enumerate() {
        if *n != delivered {
            r.warnings.push(format!(
                "consumer group {g} consumed {n} records of the {delivered} delivered{}",
                if *n > delivered {
                    " (copies written by retries, or records whose delivery report was lost)"
                } else if out.embedded {
                    ": the embedded cluster keeps about 5 MiB per partition and trims the \
                     rest, so a consumer that fell that far behind skipped what was trimmed \
                     (lower the rate, or add partitions or consumers)"
                } else {
                    ""
                }
            ));
        }
    }
}

/// Sets the per-second columns; returns, per interval, the records consumed up to its end
/// by the slowest group.
fn fill_intervals(c: &ConsumerOutcome, idxs: &[u64], rows: &mut [Interval]) -> Vec<u64> {
    let groups = c.groups.max(1) as usize;
    let n = rows.len().min(idxs.len());
    let mut by_group = vec![vec![0u64; groups]; n];
    for s in &c.seconds {
        // The interval of the same second; a second past the last (the drain) or missing
        // among the producers' goes to the next one there is, else the last.
        let Some(k) = idxs[..n]
            .iter()
            .position(|i| *i >= s.idx)
            .or(n.checked_sub(1))
        else {
            continue;
        };
        for (g, v) in s.consumed.iter().enumerate().take(groups) {
            by_group[k][g] += v;
        }
        rows[k].e2e_p99_us = rows[k].e2e_p99_us.max(s.e2e_p99_us);
    }
    let mut cum = vec![0u64; groups];
    let mut delivered = 0u64;
    let mut slowest = Vec::with_capacity(n);
    for (k, row) in rows.iter_mut().enumerate().take(n) {
        row.consumed = by_group[k].iter().sum();
        row.consumed_per_sec = if row.length_s > 0.0 {
            row.consumed as f64 / row.length_s
        } else {
            0.0
        };
        for g in 0..groups {
            cum[g] += by_group[k][g];
        }
        delivered += row.delivered;
        let low = cum.iter().copied().min().unwrap_or(0);
        row.consumer_lag = delivered.saturating_sub(low);
        slowest.push(low);
    }
    slowest
}

fn backlog(
    backlog_s: f64,
    c: &ConsumerOutcome,
    rows: &[Interval],
    slowest: &[u64],
    duration_s: f64,
) -> BacklogReport {
    let mut b = BacklogReport {
        backlog_s,
        resumed_at_s: c.resumed_at_s,
        ..Default::default()
    };
    let Some(resumed) = c.resumed_at_s else {
        return b;
    };
    // The last second that ended by the resume (a few ms of slack: the resume happens
    // on the second's boundary, read by another thread).
    let before = rows.iter().rposition(|i| i.t_s <= resumed + 0.05);
    b.records_at_resume = before.map_or(0, |k| rows[k].consumer_lag);
    let consumed_at_resume = before.map_or(0, |k| slowest[k]);
    let caught = rows
        .iter()
        .enumerate()
        .skip(before.map_or(0, |k| k + 1))
        .find(|(_, i)| i.consumer_lag <= i.delivered);
    let (end_s, consumed_at_end) = match caught {
        Some((k, i)) => (Some(i.t_s), slowest[k]),
        None => (
            c.catch_up_s.map(|x| duration_s + x),
            slowest.last().copied().unwrap_or(0),
        ),
    };
    b.catch_up_s = end_s.map(|e| (e - resumed).max(0.0));
    b.drain_records_per_sec = b
        .catch_up_s
        .filter(|s| *s > 0.0)
        .map(|s| consumed_at_end.saturating_sub(consumed_at_resume) as f64 / s);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{new_histogram, ConsumedSecond};

    fn outcome(seconds: Vec<(u64, Vec<u64>)>, resumed: Option<f64>) -> ConsumerOutcome {
        ConsumerOutcome {
            groups: 2,
            per_group_threads: 1,
            consumed: vec![0, 0],
            e2e: new_histogram(),
            seconds: seconds
                .into_iter()
                .map(|(idx, consumed)| ConsumedSecond {
                    idx,
                    consumed,
                    e2e_p99_us: 100 + idx,
                })
                .collect(),
            caught_up: true,
            catch_up_s: Some(0.5),
            resumed_at_s: resumed,
            warnings: Vec::new(),
        }
    }

    fn rows(delivered: &[u64]) -> Vec<Interval> {
        delivered
            .iter()
            .enumerate()
            .map(|(k, d)| Interval {
                t_s: k as f64 + 1.0,
                length_s: 1.0,
                delivered: *d,
                ..Interval::default()
            })
            .collect()
    }

    #[test]
    fn the_drain_after_the_last_second_counts_in_it_and_lag_follows_the_slowest_group() {
        let c = outcome(
            vec![
                (0, vec![10, 5]),
                (1, vec![10, 10]),
                (2, vec![0, 5]),
                (3, vec![0, 0]),
            ],
            None,
        );
        let mut r = rows(&[10, 10]);
        let slowest = fill_intervals(&c, &[0, 1], &mut r);
        assert_eq!(r[0].consumed, 15);
        assert_eq!(r[0].consumer_lag, 5);
        // Seconds 2 and 3 (the drain) fold into the last interval.
        assert_eq!(r[1].consumed, 25);
        assert_eq!(r[1].consumer_lag, 0);
        assert_eq!(r[1].e2e_p99_us, 103);
        assert_eq!(slowest, vec![5, 20]);
    }

    #[test]
    fn a_backlog_catches_up_at_the_first_second_whose_lag_is_one_second_of_production() {
        // Paused for 2 s at 100/s, then 300/s consumed.
        let c = outcome(
            vec![
                (2, vec![300, 300]),
                (3, vec![200, 200]),
                (4, vec![100, 100]),
            ],
            Some(2.0),
        );
        let mut r = rows(&[100, 100, 100, 100, 100]);
        let slowest = fill_intervals(&c, &[0, 1, 2, 3, 4], &mut r);
        assert_eq!(
            r.iter().map(|i| i.consumer_lag).collect::<Vec<_>>(),
            vec![100, 200, 0, 0, 0]
        );
        let b = backlog(2.0, &c, &r, &slowest, 5.0);
        assert_eq!(b.records_at_resume, 200);
        assert_eq!(b.catch_up_s, Some(1.0));
        assert_eq!(b.drain_records_per_sec, Some(300.0));
    }
}
