//! Where `check`'s samples come from: a saved baseline (one report, or a baseline *set*
//! written by `bench --repeat N`) and the trials run now (interleaved B C B C … when the
//! baseline is one report, current only when it is a set).

use crate::cli::{BenchArgs, CheckArgs, ProfileArgs};
use crate::error::{ConfigError, KprodError, Location};
use crate::report::{self, RunReport};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file that makes a directory a baseline set.
pub const SET_FILE: &str = "set.json";

/// `set.json`: the runs of one `bench --repeat N`, as directories relative to the set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSet {
    pub schema_version: u32,
    /// Always `baseline-set`.
    pub kind: String,
    pub created_at: String,
    pub profile: Vec<String>,
    pub runs: Vec<String>,
    /// The thresholds `bench --repeat N` judged the set by (profile `[check] thresholds`
    /// and `--threshold`, as written), so `kprod report SETDIR` redraws the same verdict
    /// rows; absent in sets written before it and when none were given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
}

/// Saved runs named on the command line.
pub struct Saved {
    pub reports: Vec<RunReport>,
    pub dirs: Vec<PathBuf>,
    /// A set: its spread is the noise floor, only the current side runs now.
    pub is_set: bool,
}

fn invalid(flag: &str, message: String) -> KprodError {
    ConfigError::new(message)
        .at(Location::flag(flag))
        .fix("give a run directory written by kprod bench, its report.json, or a set directory written by kprod bench --repeat N")
        .into()
}

/// Loads a run directory, a report.json, or a baseline set directory.
pub fn load(path: &Path, flag: &str, cwd: &Path) -> Result<Saved, KprodError> {
    let full = cwd.join(path);
    let set_file = full.join(SET_FILE);
    if !set_file.is_file() {
        let r = report::load_report(&full).map_err(|e| invalid(flag, e.to_string()))?;
        return Ok(Saved {
            reports: vec![r],
            dirs: vec![full],
            is_set: false,
        });
    }
    let set = read_set(&full).map_err(|e| invalid(flag, e))?;
    if set.runs.is_empty() {
        return Err(invalid(
            flag,
            format!("{}: the set lists no runs", set_file.display()),
        ));
    }
    let mut saved = Saved {
        reports: Vec::new(),
        dirs: Vec::new(),
        is_set: true,
    };
    for run in &set.runs {
        let dir = full.join(run);
        saved
            .reports
            .push(report::load_report(&dir).map_err(|e| invalid(flag, e.to_string()))?);
        saved.dirs.push(dir);
    }
    Ok(saved)
}

/// Reads `dir/set.json`; the error text names the file.
pub fn read_set(dir: &Path) -> Result<BaselineSet, String> {
    let set_file = dir.join(SET_FILE);
    let text =
        std::fs::read_to_string(&set_file).map_err(|e| format!("{}: {e}", set_file.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a kprod baseline set: {e}", set_file.display()))
}

/// Writes `set.json` into `dir` listing `runs` (directories inside `dir`).
pub fn write_set(dir: &Path, profile: &[String], runs: &[PathBuf]) -> Result<(), KprodError> {
    write_set_judged(dir, profile, runs, &[])
}

/// [`write_set`] recording the threshold expressions the set is judged by.
pub fn write_set_judged(
    dir: &Path,
    profile: &[String],
    runs: &[PathBuf],
    thresholds: &[String],
) -> Result<(), KprodError> {
    let set = BaselineSet {
        schema_version: 1,
        kind: "baseline-set".into(),
        created_at: report::format_rfc3339_utc(std::time::SystemTime::now()),
        profile: profile.to_vec(),
        runs: runs
            .iter()
            .map(|r| r.strip_prefix(dir).unwrap_or(r).display().to_string())
            .collect(),
        thresholds: thresholds.to_vec(),
    };
    let text = serde_json::to_string_pretty(&set).map_err(|e| KprodError::Results {
        path: dir.join(SET_FILE),
        message: e.to_string(),
    })?;
    report::write_atomic(&dir.join(SET_FILE), text.as_bytes())?;
    Ok(())
}

/// The baseline side of an interleaved check: the replay with only the flags that shape
/// every run alike (length, cluster, topic, seed); the change under test stays out.
pub fn baseline_args(args: &CheckArgs, replay: &str) -> BenchArgs {
    let p = &args.bench.profile;
    let mut a = args.bench.bench();
    a.profile = ProfileArgs {
        profiles: vec![replay.to_string()],
        duration: p.duration.clone(),
        warmup: p.warmup.clone(),
        records: p.records.clone(),
        topic: p.topic.clone(),
        brokers: p.brokers.clone(),
        mock_brokers: p.mock_brokers.clone(),
        seed: p.seed.clone(),
        ..Default::default()
    };
    a.faults = Vec::new();
    // The baseline is the reference being measured, not the change under test.
    a.verdict.abort_on_breach = None;
    // Its run directories say they are the replayed baseline, not a current run.
    let stem = Path::new(replay)
        .file_stem()
        .map_or_else(|| "baseline".into(), |s| s.to_string_lossy().into_owned());
    a.label = Some(format!("{stem}-baseline-replay"));
    a
}

/// The current side: the replay with every override of the command line on top.
pub fn current_args(args: &CheckArgs, replay: &str, cwd: &Path) -> Result<BenchArgs, KprodError> {
    let mut a = args.bench.bench();
    a.profile.profiles = std::iter::once(replay.to_string())
        .chain(args.bench.profile.profiles.iter().cloned())
        .collect();
    let resolved = super::super::bench::resolve(&a.profile, cwd)?;
    if let Some((k, _)) = resolved
        .librdkafka
        .iter()
        .find(|(_, v)| v.as_str() == "[redacted]")
    {
        return Err(super::invalid(
            format!(
                "the baseline's librdkafka property `{k}` is a secret the report does not keep"
            ),
            &format!("supply it again: -X {k}=..."),
        ));
    }
    Ok(a)
}

/// A check that failed after creating its directory: removes the directory and the runs
/// it made that are not complete; keeps complete runs (they are valid runs) and says where.
/// Returns `e`, the error that ended the check.
pub fn abandon(check_dir: &Path, finished: &[(PathBuf, bool)], e: KprodError) -> KprodError {
    let _ = std::fs::remove_dir_all(check_dir);
    let mut kept = Vec::new();
    for (dir, complete) in finished {
        if *complete {
            kept.push(dir.display().to_string());
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    if !kept.is_empty() {
        crate::print_stderr(&format!(
            "check: failed; kept {} complete run(s) it made: {}",
            kept.len(),
            kept.join(", ")
        ));
    }
    e
}
