//! `[[workload.stages]]`: a run made of load stages instead of one constant rate.
//!
//! ```toml
//! [[workload.stages]]
//! kind = "ramp"            # rate goes linearly from `from` to `to`
//! from = "0"
//! to = "200k"
//! over = "60s"
//! [[workload.stages]]
//! kind = "hold"            # constant; without `rate` it holds the previous stage's end rate
//! for = "2m"
//! [[workload.stages]]
//! kind = "spike"           # `factor` × the previous rate, then back to the previous rate
//! factor = 3.0
//! for = "10s"
//! [[workload.stages]]
//! kind = "step"            # previous + by for the first `every`, + 2·by for the next, ...
//! by = "+20k"
//! every = "30s"
//! for = "2m"
//! ```
//!
//! Stages are parsed and checked here, with the location of every key; a later layer's
//! stages replace an earlier layer's whole list. [`pieces`] turns them into the run-wide
//! piecewise-linear rate curve the pacer follows.

use super::raw::{Raw, RawEntry};
use crate::error::{ConfigError, Location};
use crate::units::{parse_duration, parse_rate, Rate};
use serde::Serialize;
use std::time::Duration;

const KINDS: &[&str] = &["ramp", "hold", "spike", "step"];

/// One load stage; rates are run-wide records per second.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Stage {
    Ramp {
        from: f64,
        to: f64,
        #[serde(with = "crate::units::serde_duration")]
        over: Duration,
    },
    /// `rate` None = the previous stage's end rate.
    Hold {
        rate: Option<f64>,
        #[serde(rename = "for", with = "crate::units::serde_duration")]
        len: Duration,
    },
    Spike {
        factor: f64,
        #[serde(rename = "for", with = "crate::units::serde_duration")]
        len: Duration,
    },
    Step {
        by: f64,
        #[serde(with = "crate::units::serde_duration")]
        every: Duration,
        #[serde(rename = "for", with = "crate::units::serde_duration")]
        len: Duration,
    },
}

impl Stage {
    pub fn kind(&self) -> &'static str {
        match self {
            Stage::Ramp { .. } => "ramp",
            Stage::Hold { .. } => "hold",
            Stage::Spike { .. } => "spike",
            Stage::Step { .. } => "step",
        }
    }

    pub fn duration(&self) -> Duration {
        match self {
            Stage::Ramp { over, .. } => *over,
            Stage::Hold { len, .. } | Stage::Spike { len, .. } | Stage::Step { len, .. } => *len,
        }
    }
}

/// A linear piece of the rate curve: from `from` to `to` records/s over `len`, starting
/// `start` after t0; `stage` is the index of the stage it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub stage: usize,
    pub start: Duration,
    pub len: Duration,
    pub from: f64,
    pub to: f64,
}

/// The curve of `stages`, in order. Stages are checked when parsed, so this cannot fail;
/// a rate that would be needed before one exists (checked away) is taken as 0.
pub fn pieces(stages: &[Stage]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut prev = 0.0_f64;
    let mut start = Duration::ZERO;
    for (i, s) in stages.iter().enumerate() {
        let mut push = |len: Duration, from: f64, to: f64, start: &mut Duration| {
            out.push(Piece {
                stage: i,
                start: *start,
                len,
                from,
                to,
            });
            *start += len;
        };
        match *s {
            Stage::Ramp { from, to, over } => {
                push(over, from, to, &mut start);
                prev = to;
            }
            Stage::Hold { rate, len } => {
                let r = rate.unwrap_or(prev);
                push(len, r, r, &mut start);
                prev = r;
            }
            // After a spike the load returns to where it was.
            Stage::Spike { factor, len } => push(len, prev * factor, prev * factor, &mut start),
            Stage::Step { by, every, len } => {
                let mut left = len;
                let mut r = prev;
                while !left.is_zero() {
                    r = (r + by).max(0.0);
                    let l = every.min(left);
                    push(l, r, r, &mut start);
                    left -= l;
                }
                prev = r;
            }
        }
    }
    out
}

