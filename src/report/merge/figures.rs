//! The arithmetic of `report::merge`: several runs' figures into one run's.
//!
//! Counts add. Latency percentiles come from the sum of the runs' HDR histograms (exact
//! over every record, never an average of percentiles). Rates divide the summed integer
//! numerators by the merged window in wall-clock time (the earliest start to the latest
//! end), so instances that did not overlap do not add up to a rate nobody saw. Per-second
//! intervals are aligned on wall-clock seconds: each instance's second is put in the
//! merged second nearest to it, measured from the earliest t0 (with `--start-at` the t0s
//! are milliseconds apart and the seconds coincide). Merging one run gives back its own
//! figures.

use crate::report::{
    self, Histograms, Interval, IntervalHistogram, LibrdkafkaStats, RateParts, RunReport,
    RunTotals, StatsWeights, Throughput, Verify, VerifyPartition,
};
use std::collections::BTreeMap;

/// One run's interval rows with their latency histograms, placed in merged time.
pub struct RunIntervals<'a> {
    /// Names the run in errors.
    pub name: String,
    /// This run's t0 minus the merged t0, microseconds (never negative).
    pub offset_us: u64,
    pub rows: &'a [Interval],
    pub hists: &'a [IntervalHistogram],
    /// `latency-e2e.hlog`'s intervals (runs with consumers), one per row.
    pub e2e: Option<&'a [IntervalHistogram]>,
}

/// The merged seconds: rows, `latency.hlog`, and `latency-e2e.hlog` when every run had one.
pub struct Aligned {
    pub rows: Vec<Interval>,
    pub hlog: Vec<IntervalHistogram>,
    pub e2e_hlog: Option<Vec<IntervalHistogram>>,
}

struct Part<'a> {
    row: &'a Interval,
    /// This run's end-to-end histogram of the second (None: the run has no
    /// `latency-e2e.hlog`).
    e2e: Option<&'a hdrhistogram::Histogram<u64>>,
    idx: u64,
    /// Merged second minus own second: 0 unless this run started half a second or more
    /// after the earliest one.
    shift: u64,
    hist: &'a hdrhistogram::Histogram<u64>,
}

/// Merged `intervals[]` and `.hlog` intervals; `t0_ms` is the merged t0 (Unix ms).
/// A merged second's `e2e_p99_us` is the p99 of the runs' end-to-end histograms added
/// when every run kept `latency-e2e.hlog`; otherwise (runs of an older kprod) the highest
/// run's p99, an upper bound.
pub fn align_intervals(runs: &[RunIntervals<'_>], t0_ms: u64) -> Result<Aligned, String> {
    let mut buckets: BTreeMap<u64, Vec<Part<'_>>> = BTreeMap::new();
    for run in runs {
        if run.rows.len() != run.hists.len() {
            return Err(format!(
                "{}: report.json has {} intervals but latency.hlog has {}",
                run.name,
                run.rows.len(),
                run.hists.len()
            ));
        }
        if let Some(e2e) = run.e2e.filter(|e| e.len() != run.rows.len()) {
            return Err(format!(
                "{}: report.json has {} intervals but latency-e2e.hlog has {}",
                run.name,
                run.rows.len(),
                e2e.len()
            ));
        }
        let shift = (run.offset_us + 500_000) / 1_000_000;
        for (k, (row, h)) in run.rows.iter().zip(run.hists).enumerate() {
            let idx = h.start_s.round().max(0.0) as u64;
            // Both files list the same seconds; a row outside its second means they don't.
            if !(row.t_s > idx as f64 && row.t_s <= (idx + 1) as f64 + 1e-6) {
                return Err(format!(
                    "{}: interval ending at {} s in report.json does not match the one starting \
                     at {} s in latency.hlog",
                    run.name, row.t_s, h.start_s
                ));
            }
            buckets.entry(idx + shift).or_default().push(Part {
                row,
                e2e: run.e2e.map(|e| &e[k].hist),
                idx,
                shift,
                hist: &h.hist,
            });
        }
    }
    let all_e2e = !runs.is_empty() && runs.iter().all(|r| r.e2e.is_some());
    let mut rows = Vec::with_capacity(buckets.len());
    let mut hists = Vec::with_capacity(buckets.len());
    let mut e2e_hists = Vec::with_capacity(buckets.len());
    for (b, parts) in buckets {
        let hist = added(parts.iter().map(|p| p.hist))?;
        let mut row = merged_row(b, &parts, &hist, t0_ms);
        if all_e2e {
            let e2e = added(parts.iter().filter_map(|p| p.e2e))?;
            row.e2e_p99_us = e2e.value_at_quantile(0.99);
            e2e_hists.push(IntervalHistogram {
                start_s: b as f64,
                duration_s: 1.0,
                hist: e2e,
            });
        }
        rows.push(row);
        hists.push(IntervalHistogram {
            start_s: b as f64,
            duration_s: 1.0,
            hist,
        });
    }
    Ok(Aligned {
        rows,
        hlog: hists,
        e2e_hlog: all_e2e.then_some(e2e_hists),
    })
}

fn added<'a>(
    hists: impl Iterator<Item = &'a hdrhistogram::Histogram<u64>>,
) -> Result<hdrhistogram::Histogram<u64>, String> {
    let mut sum = report::new_histogram();
    for h in hists {
        sum.add(h)
            .map_err(|e| format!("cannot add interval histograms: {e:?}"))?;
    }
    Ok(sum)
}

