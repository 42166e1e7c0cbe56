//! Faults on the embedded cluster: the `--fault` / `[[fault]]` grammar, its validation
//! against the profile, and which seconds of a run a fault covers (so intervals can be
//! flagged). Pure specification: the schedule that applies faults runs in the engine
//! (`engine::faults`), on its own thread.
//!
//! ```text
//! broker-down:BROKER@AT[+FOR]     BROKER refuses connections from AT (for FOR, else to the end)
//! rtt:BROKER=LATENCY@AT[+FOR]     BROKER answers every request LATENCY late
//! errors:API=ERROR[*COUNT]@AT     the next COUNT API requests fail with ERROR
//! leader:PARTITION=BROKER@AT      PARTITION's leader moves to BROKER
//! ```

use crate::error::{ConfigError, Location};
use crate::units::{format_duration, parse_duration};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use std::ffi::CStr;
use std::time::Duration;

/// Printed with every invalid spec.
pub const GRAMMAR: &str = "broker-down:BROKER@AT[+FOR] | rtt:BROKER=LATENCY@AT[+FOR] | \
errors:API=ERROR[*COUNT]@AT | leader:PARTITION=BROKER@AT, e.g. broker-down:2@10s+5s, \
rtt:1=50ms@5s+10s, errors:produce=NOT_ENOUGH_REPLICAS*20@8s, leader:0=3@12s \
(BROKER is 1..mock_brokers or * for all; AT, FOR, LATENCY are durations)";

/// API names accepted by `errors:`; the requests a producer (and the verifier) sends.
const APIS: &[(&str, RDKafkaApiKey)] = &[
    ("produce", RDKafkaApiKey::Produce),
    ("metadata", RDKafkaApiKey::Metadata),
    ("fetch", RDKafkaApiKey::Fetch),
    ("list_offsets", RDKafkaApiKey::ListOffsets),
    ("init_producer_id", RDKafkaApiKey::InitProducerId),
    ("find_coordinator", RDKafkaApiKey::FindCoordinator),
    ("add_partitions_to_txn", RDKafkaApiKey::AddPartitionsToTxn),
    ("end_txn", RDKafkaApiKey::EndTxn),
];

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// None = every broker.
    BrokerDown {
        broker: Option<i32>,
    },
    Rtt {
        broker: Option<i32>,
        rtt: Duration,
    },
    Errors {
        api: RDKafkaApiKey,
        error: RDKafkaRespErr,
        count: u32,
    },
    Leader {
        partition: i32,
        broker: i32,
    },
}

/// One scheduled fault: what, when (after t0) and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub at: Duration,
    /// None = until the end of the run (broker-down, rtt) or instantaneous (errors, leader).
    pub lasts: Option<Duration>,
    /// Where it was written, for errors found when the whole profile is known.
    pub origin: Location,
}

impl serde::Serialize for FaultSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

fn broker_text(b: Option<i32>) -> String {
    b.map_or("*".to_string(), |b| b.to_string())
}

impl std::fmt::Display for FaultSpec {
    /// The canonical spec: parses back to the same fault.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            FaultKind::BrokerDown { broker } => write!(f, "broker-down:{}", broker_text(broker))?,
            FaultKind::Rtt { broker, rtt } => {
                write!(f, "rtt:{}={}", broker_text(broker), format_duration(rtt))?
            }
            FaultKind::Errors { api, error, count } => write!(
                f,
                "errors:{}={}*{count}",
                api_name(api),
                crate::domain::errors::error_name(error)
            )?,
            FaultKind::Leader { partition, broker } => write!(f, "leader:{partition}={broker}")?,
        }
        write!(f, "@{}", format_duration(self.at))?;
        if let Some(d) = self.lasts {
            write!(f, "+{}", format_duration(d))?;
        }
        Ok(())
    }
}

fn api_name(api: RDKafkaApiKey) -> &'static str {
    APIS.iter()
        .find(|(_, a)| *a == api)
        .map_or("?", |(n, _)| *n)
}

