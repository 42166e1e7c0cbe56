//! Distributed runs: which instance of a run this process is, and when all instances start.
//!
//! The index comes from, in order: `--instance I/N`, `KPROD_INSTANCE=I/N`, or
//! `JOB_COMPLETION_INDEX` (set by Kubernetes Indexed Jobs) with `--instances N`. Indexes
//! are 0-based everywhere (flag, environment, report), like `JOB_COMPLETION_INDEX`, so a
//! pod's index is its instance number with no arithmetic in the manifest.
//!
//! `--start-at` holds t0 until a common wall-clock time. The wait happens after every
//! producer is connected and ready (an [`Observer::ready`] hook), so connection set-up
//! time, which differs between hosts, does not shift the instances' seconds apart.

use crate::domain::Observer;
use crate::error::{ConfigError, KprodError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const ENV_INSTANCE: &str = "KPROD_INSTANCE";
pub const ENV_JOB_INDEX: &str = "JOB_COMPLETION_INDEX";
/// More instances than this is almost certainly a typo.
pub const MAX_INSTANCES: u32 = 100_000;
/// A start time further ahead than this is almost certainly a typo (milliseconds given as
/// seconds, a wrong year).
pub const MAX_START_AHEAD: Duration = Duration::from_secs(24 * 3600);
/// Instances whose start differs by more than this do not share their seconds.
pub const LATE_START_TOLERANCE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceId {
    /// 0-based.
    pub index: u32,
    pub count: u32,
}

impl InstanceId {
    /// Suffix of the run directory label: `i0of3`.
    pub fn label(&self) -> String {
        format!("i{}of{}", self.index, self.count)
    }
}

fn invalid(source: &str, message: String, fix: &str) -> ConfigError {
    ConfigError::flag(source, message, fix)
}

const FIX_INSTANCE: &str =
    "give I/N with 0 <= I < N, e.g. `--instance 0/3`, `1/3`, `2/3` (instances count from 0)";

fn parse_count(text: &str, source: &str) -> Result<u32, ConfigError> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_INSTANCES).contains(&n) => Ok(n),
        _ => Err(invalid(
            source,
            format!("`{text}` is not an instance count (1 to {MAX_INSTANCES})"),
            "give the number of instances, e.g. `--instances 3`",
        )),
    }
}

fn parse_index(text: &str, count: u32, source: &str) -> Result<u32, ConfigError> {
    match text.trim().parse::<u32>() {
        Ok(i) if i < count => Ok(i),
        Ok(i) => Err(invalid(
            source,
            format!("instance {i} does not exist in a run of {count} instances"),
            FIX_INSTANCE,
        )),
        Err(_) => Err(invalid(
            source,
            format!("`{text}` is not an instance index"),
            FIX_INSTANCE,
        )),
    }
}

/// Parses `I/N` (0-based I).
pub fn parse_instance(text: &str, source: &str) -> Result<InstanceId, ConfigError> {
    let Some((i, n)) = text.split_once('/') else {
        return Err(invalid(
            source,
            format!("`{text}` is not I/N"),
            FIX_INSTANCE,
        ));
    };
    let count = parse_count(n, source)?;
    let index = parse_index(i, count, source)?;
    Ok(InstanceId { index, count })
}

/// The distributed-run flags as given on the command line, not yet checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstanceFlags<'a> {
    /// `--instance I/N`.
    pub instance: Option<&'a str>,
    /// `--instances N`.
    pub instances: Option<&'a str>,
}

