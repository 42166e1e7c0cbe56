//! The running half of `kprod tune`: trials (one `bench::execute` each, judged by sweep's
//! saturation rule on the rate sent and the SLO), the rungs of successive halving under the budget and the
//! rung caps, the confirmation of the winner and the best built-in, and `winner.toml`.

use super::search::{self, Bracket};
use super::{Candidate, Confirmation, FrontierPoint, Ratio, Trial, TuneResult};
use crate::cli::{TuneArgs, TuneObjective};
use crate::commands::bench;
use crate::commands::sweep::judge::{judge_by, Pace, SloTerm};
use crate::engine::{Observer, Silent};
use crate::error::KprodError;
use crate::report::{self, Status};
use crate::verdict::{self, Bootstrap, Scale, Side};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rate steps a candidate may add beyond its rung's `max_steps` while it has not failed
/// yet (the first candidate starts from a guess and may pass every step) or not passed yet
/// (a finalist whose longer trials fail at its earlier rate).
const EXTRA_STEPS: usize = 2;

/// Process CPU time (all threads), seconds.
fn cpu_now() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own; RUSAGE_SELF is always valid.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

pub(super) struct Tuner<'a, 'o> {
    args: &'a TuneArgs,
    cwd: &'a Path,
    dir: PathBuf,
    slo: Vec<SloTerm>,
    budget_s: f64,
    started: Instant,
    result: TuneResult,
    observer: Option<&'o mut dyn Observer>,
    /// Measured overhead of the trials so far (wall time beyond their duration).
    overhead: Vec<f64>,
    stop: bool,
}