/// A broker-side error code by librdkafka's name (`NOT_ENOUGH_REPLICAS`).
fn error_code(name: &str) -> Option<RDKafkaRespErr> {
    let mut descs: *const rdkafka_sys::rd_kafka_err_desc = std::ptr::null();
    let mut n: usize = 0;
    // SAFETY: librdkafka hands out its static table of error descriptions.
    unsafe { rdkafka_sys::rd_kafka_get_err_descs(&mut descs, &mut n) };
    if descs.is_null() {
        return None;
    }
    // SAFETY: the table has n entries; entries without a name are gaps.
    let table = unsafe { std::slice::from_raw_parts(descs, n) };
    table.iter().find_map(|d| {
        if d.name.is_null() || (d.code as i32) <= 0 {
            return None;
        }
        // SAFETY: a non-null name is a static NUL-terminated string.
        let n = unsafe { CStr::from_ptr(d.name) }.to_string_lossy();
        n.eq_ignore_ascii_case(name).then_some(d.code)
    })
}

fn bad(spec: &str, why: impl std::fmt::Display, origin: &Location) -> ConfigError {
    ConfigError::new(format!("invalid fault {spec:?}: {why}"))
        .at(origin.clone())
        .fix(format!("write a fault as {GRAMMAR}"))
}

/// What each number of the grammar may be, for messages: a number too large to parse
/// is out of range, not "not a whole number". Brokers and partitions are checked against
/// the cluster later; these say what that check will demand.
const BROKER_RANGE: &str = "BROKER must be 1..=mock_brokers (at most 64) or *";
const PARTITION_RANGE: &str = "PARTITION must be 0..partitions (at most 100000)";
const COUNT_RANGE: &str = "COUNT must be 1..100000";

fn number<T: std::str::FromStr>(t: &str, what: &str, range: &str) -> Result<T, String> {
    let t = t.trim();
    t.parse().map_err(|_| {
        let digits = t.strip_prefix('-').unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            format!("{what} {t} is out of range: {range}")
        } else {
            format!("{what} {t:?} is not a whole number ({range})")
        }
    })
}

fn broker(t: &str) -> Result<Option<i32>, String> {
    if t.trim() == "*" {
        return Ok(None);
    }
    number::<i32>(t, "broker", BROKER_RANGE).map(Some)
}

fn duration(t: &str, what: &str) -> Result<Duration, String> {
    parse_duration(t).map_err(|e| format!("{what}: {e}"))
}

/// Parses one spec; `origin` is where it was written (`--fault`, or a profile's line).
pub fn parse(spec: &str, origin: &Location) -> Result<FaultSpec, ConfigError> {
    let err = |why: String| bad(spec, why, origin);
    let t = spec.trim();
    let (kind, rest) = t
        .split_once(':')
        .ok_or_else(|| err("no `:` after the fault kind".into()))?;
    let (what, when) = rest
        .rsplit_once('@')
        .ok_or_else(|| err("no `@` before the start time".into()))?;
    let (at, lasts) = match when.split_once('+') {
        Some((a, d)) => (a, Some(duration(d, "FOR").map_err(err)?)),
        None => (when, None),
    };
    let at = duration(at, "AT").map_err(err)?;
    if lasts.is_some_and(|d| d.is_zero()) {
        return Err(err("FOR must be longer than 0".into()));
    }
    let kind = fault_kind(kind, what, lasts).map_err(err)?;
    Ok(FaultSpec {
        kind,
        at,
        lasts,
        origin: origin.clone(),
    })
}

/// The fault named `kind`, with its target `what`; `lasts` is its `+FOR`, if any.
fn fault_kind(kind: &str, what: &str, lasts: Option<Duration>) -> Result<FaultKind, String> {
    Ok(match kind.trim() {
        "broker-down" => FaultKind::BrokerDown {
            broker: broker(what)?,
        },
        "rtt" => {
            let (b, l) = what.split_once('=').ok_or("rtt needs BROKER=LATENCY")?;
            FaultKind::Rtt {
                broker: broker(b)?,
                rtt: duration(l, "LATENCY")?,
            }
        }
        "errors" => errors_kind(what, lasts)?,
        "leader" => {
            let (p, b) = what
                .split_once('=')
                .ok_or("leader needs PARTITION=BROKER")?;
            if lasts.is_some() {
                return Err("a leader move has no duration (+FOR)".into());
            }
            FaultKind::Leader {
                partition: number(p, "partition", PARTITION_RANGE)?,
                broker: number(b, "broker", BROKER_RANGE)?,
            }
        }
        other => {
            return Err(format!(
                "unknown fault kind {other:?} (broker-down, rtt, errors or leader)"
            ))
        }
    })
}