/// Which instance this process is; None for an ordinary (single) run. `env` reads an
/// environment variable (injected so tests need not touch the process environment).
pub fn resolve(
    args: &InstanceFlags<'_>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<InstanceId>, ConfigError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let count = args
        .instances
        .map(|n| parse_count(n, "--instances"))
        .transpose()?;
    let (id, source) = if let Some(text) = args.instance {
        (parse_instance(text, "--instance")?, "--instance")
    } else if let Some(text) = env(ENV_INSTANCE) {
        (parse_instance(&text, ENV_INSTANCE)?, ENV_INSTANCE)
    } else if let Some(n) = count {
        match env(ENV_JOB_INDEX) {
            Some(text) => (
                InstanceId {
                    index: parse_index(&text, n, ENV_JOB_INDEX)?,
                    count: n,
                },
                ENV_JOB_INDEX,
            ),
            None if n == 1 => return Ok(None),
            None => {
                return Err(invalid(
                    "--instances",
                    format!("--instances {n} needs this process's index"),
                    "add `--instance I/N`, set KPROD_INSTANCE=I/N, or run it as a Kubernetes \
                     Indexed Job (which sets JOB_COMPLETION_INDEX)",
                ))
            }
        }
    } else {
        return Ok(None);
    };
    if let Some(n) = count {
        if n != id.count {
            return Err(invalid(
                "--instances",
                format!(
                    "--instances {n} disagrees with {source}, which says {} instances",
                    id.count
                ),
                "give the same instance count everywhere",
            ));
        }
    }
    Ok((id.count > 1).then_some(id))
}

/// Parses `--start-at`: RFC 3339 (any offset) or Unix seconds (a fraction is allowed).
pub fn parse_start_at(text: &str) -> Result<SystemTime, ConfigError> {
    let bad = |why: String| {
        invalid(
            "--start-at",
            why,
            "give an RFC 3339 time such as 2026-05-01T12:00:00Z, or Unix seconds such as \
             `date -u -d '+1 min' +%s` prints",
        )
    };
    let t = text.trim();
    let ms: i64 = if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !t.is_empty() {
        let secs: f64 = t
            .parse()
            .map_err(|_| bad(format!("`{text}` is not a number of Unix seconds")))?;
        if !secs.is_finite() || secs >= 1e12 {
            return Err(bad(format!("`{text}` is not a number of Unix seconds")));
        }
        (secs * 1000.0).round() as i64
    } else {
        crate::report::parse_rfc3339_ms(t)
            .ok_or_else(|| bad(format!("`{text}` is neither RFC 3339 nor Unix seconds")))?
    };
    let ms = u64::try_from(ms).map_err(|_| bad(format!("`{text}` is before 1970")))?;
    let at = UNIX_EPOCH + Duration::from_millis(ms);
    if let Ok(ahead) = at.duration_since(SystemTime::now()) {
        if ahead > MAX_START_AHEAD {
            return Err(bad(format!(
                "`{text}` is {:.0} hours ahead; more than {} hours is refused as a likely typo",
                ahead.as_secs_f64() / 3600.0,
                MAX_START_AHEAD.as_secs() / 3600
            )));
        }
    }
    Ok(at)
}

/// Holds t0 until `--start-at`. Put it first among the observers: the run directory is
/// then created (and named) at the start time, and a signal while waiting leaves nothing.
#[derive(Debug, Default)]
pub struct StartGate {
    at: Option<SystemTime>,
    /// Findings for the report (a late start).
    pub warnings: Vec<String>,
}

impl StartGate {
    pub fn new(at: Option<SystemTime>) -> Self {
        StartGate {
            at,
            warnings: Vec::new(),
        }
    }
}

impl Observer for StartGate {
    fn ready(&mut self) -> Result<(), KprodError> {
        let Some(at) = self.at else {
            return Ok(());
        };
        let stamp = crate::report::format_rfc3339_utc(at);
        match at.duration_since(SystemTime::now()) {
            Ok(wait) => {
                crate::domain::print_stderr(&format!(
                    "kprod: waiting {:.1} s until --start-at {stamp}",
                    wait.as_secs_f64()
                ));
                // Short sleeps so that Ctrl-C during a long wait ends it promptly.
                loop {
                    if crate::signals::signalled() {
                        return Err(KprodError::Interrupted);
                    }
                    let Ok(left) = at.duration_since(SystemTime::now()) else {
                        break;
                    };
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(100)));
                }
            }
            Err(e) if e.duration() > LATE_START_TOLERANCE => {
                let msg = format!(
                    "--start-at {stamp} had passed {:.3} s before the producers were ready; \
                     started at once, so this instance's seconds do not line up with the others'",
                    e.duration().as_secs_f64()
                );
                crate::domain::print_stderr(&format!("warning: {msg}"));
                self.warnings.push(msg);
            }
            Err(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        instance: Option<&'static str>,
        instances: Option<&'static str>,
    ) -> InstanceFlags<'static> {
        InstanceFlags {
            instance,
            instances,
        }
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn id(index: u32, count: u32) -> Option<InstanceId> {
        Some(InstanceId { index, count })
    }