/// Merged second `b` from the parts that fell into it; `hist` is their latencies added.
fn merged_row(
    b: u64,
    parts: &[Part<'_>],
    hist: &hdrhistogram::Histogram<u64>,
    t0_ms: u64,
) -> Interval {
    // A run's own last second ends with it; a shifted one is measured from the bucket.
    let t_s = parts
        .iter()
        .map(|p| match p.shift {
            0 => p.row.t_s,
            _ => b as f64 + (p.row.t_s - p.idx as f64),
        })
        .fold(f64::MIN, f64::max);
    let len = t_s - b as f64;
    let delivered: u64 = parts.iter().map(|p| p.row.delivered).sum();
    // Each row's own count behind its rate (delivered, or for fire-and-forget what was
    // handed over and not failed), so a merge keeps the instances' meaning of the rate.
    let counted: f64 = parts
        .iter()
        .map(|p| (p.row.records_per_sec * (p.row.t_s - p.idx as f64)).round())
        .sum();
    let bytes: f64 = parts
        .iter()
        .map(|p| (p.row.bytes_per_sec * (p.row.t_s - p.idx as f64)).round())
        .sum();
    let mut faults: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.row.fault.as_deref())
        .collect();
    faults.dedup();
    let one = match parts {
        [p] => Some(p.row),
        _ => None,
    };
    Interval {
        t_s,
        unix_ms: t0_ms + (t_s * 1000.0) as u64,
        length_s: len,
        partial: len < crate::domain::PARTIAL_BELOW_S,
        in_warmup: parts.iter().all(|p| p.row.in_warmup),
        sent: parts.iter().map(|p| p.row.sent).sum(),
        delivered,
        failed: parts.iter().map(|p| p.row.failed).sum(),
        records_per_sec: counted / len,
        bytes_per_sec: bytes / len,
        p50_us: hist.value_at_quantile(0.5),
        p99_us: hist.value_at_quantile(0.99),
        p999_us: hist.value_at_quantile(0.999),
        run_id: None,
        max_us: hist.max(),
        queue_depth: parts.iter().map(|p| p.row.queue_depth).sum(),
        // Instances of one run share the stage schedule.
        stage: parts.iter().find_map(|p| p.row.stage),
        // Each instance's consumers count their own instance's records.
        consumed: parts.iter().map(|p| p.row.consumed).sum(),
        consumed_per_sec: parts.iter().map(|p| p.row.consumed).sum::<u64>() as f64 / len,
        consumer_lag: parts.iter().map(|p| p.row.consumer_lag).sum(),
        // Replaced by the p99 of the added histograms when every run kept them.
        e2e_p99_us: parts.iter().map(|p| p.row.e2e_p99_us).max().unwrap_or(0),
        fault: (!faults.is_empty()).then(|| faults.join("; ")),
        mean_us: (!hist.is_empty()).then(|| hist.mean()),
        // The windows' weights are not kept with a run: a second of one run keeps its
        // split, a second several runs share gets none.
        breakdown_queue_wait_us: one.and_then(|r| r.breakdown_queue_wait_us),
        breakdown_inflight_wait_us: one.and_then(|r| r.breakdown_inflight_wait_us),
        breakdown_broker_rtt_us: one.and_then(|r| r.breakdown_broker_rtt_us),
        breakdown_throttle_us: one.and_then(|r| r.breakdown_throttle_us),
    }
}

