//! The merged `[consumers]` figures: `latency_us.e2e` from the instances' summed end-to-end
//! histograms (`totals.json`) and the `consumers` section. Each instance's consumers read
//! only the records its own producers stamped, so counts add; the merged report has
//! consumer figures only when every instance measured them.

use crate::report::consumers::ConsumersReport;
use crate::report::{percentiles, Histograms, Interval, Percentiles, RunReport};

/// `latency_us.e2e` and `consumers` of the merged run, and a warning when only some
/// instances ran consumers (then neither figure is given: it would cover part of the run).
pub(super) fn consumers(
    reports: &[&RunReport],
    hists: &Histograms,
    intervals: &[Interval],
    duration_s: f64,
) -> (Option<Percentiles>, Option<ConsumersReport>, Option<String>) {
    let with: Vec<&ConsumersReport> = reports
        .iter()
        .filter_map(|r| r.consumers.as_ref())
        .collect();
    if with.is_empty() {
        return (None, None, None);
    }
    if with.len() < reports.len() {
        let warning = format!(
            "only {} of {} runs had consumers; the merged report has no end-to-end latency or \
             consumers section (each run's own report has them)",
            with.len(),
            reports.len()
        );
        return (None, None, Some(warning));
    }
    let first = with[0];
    let groups = with.iter().map(|c| c.consumed.len()).max().unwrap_or(0);
    let consumed: Vec<u64> = (0..groups)
        .map(|g| {
            with.iter()
                .map(|c| c.consumed.get(g).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let caught_up = with.iter().all(|c| c.caught_up);
    let catch_up_s = if caught_up {
        with.iter().filter_map(|c| c.catch_up_s).reduce(f64::max)
    } else {
        None
    };
    // The span `report::consumers` divides by, over the merged window.
    let span = duration_s + catch_up_s.unwrap_or(30.0);
    let mean_consumed = consumed.iter().sum::<u64>() as f64 / groups.max(1) as f64;
    let section = ConsumersReport {
        groups: first.groups,
        per_group_threads: first.per_group_threads,
        consumed,
        consumed_per_sec: if span > 0.0 {
            mean_consumed / span
        } else {
            0.0
        },
        // The merged seconds' lag is the instances' lags added second by second.
        lag_max_records: intervals.iter().map(|i| i.consumer_lag).max().unwrap_or(0),
        caught_up,
        catch_up_s,
        fetch_wait_max_ms: first.fetch_wait_max_ms,
        fetch_min_bytes: first.fetch_min_bytes,
        // Resume times, drain rates and catch-up are each instance's own (its consumers
        // resume on its own clock); they are not added up here.
        backlog: None,
        cpus: first.cpus.clone(),
    };
    let e2e = hists.e2e.as_ref().map(percentiles);
    let warning = first.backlog.is_some().then(|| {
        "--backlog: the drain rate and catch-up time are per instance (see each run's report); \
         the merged report does not combine them"
            .to_string()
    });
    (e2e, Some(section), warning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::new_histogram;

    fn report(consumed: Vec<u64>, catch_up_s: Option<f64>) -> RunReport {
        RunReport {
            consumers: Some(ConsumersReport {
                groups: consumed.len() as u32,
                per_group_threads: 2,
                caught_up: catch_up_s.is_some(),
                catch_up_s,
                consumed,
                ..ConsumersReport::default()
            }),
            ..crate::report::testing::sample_report()
        }
    }

    #[test]
    fn counts_add_per_group_and_e2e_comes_from_the_summed_histograms() {
        let (a, b) = (
            report(vec![100, 90], Some(0.5)),
            report(vec![50, 60], Some(1.5)),
        );
        let mut h = Histograms::default();
        let mut e2e = new_histogram();
        for v in [1_000u64, 2_000, 3_000, 40_000] {
            e2e.record(v).expect("in range");
        }
        h.e2e = Some(e2e.clone());
        let rows = [
            Interval {
                consumer_lag: 7,
                ..Interval::default()
            },
            Interval {
                consumer_lag: 12,
                ..Interval::default()
            },
        ];
        let (lat, section, warning) = consumers(&[&a, &b], &h, &rows, 10.0);
        let section = section.expect("section");
        assert_eq!(section.consumed, [150, 150]);
        assert_eq!(section.catch_up_s, Some(1.5));
        assert!(section.caught_up);
        assert_eq!(section.lag_max_records, 12);
        assert!((section.consumed_per_sec - 150.0 / 11.5).abs() < 1e-9);
        assert_eq!(lat, Some(percentiles(&e2e)));
        assert_eq!(lat.map(|l| l.count), Some(4));
        assert!(warning.is_none());
    }

    #[test]
    fn one_instance_without_consumers_means_no_merged_consumer_figures() {
        let a = report(vec![100], Some(0.5));
        let b = RunReport {
            consumers: None,
            ..crate::report::testing::sample_report()
        };
        let (lat, section, warning) = consumers(&[&a, &b], &Histograms::default(), &[], 10.0);
        assert!(lat.is_none() && section.is_none());
        assert!(warning.expect("warning").contains("only 1 of 2 runs"));
    }

    #[test]
    fn an_instance_that_did_not_catch_up_leaves_the_merge_not_caught_up() {
        let (a, b) = (report(vec![100], Some(0.5)), report(vec![80], None));
        let (_, section, _) = consumers(&[&a, &b], &Histograms::default(), &[], 10.0);
        let section = section.expect("section");
        assert!(!section.caught_up);
        assert_eq!(section.catch_up_s, None);
        assert!((section.consumed_per_sec - 180.0 / 40.0).abs() < 1e-9);
    }
}
