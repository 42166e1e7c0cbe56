//! `kprod tune --space`: the search space grammar (`key=lo..hi`, `key=a|b|c`), the friendly
//! key aliases, the hard constraints of the production checklist (acks=all and idempotence
//! stay on unless `--allow-unsafe`; at most 5 requests in flight with idempotence), and the
//! seeded Latin-hypercube sample of candidate configurations. Pure: no runs, no files.

use crate::error::KprodError;
use crate::verdict::rng::Rng;
use std::time::Duration;

/// The space: what a producer owner would tune first.
pub const DEFAULT_SPACE: &str =
    "linger=0..50ms,batch_bytes=16KiB..1MiB,codec=none|lz4|zstd,max_in_flight=1..5,producers=1..4";

/// How a range's ends are read and its samples written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dur,
    Size,
    Count,
}

/// Friendly names for the profile keys worth tuning (any full `section.key` works too).
const ALIASES: &[(&str, &str, Option<Kind>)] = &[
    ("linger", "batching.linger", Some(Kind::Dur)),
    ("batch_bytes", "batching.batch_bytes", Some(Kind::Size)),
    (
        "batch_messages",
        "batching.batch_messages",
        Some(Kind::Count),
    ),
    ("codec", "compression.codec", None),
    ("level", "compression.level", Some(Kind::Count)),
    ("max_in_flight", "producer.max_in_flight", Some(Kind::Count)),
    ("producers", "workload.producers", Some(Kind::Count)),
    (
        "buffer_bytes",
        "backpressure.buffer_bytes",
        Some(Kind::Size),
    ),
    ("acks", "producer.acks", None),
    ("idempotence", "producer.idempotence", None),
];

/// Keys that trade durability for speed: refused without `--allow-unsafe`.
const UNSAFE: &[&str] = &["producer.acks", "producer.idempotence"];

/// Keys every trial sets itself.
const OWN: &[&str] = &[
    "workload.rate",
    "workload.duration",
    "workload.records",
    "workload.warmup",
];

/// librdkafka's limit on requests in flight for an idempotent producer.
pub const MAX_IN_FLIGHT_IDEMPOTENT: f64 = 5.0;

/// Ranges at least this wide (hi / lo) are sampled on a log scale.
const LOG_RATIO: f64 = 10.0;

/// What one dimension ranges over.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// Numbers in the key's base unit (microseconds, bytes, or a count).
    Range {
        lo: f64,
        hi: f64,
        kind: Kind,
        log: bool,
    },
    Choices(Vec<String>),
}

/// One dimension of the space.
#[derive(Debug, Clone, PartialEq)]
pub struct Dim {
    /// The full profile key (`batching.linger`).
    pub key: String,
    /// As the user wrote it (`linger`), for tables.
    pub name: String,
    pub domain: Domain,
}

impl Dim {
    /// The dimension as written in `--space` (`linger=0..50ms`).
    pub fn text(&self) -> String {
        match &self.domain {
            Domain::Range { lo, hi, kind, log } => format!(
                "{}={}..{}{}",
                self.name,
                value_text(*lo, *kind),
                value_text(*hi, *kind),
                if *log { " (log)" } else { "" }
            ),
            Domain::Choices(c) => format!("{}={}", self.name, c.join("|")),
        }
    }
}

fn err(m: String) -> KprodError {
    KprodError::flag(
        "--space",
        m,
        "write e.g. --space 'linger=0..50ms,batch_bytes=16KiB..1MiB,codec=none|lz4|zstd'",
    )
}

/// The full profile key of a `--space` name.
pub fn full_key(name: &str) -> (String, Option<Kind>) {
    match ALIASES.iter().find(|(a, _, _)| *a == name) {
        Some((_, k, kind)) => ((*k).to_string(), *kind),
        None => (name.to_string(), None),
    }
}

/// A range end in the key's base unit. A bare number at the low end takes the high end's
/// unit (`0..50ms`, `1..4KiB`).
fn number(text: &str, kind: Kind, unit_of: &str) -> Result<f64, String> {
    let t = text.trim();
    let bare = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.');
    let unit: String = unit_of
        .trim()
        .chars()
        .skip_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let with_unit = if bare && kind != Kind::Count && t != "0" {
        format!("{t}{unit}")
    } else {
        t.to_string()
    };
    match kind {
        Kind::Dur => crate::units::parse_duration(&with_unit).map(|d| d.as_micros() as f64),
        Kind::Size => crate::units::parse_size(&with_unit).map(|b| b as f64),
        Kind::Count => crate::units::parse_count(&with_unit).map(|c| c as f64),
    }
}