/// One input of the figures below: its report, totals and offset from the merged t0.
pub struct RunFigures<'a> {
    pub report: &'a RunReport,
    pub totals: &'a RunTotals,
    /// Seconds from the merged t0 to this run's t0.
    pub offset_s: f64,
}

/// Throughput over the merged wall-clock window, and the summed rate parts.
pub fn throughput(runs: &[RunFigures<'_>], target: Option<f64>) -> (Throughput, RateParts) {
    let at = |r: &RunFigures<'_>, s: f64| r.offset_s + s;
    let min = |f: &dyn Fn(&RunFigures<'_>) -> f64| runs.iter().map(f).fold(f64::MAX, f64::min);
    let max = |f: &dyn Fn(&RunFigures<'_>) -> f64| runs.iter().map(f).fold(f64::MIN, f64::max);
    let parts = RateParts {
        delivered: runs.iter().map(|r| r.totals.throughput.delivered).sum(),
        bytes: runs.iter().map(|r| r.totals.throughput.bytes).sum(),
        sent: runs.iter().map(|r| r.totals.throughput.sent).sum(),
        window_start_s: min(&|r| at(r, r.totals.throughput.window_start_s)),
        window_end_s: max(&|r| at(r, r.totals.throughput.window_end_s)),
        send_end_s: max(&|r| at(r, r.totals.throughput.send_end_s)),
    };
    // The same formulas as a single run's report (report::build).
    let window = (parts.window_end_s - parts.window_start_s).max(1e-9);
    let send_window = (parts.send_end_s - parts.window_start_s).max(1e-9);
    let has_window = parts.window_end_s > parts.window_start_s;
    let t = Throughput {
        records_per_sec: if has_window {
            parts.delivered as f64 / window
        } else {
            0.0
        },
        bytes_per_sec: if has_window {
            parts.bytes as f64 / window
        } else {
            0.0
        },
        target_records_per_sec: target,
        send_records_per_sec: parts.sent as f64 / send_window,
        window_start_s: parts.window_start_s,
        window_end_s: parts.window_end_s,
    };
    (t, parts)
}

/// Weighted mean of per-run means; one contributing run's mean is returned as it is.
fn weighted(items: impl Iterator<Item = (Option<f64>, f64)>) -> Option<f64> {
    let items: Vec<(f64, f64)> = items
        .filter_map(|(mean, w)| mean.filter(|_| w > 0.0).map(|m| (m, w)))
        .collect();
    match items.as_slice() {
        [] => None,
        [(m, _)] => Some(*m),
        _ => {
            let w: f64 = items.iter().map(|(_, w)| w).sum();
            Some(items.iter().map(|(m, w)| m * w).sum::<f64>() / w)
        }
    }
}

/// librdkafka statistics of the runs together, as one run with all their producers would
/// have them: sums, the highest window p99, and averages weighted as the aggregator does.
pub fn stats(runs: &[RunFigures<'_>]) -> (LibrdkafkaStats, StatsWeights) {
    fn s<'a>(r: &RunFigures<'a>) -> &'a LibrdkafkaStats {
        &r.report.librdkafka_stats
    }
    fn w<'a>(r: &RunFigures<'a>) -> &'a StatsWeights {
        &r.totals.stats
    }
    let weights = StatsWeights {
        batches: runs.iter().map(|r| w(r).batches).sum(),
        batch_records: runs.iter().map(|r| w(r).batch_records).sum(),
        wire_bytes: runs.iter().map(|r| w(r).wire_bytes).sum(),
        rtt_count: runs.iter().map(|r| w(r).rtt_count).sum(),
        int_latency_count: runs.iter().map(|r| w(r).int_latency_count).sum(),
        throttle_count: runs.iter().map(|r| w(r).throttle_count).sum(),
    };
    let batches = weights.batches;
    let stats = LibrdkafkaStats {
        stats_samples: runs.iter().map(|r| s(r).stats_samples).sum(),
        avg_batch_bytes: (batches > 0.0).then(|| weights.wire_bytes / batches),
        avg_batch_records: (batches > 0.0).then(|| weights.batch_records / batches),
        requests: runs.iter().map(|r| s(r).requests).sum(),
        rtt_avg_us: weighted(runs.iter().map(|r| (s(r).rtt_avg_us, w(r).rtt_count))),
        rtt_p99_us: runs.iter().filter_map(|r| s(r).rtt_p99_us).reduce(f64::max),
        int_latency_avg_us: weighted(
            runs.iter()
                .map(|r| (s(r).int_latency_avg_us, w(r).int_latency_count)),
        ),
        throttle_avg_ms: weighted(
            runs.iter()
                .map(|r| (s(r).throttle_avg_ms, w(r).throttle_count)),
        ),
        peak_queue_records: runs.iter().map(|r| s(r).peak_queue_records).sum(),
        peak_queue_bytes: runs.iter().map(|r| s(r).peak_queue_bytes).sum(),
        uncompressed_bytes: runs.iter().map(|r| s(r).uncompressed_bytes).sum(),
        wire_bytes: runs.iter().map(|r| s(r).wire_bytes).sum(),
        producer_id_assigned_ms: (runs.iter())
            .filter_map(|r| s(r).producer_id_assigned_ms)
            .reduce(f64::max),
    };
    (stats, weights)
}

