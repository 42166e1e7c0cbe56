//! `kprod tune` on the embedded cluster with tiny budgets: short trials, one built-in
//! baseline, a two-key space and a generous SLO, so a whole tune takes well under a
//! minute. What is asserted is the plan, the files and the winner's profile, never timing.

mod outputs;

use kprod::cli::Command;
use kprod::commands::{bench, report_cmd, tune};
use kprod::engine::Silent;
use kprod::report::load_report;
use outputs::{command, cwd, parse_xml};
use std::path::Path;

const SMALL: &[&str] = &[
    "--slo",
    "p99<=3s",
    "--baselines",
    "durable",
    "--space",
    "linger=0..20ms,codec=none|lz4",
    "--trial-duration",
    "1s",
    "--confirm-repeat",
    "1",
    "--start-rate",
    "200",
    "--max-rate",
    "400",
    "--quiet",
];

fn args(out: &Path, extra: &[&str]) -> kprod::cli::TuneArgs {
    let mut argv = vec!["tune", "--out", out.to_str().unwrap()];
    argv.extend_from_slice(extra);
    let Command::Tune(a) = command(&argv) else {
        unreachable!()
    };
    a
}

fn run_tune(out: &Path, extra: &[&str]) -> tune::TuneOutcome {
    tune::execute(&args(out, extra), &cwd(), Some(&mut Silent)).expect("tune runs")
}

#[test]
fn a_small_tune_stays_in_its_plan_and_its_winner_toml_reproduces_the_winner() {
    let out = tempfile::tempdir().unwrap();
    let mut a = SMALL.to_vec();
    a.extend(["--budget", "60s"]);
    let o = run_tune(out.path(), &a);
    let r = &o.result;
    let table = tune::render_table(r);
    // The plan fits the budget and bounds the trials, rung by rung.
    assert!(r.plan.planned_s <= 60.0, "{:?}", r.plan);
    assert!(r.trials.len() <= r.plan.max_trials, "{table}");
    for (k, rung) in r.plan.rungs.iter().enumerate() {
        let n = r
            .trials
            .iter()
            .filter(|t| t.phase == format!("rung{}", k + 1))
            .count();
        assert!(
            n <= rung.trial_cap,
            "rung {} ran {n} > {}",
            k + 1,
            rung.trial_cap
        );
    }
    assert_eq!(r.candidates[0].builtin.as_deref(), Some("durable"));
    // The best built-in is searched as deep as the winner, so the ratio compares like
    // with like.
    let deepest = r.candidates.iter().map(|c| c.rungs).max().unwrap_or(0);
    if let Some(b) = &r.best_builtin {
        assert_eq!(r.candidates[b.candidate].rungs, deepest, "{table}");
    }
    assert_eq!(r.cluster, "embedded");
    // Every trial is a run directory inside the tune directory with its report.
    for t in &r.trials {
        let rep = load_report(&o.dir.join(&t.run_dir)).unwrap();
        assert_eq!(rep.throughput.records_per_sec, t.achieved_records_per_sec);
        assert_eq!(rep.latency_us.corrected.p99, t.p99_us);
    }
    // The frontier: passing trials only, none beaten in both figures by another of its codec.
    for p in &r.frontier {
        let t = &r.trials[p.trial];
        assert!(t.slo_met && !t.saturated);
        for q in r.trials.iter().filter(|q| q.slo_met && !q.saturated) {
            if r.candidates[q.candidate].codec != p.codec {
                continue;
            }
            let better = q.achieved_records_per_sec >= p.records_per_sec
                && q.p99_us <= p.p99_us
                && (q.achieved_records_per_sec > p.records_per_sec || q.p99_us < p.p99_us);
            assert!(
                !better,
                "trial {} dominates frontier trial {}",
                q.index, p.trial
            );
        }
    }
    for f in [
        tune::TUNE_JSON,
        tune::TUNE_CSV,
        tune::FRONTIER_SVG,
        "report.html",
    ] {
        assert!(o.dir.join(f).is_file(), "{f} missing");
    }
    parse_xml(&std::fs::read_to_string(o.dir.join(tune::FRONTIER_SVG)).unwrap());
    let csv = std::fs::read_to_string(o.dir.join(tune::TUNE_CSV)).unwrap();
    assert_eq!(csv.lines().count(), r.trials.len() + 1);
    assert!(table.contains("Cluster: embedded"), "{table}");

    // `kprod report DIR` redraws the CSV, chart and page of a tune directory from tune.json.
    let redrawn = [tune::TUNE_CSV, tune::FRONTIER_SVG, "report.html"];
    let before: Vec<Vec<u8>> = redrawn
        .iter()
        .map(|f| std::fs::read(o.dir.join(f)).unwrap())
        .collect();
    for f in redrawn {
        std::fs::remove_file(o.dir.join(f)).unwrap();
    }
    let Command::Report(rep) = command(&["report", o.dir.to_str().unwrap()]) else {
        unreachable!()
    };
    assert_eq!(report_cmd::execute(&rep, &cwd()).unwrap(), table);
    for (f, b) in redrawn.iter().zip(&before) {
        assert_eq!(&std::fs::read(o.dir.join(f)).unwrap(), b, "{f} redrawn");
    }

    // winner.toml loads through `kprod bench --profile PATH` and is the winner.
    let w = r
        .winner
        .as_ref()
        .unwrap_or_else(|| panic!("no winner\n{table}"));
    assert!(w.confirmed, "{table}");
    assert_eq!(r.winner_profile.as_deref(), Some(tune::WINNER_TOML));
    let path = o.dir.join(tune::WINNER_TOML);
    let runs = tempfile::tempdir().unwrap();
    let Command::Bench(b) = command(&[
        "bench",
        "--profile",
        path.to_str().unwrap(),
        "-d",
        "1s",
        "--warmup",
        "250ms",
        "--quiet",
        "--out",
        runs.path().to_str().unwrap(),
    ]) else {
        unreachable!()
    };
    let p = bench::resolve(&b.profile, &cwd()).expect("winner.toml resolves");
    let cand = &r.candidates[w.candidate];
    assert_eq!(
        p.batching.linger,
        resolve_set(cand, "batching.linger").batching.linger
    );
    assert_eq!(p.compression.codec.name(), cand.codec);
    assert_eq!(
        p.workload.rate,
        kprod::profile::Rate::Fixed(w.target_records_per_sec.unwrap())
    );
    assert!(p.producer.idempotence && p.producer.acks == kprod::profile::Acks::All);
    let ran = bench::execute(&b, &cwd(), Some(&mut Silent)).expect("winner runs");
    assert_eq!(ran.report.status, kprod::report::Status::Complete);
}

