//! `kprod sweep`: capacity planning. Steps through fixed rates (`--rates`), searches for
//! the highest rate that is not saturated and meets an SLO (`--find-max`), or sweeps any
//! profile key (`--param`). Every step is one `bench::execute` run with its own directory;
//! `sweep.json` and `sweep.csv` are rewritten after each step, so an interrupted sweep
//! keeps what it has. The saturation rule and the search live in `sweep_judge.rs`.

#[path = "sweep_judge.rs"]
pub mod judge;

use super::bench;
use super::topology::{self, Asker, FreshTopics, StepTopics};
use crate::cli::{NoVerdict, RunArgs, SweepArgs};
use crate::engine::Observer;
use crate::error::KprodError;
use crate::profile::Rate;
use crate::report::{self, Status};
use judge::{find_max, judge, parse_slo, Phase, SloTerm, SATURATION_RULE};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[path = "sweep_out.rs"]
mod out;
pub use out::{csv_doc, render_table, sweep_csv, write_chart};

pub const SWEEP_JSON: &str = "sweep.json";
pub const SWEEP_CSV: &str = "sweep.csv";
pub const SWEEP_SCHEMA_VERSION: u32 = 1;

/// One step, as stored in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub index: usize,
    /// `rates`, `param`, or the find-max phase: `bracket`, `search`, `confirm`.
    pub phase: String,
    /// The swept key's value (`--param` sweeps).
    pub param_value: Option<String>,
    pub target_records_per_sec: Option<f64>,
    pub achieved_records_per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    /// Failed + unknown records, whole run.
    pub errors: u64,
    pub queue_growing: bool,
    pub slo_met: bool,
    pub saturated: bool,
    pub reasons: Vec<String>,
    pub status: Status,
    /// The step's run directory name, a sibling of the sweep directory.
    pub run_dir: String,
    /// The topic the step ran on and its partition count from metadata (absent in sweeps
    /// written before they were recorded).
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub partitions: Option<u32>,
    /// Many topics (`[[workload.topics]]`, `--topics N`): how many; `partitions` is then
    /// all of theirs. Absent for a one-topic step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<u32>,
}

/// The topic count of a many-topic run (`report.topics[]`), None for one topic.
pub fn many_topics(r: &crate::report::RunReport) -> Option<u32> {
    (!r.topics.is_empty()).then_some(r.topics.len() as u32)
}

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub schema_version: u32,
    pub kind: String,
    pub created_at: String,
    /// `rates`, `find-max` or `param`.
    pub mode: String,
    pub param_key: Option<String>,
    pub profiles: Vec<String>,
    pub slo: Vec<String>,
    pub step_duration_s: f64,
    pub saturation_rule: String,
    pub cluster_note: Option<String>,
    pub steps: Vec<Step>,
    /// The knee: the highest passing step below the lowest saturated one (rate sweeps).
    pub knee_index: Option<usize>,
    /// `--find-max`: the highest rate that passed.
    pub found_max_records_per_sec: Option<f64>,
    /// `--find-max`: [highest passing, lowest failing] rate of the search.
    pub final_bracket: Option<(Option<f64>, Option<f64>)>,
    /// `--find-max`: whether the hold just below the result passed.
    pub confirmed: Option<bool>,
    pub interrupted: bool,
}

/// Knee of a rate sweep: among steps with a target, the highest passing target below the
/// lowest failing one. None when nothing failed (the knee lies above the sweep) or nothing
/// passed.
pub fn knee(steps: &[Step]) -> Option<usize> {
    let rated = || {
        steps
            .iter()
            .filter_map(|s| s.target_records_per_sec.map(|t| (s, t)))
    };
    let first_fail = rated()
        .filter(|(s, _)| s.saturated)
        .map(|(_, t)| t)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.min(t))))?;
    rated()
        .filter(|(s, t)| !s.saturated && *t < first_fail)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(s, _)| s.index)
}

fn rate_of(flag: &str, s: &str) -> Result<f64, KprodError> {
    match crate::units::parse_rate(s) {
        Ok(Rate::Fixed(r)) => Ok(r),
        Ok(Rate::Unlimited) => Err(KprodError::flag(
            flag,
            format!("{s:?}: a sweep needs fixed rates"),
            "give rates such as 10k,20k,50k",
        )),
        Err(e) => Err(KprodError::flag(flag, e, "give rates such as 10k,20k,50k")),
    }
}

fn flag_given(a: &RunArgs<NoVerdict>, flag: &str) -> bool {
    a.profile.key_flag_given(flag)
}

/// What each step varies.
enum Plan {
    Rates(Vec<f64>),
    FindMax {
        start: f64,
        max: f64,
        precision: f64,
    },
    Param {
        key: String,
        values: Vec<String>,
    },
}

