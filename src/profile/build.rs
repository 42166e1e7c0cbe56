//! Turns the merged settings into the typed `Profile` (validation comes after, in
//! `validate`, which still has the provenance of every value).

use super::keys::{KeyKind, Val};
use super::layer::Merged;
use super::model::*;
use crate::error::ConfigError;

struct Get<'a>(&'a Merged);

impl Get<'_> {
    fn val(&self, key: &str) -> Result<&Val, ConfigError> {
        // Only reachable if the built-in base profile lost a key: a kprod bug, not user input.
        self.0.values.get(key).map(|e| &e.val).ok_or_else(|| {
            ConfigError::new(format!(
                "internal error: the built-in `base` profile does not set `{key}`"
            ))
            .key(key)
        })
    }
    fn wrong(&self, key: &str) -> ConfigError {
        ConfigError::new(format!("internal error: `{key}` has the wrong type")).key(key)
    }
    fn u32(&self, key: &str) -> Result<u32, ConfigError> {
        match self.val(key)? {
            Val::U32(v) => Ok(*v),
            _ => Err(self.wrong(key)),
        }
    }
    fn u64(&self, key: &str) -> Result<u64, ConfigError> {
        match self.val(key)? {
            Val::U64(v) => Ok(*v),
            _ => Err(self.wrong(key)),
        }
    }
    fn opt_u64(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.0.values.get(key).map(|e| &e.val) {
            None => Ok(None),
            Some(Val::OptU64(v)) => Ok(*v),
            Some(_) => Err(self.wrong(key)),
        }
    }
    fn dur(&self, key: &str) -> Result<std::time::Duration, ConfigError> {
        match self.val(key)? {
            Val::Dur(v) => Ok(*v),
            _ => Err(self.wrong(key)),
        }
    }
    fn opt_dur(&self, key: &str) -> Result<Option<std::time::Duration>, ConfigError> {
        match self.0.values.get(key).map(|e| &e.val) {
            None => Ok(None),
            Some(Val::OptDur(v)) => Ok(*v),
            Some(_) => Err(self.wrong(key)),
        }
    }
    fn string(&self, key: &str) -> Result<String, ConfigError> {
        match self.val(key)? {
            Val::Str(v) => Ok(v.clone()),
            _ => Err(self.wrong(key)),
        }
    }
    fn opt_string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.0.values.get(key).map(|e| &e.val) {
            None => Ok(None),
            Some(Val::OptStr(v)) => Ok(v.clone()),
            Some(_) => Err(self.wrong(key)),
        }
    }
    fn bool(&self, key: &str) -> Result<bool, ConfigError> {
        match self.val(key)? {
            Val::Bool(v) => Ok(*v),
            _ => Err(self.wrong(key)),
        }
    }
}

/// The value of `$key`, which must be the `Val` variant `$variant`.
macro_rules! pick {
    ($g:expr, $key:literal, $variant:ident) => {
        match $g.val($key)? {
            Val::$variant(v) => v.clone(),
            _ => return Err($g.wrong($key)),
        }
    };
}

/// Builds the profile; `names`, `description` and `warnings` are filled by the caller.
pub(crate) fn build(m: &Merged) -> Result<Profile, ConfigError> {
    let g = Get(m);
    let producer = ProducerCfg {
        acks: pick!(g, "producer.acks", Acks),
        idempotence: g.bool("producer.idempotence")?,
        max_in_flight: g.u32("producer.max_in_flight")?,
        retries: g.u32("producer.retries")?,
        delivery_timeout: g.dur("producer.delivery_timeout")?,
        request_timeout: g.dur("producer.request_timeout")?,
        retry_backoff: g.dur("producer.retry_backoff")?,
        transactional_id: g.opt_string("producer.transactional_id")?,
        records_per_transaction: g.u64("producer.records_per_transaction")?,
    };
    let batching = BatchingCfg {
        batch_bytes: g.u64("batching.batch_bytes")?,
        batch_messages: g.u64("batching.batch_messages")?,
        linger: g.dur("batching.linger")?,
    };
    let level = match m.values.get("compression.level").map(|e| &e.val) {
        None => None,
        Some(Val::Level(l)) => *l,
        Some(_) => return Err(g.wrong("compression.level")),
    };
    let compression = CompressionCfg {
        codec: pick!(g, "compression.codec", Codec),
        level,
    };
    let backpressure = BackpressureCfg {
        buffer_bytes: g.u64("backpressure.buffer_bytes")?,
        buffer_messages: g.u64("backpressure.buffer_messages")?,
        on_full: pick!(g, "backpressure.on_full", OnFull),
        max_block: g.dur("backpressure.max_block")?,
        max_in_flight_records: g.opt_u64("backpressure.max_in_flight_records")?,
    };
    let cluster = ClusterCfg {
        brokers: g.opt_string("cluster.brokers")?,
        mock_brokers: g.u32("cluster.mock_brokers")?,
    };
    Ok(Profile {
        names: Vec::new(),
        description: String::new(),
        producer,
        batching,
        compression,
        backpressure,
        workload: workload(&g, m)?,
        cluster,
        check: check(&g, m)?,
        librdkafka: m
            .librdkafka
            .iter()
            .map(|(k, p)| (k.clone(), p.value.clone()))
            .collect(),
        warnings: Vec::new(),
        faults: m.faults.clone(),
        consumers: consumers(&g, m)?,
    })
}