/// The candidate's profile as tune built it (built-in or `--set` lines over base).
fn resolve_set(c: &tune::Candidate, _key: &str) -> kprod::profile::Profile {
    let mut argv: Vec<String> = vec!["bench".into()];
    if let Some(b) = &c.builtin {
        argv.extend(["--profile".into(), b.clone()]);
    }
    for s in &c.sets {
        argv.extend(["--set".into(), s.clone()]);
    }
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Command::Bench(b) = command(&refs) else {
        unreachable!()
    };
    bench::resolve(&b.profile, &cwd()).unwrap()
}

#[test]
fn durability_is_kept_unless_allow_unsafe() {
    let out = tempfile::tempdir().unwrap();
    for (extra, flag) in [
        (vec!["--space", "acks=1|all"], "--space"),
        (
            vec!["--space", "producer.idempotence=true|false"],
            "--space",
        ),
        (vec!["--space", "max_in_flight=1..10"], "--space"),
        (vec!["-p", "latency"], "--profile"),
        (vec!["--baselines", "fire-and-forget"], "--baselines"),
    ] {
        let mut a = vec!["--slo", "p99<=20ms"];
        a.extend(extra.iter().copied());
        let e = tune::execute(&args(out.path(), &a), &cwd(), Some(&mut Silent))
            .err()
            .unwrap_or_else(|| panic!("{extra:?} accepted"));
        let text = e.to_string();
        assert!(text.contains(flag), "{extra:?}: {text}");
        assert_eq!(e.exit_code(), 2, "{extra:?}");
    }
    // Nothing ran: no tune directory was created.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    // With --allow-unsafe the same space is searched (the pool builds).
    let a = args(
        out.path(),
        &[
            "--slo",
            "p99<=20ms",
            "--space",
            "acks=1,idempotence=false",
            "--allow-unsafe",
            "--budget",
            "10m",
        ],
    );
    let (_, pool) = tune::pool(&a, &cwd()).expect("allowed");
    assert!(pool
        .iter()
        .any(|c| c.sets.iter().any(|s| s == "producer.acks=1")));
}

#[test]
fn the_pool_follows_the_seed_and_the_budget_bounds_it() {
    let out = tempfile::tempdir().unwrap();
    let pool = |extra: &[&str]| {
        let mut a = vec!["--slo", "p99<=20ms"];
        a.extend_from_slice(extra);
        tune::pool(&args(out.path(), &a), &cwd()).unwrap()
    };
    let (plan, one) = pool(&["--budget", "10m", "--search-seed", "7"]);
    assert_eq!(pool(&["--budget", "10m", "--search-seed", "7"]).1, one);
    assert_ne!(pool(&["--budget", "10m", "--search-seed", "8"]).1, one);
    // Every safe built-in that resolves differently is a baseline; none that is unsafe.
    let builtins: Vec<&str> = one.iter().filter_map(|c| c.builtin.as_deref()).collect();
    assert!(builtins.contains(&"durable") && builtins.contains(&"throughput"));
    assert!(!builtins.contains(&"latency") && !builtins.contains(&"fire-and-forget"));
    assert_eq!(
        one.len(),
        plan.baselines + plan.samples.min(one.len() - plan.baselines)
    );
    assert!(plan.planned_s <= 600.0);
    // A smaller budget plans fewer candidates; one too small is refused, naming --budget.
    let (small, _) = pool(&["--budget", "4m", "--baselines", "durable"]);
    assert!(small.samples < plan.samples + plan.baselines);
    assert!(small.planned_s <= 240.0);
    let e = tune::pool(
        &args(out.path(), &["--slo", "p99<=20ms", "--budget", "10s"]),
        &cwd(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("--budget"), "{e}");
}