/// Uncompressed / wire bytes over all runs, as `StatsAggregator::compression_ratio`.
pub fn compression_ratio(s: &LibrdkafkaStats) -> Option<f64> {
    (s.wire_bytes > 0 && s.uncompressed_bytes > 0)
        .then(|| s.uncompressed_bytes as f64 / s.wire_bytes as f64)
}

/// `--verify` results of every run together: each instance read back only its own records
/// (they carry the instance), so the counts add; partitions add by partition.
pub fn verify(reports: &[&RunReport]) -> Option<Verify> {
    let all: Vec<&Verify> = reports.iter().filter_map(|r| r.verify.as_ref()).collect();
    if all.is_empty() || all.len() != reports.len() {
        return None;
    }
    let mut v = Verify {
        complete: true,
        ..Verify::default()
    };
    let mut parts: BTreeMap<Option<i32>, VerifyPartition> = BTreeMap::new();
    let mut errors = Vec::new();
    for x in all {
        v.acknowledged += x.acknowledged;
        v.read += x.read;
        v.lost += x.lost;
        v.duplicated += x.duplicated;
        v.reordered += x.reordered;
        v.unknown.total += x.unknown.total;
        v.unknown.found += x.unknown.found;
        v.unknown.not_found += x.unknown.not_found;
        v.failed_found += x.failed_found;
        v.complete &= x.complete;
        errors.extend(x.error.clone());
        for p in &x.partitions {
            let m = parts.entry(p.partition).or_insert_with(|| VerifyPartition {
                partition: p.partition,
                start_offset: p.start_offset,
                end_offset: p.end_offset,
                ..VerifyPartition::default()
            });
            m.start_offset = m.start_offset.min(p.start_offset);
            m.end_offset = m.end_offset.max(p.end_offset);
            m.read += p.read;
            m.lost += p.lost;
            m.duplicated += p.duplicated;
            m.reordered += p.reordered;
            m.unknown_found += p.unknown_found;
            m.unknown_not_found += p.unknown_not_found;
            m.failed_found += p.failed_found;
        }
    }
    v.partitions = parts.into_values().collect();
    v.error = (!errors.is_empty()).then(|| errors.join("; "));
    Some(v)
}