fn plan(args: &SweepArgs) -> Result<Plan, KprodError> {
    if let Some(list) = &args.rates {
        let rates = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| rate_of("--rates", s))
            .collect::<Result<Vec<_>, _>>()?;
        if rates.is_empty() {
            return Err(KprodError::flag(
                "--rates",
                "no rates given",
                "give rates such as 10k,20k,50k",
            ));
        }
        return Ok(Plan::Rates(rates));
    }
    if let Some(p) = &args.param {
        let fix = "write --param section.key=v1,v2,..., e.g. --param batching.linger=0ms,5ms,20ms";
        let (key, values) = p
            .split_once('=')
            .ok_or_else(|| KprodError::flag("--param", format!("{p:?} has no `=`"), fix))?;
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(KprodError::flag(
                "--param",
                format!("{p:?} lists no values"),
                fix,
            ));
        }
        let key = key.trim().to_string();
        if key == "workload.duration" || key == "workload.records" {
            return Err(KprodError::flag(
                "--param",
                format!("each step runs for --step-duration, which would override {key}"),
                "sweep the step length by running one sweep per --step-duration",
            ));
        }
        // A dedicated flag for the same key would silently win over every `--param` value.
        if let Some((flag, _)) = crate::cli::KEY_FLAGS.iter().find(|(_, k)| *k == key) {
            if flag_given(&args.bench, flag) {
                return Err(KprodError::flag(
                    flag,
                    format!("{flag} would override every value of --param {key}"),
                    &format!("drop {flag}, or sweep another key"),
                ));
            }
        }
        return Ok(Plan::Param { key, values });
    }
    let precision = args
        .precision
        .trim()
        .strip_suffix('%')
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| *v > 0.0 && *v < 100.0)
        .ok_or_else(|| {
            KprodError::flag(
                "--precision",
                format!("{:?} is not a percentage between 0 and 100", args.precision),
                "give e.g. --precision 5%",
            )
        })?;
    Ok(Plan::FindMax {
        start: rate_of("--start-rate", &args.start_rate)?,
        max: rate_of("--max-rate", &args.max_rate)?,
        precision: precision / 100.0,
    })
}

/// Runs the steps and keeps the files current.
struct Runner<'a, 'o> {
    args: &'a SweepArgs,
    cwd: &'a Path,
    dir: PathBuf,
    slo: Vec<SloTerm>,
    result: SweepResult,
    observer: Option<&'o mut dyn Observer>,
    /// Fresh topics per `--param` step when the sweep changes the topology against
    /// `--brokers`; `step_topics[i]` is value i's. Dropped (topics deleted) with the runner.
    fresh: Option<FreshTopics>,
    step_topics: Vec<StepTopics>,
}

impl Runner<'_, '_> {
    /// Runs the plan's steps until it ends or a step is interrupted.
    fn walk(&mut self, plan: Plan) -> Result<(), KprodError> {
        match plan {
            Plan::Rates(rates) => {
                for r in rates {
                    if self.step("rates", Some(r), None)?.is_none() {
                        break;
                    }
                }
            }
            Plan::Param { key, values } => {
                for v in &values {
                    if self.step("param", None, Some((&key, v)))?.is_none() {
                        break;
                    }
                }
            }
            Plan::FindMax {
                start,
                max,
                precision,
            } => {
                let s = find_max(start, max, precision, |r, phase: Phase| {
                    self.step(phase.name(), Some(r), None)
                })?;
                self.result.found_max_records_per_sec = s.lo;
                self.result.final_bracket = Some((s.lo, s.hi));
                self.result.confirmed = s.confirm.map(|c| c.1);
                write_files(&self.dir, &self.result)?;
            }
        }
        Ok(())
    }

