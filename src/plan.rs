//! The plan: a resolved profile turned into per-producer shares and the exact client
//! properties, checked against librdkafka before anything connects.

use crate::client::check_properties;
use crate::error::ConfigError;
use crate::profile::{self, Profile, Rate, SendMode};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// librdkafka statistics cadence; the collector parses them off the hot path.
pub const STATS_INTERVAL_MS: u32 = 1000;

#[derive(Debug, Clone)]
pub struct ProducerShare {
    pub index: u32,
    /// Records per second for this producer; None = unlimited.
    pub rate: Option<f64>,
    pub records: Option<u64>,
    pub transactional_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub profile: Profile,
    /// Producer properties shared by all producers (no bootstrap.servers, client.id or
    /// transactional.id yet: those are per cluster / per producer).
    pub props: BTreeMap<String, String>,
    pub shares: Vec<ProducerShare>,
    pub flush_timeout: Duration,
    /// Distributed runs: this is instance `instance` of `instances` (0-based).
    pub instance: u32,
    pub instances: u32,
    /// Directory containing the profile files, for relative paths (sizes/value files).
    pub base_dir: PathBuf,
    /// `--verify`: tag each record with its producer and sequence and read them back.
    pub verify: bool,
}

impl Plan {
    pub fn new(
        profile: Profile,
        flush_timeout: Duration,
        base_dir: PathBuf,
    ) -> Result<Plan, ConfigError> {
        let mut props = profile::librdkafka_properties(&profile);
        props
            .entry("statistics.interval.ms".into())
            .or_insert_with(|| STATS_INTERVAL_MS.to_string());
        if profile.workload.send_mode == SendMode::FireAndForget {
            // Counts only: librdkafka reports failures, never successes.
            props.insert("delivery.report.only.error".into(), "true".into());
        }
        // Transactional ids are per producer; the base id is checked here with the rest.
        check_properties(&props)?;
        props.remove("transactional.id");

        let shares = shares(&profile, 0, 1);
        Ok(Plan {
            profile,
            props,
            shares,
            flush_timeout,
            instance: 0,
            instances: 1,
            base_dir,
            verify: false,
        })
    }
}

impl Plan {
    /// Makes this plan instance `instance` (0-based) of `instances` in a distributed run:
    /// its share of the rate and of the record count, split again over its producers.
    pub fn set_instance(&mut self, instance: u32, instances: u32) -> Result<(), ConfigError> {
        if instances == 0 || instance >= instances {
            return Err(ConfigError::new(format!(
                "instance {instance} of {instances} does not exist (instances are numbered from 0)"
            ))
            .key("instance"));
        }
        if let Some(total) = self.profile.workload.records {
            // An instance with no records would finish at once and skew the merged window.
            if total < u64::from(instances) {
                return Err(ConfigError::new(format!(
                    "{total} records cannot be split over {instances} instances"
                ))
                .key("workload.records")
                .fix("give at least one record per instance"));
            }
        }
        self.instance = instance;
        self.instances = instances;
        self.shares = shares(&self.profile, instance, instances);
        Ok(())
    }

    /// Target records per second of this instance (all its producers); None = unlimited.
    pub fn target_rate(&self) -> Option<f64> {
        let w = &self.profile.workload;
        if let (false, Some(d)) = (w.stages.is_empty(), w.duration) {
            // Load stages: the curve's mean over the measured window (warm-up excluded).
            let (a, b) = (w.warmup.as_secs_f64(), d.as_secs_f64());
            if b > a {
                let pieces = profile::stages::pieces(&w.stages);
                let records = profile::stages::records_between(&pieces, a, b);
                return Some(records / (b - a) / f64::from(self.instances.max(1)));
            }
        }
        match self.profile.workload.rate {
            Rate::Unlimited => None,
            Rate::Fixed(r) => Some(r / f64::from(self.instances.max(1))),
        }
    }

    /// Seed of the record sources: instances of one distributed run must not send the same
    /// sequence, and a single run keeps the profile's seed as it is.
    pub fn source_seed(&self) -> u64 {
        let seed = self.profile.workload.seed;
        if self.instances <= 1 {
            return seed;
        }
        seed ^ (u64::from(self.instance) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// Per-producer shares of instance `instance` of `instances`: the rate and the record count
/// are split over instances first, then over the instance's producers, so every split adds
/// up exactly. Transactional ids carry the instance, so no two processes fence each other.
fn shares(profile: &Profile, instance: u32, instances: u32) -> Vec<ProducerShare> {
    let n = profile.workload.producers.max(1);
    let instances = instances.max(1);
    let rate = match profile.workload.rate {
        Rate::Unlimited => None,
        Rate::Fixed(r) => Some(r / f64::from(instances) / f64::from(n)),
    };
    let records = profile
        .workload
        .records
        .map(|total| split(total, instances, instance));
    (0..n)
        .map(|i| ProducerShare {
            index: i,
            rate,
            records: records.map(|total| split(total, n, i)),
            transactional_id: profile.producer.transactional_id.as_ref().map(|id| {
                if instances > 1 {
                    format!("{id}-{instance}-{i}")
                } else {
                    format!("{id}-{i}")
                }
            }),
        })
        .collect()
}

/// Producer `i`'s part of `total` split `n` ways; the first `total % n` get one more.
pub fn split(total: u64, n: u32, i: u32) -> u64 {
    let n = n as u64;
    total / n + u64::from((i as u64) < total % n)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn shares_add_up() {
        for (total, n) in [(10, 3), (1, 4), (1_000_000, 7), (0, 2)] {
            let s: u64 = (0..n).map(|i| split(total, n, i)).sum();
            assert_eq!(s, total);
            let max = (0..n).map(|i| split(total, n, i)).max().unwrap();
            let min = (0..n).map(|i| split(total, n, i)).min().unwrap();
            assert!(max - min <= 1);
        }
    }
}