/// The runs' whole-run histograms added up.
pub fn histograms(all: &[Histograms]) -> Result<Histograms, String> {
    let mut sum = Histograms::default();
    for h in all {
        sum.add(h)?;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t_s: f64, delivered: u64) -> Interval {
        Interval {
            t_s,
            delivered,
            sent: delivered,
            records_per_sec: delivered as f64 / (t_s - t_s.ceil() + 1.0),
            ..Interval::default()
        }
    }

    fn hist(start_s: f64, values: &[u64]) -> IntervalHistogram {
        let mut hist = report::new_histogram();
        for v in values {
            hist.record(*v).expect("in range");
        }
        IntervalHistogram {
            start_s,
            duration_s: 1.0,
            hist,
        }
    }

    #[test]
    fn seconds_align_to_the_nearest_merged_second() {
        let a_rows = [row(1.0, 2), row(2.0, 2), row(2.5, 1)];
        let a_h = [hist(0.0, &[10, 20]), hist(1.0, &[30, 40]), hist(2.0, &[50])];
        // b started 1.2 s after a: its second 0 is merged second 1.
        let b_rows = [row(1.0, 1), row(1.25, 1)];
        let b_h = [hist(0.0, &[1000]), hist(1.0, &[2000])];
        let runs = [
            RunIntervals {
                name: "a".into(),
                offset_us: 0,
                rows: &a_rows,
                hists: &a_h,
                e2e: None,
            },
            RunIntervals {
                name: "b".into(),
                offset_us: 1_200_000,
                rows: &b_rows,
                hists: &b_h,
                e2e: None,
            },
        ];
        let Aligned {
            rows,
            hlog: hists,
            e2e_hlog,
        } = align_intervals(&runs, 1_000_000).expect("align");
        assert!(e2e_hlog.is_none());
        assert_eq!(rows.len(), 3);
        assert_eq!(hists.len(), 3);
        assert_eq!(rows[0].delivered, 2);
        assert_eq!(rows[1].delivered, 3);
        assert_eq!(hists[1].hist.len(), 3);
        assert_eq!(rows[1].max_us, hists[1].hist.max());
        assert!(rows[1].max_us >= 1000);
        // The last merged second: a's partial 0.5 s and b's partial 0.25 s.
        assert_eq!(rows[2].delivered, 2);
        assert_eq!(rows[2].t_s, 2.5);
        assert_eq!(rows[2].unix_ms, 1_002_500);
        assert_eq!(rows[2].records_per_sec, 2.0 / 0.5);
    }

    #[test]
    fn mismatched_files_are_an_error() {
        let rows = [row(1.0, 1)];
        let hs = [hist(3.0, &[1])];
        let runs = [RunIntervals {
            name: "x".into(),
            offset_us: 0,
            rows: &rows,
            hists: &hs,
            e2e: None,
        }];
        assert!(align_intervals(&runs, 0).is_err());
        let runs = [RunIntervals {
            name: "x".into(),
            offset_us: 0,
            rows: &rows,
            hists: &[],
            e2e: None,
        }];
        assert!(align_intervals(&runs, 0).is_err());
        let ok = [hist(0.0, &[1])];
        let runs = [RunIntervals {
            name: "x".into(),
            offset_us: 0,
            rows: &rows,
            hists: &ok,
            e2e: Some(&[]),
        }];
        let e = align_intervals(&runs, 0).err().expect("refused");
        assert!(e.contains("latency-e2e.hlog has 0"), "{e}");
    }

    #[test]
    fn a_merged_seconds_end_to_end_p99_is_a_percentile_of_the_runs_histograms_added() {
        // Run a: 99 records at 1 ms; run b: 1 record at 50 ms. b's own p99 is 50 ms; over
        // the 100 records of the merged second the p99 is 1 ms.
        let mut a_row = row(1.0, 99);
        a_row.e2e_p99_us = 1000;
        let mut b_row = row(1.0, 1);
        b_row.e2e_p99_us = 50_000;
        let (a_rows, b_rows) = ([a_row], [b_row]);
        let (a_h, b_h) = ([hist(0.0, &[10])], [hist(0.0, &[10])]);
        let a_e = [hist(0.0, &[1000; 99])];
        let b_e = [hist(0.0, &[50_000])];
        let run = |name: &str, rows, hists, e2e| RunIntervals {
            name: name.into(),
            offset_us: 0,
            rows,
            hists,
            e2e,
        };
        let both = [
            run("a", &a_rows, &a_h, Some(&a_e[..])),
            run("b", &b_rows, &b_h, Some(&b_e[..])),
        ];
        let m = align_intervals(&both, 0).expect("align");
        let e2e = m.e2e_hlog.expect("both runs kept it");
        assert_eq!(e2e[0].hist.len(), 100);
        assert_eq!(m.rows[0].e2e_p99_us, e2e[0].hist.value_at_quantile(0.99));
        assert!(m.rows[0].e2e_p99_us < 2000, "{}", m.rows[0].e2e_p99_us);
        // A run without the file: no merged log, and the bound (the highest run's p99).
        let one = [
            run("a", &a_rows, &a_h, Some(&a_e[..])),
            run("b", &b_rows, &b_h, None),
        ];
        let m = align_intervals(&one, 0).expect("align");
        assert!(m.e2e_hlog.is_none());
        assert_eq!(m.rows[0].e2e_p99_us, 50_000);
    }

    #[test]
    fn weighted_means() {
        assert_eq!(weighted([(Some(3.0), 1.0)].into_iter()), Some(3.0));
        assert_eq!(
            weighted([(Some(1.0), 1.0), (Some(4.0), 3.0), (None, 5.0)].into_iter()),
            Some(13.0 / 4.0)
        );
        assert_eq!(weighted([(Some(1.0), 0.0)].into_iter()), None);
    }
}