    /// One step; returns whether it passed, or None when it was interrupted.
    fn step(
        &mut self,
        phase: &str,
        rate: Option<f64>,
        param: Option<(&str, &str)>,
    ) -> Result<Option<bool>, KprodError> {
        let mut a = self.args.bench.bench();
        a.profile.duration = Some(self.args.step_duration.clone());
        if let Some(r) = rate {
            // Display of an f64 is exact and round-trips ("1500", "0.5").
            a.profile.rate = Some(format!("{r}"));
        }
        if let Some((k, v)) = param {
            a.profile.layers.sets.push(format!("{k}={v}"));
        }
        let index = self.result.steps.len();
        if let (Some(fresh), Some(t)) = (&self.fresh, self.step_topics.get(index)) {
            // Verified again just before the step: the run must not start on another shape.
            fresh.check(t)?;
            a.profile.topic_suffix = Some(t.suffix.clone());
        }
        a.label = Some(super::run_name::sweep_step(
            &self.args.bench.profile.profiles,
            index,
            rate,
            param.map(|(_, v)| v),
        ));
        let obs = self
            .observer
            .as_mut()
            .map(|o| &mut **o as &mut dyn Observer);
        let o = bench::execute(&a, self.cwd, obs)?;
        bench::print_run_details(&a.output, &o);
        let r = &o.report;
        let j = judge(r, &self.slo);
        let c = &r.latency_us.corrected;
        let step = Step {
            index,
            phase: phase.into(),
            param_value: param.map(|(_, v)| v.to_string()),
            target_records_per_sec: r.throughput.target_records_per_sec,
            achieved_records_per_sec: r.throughput.records_per_sec,
            p50_us: c.p50,
            p99_us: c.p99,
            p999_us: c.p999,
            max_us: c.max,
            errors: r.records.failed + r.records.unknown,
            queue_growing: j.queue_growing,
            slo_met: j.slo_met,
            saturated: j.saturated,
            reasons: j.reasons,
            status: r.status,
            run_dir: o
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            topic: Some(r.topic.clone()),
            partitions: Some(r.partitions),
            topics: many_topics(r),
        };
        if !self.args.bench.output.quiet {
            crate::print_stderr(&out::step_line(&step));
        }
        self.result.cluster_note = self.result.cluster_note.take().or(r.cluster_note.clone());
        let interrupted = step.status == Status::Interrupted;
        let passed = !step.saturated;
        self.result.steps.push(step);
        self.result.interrupted = interrupted;
        if self.result.mode != "param" {
            self.result.knee_index = knee(&self.result.steps);
        }
        write_files(&self.dir, &self.result)?;
        Ok((!interrupted).then_some(passed))
    }
}

fn write_files(dir: &Path, s: &SweepResult) -> Result<(), KprodError> {
    report::write_json(&dir.join(SWEEP_JSON), s)?;
    Ok(report::write_csv(&dir.join(SWEEP_CSV), sweep_csv(s))?)
}

/// A finished (or interrupted) sweep and where it was written.
pub struct SweepOutcome {
    pub result: SweepResult,
    pub dir: PathBuf,
}

impl SweepOutcome {
    /// 130 interrupted, 1 when a step's run failed, else 0 (saturated steps are findings).
    pub fn exit_code(&self) -> i32 {
        if self.result.interrupted {
            130
        } else if self.result.steps.iter().any(|s| s.status == Status::Failed) {
            1
        } else {
            0
        }
    }
}

/// Runs the sweep. `observer` = None shows the terminal progress of each step.
pub fn execute(
    args: &SweepArgs,
    cwd: &Path,
    observer: Option<&mut dyn Observer>,
) -> Result<SweepOutcome, KprodError> {
    let plan = plan(args)?;
    let slo = args
        .slo
        .as_deref()
        .map(parse_slo)
        .transpose()?
        .unwrap_or_default();
    let step_duration = crate::units::parse_duration(&args.step_duration)
        .map_err(|e| KprodError::flag("--step-duration", e, "give a duration such as 10s"))?;
    check_flags(args, &plan)?;
    let profiles = probe_profiles(args, &plan, cwd)?;
    let (fresh, step_topics) = fresh_topics(args, &plan, &profiles)?;
    let root = bench::results_root(&args.bench.output.out, cwd)?;
    let label = super::run_name::named("sweep", args.bench.output.name.as_deref());
    let dir = report::create_run_dir(&root, SystemTime::now(), &label)?;
    let result = new_result(args, &plan, &slo, step_duration.as_secs_f64());
    let mut run = Runner {
        args,
        cwd,
        dir,
        slo,
        result,
        observer,
        fresh,
        step_topics,
    };
    run.walk(plan)?;
    if let Err(e) = write_chart(&run.dir, &run.result) {
        crate::print_stderr(&format!("warning: chart not written: {e}"));
    }
    Ok(SweepOutcome {
        result: run.result,
        dir: run.dir,
    })
}

/// Flags a sweep sets itself for every step. (The verdict flags, `--repeat` to
/// `--abort-on-breach`, are not sweep flags at all: `RunArgs<NoVerdict>`.)
fn check_flags(args: &SweepArgs, plan: &Plan) -> Result<(), KprodError> {
    for flag in ["--duration", "--records"] {
        if flag_given(&args.bench, flag) {
            return Err(KprodError::flag(
                flag,
                format!("{flag} does not apply to a sweep: each step runs for --step-duration"),
                "use --step-duration",
            ));
        }
    }
    if !matches!(plan, Plan::Param { .. }) && flag_given(&args.bench, "--rate") {
        return Err(KprodError::flag(
            "--rate",
            "--rate does not apply to a rate sweep: the sweep sets each step's rate",
            "drop --rate (use --rates or --start-rate)",
        ));
    }
    Ok(())
}

