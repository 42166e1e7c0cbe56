//! The consumers' part of the report (`[consumers]`): `latency_us.e2e`, the `consumers`
//! section with its `backlog` figures, and the per-second `consumed`, `consumed_per_sec`,
//! `consumer_lag` and `e2e_p99_us` columns of `intervals[]`.
//!
//! Lag is counted from the report's own figures: records delivered so far (by delivery
//! second) minus records consumed so far by the slowest group (by poll second), never
//! below 0. Consumption after the producers' last second (the drain after the flush) is
//! counted in the last interval, as the flush tail is.

use super::{percentiles, Interval, IntervalHistogram, RunReport};
use crate::domain::{new_histogram, ConsumerOutcome, RunOutcome};
use crate::plan::Plan;
use hdrhistogram::Histogram;
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
    let idxs = interval_idxs(out);
    let e2e = row_histograms(c, &idxs);
    let per_group = fill_intervals(c, &idxs, &e2e, &mut r.intervals);
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

fn interval_idxs(out: &RunOutcome) -> Vec<u64> {
    out.measurements.intervals.iter().map(|i| i.idx).collect()
}

/// The interval a consumer second counts in: the one of the same second; a second past
/// the last (the drain) or missing among the producers' goes to the next one there is,
/// else the last.
fn slot(idxs: &[u64], second: u64) -> Option<usize> {
    idxs.iter()
        .position(|i| *i >= second)
        .or(idxs.len().checked_sub(1))
}

/// Per interval, the end-to-end histogram of the records consumed in it (the seconds
/// [`slot`] puts there, added): its p99 is the interval's `e2e_p99_us`, and it is the
/// interval's entry in `latency-e2e.hlog`, which `kprod merge` adds across instances.
fn row_histograms(c: &ConsumerOutcome, idxs: &[u64]) -> Vec<Histogram<u64>> {
    let mut hists: Vec<Histogram<u64>> = idxs.iter().map(|_| new_histogram()).collect();
    for s in &c.seconds {
        if let Some(k) = slot(idxs, s.idx) {
            // Same settings on both sides: adding cannot fail.
            let _ = hists[k].add(s.e2e_histogram());
        }
    }
    hists
}

/// `latency-e2e.hlog`'s intervals (aligned with `latency.hlog`'s); None without consumers.
pub fn e2e_interval_histograms(out: &RunOutcome) -> Option<Vec<IntervalHistogram>> {
    let c = out.consumers.as_ref()?;
    let idxs = interval_idxs(out);
    let hists = row_histograms(c, &idxs);
    Some(
        idxs.iter()
            .zip(hists)
            .map(|(&idx, hist)| IntervalHistogram {
                start_s: idx as f64,
                duration_s: 1.0,
                hist,
            })
            .collect(),
    )
}

/// Sets the per-second columns (`e2e`: [`row_histograms`]); returns, per interval, the
/// records consumed up to its end by the slowest group.
fn fill_intervals(
    c: &ConsumerOutcome,
    idxs: &[u64],
    e2e: &[Histogram<u64>],
    rows: &mut [Interval],
) -> Vec<u64> {
    let groups = c.groups.max(1) as usize;
    let n = rows.len().min(idxs.len());
    let mut by_group = vec![vec![0u64; groups]; n];
    for s in &c.seconds {
        let Some(k) = slot(&idxs[..n], s.idx) else {
            continue;
        };
        for (g, v) in s.consumed.iter().enumerate().take(groups) {
            by_group[k][g] += v;
        }
    }
    for (row, h) in rows.iter_mut().zip(e2e) {
        // 0 for a second with no record consumed (an empty histogram's quantiles are 0).
        row.e2e_p99_us = h.value_at_quantile(0.99);
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
            consumed_by_topic: Vec::new(),
            groups: 2,
            per_group_threads: 1,
            consumed: vec![0, 0],
            e2e: new_histogram(),
            seconds: seconds
                .into_iter()
                .map(|(idx, consumed)| {
                    // Each record of second k took (k + 1) ms end to end.
                    let n: u64 = consumed.iter().sum();
                    second(idx, consumed, &[(1000 * (idx + 1), n)])
                })
                .collect(),
            caught_up: true,
            catch_up_s: Some(0.5),
            resumed_at_s: resumed,
            warnings: Vec::new(),
        }
    }

    fn second(idx: u64, consumed: Vec<u64>, values: &[(u64, u64)]) -> ConsumedSecond {
        use hdrhistogram::serialization::{Serializer, V2Serializer};
        let mut h = new_histogram();
        for &(v, n) in values {
            h.record_n(v, n).unwrap();
        }
        let mut e2e_encoded = Vec::new();
        V2Serializer::new().serialize(&h, &mut e2e_encoded).unwrap();
        ConsumedSecond {
            idx,
            consumed,
            e2e_encoded,
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
        let slowest = fill_intervals(&c, &[0, 1], &row_histograms(&c, &[0, 1]), &mut r);
        assert_eq!(r[0].consumed, 15);
        assert_eq!(r[0].consumer_lag, 5);
        // Seconds 2 and 3 (the drain) fold into the last interval.
        assert_eq!(r[1].consumed, 25);
        assert_eq!(r[1].consumer_lag, 0);
        // 20 records at 2 ms and 5 at 3 ms: the top 1% is at 3 ms.
        let mut want = new_histogram();
        want.record_n(2000, 20).unwrap();
        want.record_n(3000, 5).unwrap();
        assert_eq!(r[1].e2e_p99_us, want.value_at_quantile(0.99));
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
        let idxs = [0, 1, 2, 3, 4];
        let slowest = fill_intervals(&c, &idxs, &row_histograms(&c, &idxs), &mut r);
        assert_eq!(
            r.iter().map(|i| i.consumer_lag).collect::<Vec<_>>(),
            vec![100, 200, 0, 0, 0]
        );
        let b = backlog(2.0, &c, &r, &slowest, 5.0);
        assert_eq!(b.records_at_resume, 200);
        assert_eq!(b.catch_up_s, Some(1.0));
        assert_eq!(b.drain_records_per_sec, Some(300.0));
    }

    #[test]
    fn an_interval_p99_is_a_percentile_of_its_seconds_added_not_the_highest_seconds_p99() {
        // Second 1: 200 records at 2 ms; second 2 (the drain, folded into the last
        // interval): one record at 9 ms. Alone, second 2's p99 is 9 ms; over the 201
        // records of the interval, 1% is 2 records, so the p99 is 2 ms.
        let mut c = outcome(Vec::new(), None);
        c.seconds = vec![
            second(0, vec![0, 0], &[]),
            second(1, vec![200, 200], &[(2000, 200)]),
            second(2, vec![1, 1], &[(9000, 1)]),
        ];
        let idxs = [0, 1];
        let hists = row_histograms(&c, &idxs);
        let mut r = rows(&[0, 201]);
        fill_intervals(&c, &idxs, &hists, &mut r);
        let mut want = new_histogram();
        want.record_n(2000, 200).unwrap();
        want.record(9000).unwrap();
        assert_eq!(r[1].e2e_p99_us, want.value_at_quantile(0.99));
        assert!(r[1].e2e_p99_us < 3000, "{}", r[1].e2e_p99_us);
        assert_eq!(hists[1].len(), 201);
        assert_eq!(r[0].e2e_p99_us, 0);
    }
}
