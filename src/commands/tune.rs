//! `kprod tune`: from an SLO to the best producer configuration. A pool of candidates (every
//! built-in profile that keeps acks=all and idempotence, plus a seeded Latin-hypercube
//! sample of `--space`) goes through budgeted successive halving: short trials and a coarse
//! rate search for all, longer trials and finer searches for the best third, then the
//! finalists; the winner and the best built-in are confirmed with interleaved repeats and
//! bootstrap intervals. Every trial is one `bench::execute` run with its own directory
//! inside the tune directory; tune only reads the reports. The plan and search are in
//! `tune_search.rs`, the space in `tune_space.rs`, the files in `tune_out.rs`.

#[path = "tune_search.rs"]
pub mod search;
#[path = "tune_space.rs"]
pub mod space;

#[path = "tune_out.rs"]
mod out;
#[path = "tune_run.rs"]
mod run;

pub use out::{render_table, tune_csv, write_chart};

use super::sweep::judge::{parse_slo, SloTerm};
use crate::cli::{TuneArgs, TuneObjective};
use crate::engine::Observer;
use crate::error::KprodError;
use crate::profile::{Acks, Profile, Rate};
use crate::report::{self, Status};
use search::Bracket;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub const TUNE_JSON: &str = "tune.json";
pub const TUNE_CSV: &str = "tune.csv";
pub const FRONTIER_SVG: &str = "frontier.svg";
pub const WINNER_TOML: &str = "winner.toml";
pub const TUNE_SCHEMA_VERSION: u32 = 1;
/// What a trial costs beyond its duration before any has run (embedded cluster start,
/// preflight, flush, files: about a second); the measured mean replaces it during the tune.
const TRIAL_OVERHEAD_S: f64 = 1.0;

/// How the search works, as printed and stored in `tune.json`.
pub const METHOD: &str = "Successive halving over a seeded Latin-hypercube sample of the \
     space plus every built-in profile that keeps acks=all and idempotence: all candidates get \
     short trials and a coarse search (25%) for the highest rate that meets the SLO without \
     saturating (the producer keeps pace with the schedule, no failures, no growing queue); \
     the best third go on with trials twice as long and a 10% search; at most two finalists \
     get a 5% search; the best built-in goes on to every rung beside them, so both sides of \
     the comparison are searched alike; the winner and the best built-in are then confirmed \
     with interleaved repeats (median and 95% bootstrap interval). The budget is a hard wall-clock \
     cap: no trial starts that would overrun it, the confirmation included.";

/// One trial (one bench run), as stored in `tune.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub index: usize,
    /// `rung1`, `rung2`, `rung3` or `confirm`.
    pub phase: String,
    pub candidate: usize,
    pub target_records_per_sec: Option<f64>,
    pub achieved_records_per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub slo_met: bool,
    pub saturated: bool,
    pub reasons: Vec<String>,
    pub status: Status,
    pub trial_s: f64,
    /// CPU seconds of the kprod process during the trial (the embedded cluster included
    /// when it runs in-process).
    pub cpu_s: f64,
    /// Records delivered in the whole trial (warm-up included), what `cpu_s` is spent on.
    #[serde(default)]
    pub delivered: u64,
    /// Bytes on the wire per delivered record (after compression), when measured.
    pub wire_bytes_per_record: Option<f64>,
    /// The trial's run directory, inside the tune directory.
    pub run_dir: String,
}

/// One configuration in the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: usize,
    /// `durable` for a built-in, `c07` for a sample.
    pub label: String,
    /// The built-in profile layered over the `--profile` layers (baselines).
    pub builtin: Option<String>,
    /// `section.key=value` lines layered as `--set` (samples).
    pub sets: Vec<String>,
    /// The space's keys as this candidate resolves them.
    pub settings: BTreeMap<String, String>,
    pub codec: String,
    /// Rungs it ran in (1 = only the first).
    pub rungs: usize,
    /// Its score in the last rung it ran: the highest rate at the SLO (records/s), or with
    /// `--rate`, the objective (higher is better; None = infeasible).
    pub score: Option<f64>,
    /// The last rung's rate bracket.
    pub bracket: Bracket,
}

impl Candidate {
    /// A candidate not yet run, from its resolved profile: the space's keys as it
    /// resolves them and its codec.
    fn from_profile(
        id: usize,
        label: String,
        builtin: Option<String>,
        sets: Vec<String>,
        p: &Profile,
        dims: &[space::Dim],
    ) -> Self {
        Candidate {
            id,
            label,
            builtin,
            sets,
            settings: dims
                .iter()
                .map(|d| (d.key.clone(), setting(p, &d.key)))
                .collect(),
            codec: p.compression.codec.name().to_string(),
            rungs: 0,
            score: None,
            bracket: Bracket::default(),
        }
    }
}