/// `[consumers]`: every key optional (no consumers unless `count` is set).
fn consumers(g: &Get<'_>, m: &Merged) -> Result<ConsumersCfg, ConfigError> {
    let num = |key: &str| match m.values.get(key).map(|e| &e.val) {
        None => Ok(None),
        Some(Val::U32(v)) => Ok(Some(u64::from(*v))),
        Some(Val::U64(v)) => Ok(Some(*v)),
        Some(_) => Err(g.wrong(key)),
    };
    Ok(ConsumersCfg {
        count: num("consumers.count")?.map_or(0, |v| v as u32),
        groups: num("consumers.groups")?.map_or(1, |v| v as u32),
        fetch_min_bytes: num("consumers.fetch_min_bytes")?,
        fetch_wait_max_ms: num("consumers.fetch_wait_max_ms")?,
        backlog: g.opt_dur("consumers.backlog")?,
        cpus: g.opt_string("consumers.cpus")?,
    })
}

fn workload(g: &Get<'_>, m: &Merged) -> Result<WorkloadCfg, ConfigError> {
    let key_count = g.u64("workload.key_count")?;
    let key_kind: KeyKind = pick!(g, "workload.keys", Keys);
    let zipf_s = match g.val("workload.zipf_s")? {
        Val::F64(s) => *s,
        _ => return Err(g.wrong("workload.zipf_s")),
    };
    let keys = super::topics::key_dist(key_kind, key_count, zipf_s);
    let partition_map: std::collections::BTreeMap<String, i32> =
        match m.values.get("workload.partition_map").map(|e| &e.val) {
            None => Default::default(),
            Some(Val::Map(entries)) => entries
                .iter()
                // Out-of-range partitions are reported by validation with their location.
                .map(|(k, p, _)| (k.clone(), i32::try_from(*p).unwrap_or(i32::MAX)))
                .collect(),
            Some(_) => return Err(g.wrong("workload.partition_map")),
        };
    let fixed = match m.values.get("workload.headers.fixed").map(|e| &e.val) {
        None => Vec::new(),
        Some(Val::Pairs(p)) => p.clone(),
        Some(_) => return Err(g.wrong("workload.headers.fixed")),
    };
    let (rate, duration, stages) = with_stages(g, m)?;
    let topics = many_topics(g, m, (key_kind, key_count, zipf_s))?;
    if !topics.is_empty() && !partition_map.is_empty() {
        let at = m
            .values
            .get("workload.partition_map")
            .map(|e| e.origin.loc.clone());
        let mut e = ConfigError::new(
            "`workload.partition_map` names partitions of one topic; this run has several \
             (workload.topics / --topics)",
        )
        .key("workload.partition_map")
        .fix("drop the partition map, or run one topic");
        if let Some(at) = at {
            e = e.at(at);
        }
        return Err(e);
    }
    Ok(WorkloadCfg {
        topic: g.string("workload.topic")?,
        partitions: g.u32("workload.partitions")?,
        replication_factor: g.u32("workload.replication_factor")?,
        rate,
        duration,
        records: g.opt_u64("workload.records")?,
        warmup: g.dur("workload.warmup")?,
        producers: g.u32("workload.producers")?,
        size: pick!(g, "workload.size", Size),
        value: pick!(g, "workload.value", Value),
        keys,
        partition_map,
        partitioner: g.string("workload.partitioner")?,
        headers: HeadersCfg {
            count: g.u32("workload.headers.count")?,
            value_bytes: u32::try_from(g.u64("workload.headers.value_bytes")?).unwrap_or(u32::MAX),
            fixed,
        },
        send_mode: pick!(g, "workload.send_mode", SendMode),
        seed: g.u64("workload.seed")?,
        stages,
        topics,
    })
}

