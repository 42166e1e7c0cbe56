//! Checks of the `[consumers]` table (`--consumers`, `--consumer-groups`, `--backlog`):
//! ranges, and the value size the end-to-end stamp needs.

use super::V;
use crate::error::ConfigError;
use crate::profile::layer::Merged;
use crate::profile::model::{Profile, SizeDist};
use crate::units::{format_duration, format_size};

/// Bytes at the start of each value that carry the end-to-end stamp (magic + intended
/// time); the engine writes exactly this many.
pub const STAMP_BYTES: u32 = 16;
/// Consumer threads per group at most.
pub const MAX_CONSUMERS: u64 = 256;
/// Consumer groups at most.
pub const MAX_GROUPS: u64 = 64;

/// Checks `[consumers]`; called after the other rules, with their provenance.
pub(crate) fn validate(p: &Profile, m: &Merged) -> Result<(), ConfigError> {
    check(p, &V { m })
}

fn check(p: &Profile, v: &V<'_>) -> Result<(), ConfigError> {
    let c = &p.consumers;
    v.range(
        "consumers.count",
        c.count.into(),
        0,
        MAX_CONSUMERS,
        "consumers.count",
    )?;
    v.range(
        "consumers.groups",
        c.groups.into(),
        1,
        MAX_GROUPS,
        "consumers.groups",
    )?;
    if let Some(b) = c.fetch_min_bytes {
        // librdkafka's fetch.min.bytes range.
        v.range(
            "consumers.fetch_min_bytes",
            b,
            1,
            100_000_000,
            "fetch.min.bytes",
        )?;
    }
    if let Some(ms) = c.fetch_wait_max_ms {
        v.range(
            "consumers.fetch_wait_max_ms",
            ms,
            0,
            300_000,
            "fetch.wait.max.ms",
        )?;
    }
    if let Some(cpus) = &c.cpus {
        crate::units::parse_cpu_list(cpus).map_err(|e| {
            v.err(
                "consumers.cpus",
                e,
                "write CPUs as taskset -c does: `1`, `0,2` or `2-3`",
            )
        })?;
        if c.count == 0 {
            return Err(v.err(
                "consumers.cpus",
                format!("CPUs {cpus} are for consumers, and consumers.count is 0"),
                "add --consumers 1 (consumers.count = 1), or drop --consumer-cpus",
            ));
        }
    }
    if c.count == 0 {
        if let Some(b) = c.backlog {
            return Err(v.err(
                "consumers.backlog",
                format!(
                    "a backlog of {} needs consumers, and consumers.count is 0",
                    format_duration(b)
                ),
                "add --consumers 1 (consumers.count = 1), or drop --backlog",
            ));
        }
        return Ok(());
    }
    if let Some(min) = smallest(&p.workload.size).filter(|m| *m < STAMP_BYTES) {
        return Err(v.err(
            "workload.size",
            format!(
                "records of {} are too small for consumers: each value starts with a {}-byte \
                 end-to-end stamp",
                format_size(min.into()),
                STAMP_BYTES
            ),
            format!(
                "use values of at least {STAMP_BYTES}B (--size {STAMP_BYTES}B), or run without --consumers"
            ),
        ));
    }
    // A topic's own sizes are checked where its entry sets them.
    for (n, spec) in v.m.topics.iter().flat_map(|(l, _)| l).enumerate() {
        let Some((size, loc)) = &spec.size else {
            continue;
        };
        if let Some(min) = smallest(size).filter(|m| *m < STAMP_BYTES) {
            return Err(ConfigError::new(format!(
                "this topic's records of {} are too small for consumers: each value starts \
                 with a {STAMP_BYTES}-byte end-to-end stamp",
                format_size(min.into())
            ))
            .at(loc.clone())
            .key(format!("workload.topics[{n}].size"))
            .fix(format!(
                "give the topic values of at least {STAMP_BYTES}B, or run without --consumers"
            )));
        }
    }
    if let (Some(b), Some(d)) = (c.backlog, p.workload.duration) {
        if b + p.workload.warmup >= d {
            return Err(v.err(
                "consumers.backlog",
                format!(
                    "the backlog ({}) plus the warm-up ({}) is not shorter than the run ({}): \
                     the consumers would never resume",
                    format_duration(b),
                    format_duration(p.workload.warmup),
                    format_duration(d)
                ),
                "shorten --backlog or lengthen --duration",
            ));
        }
    }
    Ok(())
}

/// The smallest value a size distribution gives (a size file's is known only when read).
fn smallest(size: &SizeDist) -> Option<u32> {
    match size {
        SizeDist::Fixed { bytes } => Some(*bytes),
        SizeDist::Uniform { min, .. } | SizeDist::Normal { min, .. } => Some(*min),
        SizeDist::File { .. } => None,
    }
}
