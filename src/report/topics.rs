//! `topics[]`: per-topic figures of a run with many topics (`[[workload.topics]]`,
//! `--topics N`), built from the producers' per-topic counts and merged by name.

use super::model::RunReport;
use crate::domain::{RunOutcome, TopicCounts};
use crate::plan::Plan;
use crate::profile::{keys_text, size_text};
use serde::{Deserialize, Serialize};

/// One topic's figures. Counts are the whole run's (warm-up included, like `records`);
/// the rates count the records sent after the warm-up and delivered, over the run's
/// measured window (`throughput.window_start_s..window_end_s`), so they add up to
/// `throughput`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicReport {
    pub name: String,
    /// As metadata showed them before t0.
    pub partitions: u32,
    pub replication_factor: u32,
    /// Relative share of every producer's records.
    pub share: u32,
    /// `sent`, `delivered`, `failed`, `unknown`, and the rates' numerators
    /// `measured_delivered`, `measured_bytes`, kept so `kprod merge` recomputes them exactly.
    #[serde(flatten)]
    pub counts: TopicCounts,
    pub records_per_sec: f64,
    pub bytes_per_sec: f64,
    /// With `[consumers]`: this topic's records read per consumer group (each group reads
    /// every topic, so each entry equals `delivered` when all went well).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumed: Vec<u64>,
    /// The topic's record sizes and keys as set (its own `[[workload.topics]]` settings,
    /// else [workload]'s), worded as `profiles show` words them (`uniform 100B..2KiB`);
    /// empty in reports written before per-topic settings.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keys: String,
}

/// Fills `r.topics` (many topics only) and warns once when topic configs could not be
/// applied (the embedded cluster's topics take none).
pub fn apply(plan: &Plan, out: &RunOutcome, r: &mut RunReport) {
    let w = &plan.profile.workload;
    if w.topics.is_empty() {
        return;
    }
    if out.embedded && w.topics.iter().any(|t| !t.config.is_empty()) {
        r.warnings.push(
            "topic configs ([[workload.topics]] config) are not applied on the embedded \
             cluster: its mock topics take none; they apply when kprod creates the topics \
             with --brokers"
                .into(),
        );
    }
    let totals = &out.measurements.totals;
    // One listed topic (`--topics 1`, a one-entry list) is produced to without per-topic
    // counting (the producers count per topic only when they route among several), so
    // its figures are the run's own, and its partitions the preflight's.
    let single = [TopicCounts {
        sent: r.records.sent,
        delivered: r.records.delivered,
        failed: r.records.failed,
        unknown: r.records.unknown,
        measured_delivered: totals.measured.delivered,
        measured_bytes: totals.measured_bytes,
    }];
    let (counts, partitions): (&[TopicCounts], &[u32]) = match w.topics.len() {
        1 => (&single, std::slice::from_ref(&out.partitions)),
        _ => (&totals.topics, &out.topic_partitions),
    };
    let consumed: &[Vec<u64>] = out
        .consumers
        .as_ref()
        .map_or(&[], |c| c.consumed_by_topic.as_slice());
    let window = r.throughput.window_end_s - r.throughput.window_start_s;
    r.topics = w
        .topics
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut tr = TopicReport {
                name: t.name.clone(),
                partitions: partitions.get(i).copied().unwrap_or(t.partitions),
                replication_factor: t.replication_factor,
                share: t.share,
                counts: counts.get(i).copied().unwrap_or_default(),
                consumed: consumed
                    .iter()
                    .map(|g| g.get(i).copied().unwrap_or(0))
                    .collect(),
                size: size_text(t.size.as_ref().unwrap_or(&w.size)),
                keys: keys_text(t.keys.as_ref().unwrap_or(&w.keys)),
                ..TopicReport::default()
            };
            rates(&mut tr, window);
            tr
        })
        .collect();
}

/// Whether a resolved profile (report JSON) gives any topic its own `size`.
pub fn has_topic_sizes(profile: &serde_json::Value) -> bool {
    profile
        .pointer("/workload/topics")
        .and_then(|t| t.as_array())
        .is_some_and(|t| t.iter().any(|t| t.get("size").is_some()))
}