/// A confirmation: repeats of one configuration at one rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    pub candidate: usize,
    pub label: String,
    pub target_records_per_sec: Option<f64>,
    /// The confirmed figure: records/s (throughput), CPU ms per 1,000 records (cpu) or
    /// wire bytes per record (bytes).
    pub figure: String,
    /// Each repeat's figure, in run order.
    pub values: Vec<f64>,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p99_us_median: u64,
    /// Repeats that met the SLO without saturating, of `values.len()`.
    pub passed: usize,
    /// A majority passed.
    pub confirmed: bool,
}

/// Winner against the best built-in, in the objective's better direction (>1 = better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// `runs` (bootstrap over repeats) or `point` (too few repeats for an interval).
    pub method: String,
}

/// A point of the Pareto frontier (a passing trial no other of its codec beats in both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierPoint {
    pub trial: usize,
    pub candidate: usize,
    pub codec: String,
    pub records_per_sec: f64,
    pub p99_us: u64,
}

/// `tune.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneResult {
    pub schema_version: u32,
    pub kind: String,
    pub created_at: String,
    /// `embedded` (librdkafka's mock cluster in-process: the client side) or `brokers`.
    pub cluster: String,
    pub cluster_note: Option<String>,
    pub faults: Vec<String>,
    pub profiles: Vec<String>,
    pub slo: Vec<String>,
    /// `throughput`, `cpu` or `bytes`.
    pub objective: String,
    /// `--rate`: every trial runs at it; None = the rate is searched.
    pub rate: Option<f64>,
    pub space: Vec<String>,
    pub allow_unsafe: bool,
    pub method: String,
    pub seed: u64,
    pub plan: search::Plan,
    pub candidates: Vec<Candidate>,
    pub trials: Vec<Trial>,
    pub frontier: Vec<FrontierPoint>,
    pub winner: Option<Confirmation>,
    pub best_builtin: Option<Confirmation>,
    pub ratio: Option<Ratio>,
    /// `winner.toml`, when written.
    pub winner_profile: Option<String>,
    pub elapsed_s: f64,
    /// A trial was not started because it would have overrun the budget or its rung's cap.
    pub budget_exhausted: bool,
    pub interrupted: bool,
    pub notes: Vec<String>,
}

/// A finished tune and where it was written.
pub struct TuneOutcome {
    pub result: TuneResult,
    pub dir: PathBuf,
}

impl TuneOutcome {
    /// 130 interrupted, 1 when no configuration met the SLO, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.result.interrupted {
            130
        } else if self.result.winner.is_none() {
            1
        } else {
            0
        }
    }
}

fn duration_of(flag: &str, s: &str, example: &str) -> Result<f64, KprodError> {
    crate::units::parse_duration(s)
        .map(|d| d.as_secs_f64())
        .map_err(|e| KprodError::flag(flag, e, &format!("give a duration such as {example}")))
        .and_then(|d| {
            if d > 0.0 {
                Ok(d)
            } else {
                Err(KprodError::flag(
                    flag,
                    "must be longer than 0",
                    &format!("give a duration such as {example}"),
                ))
            }
        })
}

fn rate_of(flag: &str, s: &str) -> Result<f64, KprodError> {
    match crate::units::parse_rate(s) {
        Ok(Rate::Fixed(r)) if r > 0.0 => Ok(r),
        Ok(_) => Err(KprodError::flag(
            flag,
            format!("{s:?}: tune needs a fixed rate"),
            "give a rate such as 50k",
        )),
        Err(e) => Err(KprodError::flag(flag, e, "give a rate such as 50k")),
    }
}

/// Whether a resolved profile keeps the production checklist's durability.
pub fn is_safe(p: &Profile) -> bool {
    p.producer.acks == Acks::All && p.producer.idempotence
}

/// The settings of a resolved profile that make it what it is (names and descriptions
/// left out), to tell built-ins that resolve alike apart from those that do not.
fn fingerprint(p: &Profile) -> String {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        for k in super::check::replay::NOT_SETTINGS {
            o.remove(*k);
        }
    }
    v.to_string()
}

/// A key's value in a resolved profile, as text (`"5ms"` stays `5ms`).
fn setting(p: &Profile, key: &str) -> String {
    let v = serde_json::to_value(p).unwrap_or_default();
    let ptr = format!("/{}", key.replace('.', "/"));
    match v.pointer(&ptr) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(x) => x.to_string(),
        None => String::new(),
    }
}

/// Checks the flags and builds the pool: built-ins first, then the sample.
struct Setup {
    slo: Vec<SloTerm>,
    dims: Vec<space::Dim>,
    rate: Option<f64>,
    budget_s: f64,
    candidates: Vec<Candidate>,
    plan: search::Plan,
    cluster: String,
    notes: Vec<String>,
}