/// Every step's profile must resolve before the first run; returns them (`--param`: one
/// per value, in order; otherwise the one profile every step shares).
fn probe_profiles(
    args: &SweepArgs,
    plan: &Plan,
    cwd: &Path,
) -> Result<Vec<crate::profile::Profile>, KprodError> {
    let mut probe = args.bench.bench();
    probe.profile.duration = Some(args.step_duration.clone());
    if let Plan::Param { key, values } = plan {
        values
            .iter()
            .map(|v| {
                let mut a = probe.clone();
                a.profile.layers.sets.push(format!("{key}={v}"));
                bench::resolve(&a.profile, cwd).map_err(|e| as_param(e, key))
            })
            .collect()
    } else {
        Ok(vec![bench::resolve(&probe.profile, cwd)?])
    }
}

/// `--param` over a topology key against `--brokers`: every step's topics, created (and
/// checked) before the first step. Step i's topics are `<name>-s<i+1>` (`kprod-bench-s03`,
/// `orders-0-s03`).
fn fresh_topics(
    args: &SweepArgs,
    plan: &Plan,
    profiles: &[crate::profile::Profile],
) -> Result<(Option<FreshTopics>, Vec<StepTopics>), KprodError> {
    let Plan::Param { key, .. } = plan else {
        return Ok((None, Vec::new()));
    };
    let what = format!("--param {key}");
    let request = topology::Request {
        profiles,
        forced: topology::TOPOLOGY_KEYS.contains(&key.as_str()),
        suffix: &|i| format!("s{:02}", i + 1),
        keep: args.keep_topics,
        quiet: args.bench.output.quiet,
        asker: Asker {
            what: &what,
            instead: "run one `kprod bench --topic NAME` (or one sweep of another key) per \
                      topic you created",
        },
    };
    Ok(match topology::prepare(&request)? {
        Some((fresh, topics)) => (Some(fresh), topics),
        None => (None, Vec::new()),
    })
}

/// A `--param` value goes into the profile as a `--set`: an error about that key blames
/// `--param`, the flag the user wrote.
fn as_param(e: KprodError, key: &str) -> KprodError {
    match e {
        KprodError::Config(mut c)
            if c.key.as_deref() == Some(key)
                && c.location.as_ref().is_some_and(|l| l.source == "--set") =>
        {
            c.location = Some(crate::error::Location::flag("--param"));
            KprodError::Config(c)
        }
        e => e,
    }
}

/// `sweep.json` before the first step.
fn new_result(args: &SweepArgs, plan: &Plan, slo: &[SloTerm], step_s: f64) -> SweepResult {
    SweepResult {
        schema_version: SWEEP_SCHEMA_VERSION,
        kind: "sweep".into(),
        created_at: report::format_rfc3339_utc(SystemTime::now()),
        mode: match plan {
            Plan::Rates(_) => "rates",
            Plan::FindMax { .. } => "find-max",
            Plan::Param { .. } => "param",
        }
        .into(),
        param_key: match plan {
            Plan::Param { key, .. } => Some(key.clone()),
            _ => None,
        },
        profiles: args.bench.profile.profiles.clone(),
        slo: slo.iter().map(SloTerm::text).collect(),
        step_duration_s: step_s,
        saturation_rule: SATURATION_RULE.into(),
        cluster_note: None,
        steps: Vec::new(),
        knee_index: None,
        found_max_records_per_sec: None,
        final_bracket: None,
        confirmed: None,
        interrupted: false,
    }
}

/// `kprod sweep` for the command line.
pub fn run(args: &SweepArgs, cwd: &Path) -> Result<i32, KprodError> {
    let o = execute(args, cwd, None)?;
    let json = args.bench.output.json;
    super::json_out::say(json, &render_table(&o.result));
    super::json_out::say(json, &format!("results: {}", o.dir.display()));
    super::json_out::print_file(json, &o.dir.join(SWEEP_JSON))?;
    Ok(o.exit_code())
}

/// Loads a sweep directory written earlier (for `kprod report`).
pub fn load(dir: &Path) -> Result<SweepResult, KprodError> {
    let path = dir.join(SWEEP_JSON);
    let s: SweepResult = report::read_json(&path, SWEEP_JSON)?;
    if s.schema_version == 0 || s.schema_version > SWEEP_SCHEMA_VERSION {
        return Err(KprodError::Results {
            path,
            message: format!(
                "sweep schema_version {} is not supported (this kprod reads version {SWEEP_SCHEMA_VERSION})",
                s.schema_version
            ),
        });
    }
    Ok(s)
}

/// Re-renders a saved sweep: table (returned), `sweep.csv` and `sweep.svg`.
pub fn rerender(dir: &Path) -> Result<String, KprodError> {
    let s = load(dir)?;
    report::write_csv(&dir.join(SWEEP_CSV), sweep_csv(&s))?;
    write_chart(dir, &s)?;
    Ok(render_table(&s))
}