/// `errors:API=ERROR[*COUNT]`: the next COUNT requests of API fail with ERROR.
fn errors_kind(what: &str, lasts: Option<Duration>) -> Result<FaultKind, String> {
    let (api, e) = what.split_once('=').ok_or("errors needs API=ERROR")?;
    let (e, count) = match e.split_once('*') {
        Some((e, c)) => (e, number::<u32>(c, "COUNT", COUNT_RANGE)?),
        None => (e, 1),
    };
    let api_l = api.trim().to_ascii_lowercase().replace('-', "_");
    let api = APIS
        .iter()
        .find(|(n, _)| *n == api_l)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
            let names: Vec<&str> = APIS.iter().map(|(n, _)| *n).collect();
            format!("unknown API {api:?} (one of {})", names.join(", "))
        })?;
    let error = error_code(crate::domain::errors::librdkafka_name(e.trim())).ok_or_else(|| {
        format!(
            "unknown broker error {e:?} (librdkafka's names, e.g. NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER)"
        )
    })?;
    if count == 0 || count > 100_000 {
        return Err(format!("{COUNT_RANGE}, got {count}"));
    }
    if lasts.is_some() {
        return Err("errors has a COUNT, not a duration (+FOR)".into());
    }
    Ok(FaultKind::Errors { api, error, count })
}

/// Checks faults against the resolved profile: they need the embedded cluster, its
/// brokers and the topic's partitions, and must start within the run.
pub fn check(
    faults: &[FaultSpec],
    external_brokers: bool,
    mock_brokers: u32,
    partitions: u32,
    duration: Option<Duration>,
) -> Result<(), ConfigError> {
    for f in faults {
        let err = |why: String, fix: &str| {
            ConfigError::new(format!("fault {f}: {why}"))
                .at(f.origin.clone())
                .fix(fix.to_string())
        };
        if external_brokers {
            return Err(err(
                "faults are injected into the embedded cluster and cannot be used with --brokers (a real cluster)".into(),
                "drop --brokers (and cluster.brokers) to run on the embedded cluster, or remove the faults",
            ));
        }
        let in_range = |b: i32| b >= 1 && b as i64 <= i64::from(mock_brokers);
        let brokers = match f.kind {
            FaultKind::BrokerDown { broker } | FaultKind::Rtt { broker, .. } => broker,
            FaultKind::Leader { broker, .. } => Some(broker),
            FaultKind::Errors { .. } => None,
        };
        if let Some(b) = brokers.filter(|b| !in_range(*b)) {
            return Err(err(
                format!("broker {b} does not exist: the embedded cluster has brokers 1..={mock_brokers}"),
                "use a broker id between 1 and mock_brokers, or raise --mock-brokers",
            ));
        }
        if let FaultKind::Leader { partition, .. } = f.kind {
            if partition < 0 || partition as i64 >= i64::from(partitions) {
                return Err(err(
                    format!("partition {partition} does not exist: the topic has {partitions} partitions (0..{partitions}; with several topics, the largest one)"),
                    "use a partition below workload.partitions (with several topics: below the \
                     largest topic's partitions)",
                ));
            }
        }
        if let Some(d) = duration.filter(|d| f.at >= *d) {
            return Err(err(
                format!(
                    "it starts at {} but the run lasts {}",
                    format_duration(f.at),
                    format_duration(d)
                ),
                "start the fault earlier or run longer",
            ));
        }
    }
    Ok(())
}

/// The faults active during second `idx` of the run ([idx, idx+1) s after t0), as one
/// label ("broker-down:2@10s+5s; rtt:1=50ms@5s"), or None.
pub fn label_at(faults: &[FaultSpec], idx: u64) -> Option<String> {
    let (start, end) = (Duration::from_secs(idx), Duration::from_secs(idx + 1));
    let active: Vec<String> = faults
        .iter()
        .filter(|f| {
            let instant = matches!(f.kind, FaultKind::Errors { .. } | FaultKind::Leader { .. });
            let until = match (instant, f.lasts) {
                (true, _) => f.at + Duration::from_nanos(1),
                (false, Some(d)) => f.at + d,
                (false, None) => Duration::MAX,
            };
            f.at < end && until > start
        })
        .map(|f| f.to_string())
        .collect();
    (!active.is_empty()).then(|| active.join("; "))
}

#[cfg(test)]
mod tests;