fn setup(args: &TuneArgs, cwd: &Path) -> Result<Setup, KprodError> {
    let slo = parse_slo(&args.slo)?;
    let budget_s = duration_of("--budget", &args.budget, "10m")?;
    let trial_s = duration_of("--trial-duration", &args.trial_duration, "3s")?;
    let dims = space::parse_space(
        args.space.as_deref().unwrap_or(space::DEFAULT_SPACE),
        args.allow_unsafe,
    )?;
    let p = &args.bench.profile;
    for flag in ["--duration", "--records"] {
        if p.key_flag_given(flag) {
            return Err(KprodError::flag(
                flag,
                format!("{flag} does not apply to tune: each trial runs for --trial-duration"),
                "drop it (use --trial-duration)",
            ));
        }
    }
    for d in &dims {
        if let Some((flag, _)) = crate::cli::KEY_FLAGS.iter().find(|(_, k)| *k == d.key) {
            if p.key_flag_given(flag) {
                return Err(KprodError::flag(
                    flag,
                    format!("{flag} would override every value of {} in --space", d.name),
                    &format!("drop {flag}, or drop {} from --space", d.name),
                ));
            }
        }
    }
    let rate = p
        .rate
        .as_deref()
        .map(|r| rate_of("--rate", r))
        .transpose()?;
    if rate.is_none() && args.objective != TuneObjective::Throughput {
        return Err(KprodError::flag(
            "--objective",
            "cpu and bytes are compared at one load",
            "add --rate (e.g. --rate 50k), or use --objective throughput",
        ));
    }
    let mut probe = args.bench.bench();
    probe.profile.duration = Some(args.trial_duration.clone());
    probe.profile.rate = None;
    let base = super::bench::resolve(&probe.profile, cwd)?;
    if !args.allow_unsafe && !is_safe(&base) {
        return Err(KprodError::flag(
            "--profile",
            "the profile turns acks=all or idempotence off; tune keeps the production \
             checklist's durability unless asked",
            "tune from a profile with acks=all and idempotence (e.g. -p durable), or add \
             --allow-unsafe",
        ));
    }
    let cluster = if base.cluster.brokers.is_some() {
        "brokers"
    } else {
        "embedded"
    };
    let mut notes = Vec::new();
    let mut candidates = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let builtins: Vec<String> = crate::profile::builtin_profiles()
        .into_iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let chosen: Vec<String> = match &args.baselines {
        None => builtins.clone(),
        Some(list) => {
            let names: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if let Some(bad) = names.iter().find(|n| !builtins.contains(n)) {
                return Err(KprodError::flag(
                    "--baselines",
                    format!("{bad:?} is not a built-in profile"),
                    &format!("pick from {}", builtins.join(", ")),
                ));
            }
            names
        }
    };
    for name in &chosen {
        let mut a = probe.clone();
        a.profile.profiles.push(name.to_string());
        let Ok(pr) = super::bench::resolve(&a.profile, cwd) else {
            continue;
        };
        if !args.allow_unsafe && !is_safe(&pr) {
            if args.baselines.is_some() {
                return Err(KprodError::flag(
                    "--baselines",
                    format!("{name} turns acks=all or idempotence off"),
                    "drop it, or add --allow-unsafe",
                ));
            }
            continue;
        }
        let fp = fingerprint(&pr);
        if seen.contains(&fp) {
            continue;
        }
        seen.push(fp);
        candidates.push(Candidate::from_profile(
            candidates.len(),
            name.to_string(),
            Some(name.to_string()),
            Vec::new(),
            &pr,
            &dims,
        ));
    }
    let plan = search::plan(
        budget_s,
        trial_s,
        TRIAL_OVERHEAD_S,
        candidates.len(),
        args.confirm_repeat,
    )
    .map_err(|e| {
        KprodError::flag(
            "--budget",
            e,
            "raise --budget or shorten --trial-duration (e.g. --budget 10m --trial-duration 3s)",
        )
    })?;
    let mut dropped = 0;
    for (k, cfg) in space::sample(&dims, plan.samples, args.search_seed)
        .into_iter()
        .enumerate()
    {
        let sets: Vec<String> = cfg.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut a = probe.clone();
        a.profile.layers.sets.extend(sets.iter().cloned());
        match super::bench::resolve(&a.profile, cwd) {
            Ok(pr) if args.allow_unsafe || is_safe(&pr) => {
                let fp = fingerprint(&pr);
                if seen.contains(&fp) {
                    continue;
                }
                seen.push(fp);
                candidates.push(Candidate::from_profile(
                    candidates.len(),
                    format!("c{:02}", k + 1),
                    None,
                    sets,
                    &pr,
                    &dims,
                ));
            }
            // A space whose every point is invalid is the user's mistake: say which.
            Err(e) if k == 0 => return Err(as_space(e)),
            _ => dropped += 1,
        }
    }
    if dropped > 0 {
        notes.push(format!(
            "{dropped} sampled configurations did not resolve (invalid combinations) and were left out"
        ));
    }
    Ok(Setup {
        slo,
        dims,
        rate,
        budget_s,
        candidates,
        plan,
        cluster: cluster.into(),
        notes,
    })
}