/// The run's mean record size as a resolved profile (report JSON) sets it: `workload.size`
/// when fixed and no topic has its own; with per-topic sizes, the share-weighted mean of
/// the topics' fixed sizes (Some((mean, true))); None when any size in play is not fixed.
pub fn fixed_record_bytes(profile: &serde_json::Value) -> Option<(f64, bool)> {
    let base = profile
        .pointer("/workload/size/bytes")
        .and_then(|b| b.as_u64());
    let topics = profile
        .pointer("/workload/topics")
        .and_then(|t| t.as_array());
    let Some(topics) = topics.filter(|_| has_topic_sizes(profile)) else {
        return base.map(|b| (b as f64, false));
    };
    let (mut sum, mut shares) = (0.0, 0.0);
    for t in topics {
        let bytes = match t.get("size") {
            Some(s) => s.get("bytes").and_then(|b| b.as_u64())?,
            None => base?,
        };
        let share = t.get("share").and_then(|s| s.as_f64()).unwrap_or(1.0);
        sum += bytes as f64 * share;
        shares += share;
    }
    (shares > 0.0).then(|| (sum / shares, true))
}

fn rates(t: &mut TopicReport, window_s: f64) {
    (t.records_per_sec, t.bytes_per_sec) = match window_s > 0.0 {
        true => (
            t.counts.measured_delivered as f64 / window_s,
            t.counts.measured_bytes as f64 / window_s,
        ),
        false => (0.0, 0.0),
    };
}

/// The instances' topics added up by name (first-seen order), rates over the merged
/// measured window.
/// Consumed counts add per group, and only when every run has them for the topic (a run
/// without consumers would make the sum cover part of the records).
pub fn merge(reports: &[&RunReport], window_s: f64) -> Vec<TopicReport> {
    let mut out: Vec<TopicReport> = Vec::new();
    let mut runs_with: Vec<usize> = Vec::new();
    for t in reports.iter().flat_map(|r| &r.topics) {
        match out.iter().position(|o| o.name == t.name) {
            Some(k) => {
                let o = &mut out[k];
                o.counts.add(&t.counts);
                o.partitions = o.partitions.max(t.partitions);
                if o.consumed.len() == t.consumed.len() && !t.consumed.is_empty() {
                    for (c, n) in o.consumed.iter_mut().zip(&t.consumed) {
                        *c += n;
                    }
                    runs_with[k] += 1;
                }
            }
            None => {
                runs_with.push(usize::from(!t.consumed.is_empty()));
                out.push(t.clone());
            }
        }
    }
    for (t, with) in out.iter_mut().zip(runs_with) {
        let runs = reports
            .iter()
            .filter(|r| r.topics.iter().any(|x| x.name == t.name))
            .count();
        if with != runs {
            t.consumed.clear();
        }
        rates(t, window_s);
    }
    out
}

/// The run's topic as tables show it: `name (P partitions)`, or with many topics
/// `N topics: first .. last (P partitions)` (P = all of theirs).
pub fn topic_label(r: &RunReport) -> String {
    match (r.topics.first(), r.topics.last()) {
        (Some(a), Some(b)) if r.topics.len() > 1 => format!(
            "{} topics: {} .. {} ({} partitions)",
            r.topics.len(),
            a.name,
            b.name,
            r.partitions
        ),
        _ => format!("{} ({} partitions)", r.topic, r.partitions),
    }
}

