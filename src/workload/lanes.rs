//! Per-topic record settings: one source lane per distinct (size, keys) setting of a run's
//! topics.
//!
//! Lane 0 is [workload]'s own `size` and `keys`, held where a one-setting run has always
//! held them (`Payloads::sizes`, the source's `KeySpace`), so a run whose topics all share
//! [workload]'s records pays nothing: `lane_of` is empty and the worker's one-topic path
//! never looks at it. Each further setting gets a size table (here, shared by the
//! producers) and a key space; topics with equal settings share a lane. Values of every
//! lane are slices of the one value pool, sized for the largest lane.

use super::{KeySpace, SizeTable, WorkloadError};
use crate::profile::{KeyDist, SizeDist, WorkloadCfg};
use std::path::Path;
use std::sync::Arc;

/// The lanes of a run, worked out from the profile before anything is built.
#[derive(Debug, Clone, PartialEq)]
pub struct LanePlan {
    /// Lane of each topic (route index -> lane); empty when every topic is lane 0.
    pub lane_of: Vec<u16>,
    /// The settings of lanes 1.. (lane 0 is [workload]'s).
    pub extra: Vec<(SizeDist, KeyDist)>,
    /// Each lane's fraction of the records (the shares of its topics over all shares).
    pub weights: Vec<f64>,
}

impl LanePlan {
    pub fn new(cfg: &WorkloadCfg) -> LanePlan {
        let base = (&cfg.size, &cfg.keys);
        let mut extra: Vec<(SizeDist, KeyDist)> = Vec::new();
        let mut lane_of = Vec::with_capacity(cfg.topics.len());
        let mut shares = vec![0u64];
        for t in &cfg.topics {
            let s = (
                t.size.as_ref().unwrap_or(base.0),
                t.keys.as_ref().unwrap_or(base.1),
            );
            let lane = if s == base {
                0
            } else if let Some(i) = extra.iter().position(|(a, b)| (a, b) == s) {
                i + 1
            } else {
                extra.push((s.0.clone(), s.1.clone()));
                shares.push(0);
                extra.len()
            };
            shares[lane] += u64::from(t.share);
            lane_of.push(lane as u16);
        }
        let total: u64 = shares.iter().sum();
        let weights = match total {
            0 => vec![1.0],
            _ => shares.iter().map(|&s| s as f64 / total as f64).collect(),
        };
        if extra.is_empty() {
            lane_of.clear();
        }
        LanePlan {
            lane_of,
            extra,
            weights,
        }
    }

    /// The size tables of lanes 1.. (seeded apart from lane 0's, as different streams).
    pub(super) fn size_tables(
        &self,
        base_dir: &Path,
        seed: u64,
    ) -> Result<Vec<SizeTable>, WorkloadError> {
        self.extra
            .iter()
            .enumerate()
            .map(|(i, (size, _))| SizeTable::build(size, base_dir, seed ^ (i as u64 + 1)))
            .collect()
    }

    /// The key spaces of lanes 1.., each built as [workload]'s would be with the lane's keys.
    pub fn key_spaces(
        &self,
        cfg: &WorkloadCfg,
        instance: u32,
        instances: u32,
    ) -> Result<Vec<Arc<KeySpace>>, WorkloadError> {
        self.extra
            .iter()
            .map(|(_, keys)| {
                let mut c = cfg.clone();
                c.keys = keys.clone();
                c.topics.clear();
                KeySpace::build(&c, instance, instances)
            })
            .collect()
    }
}

/// A producer's state in one lane beyond lane 0.
#[derive(Debug)]
pub(super) struct Lane {
    pub keys: Arc<KeySpace>,
    pub key_cursor: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::TopicCfg;
    use crate::workload::{Payloads, RecordSource};

    fn topic(name: &str, share: u32, size: Option<SizeDist>, keys: Option<KeyDist>) -> TopicCfg {
        TopicCfg {
            share,
            size,
            keys,
            ..TopicCfg::plain(name.into(), 1, 1)
        }
    }

    fn cfg(topics: Vec<TopicCfg>) -> WorkloadCfg {
        let mut c = crate::workload::tests::cfg();
        c.topics = topics;
        c
    }

    #[test]
    fn equal_settings_share_a_lane_and_workload_settings_are_lane_zero() {
        let small = Some(SizeDist::Fixed { bytes: 10 });
        let c = cfg(vec![
            topic("a", 1, None, None),
            topic("b", 2, small.clone(), None),
            // [workload]'s own size written out: still lane 0.
            topic("c", 1, Some(SizeDist::Fixed { bytes: 100 }), None),
            topic("d", 4, small.clone(), None),
            topic("e", 2, None, Some(KeyDist::Uniform { count: 5 })),
        ]);
        let p = LanePlan::new(&c);
        assert_eq!(p.lane_of, [0, 1, 0, 1, 2]);
        assert_eq!(p.extra.len(), 2);
        assert_eq!(p.weights, [0.2, 0.6, 0.2]);
        let one = LanePlan::new(&cfg(vec![
            topic("a", 1, None, None),
            topic("b", 1, None, None),
        ]));
        assert!(one.lane_of.is_empty() && one.extra.is_empty());
    }

    #[test]
    fn each_topic_gets_its_lanes_sizes_and_keys_from_one_pool() {
        let c = cfg(vec![
            topic("a", 1, None, None),
            topic(
                "b",
                3,
                Some(SizeDist::Fixed { bytes: 7000 }),
                Some(KeyDist::Sequential { count: 3 }),
            ),
        ]);
        let payloads = Payloads::build(&c, Path::new(".")).unwrap();
        // Share-weighted: (100 * 1 + 7000 * 3) / 4.
        assert_eq!(payloads.mean_value_bytes(), 5275.0);
        assert_eq!(
            (payloads.min_value_bytes(), payloads.max_value_bytes()),
            (100, 7000)
        );
        let keys = KeySpace::build(&c, 0, 1).unwrap();
        let lanes = LanePlan::new(&c).key_spaces(&c, 0, 1).unwrap();
        let mut src = RecordSource::new(payloads, keys, 0, 1).with_lanes(&lanes);
        let pool = src.payloads().value_pool().as_ptr_range();
        let mut b_keys = Vec::new();
        for _ in 0..4 {
            let a = src.next_for(0);
            assert_eq!((a.value.len(), a.key), (100, None));
            let b = src.next_for(1);
            assert_eq!(b.value.len(), 7000);
            let v = b.value.as_ptr_range();
            assert!(pool.start <= v.start && v.end <= pool.end);
            b_keys.push(String::from_utf8(b.key.unwrap().to_vec()).unwrap());
            assert_eq!(b.payload_bytes, 7012);
        }
        let want: Vec<String> = [0, 1, 2, 0].iter().map(|n| format!("{n:012}")).collect();
        assert_eq!(b_keys, want);
    }
}