impl<'a, 'o> Tuner<'a, 'o> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        args: &'a TuneArgs,
        cwd: &'a Path,
        dir: PathBuf,
        slo: Vec<SloTerm>,
        budget_s: f64,
        result: TuneResult,
        observer: Option<&'o mut dyn Observer>,
    ) -> Self {
        Tuner {
            args,
            cwd,
            dir,
            slo,
            budget_s,
            started: Instant::now(),
            result,
            observer,
            overhead: Vec::new(),
            stop: false,
        }
    }

    fn overhead_s(&self) -> f64 {
        if self.overhead.is_empty() {
            self.result.plan.overhead_s
        } else {
            self.overhead.iter().sum::<f64>() / self.overhead.len() as f64
        }
    }

    /// Whether a trial of `trial_s` still fits with `reserve_s` kept for later.
    fn fits(&self, trial_s: f64, reserve_s: f64) -> bool {
        let used = self.started.elapsed().as_secs_f64();
        used + trial_s + self.overhead_s() + reserve_s <= self.budget_s
    }

    fn confirm_reserve(&self) -> f64 {
        let p = &self.result.plan;
        (search::RESERVED_ROUNDS * p.confirm_repeats) as f64
            * (p.confirm_trial_s + self.overhead_s())
    }

    /// Runs one trial of candidate `c` at `rate`; None when interrupted.
    fn trial(
        &mut self,
        phase: &str,
        c: usize,
        rate: Option<f64>,
        trial_s: f64,
    ) -> Result<Option<Trial>, KprodError> {
        let cand = self.result.candidates[c].clone();
        let mut a = self.args.bench.bench();
        a.output.out = self.dir.clone();
        // An unreadable --flush-timeout is left for bench to report.
        if let Ok(user) = crate::units::parse_duration(&a.flush_timeout) {
            let worst = self.slo.iter().map(|t| t.limit_us).max().unwrap_or(0);
            let s = search::flush_deadline_s(worst, user.as_secs_f64());
            a.flush_timeout = format!("{}ms", (s * 1000.0).round());
        }
        a.profile.duration = Some(format!("{}ms", (trial_s * 1000.0).round()));
        if !a.profile.key_flag_given("--warmup") {
            // A quarter of the trial: enough for connections and the first batches.
            a.profile.warmup = Some(format!("{}ms", (trial_s * 250.0).round()));
        }
        a.profile.rate = rate.map(|r| format!("{r}"));
        if let Some(b) = &cand.builtin {
            a.profile.profiles.push(b.clone());
        }
        a.profile.layers.sets.extend(cand.sets.iter().cloned());
        let index = self.result.trials.len();
        a.label = Some(format!("tune-t{:03}-{}", index + 1, cand.label));
        let mut silent = Silent;
        let obs: &mut dyn Observer = match self.observer.as_mut() {
            Some(o) => &mut **o,
            None => &mut silent,
        };
        let (t0, cpu0) = (Instant::now(), cpu_now());
        let o = bench::execute(&a, self.cwd, Some(obs))?;
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_now() - cpu0);
        self.overhead.push((wall - trial_s).max(0.0));
        let r = &o.report;
        let j = judge_by(r, &self.slo, Pace::Sent);
        let c99 = &r.latency_us.corrected;
        let per_record = (r.throughput.records_per_sec > 0.0)
            .then(|| r.throughput.bytes_per_sec / r.throughput.records_per_sec);
        let t = Trial {
            index,
            phase: phase.into(),
            candidate: c,
            target_records_per_sec: r.throughput.target_records_per_sec,
            achieved_records_per_sec: r.throughput.records_per_sec,
            p50_us: c99.p50,
            p99_us: c99.p99,
            p999_us: c99.p999,
            slo_met: j.slo_met,
            saturated: j.saturated,
            reasons: j.reasons,
            status: r.status,
            trial_s,
            cpu_s: cpu,
            delivered: r.records.delivered,
            wire_bytes_per_record: per_record
                .map(|b| b / r.compression_ratio.filter(|x| *x > 0.0).unwrap_or(1.0)),
            run_dir: o
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if !self.args.bench.output.quiet {
            crate::print_stderr(&super::out::trial_line(&t, &cand));
        }
        self.result.cluster_note = self.result.cluster_note.take().or(r.cluster_note.clone());
        let interrupted = t.status == Status::Interrupted;
        self.result.trials.push(t.clone());
        self.result.interrupted = interrupted;
        self.result.elapsed_s = self.started.elapsed().as_secs_f64();
        super::write_files(&self.dir, &self.result)?;
        if interrupted {
            self.stop = true;
            return Ok(None);
        }
        Ok(Some(t))
    }

    fn passed(t: &Trial) -> bool {
        !t.saturated && t.slo_met
    }

    /// The objective of a trial at a fixed rate, higher is better; None = infeasible.
    fn objective(&self, t: &Trial) -> Option<f64> {
        if !Self::passed(t) {
            return None;
        }
        Some(match self.args.objective {
            TuneObjective::Throughput => -(t.p99_us as f64),
            TuneObjective::Cpu => -cpu_per_k(t),
            TuneObjective::Bytes => -t.wire_bytes_per_record.unwrap_or(f64::INFINITY),
        })
    }

    /// The successive-halving rungs; leaves each candidate's score and bracket.
    fn rungs(&mut self) -> Result<(), KprodError> {
        let plan = self.result.plan.clone();
        let mut pool: Vec<usize> = (0..self.result.candidates.len()).collect();
        let start0 = match self.result.rate {
            Some(r) => r,
            None => super::rate_of("--start-rate", &self.args.start_rate)?,
        };
        let max_rate = super::rate_of("--max-rate", &self.args.max_rate)?;
        for (k, rung) in plan.rungs.iter().enumerate() {
            let phase = format!("rung{}", k + 1);
            let mut used = 0usize;
            let mut found: Vec<f64> = Vec::new();
            let mut scores: Vec<(usize, f64)> = Vec::new();
            let entering = pool.len().min(rung.candidates);
            for (pos, &c) in pool.iter().take(rung.candidates).enumerate() {
                let prev = self.result.candidates[c].bracket;
                let mut b = Bracket::default();
                let (start, grow) = match (k, prev.lo, prev.hi) {
                    // From the best rate found so far in this rung: the question is
                    // whether the candidate beats it, and a pass there climbs on from it.
                    (0, _, _) => (found.iter().copied().fold(start0, f64::max), 2.0),
                    (_, Some(lo), Some(hi)) => (lo, (hi / lo).clamp(1.25, 2.0)),
                    (_, Some(lo), None) => (lo, 2.0),
                    _ => (start0, 2.0),
                };
                let mut score = None;
                let mut steps = 0;
                loop {
                    let rate = match self.result.rate {
                        Some(r) if steps == 0 => Some(r),
                        Some(_) => None,
                        None => search::next_rate(&b, start, grow, rung.precision, max_rate),
                    };
                    let Some(rate) = rate else { break };
                    // Up to EXTRA_STEPS more for a candidate still unbracketed (no failure or no pass
                    // yet), but only
                    // from what the rung's cap can spare after every later candidate's
                    // own steps.
                    let later = entering - pos - 1;
                    let spare = used + 1 + later * rung.max_steps <= rung.trial_cap;
                    if steps >= rung.max_steps + EXTRA_STEPS
                        || (steps >= rung.max_steps
                            && !(spare && (b.hi.is_none() || b.lo.is_none())))
                    {
                        break;
                    }
                    // The rung's cap keeps the plan's trial count a bound; the wall clock
                    // is the budget itself.
                    if used >= rung.trial_cap {
                        let note = format!("{phase}: trial cap {} reached", rung.trial_cap);
                        if !self.result.notes.contains(&note) {
                            self.result.notes.push(note);
                        }
                        break;
                    }
                    if !self.fits(rung.trial_s, self.confirm_reserve()) {
                        self.result.budget_exhausted = true;
                        break;
                    }
                    let Some(t) = self.trial(&phase, c, Some(rate), rung.trial_s)? else {
                        return Ok(());
                    };
                    used += 1;
                    steps += 1;
                    b.record(rate, Self::passed(&t));
                    if self.result.rate.is_some() {
                        score = self.objective(&t);
                    }
                }
                if steps == 0 {
                    continue;
                }
                if self.result.rate.is_none() {
                    score = b.lo;
                    if let Some(lo) = b.lo {
                        found.push(lo);
                    }
                }
                let cand = &mut self.result.candidates[c];
                cand.rungs = k + 1;
                if score.is_none() && cand.score.is_some() {
                    // Longer trials passed at no rate tried: the earlier rung's result stands
                    // (the confirmation then tests it), rather than the candidate silently
                    // dropping out of the winner and best built-in comparison.
                    let note = format!(
                        "{}: no rate passed in {phase}; its rung {} result stands",
                        cand.label, k
                    );
                    self.result.notes.push(note);
                    scores.push((c, f64::NEG_INFINITY));
                    continue;
                }
                cand.bracket = b;
                cand.score = score;
                scores.push((c, score.unwrap_or(f64::NEG_INFINITY)));
            }
            let next = plan.rungs.get(k + 1).map_or(0, |r| r.candidates);
            // Only candidates that passed somewhere go on: a longer trial of one that met
            // the SLO at no rate tried would have nowhere to start.
            scores.retain(|(_, s)| s.is_finite());
            let builtin = |id: usize| self.result.candidates[id].builtin.is_some();
            pool = if self.result.plan.baselines > 0 {
                search::survivors_with_builtin(&scores, next.max(1), builtin)
            } else {
                search::survivors(&scores, next.max(1))
            };
            if self.result.budget_exhausted || next == 0 || pool.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// The best candidate among `ids`: the deepest rung first, then the score.
    fn best(&self, builtin: bool) -> Option<usize> {
        self.result
            .candidates
            .iter()
            .filter(|c| c.builtin.is_some() == builtin || !builtin)
            .filter(|c| c.score.is_some() && c.rungs > 0)
            .max_by(|a, b| {
                let key = |c: &Candidate| (c.rungs, c.score.unwrap_or(f64::NEG_INFINITY));
                let (ka, kb) = (key(a), key(b));
                ka.0.cmp(&kb.0)
                    .then(ka.1.total_cmp(&kb.1))
                    .then(b.id.cmp(&a.id))
            })
            .map(|c| c.id)
    }

    /// Interleaved repeats of the winner and the best built-in at their rates; a
    /// configuration that fails the majority steps down 10% (`STEP_DOWN`) and is repeated
    /// again, at most `STEP_DOWNS` times, budget permitting.
    fn confirm(&mut self, winner: usize, builtin: Option<usize>) -> Result<(), KprodError> {
        let mut who = vec![winner];
        if let Some(b) = builtin.filter(|b| *b != winner) {
            who.push(b);
        }
        let reps = self.result.plan.confirm_repeats;
        let ts = self.result.plan.confirm_trial_s;
        let mut rates: Vec<Option<f64>> = who
            .iter()
            .map(|&c| self.result.rate.or(self.result.candidates[c].bracket.lo))
            .collect();
        let mut runs: Vec<Vec<Trial>> = vec![Vec::new(); who.len()];
        let majority = |r: &[Trial]| r.iter().filter(|t| Self::passed(t)).count() * 2 > r.len();
        for attempt in 0..=search::STEP_DOWNS {
            let redo: Vec<usize> = (0..who.len())
                .filter(|&i| attempt == 0 || !majority(&runs[i]))
                .collect();
            if redo.is_empty() {
                break;
            }
            // A step-down round that cannot finish would leave its side with fewer repeats
            // than the one it replaces: keep what was measured instead.
            let rest = (redo.len() * reps).saturating_sub(1) as f64 * (ts + self.overhead_s());
            if attempt > 0 && !self.fits(ts, rest) {
                self.result.budget_exhausted = true;
                break;
            }
            for &i in &redo {
                if attempt > 0 {
                    rates[i] = rates[i].map(|x| (x * search::STEP_DOWN).round());
                    runs[i].clear();
                }
            }
            for _ in 0..reps {
                for &i in &redo {
                    if !self.fits(ts, 0.0) {
                        self.result.budget_exhausted = true;
                        continue;
                    }
                    let Some(t) = self.trial("confirm", who[i], rates[i], ts)? else {
                        return Ok(());
                    };
                    runs[i].push(t);
                }
            }
            // At a fixed --rate there is no lower rate to step down to.
            if self.result.rate.is_some() {
                break;
            }
        }
        let confirmations: Vec<Confirmation> = who
            .iter()
            .zip(&runs)
            .zip(&rates)
            .map(|((&c, r), rate)| self.confirmation(c, r, *rate))
            .collect();
        let mut it = confirmations.into_iter();
        self.result.winner = it.next();
        self.result.best_builtin = it.next().or_else(|| {
            // The winner is itself the best built-in.
            builtin.and_then(|_| self.result.winner.clone())
        });
        self.result.ratio = self.ratio();
        Ok(())
    }

    fn figure(&self, t: &Trial) -> f64 {
        match self.args.objective {
            TuneObjective::Throughput => t.achieved_records_per_sec,
            TuneObjective::Cpu => cpu_per_k(t),
            TuneObjective::Bytes => t.wire_bytes_per_record.unwrap_or(0.0),
        }
    }

    fn confirmation(&self, c: usize, runs: &[Trial], rate: Option<f64>) -> Confirmation {
        let values: Vec<f64> = runs.iter().map(|t| self.figure(t)).collect();
        let (median, ci_low, ci_high) =
            verdict::change::median_ci(&values, &Bootstrap::default()).unwrap_or((0.0, 0.0, 0.0));
        let p99: Vec<f64> = runs.iter().map(|t| t.p99_us as f64).collect();
        let passed = runs.iter().filter(|t| Self::passed(t)).count();
        Confirmation {
            candidate: c,
            label: self.result.candidates[c].label.clone(),
            target_records_per_sec: rate,
            figure: match self.args.objective {
                TuneObjective::Throughput => "records_per_sec",
                TuneObjective::Cpu => "cpu_ms_per_1k_records",
                TuneObjective::Bytes => "wire_bytes_per_record",
            }
            .into(),
            values,
            median,
            ci_low,
            ci_high,
            p99_us_median: verdict::stats::median(&p99).unwrap_or(0.0) as u64,
            passed,
            confirmed: !runs.is_empty() && passed * 2 > runs.len(),
        }
    }

    /// Winner over best built-in (throughput) or built-in over winner (cpu, bytes: lower is
    /// better), with the bootstrap interval of the change.
    fn ratio(&self) -> Option<Ratio> {
        let (w, b) = (
            self.result.winner.as_ref()?,
            self.result.best_builtin.as_ref()?,
        );
        let lower_better = self.args.objective != TuneObjective::Throughput;
        let (base, cur) = if lower_better { (w, b) } else { (b, w) };
        let ch = verdict::estimate(
            Side {
                runs: &base.values,
                intervals: &[],
            },
            Side {
                runs: &cur.values,
                intervals: &[],
            },
            Scale::Relative,
            &Bootstrap::default(),
        )?;
        let f = |pct: f64| 1.0 + pct / 100.0;
        Some(Ratio {
            value: f(ch.change),
            ci_low: f(ch.ci_low),
            ci_high: f(ch.ci_high),
            method: match ch.method {
                verdict::Method::Runs => "runs",
                _ => "point",
            }
            .into(),
        })
    }

    /// The whole tune: rungs, confirmation, frontier.
    pub fn tune(&mut self) -> Result<(), KprodError> {
        self.rungs()?;
        if !self.stop {
            if let Some(w) = self.best(false) {
                let b = self.best(true);
                self.confirm(w, b)?;
            }
        }
        self.result.frontier = frontier(&self.result);
        self.result.elapsed_s = self.started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Writes `winner.toml`, the files and the chart; hands the result back.
    pub fn finish(mut self) -> Result<(TuneResult, PathBuf), KprodError> {
        if let Some(w) = self.result.winner.clone().filter(|w| w.confirmed) {
            match self.winner_toml(&w) {
                Ok(()) => self.result.winner_profile = Some(super::WINNER_TOML.into()),
                Err(e) => self
                    .result
                    .notes
                    .push(format!("winner.toml not written: {e}")),
            }
        }
        super::write_files(&self.dir, &self.result)?;
        if let Err(e) = super::write_chart(&self.dir, &self.result) {
            crate::print_stderr(&format!("warning: chart not written: {e}"));
        }
        Ok((self.result, self.dir))
    }

    /// The winner's resolved profile at its confirmed rate as a profile file, checked to
    /// load back to the same profile.
    fn winner_toml(&self, w: &Confirmation) -> Result<(), String> {
        let cand = &self.result.candidates[w.candidate];
        let mut a = self.args.bench.bench();
        if let Some(b) = &cand.builtin {
            a.profile.profiles.push(b.clone());
        }
        a.profile.layers.sets.extend(cand.sets.iter().cloned());
        if let Some(r) = w.target_records_per_sec {
            a.profile.rate = Some(format!("{r}"));
        }
        let p = bench::resolve(&a.profile, self.cwd).map_err(|e| e.to_string())?;
        let value = serde_json::to_value(&p).map_err(|e| e.to_string())?;
        let text = super::super::check::replay::profile_toml(&value, "")?;
        let mut doc: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
        doc.insert(
            "description".into(),
            toml::Value::String(format!(
                "kprod tune winner ({}): {} at the SLO {}",
                cand.label,
                crate::report::fmt_rate(w.median),
                self.result.slo.join(", ")
            )),
        );
        let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
        let path = self.dir.join(super::WINNER_TOML);
        report::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string())?;
        let back = crate::profile::resolve(
            &[path.to_string_lossy().into_owned()],
            &Default::default(),
            self.cwd,
        )
        .map_err(|e| e.to_string())?;
        if super::fingerprint(&back) != super::fingerprint(&p) {
            return Err("it does not load back to the winning profile".into());
        }
        Ok(())
    }
}

/// CPU milliseconds per 1,000 delivered records.
fn cpu_per_k(t: &Trial) -> f64 {
    let records = t.delivered as f64;
    if records > 0.0 {
        t.cpu_s * 1000.0 / records * 1000.0
    } else {
        f64::INFINITY
    }
}

/// The Pareto frontier of the passing trials, per codec.
pub fn frontier(r: &TuneResult) -> Vec<FrontierPoint> {
    let pts: Vec<search::Point> = r
        .trials
        .iter()
        .filter(|t| !t.saturated && t.slo_met)
        .map(|t| search::Point {
            trial: t.index,
            group: r.candidates[t.candidate].codec.clone(),
            records_per_sec: t.achieved_records_per_sec,
            p99_us: t.p99_us,
        })
        .collect();
    let mut out: Vec<FrontierPoint> = search::frontier(&pts)
        .into_iter()
        .map(|i| {
            let p = &pts[i];
            FrontierPoint {
                trial: p.trial,
                candidate: r.trials[p.trial].candidate,
                codec: p.group.clone(),
                records_per_sec: p.records_per_sec,
                p99_us: p.p99_us,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.codec
            .cmp(&b.codec)
            .then(a.records_per_sec.total_cmp(&b.records_per_sec))
    });
    out
}