/// The kind of a key without an alias, from how its high end is written.
fn infer_kind(hi: &str) -> Kind {
    let t = hi.trim();
    let last = t.chars().last().unwrap_or('0');
    if last == 's' && crate::units::parse_duration(t).is_ok() {
        Kind::Dur
    } else if last == 'B' && crate::units::parse_size(t).is_ok() {
        Kind::Size
    } else {
        Kind::Count
    }
}

/// Parses `--space`; refuses what the hard constraints forbid.
pub fn parse_space(spec: &str, allow_unsafe: bool) -> Result<Vec<Dim>, KprodError> {
    let mut dims: Vec<Dim> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, values) = part
            .split_once('=')
            .ok_or_else(|| err(format!("{part:?} has no `=`")))?;
        let name = name.trim();
        let (key, kind) = full_key(name);
        if !key.contains('.') {
            return Err(err(format!(
                "{name:?} is neither a short name (linger, batch_bytes, batch_messages, codec, \
                 level, max_in_flight, producers, buffer_bytes) nor a section.key profile key"
            )));
        }
        if OWN.contains(&key.as_str()) {
            return Err(err(format!(
                "{key} is set by tune itself for every trial (the rate is searched, the trial \
                 length is --trial-duration)"
            )));
        }
        if UNSAFE.contains(&key.as_str()) && !allow_unsafe {
            return Err(KprodError::flag(
                "--space",
                format!(
                    "{name} would change {key}: the production checklist keeps acks=all and \
                     idempotence on, so tune does not trade durability for speed unless asked"
                ),
                "drop it from --space, or add --allow-unsafe to search it as well",
            ));
        }
        if dims.iter().any(|d| d.key == key) {
            return Err(err(format!("{key} is given twice")));
        }
        let domain = if let Some((lo, hi)) = values.split_once("..") {
            let kind = kind.unwrap_or_else(|| infer_kind(hi));
            let hi_v = number(hi, kind, hi).map_err(|e| err(format!("{name}: {e}")))?;
            let lo_v = number(lo, kind, hi).map_err(|e| err(format!("{name}: {e}")))?;
            if lo_v > hi_v || lo_v.is_nan() || hi_v.is_nan() {
                return Err(err(format!("{name}: {lo} is above {hi}")));
            }
            Domain::Range {
                lo: lo_v,
                hi: hi_v,
                kind,
                log: hi_v >= LOG_RATIO * lo_v.max(f64::MIN_POSITIVE) && hi_v > 0.0,
            }
        } else {
            let c: Vec<String> = values
                .split('|')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if c.is_empty() {
                return Err(err(format!("{name} lists no values")));
            }
            Domain::Choices(c)
        };
        if key == "producer.max_in_flight" && !allow_unsafe {
            let too_many = match &domain {
                Domain::Range { hi, .. } => *hi > MAX_IN_FLIGHT_IDEMPOTENT,
                Domain::Choices(c) => c.iter().any(|v| {
                    v.parse::<f64>()
                        .map_or(true, |n| n > MAX_IN_FLIGHT_IDEMPOTENT)
                }),
            };
            if too_many {
                return Err(KprodError::flag(
                    "--space",
                    "max_in_flight above 5: an idempotent producer allows at most 5 requests \
                     in flight",
                    "use max_in_flight=1..5 (or --allow-unsafe with idempotence=false)",
                ));
            }
        }
        dims.push(Dim {
            key,
            name: name.to_string(),
            domain,
        });
    }
    if dims.is_empty() {
        return Err(err("the space is empty".into()));
    }
    Ok(dims)
}

/// A value in the key's base unit, rounded and written as a profile value.
pub fn value_text(v: f64, kind: Kind) -> String {
    match kind {
        Kind::Dur => {
            // Whole milliseconds above 1 ms: finer steps only add noise to the search.
            let us = if v >= 1000.0 {
                (v / 1000.0).round() * 1000.0
            } else {
                v.round()
            };
            crate::units::format_duration(Duration::from_micros(us.max(0.0) as u64))
        }
        Kind::Size => {
            let b = if v >= 1024.0 {
                (v / 1024.0).round() * 1024.0
            } else {
                v.round()
            };
            crate::units::format_size(b.max(0.0) as u64)
        }
        Kind::Count => format!("{}", v.round().max(0.0) as u64),
    }
}