/// `[[workload.topics]]` or `--topics N`, expanded with the workload's defaults.
fn many_topics(
    g: &Get<'_>,
    m: &Merged,
    (keys, key_count, zipf_s): (KeyKind, u64, f64),
) -> Result<Vec<super::TopicCfg>, ConfigError> {
    let count = g.opt_u64("workload.topic_count")?;
    let count_loc = m.values.get("workload.topic_count").map(|e| &e.origin.loc);
    let topic = g.string("workload.topic")?;
    super::topics::resolve(super::topics::Sources {
        list: m.topics.as_ref(),
        count: count.zip(count_loc),
        topic: &topic,
        partitions: g.u32("workload.partitions")?,
        replication_factor: g.u32("workload.replication_factor")?,
        keys,
        key_count,
        zipf_s,
    })
}

/// Rate and duration of the run, and its stages. With stages, the rate is theirs: a
/// `workload.rate` given in the stages' layer or a later one (`--rate`) is an error, and
/// one inherited from an earlier layer is replaced by the stages' mean rate. The duration
/// is the stages' total unless given in the stages' layer or later; then it may cut the
/// stages short but not outlast them (there is no rate to run at after the last stage).
type RunShape = (Rate, Option<std::time::Duration>, Vec<super::Stage>);
fn with_stages(g: &Get<'_>, m: &Merged) -> Result<RunShape, ConfigError> {
    let rate = pick!(g, "workload.rate", Rate);
    let duration = g.opt_dur("workload.duration")?;
    let Some((stages, loc, rank)) = &m.stages else {
        return Ok((rate, duration, Vec::new()));
    };
    let explicit = |k: &str| m.values.get(k).filter(|e| e.origin.rank >= *rank);
    if let Some(e) = explicit("workload.rate") {
        return Err(ConfigError::new(
            "`workload.rate` is given together with [[workload.stages]]: the stages set the rate",
        )
        .at(e.origin.loc.clone())
        .key("workload.rate")
        .fix(format!(
            "drop workload.rate (or --rate), or drop the stages at {loc}"
        )));
    }
    let total = super::stages::total(stages);
    let duration = match (explicit("workload.duration"), duration) {
        (Some(e), Some(d)) if d > total => {
            return Err(ConfigError::new(format!(
                "`workload.duration` ({}) is longer than the stages ({})",
                crate::units::format_duration(d),
                crate::units::format_duration(total)
            ))
            .at(e.origin.loc.clone())
            .key("workload.duration")
            .fix("drop workload.duration (the run lasts as long as its stages), shorten it, or add a hold stage"))
        }
        (Some(_), Some(d)) => d,
        _ => total,
    };
    let mean = super::stages::mean_rate(stages);
    Ok((Rate::Fixed(mean.max(1e-9)), Some(duration), stages.clone()))
}

/// The `[check]` thresholds: None where no layer set one.
fn check(g: &Get<'_>, m: &Merged) -> Result<CheckCfg, ConfigError> {
    let pct = |key: &str| match m.values.get(key).map(|e| &e.val) {
        None => Ok(None),
        Some(Val::F64(v)) => Ok(Some(*v)),
        Some(_) => Err(g.wrong(key)),
    };
    Ok(CheckCfg {
        throughput: pct("check.throughput")?,
        p50: pct("check.p50")?,
        p99: pct("check.p99")?,
        p999: pct("check.p999")?,
        errors: match m.values.get("check.errors").map(|e| &e.val) {
            None => None,
            Some(Val::U64(v)) => Some(*v),
            Some(_) => return Err(g.wrong("check.errors")),
        },
        thresholds: match m.values.get("check.thresholds").map(|e| &e.val) {
            None => Vec::new(),
            Some(Val::List(v)) => v.clone(),
            Some(_) => return Err(g.wrong("check.thresholds")),
        },
    })
}