/// Records the run-wide curve asks for between `a` and `b` seconds after t0.
pub fn records_between(pieces: &[Piece], a: f64, b: f64) -> f64 {
    pieces
        .iter()
        .map(|p| {
            let (s, e) = (p.start.as_secs_f64(), (p.start + p.len).as_secs_f64());
            let (lo, hi) = (a.max(s), b.min(e));
            if hi <= lo || e <= s {
                return 0.0;
            }
            let rate = |t: f64| p.from + (p.to - p.from) * (t - s) / (e - s);
            (rate(lo) + rate(hi)) / 2.0 * (hi - lo)
        })
        .sum()
}

/// Total length of the stages.
pub fn total(stages: &[Stage]) -> Duration {
    stages.iter().map(Stage::duration).sum()
}

/// Mean run-wide rate over the stages (records / seconds), for the single-rate places.
pub fn mean_rate(stages: &[Stage]) -> f64 {
    let p = pieces(stages);
    let records: f64 = p
        .iter()
        .map(|p| (p.from + p.to) / 2.0 * p.len.as_secs_f64())
        .sum();
    let secs = total(stages).as_secs_f64();
    if secs > 0.0 {
        records / secs
    } else {
        0.0
    }
}

/// Parses the `stages` value of `[workload]` (an array of tables).
pub(crate) fn from_raw(raw: Raw, loc: &Location) -> Result<Vec<Stage>, ConfigError> {
    let Raw::List(items) = raw else {
        return Err(ConfigError::new("`stages` is a list of tables")
            .at(loc.clone())
            .key("workload.stages")
            .fix("write each stage as a [[workload.stages]] table with kind = \"ramp\" | \"hold\" | \"spike\" | \"step\""));
    };
    if items.is_empty() {
        return Err(ConfigError::new("`stages` is empty")
            .at(loc.clone())
            .key("workload.stages")
            .fix("add at least one [[workload.stages]] table, or drop `stages`"));
    }
    let mut out: Vec<Stage> = Vec::new();
    for (n, (item, iloc)) in items.into_iter().enumerate() {
        let Raw::Table(entries) = item else {
            return Err(ConfigError::new("each stage is a table")
                .at(iloc)
                .key("workload.stages")
                .fix("write [[workload.stages]] on its own line, then kind = \"...\" below it"));
        };
        out.push(one(&entries, &iloc, n, out.is_empty())?);
    }
    Ok(out)
}