/// The `--details` rows of a many-topics run: a row per topic (its shape, counts, rates).
pub fn detail_rows(r: &RunReport) -> Vec<(String, String)> {
    use super::{fmt_count, fmt_mb_per_sec, fmt_rate};
    r.topics
        .iter()
        .map(|t| {
            let c = &t.counts;
            let consumed = match t.consumed.as_slice() {
                [] => String::new(),
                [one] => format!(", consumed {}", fmt_count(*one)),
                groups => format!(
                    ", consumed {} (per group)",
                    groups
                        .iter()
                        .map(|n| fmt_count(*n))
                        .collect::<Vec<_>>()
                        .join(" / ")
                ),
            };
            let records = match t.size.is_empty() {
                true => String::new(),
                false => format!(", {} records, keys {}", t.size, t.keys),
            };
            let value = format!(
                "{} partitions, rf {}, share {}{records}: sent {}, delivered {}, failed {}{consumed}; {}, {}",
                t.partitions,
                t.replication_factor,
                t.share,
                fmt_count(c.sent),
                fmt_count(c.delivered),
                fmt_count(c.failed),
                fmt_rate(t.records_per_sec),
                fmt_mb_per_sec(t.bytes_per_sec)
            );
            (t.name.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::sample_report;

    fn topic(name: &str, sent: u64, measured: u64) -> TopicReport {
        TopicReport {
            name: name.into(),
            partitions: 2,
            replication_factor: 1,
            share: 1,
            counts: TopicCounts {
                sent,
                delivered: sent - 1,
                failed: 1,
                unknown: 0,
                measured_delivered: measured,
                measured_bytes: measured * 100,
            },
            records_per_sec: 0.0,
            bytes_per_sec: 0.0,
            ..TopicReport::default()
        }
    }

    #[test]
    fn instances_add_up_by_name_and_rates_use_the_merged_window() {
        let mut a = sample_report();
        a.topics = vec![topic("x", 10, 8), topic("y", 20, 18)];
        let mut b = sample_report();
        // Another order, and a topic only this instance had.
        b.topics = vec![topic("y", 5, 4), topic("x", 7, 6), topic("z", 3, 3)];
        let m = merge(&[&a, &b], 2.0);
        let names: Vec<&str> = m.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["x", "y", "z"]);
        let x = &m[0];
        assert_eq!(
            (x.counts.sent, x.counts.delivered, x.counts.failed),
            (17, 15, 2)
        );
        assert_eq!(
            (x.counts.measured_delivered, x.counts.measured_bytes),
            (14, 1400)
        );
        assert_eq!((x.records_per_sec, x.bytes_per_sec), (7.0, 700.0));
        assert_eq!(m[1].counts.sent, 25);
        assert_eq!(m[2].counts.sent, 3);
    }

    #[test]
    fn consumed_counts_add_per_group_only_when_every_run_has_them() {
        let with = |name: &str, consumed: Vec<u64>| TopicReport {
            consumed,
            ..topic(name, 10, 8)
        };
        let mut a = sample_report();
        a.topics = vec![with("x", vec![9, 8]), with("y", vec![5, 5])];
        let mut b = sample_report();
        b.topics = vec![with("x", vec![9, 9]), with("y", vec![])];
        let m = merge(&[&a, &b], 1.0);
        assert_eq!(m[0].consumed, [18, 17]);
        assert!(m[1].consumed.is_empty(), "{:?}", m[1].consumed);
        // A topic only one run had keeps that run's counts.
        let mut c = sample_report();
        c.topics = vec![with("z", vec![4])];
        assert_eq!(merge(&[&a, &c], 1.0)[2].consumed, [4]);
    }

    #[test]
    fn a_report_without_topics_merges_to_none() {
        assert!(merge(&[&sample_report(), &sample_report()], 1.0).is_empty());
    }

    #[test]
    fn the_record_size_shown_is_share_weighted_over_topics() {
        use serde_json::json;
        let plain = json!({"workload": {"size": {"kind": "fixed", "bytes": 100}}});
        assert_eq!(fixed_record_bytes(&plain), Some((100.0, false)));
        // 1 x 100B (the workload's) + 3 x 500B: (100 + 1500) / 4.
        let mixed = json!({"workload": {
            "size": {"kind": "fixed", "bytes": 100},
            "topics": [
                {"name": "a", "share": 1},
                {"name": "b", "share": 3, "size": {"kind": "fixed", "bytes": 500}}
            ]
        }});
        assert_eq!(fixed_record_bytes(&mixed), Some((400.0, true)));
        let uniform = json!({"workload": {
            "size": {"kind": "fixed", "bytes": 100},
            "topics": [{"name": "a", "share": 1,
                        "size": {"kind": "uniform", "min": 1, "max": 9}}]
        }});
        assert_eq!(fixed_record_bytes(&uniform), None);
        assert!(has_topic_sizes(&uniform) && !has_topic_sizes(&plain));
    }
}