/// A space value goes into the profile as a `--set`: an error about it blames `--space`.
fn as_space(e: KprodError) -> KprodError {
    match e {
        KprodError::Config(mut c) if c.location.as_ref().is_some_and(|l| l.source == "--set") => {
            c.location = Some(crate::error::Location::flag("--space"));
            KprodError::Config(c)
        }
        e => e,
    }
}

/// The plan and the candidate pool a tune would start with (built-ins, then the sample),
/// without running anything: what `--search-seed` decides.
pub fn pool(args: &TuneArgs, cwd: &Path) -> Result<(search::Plan, Vec<Candidate>), KprodError> {
    let s = setup(args, cwd)?;
    Ok((s.plan, s.candidates))
}

/// Runs the tune. `observer` = None: trials run silently, one line each on stderr.
pub fn execute(
    args: &TuneArgs,
    cwd: &Path,
    observer: Option<&mut dyn Observer>,
) -> Result<TuneOutcome, KprodError> {
    let s = setup(args, cwd)?;
    let root = super::bench::results_root(&args.bench.output.out, cwd)?;
    let label = super::run_name::named("tune", args.bench.output.name.as_deref());
    let dir = report::create_run_dir(&root, SystemTime::now(), &label)?;
    let result = TuneResult {
        schema_version: TUNE_SCHEMA_VERSION,
        kind: "tune".into(),
        created_at: report::format_rfc3339_utc(SystemTime::now()),
        cluster: s.cluster.clone(),
        cluster_note: None,
        faults: args.bench.faults.clone(),
        profiles: args.bench.profile.profiles.clone(),
        slo: s.slo.iter().map(SloTerm::text).collect(),
        objective: args.objective.name().into(),
        rate: s.rate,
        space: s.dims.iter().map(space::Dim::text).collect(),
        allow_unsafe: args.allow_unsafe,
        method: METHOD.into(),
        seed: args.search_seed,
        plan: s.plan.clone(),
        candidates: s.candidates.clone(),
        trials: Vec::new(),
        frontier: Vec::new(),
        winner: None,
        best_builtin: None,
        ratio: None,
        winner_profile: None,
        elapsed_s: 0.0,
        budget_exhausted: false,
        interrupted: false,
        notes: s.notes.clone(),
    };
    let mut t = run::Tuner::new(args, cwd, dir, s.slo, s.budget_s, result, observer);
    t.tune()?;
    let (result, dir) = t.finish()?;
    Ok(TuneOutcome { result, dir })
}

/// Rewrites `tune.json` and `tune.csv`.
pub fn write_files(dir: &Path, r: &TuneResult) -> Result<(), KprodError> {
    report::write_json(&dir.join(TUNE_JSON), r)?;
    Ok(report::write_csv(&dir.join(TUNE_CSV), tune_csv(r))?)
}

/// `kprod tune` for the command line.
pub fn run(args: &TuneArgs, cwd: &Path) -> Result<i32, KprodError> {
    let o = execute(args, cwd, None)?;
    let json = args.bench.output.json;
    super::json_out::say(json, &render_table(&o.result));
    super::json_out::say(json, &format!("results: {}", o.dir.display()));
    super::json_out::print_file(json, &o.dir.join(TUNE_JSON))?;
    Ok(o.exit_code())
}

/// `kprod report` on a tune directory: `tune.csv`, `frontier.svg` and `report.html` from
/// `tune.json`; returns the table.
pub fn rerender(dir: &Path) -> Result<String, KprodError> {
    let r = load(dir)?;
    report::write_csv(&dir.join(TUNE_CSV), tune_csv(&r))?;
    write_chart(dir, &r)?;
    Ok(render_table(&r))
}

/// Loads a tune directory written earlier (for `kprod report`).
pub fn load(dir: &Path) -> Result<TuneResult, KprodError> {
    let path = dir.join(TUNE_JSON);
    let s: TuneResult = report::read_json(&path, TUNE_JSON)?;
    if s.schema_version == 0 || s.schema_version > TUNE_SCHEMA_VERSION {
        return Err(KprodError::Results {
            path,
            message: format!(
                "tune schema_version {} is not supported (this kprod reads version {TUNE_SCHEMA_VERSION})",
                s.schema_version
            ),
        });
    }
    Ok(s)
}