    #[test]
    fn flag_then_kprod_instance_then_job_completion_index() {
        let all = env(&[(ENV_INSTANCE, "1/4"), (ENV_JOB_INDEX, "2")]);
        assert_eq!(resolve(&args(Some("0/4"), None), &all).unwrap(), id(0, 4));
        assert_eq!(resolve(&args(None, None), &all).unwrap(), id(1, 4));
        assert_eq!(resolve(&args(None, Some("4")), &all).unwrap(), id(1, 4));
        let job = env(&[(ENV_JOB_INDEX, "2")]);
        assert_eq!(resolve(&args(None, Some("3")), &job).unwrap(), id(2, 3));
        // JOB_COMPLETION_INDEX alone (no --instances) does not make a distributed run.
        assert_eq!(resolve(&args(None, None), &job).unwrap(), None);
        assert_eq!(resolve(&args(None, None), env(&[])).unwrap(), None);
        // One instance is an ordinary run.
        assert_eq!(resolve(&args(Some("0/1"), None), env(&[])).unwrap(), None);
        assert_eq!(resolve(&args(None, Some("1")), env(&[])).unwrap(), None);
    }

    #[test]
    fn bad_instances_name_their_source() {
        type Env = &'static [(&'static str, &'static str)];
        let cases: [(InstanceFlags, Env, &str); 7] = [
            (args(Some("3/3"), None), &[], "--instance"),
            (args(Some("1"), None), &[], "--instance"),
            (args(Some("-1/3"), None), &[], "--instance"),
            (args(Some("0/0"), None), &[], "--instance"),
            (args(None, None), &[(ENV_INSTANCE, "x/y")], ENV_INSTANCE),
            (
                args(None, Some("3")),
                &[(ENV_JOB_INDEX, "3")],
                ENV_JOB_INDEX,
            ),
            (args(None, Some("3")), &[], "--instances"),
        ];
        for (a, e, source) in cases {
            let err = resolve(&a, env(e)).expect_err("invalid");
            assert_eq!(
                err.location.as_ref().map(|l| l.source.as_str()),
                Some(source)
            );
            assert!(err.fix.is_some());
        }
        let err = resolve(&args(Some("0/3"), Some("4")), env(&[])).expect_err("disagree");
        assert!(err.message.contains("disagrees"), "{err}");
    }

    #[test]
    fn start_at_accepts_rfc3339_and_unix_seconds() {
        let soon = SystemTime::now() + Duration::from_secs(60);
        let secs = soon.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let a = parse_start_at(&secs.to_string()).unwrap();
        assert_eq!(a, UNIX_EPOCH + Duration::from_secs(secs));
        let b = parse_start_at(&format!("{secs}.5")).unwrap();
        assert_eq!(b, UNIX_EPOCH + Duration::from_millis(secs * 1000 + 500));
        let text = crate::report::format_rfc3339_utc(a);
        assert_eq!(parse_start_at(&text).unwrap(), a);
        assert_eq!(
            parse_start_at("2020-01-01T01:00:00+01:00").unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_577_836_800)
        );
        for bad in ["soon", "", "1e9", "2020-13-01T00:00:00Z"] {
            let err = parse_start_at(bad).expect_err(bad);
            assert_eq!(err.location.unwrap().source, "--start-at");
        }
        // Milliseconds given as seconds: far in the future.
        let ms = (secs * 1000).to_string();
        assert!(parse_start_at(&ms).is_err());
    }

    #[test]
    fn gate_without_time_or_with_a_past_time_does_not_wait() {
        let mut g = StartGate::new(None);
        assert!(g.ready().is_ok());
        let mut g = StartGate::new(Some(SystemTime::now() - Duration::from_secs(5)));
        assert!(g.ready().is_ok());
        assert_eq!(g.warnings.len(), 1);
    }
}