/// The point at `u` in [0, 1) of a range. A log range from 0 spends its bottom stratum on
/// 0 itself (linger 0 is a real choice) and the rest on [hi/64, hi].
fn range_at(lo: f64, hi: f64, log: bool, u: f64, bottom: bool) -> f64 {
    if !log {
        return lo + (hi - lo) * u;
    }
    if lo <= 0.0 {
        if bottom {
            return 0.0;
        }
        let l = hi / 64.0;
        return (l.ln() + (hi.ln() - l.ln()) * u).exp();
    }
    (lo.ln() + (hi.ln() - lo.ln()) * u).exp()
}

fn shuffle(rng: &mut Rng, v: &mut [usize]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

/// One candidate configuration: (`section.key`, value) per dimension, in space order.
pub type Config = Vec<(String, String)>;

/// A Latin-hypercube sample of `n` configurations: each dimension's range is cut into `n`
/// strata and every stratum is used once, in an order shuffled per dimension; choices are
/// spread evenly over the strata. Duplicates (after rounding) are dropped, so fewer than
/// `n` may come back. The same seed gives the same sample.
pub fn sample(dims: &[Dim], n: usize, seed: u64) -> Vec<Config> {
    let mut rng = Rng::new(seed);
    let mut columns: Vec<Vec<String>> = Vec::with_capacity(dims.len());
    for d in dims {
        let mut strata: Vec<usize> = (0..n).collect();
        shuffle(&mut rng, &mut strata);
        let col = strata
            .iter()
            .map(|&s| match &d.domain {
                Domain::Choices(c) => c[s * c.len() / n.max(1)].clone(),
                Domain::Range { lo, hi, kind, log } => {
                    let u = (s as f64 + rng.next_f64()) / n as f64;
                    value_text(range_at(*lo, *hi, *log, u, s == 0), *kind)
                }
            })
            .collect();
        columns.push(col);
    }
    let mut out: Vec<Config> = Vec::with_capacity(n);
    for i in 0..n {
        let c: Config = dims
            .iter()
            .zip(&columns)
            .map(|(d, col)| (d.key.clone(), col[i].clone()))
            .collect();
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_space_parses_with_aliases_and_log_ranges() {
        let d = parse_space(DEFAULT_SPACE, false).unwrap();
        let keys: Vec<&str> = d.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "batching.linger",
                "batching.batch_bytes",
                "compression.codec",
                "producer.max_in_flight",
                "workload.producers"
            ]
        );
        assert_eq!(
            d[0].domain,
            Domain::Range {
                lo: 0.0,
                hi: 50_000.0,
                kind: Kind::Dur,
                log: true
            }
        );
        assert!(
            matches!(d[1].domain, Domain::Range { lo, hi, log: true, .. } if lo == 16384.0 && hi == 1048576.0)
        );
        assert!(matches!(d[3].domain, Domain::Range { log: false, .. }));
        assert_eq!(d[0].text(), "linger=0..50ms (log)");
    }

    #[test]
    fn unsafe_keys_and_too_many_in_flight_are_refused_without_allow_unsafe() {
        for s in ["acks=1|all", "producer.idempotence=true|false"] {
            let e = parse_space(s, false).unwrap_err().to_string();
            assert!(e.contains("--allow-unsafe"), "{e}");
            assert!(parse_space(s, true).is_ok());
        }
        let e = parse_space("max_in_flight=1..8", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 5"), "{e}");
        for bad in [
            "linger",
            "linger=50ms..1ms",
            "rate=1k..2k",
            "codec=",
            "x=1..2",
        ] {
            assert!(parse_space(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sample_covers_every_stratum_and_follows_the_seed() {
        let d = parse_space("batch_bytes=16KiB..1MiB,codec=none|lz4", false).unwrap();
        let s = sample(&d, 10, 7);
        assert_eq!(s.len(), 10, "{s:?}");
        // Log strata of [16 KiB, 1 MiB]: each tenth of the log range holds one sample.
        let mut strata: Vec<usize> = s
            .iter()
            .map(|c| {
                let b = crate::units::parse_size(&c[0].1).unwrap() as f64;
                let u = (b / 16384.0).ln() / 64f64.ln();
                ((u * 10.0).floor() as usize).min(9)
            })
            .collect();
        strata.sort();
        strata.dedup();
        assert!(strata.len() >= 9, "{s:?}");
        let lz4 = s.iter().filter(|c| c[1].1 == "lz4").count();
        assert_eq!(lz4, 5, "choices spread evenly: {s:?}");
        assert_eq!(sample(&d, 10, 7), s);
        assert_ne!(sample(&d, 10, 8), s);
        let lin = parse_space("linger=0..50ms", false).unwrap();
        let zero = sample(&lin, 8, 1);
        assert!(
            zero.iter().any(|c| c[0].1 == "0"),
            "linger 0 is sampled: {zero:?}"
        );
    }
}