fn one(entries: &[RawEntry], loc: &Location, n: usize, first: bool) -> Result<Stage, ConfigError> {
    let key = |k: &str| format!("workload.stages[{n}].{k}");
    let find = |k: &str| entries.iter().find(|e| e.key == k);
    let need = |k: &str, what: &str| {
        find(k).ok_or_else(|| {
            ConfigError::new(format!("stage {n} needs `{k}`"))
                .at(loc.clone())
                .key(key(k))
                .fix(format!("add {k} = {what}"))
        })
    };
    let kind_e = need("kind", "\"ramp\" | \"hold\" | \"spike\" | \"step\"")?;
    let kind = text(kind_e, &key("kind"))?;
    let allowed: &[&str] = match kind.as_str() {
        "ramp" => &["kind", "from", "to", "over"],
        "hold" => &["kind", "rate", "for"],
        "spike" => &["kind", "factor", "for"],
        "step" => &["kind", "by", "every", "for"],
        other => {
            let hint = super::keys::closest(other, KINDS.iter().copied())
                .map_or_else(String::new, |b| format!("did you mean \"{b}\"? "));
            return Err(ConfigError::new(format!("unknown stage kind `{other}`"))
                .at(kind_e.loc.clone())
                .key(key("kind"))
                .fix(format!("{hint}kinds: {}", KINDS.join(", "))));
        }
    };
    if let Some(e) = entries.iter().find(|e| !allowed.contains(&e.key.as_str())) {
        return Err(
            ConfigError::new(format!("`{}` does not belong in a {kind} stage", e.key))
                .at(e.key_loc.clone())
                .key(key(&e.key))
                .fix(format!("a {kind} stage takes {}", allowed[1..].join(", "))),
        );
    }
    let dur = |k: &str| -> Result<Duration, ConfigError> {
        let e = need(k, "\"30s\"")?;
        let d = parse_duration(&text(e, &key(k))?).map_err(|m| {
            ConfigError::new(m)
                .at(e.loc.clone())
                .key(key(k))
                .fix("write e.g. \"30s\" or \"2m\"")
        })?;
        if d.is_zero() {
            return Err(ConfigError::new(format!("`{k}` must be longer than 0"))
                .at(e.loc.clone())
                .key(key(k))
                .fix("give a positive duration, e.g. \"10s\", or drop the stage"));
        }
        Ok(d)
    };
    let rate = |e: &RawEntry, k: &str, signed: bool| -> Result<f64, ConfigError> {
        let t = text(e, &key(k))?;
        let t = t.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(b) if signed => (true, b),
            _ => (false, t.strip_prefix('+').filter(|_| signed).unwrap_or(t)),
        };
        if body.trim() == "0" {
            return Ok(0.0);
        }
        match parse_rate(body) {
            Ok(Rate::Fixed(r)) => Ok(if neg { -r } else { r }),
            Ok(Rate::Unlimited) => Err(ConfigError::new("a stage cannot be unlimited")
                .at(e.loc.clone())
                .key(key(k))
                .fix("give records per second, e.g. \"50k\"")),
            Err(m) => Err(ConfigError::new(m)
                .at(e.loc.clone())
                .key(key(k))
                .fix(if signed {
                    "write e.g. \"+20k\" or \"-5k\""
                } else {
                    "write e.g. \"50k\" or \"0\""
                })),
        }
    };
    let no_prev = |what: &str| {
        ConfigError::new(format!(
            "the first stage is a {kind}, which needs a previous rate"
        ))
        .at(loc.clone())
        .key(key(what))
        .fix("start with a ramp or a hold with rate = \"...\"")
    };
    Ok(match kind.as_str() {
        "ramp" => Stage::Ramp {
            from: rate(need("from", "\"0\"")?, "from", false)?,
            to: rate(need("to", "\"200k\"")?, "to", false)?,
            over: dur("over")?,
        },
        "hold" => {
            let r = find("rate").map(|e| rate(e, "rate", false)).transpose()?;
            if first && r.is_none() {
                return Err(no_prev("rate"));
            }
            Stage::Hold {
                rate: r,
                len: dur("for")?,
            }
        }
        "spike" => {
            let e = need("factor", "3.0")?;
            let factor = match e.value {
                Raw::Float(f) => f,
                Raw::Int(i) => i as f64,
                _ => f64::NAN,
            };
            if !factor.is_finite() || factor < 0.0 {
                return Err(ConfigError::new("`factor` must be a number ≥ 0")
                    .at(e.loc.clone())
                    .key(key("factor"))
                    .fix("write e.g. factor = 3.0"));
            }
            if first {
                return Err(no_prev("factor"));
            }
            Stage::Spike {
                factor,
                len: dur("for")?,
            }
        }
        _ => {
            let by = rate(need("by", "\"+20k\"")?, "by", true)?;
            if first {
                return Err(no_prev("by"));
            }
            Stage::Step {
                by,
                every: dur("every")?,
                len: dur("for")?,
            }
        }
    })
}

fn text(e: &RawEntry, key: &str) -> Result<String, ConfigError> {
    match &e.value {
        Raw::Str(s) | Raw::Text(s) => Ok(s.clone()),
        Raw::Int(n) => Ok(n.to_string()),
        other => Err(
            ConfigError::new(format!("expected a string, found a {}", other.type_name()))
                .at(e.loc.clone())
                .key(key.to_string())
                .fix(format!("write {} = \"...\"", e.key)),
        ),
    }
}
