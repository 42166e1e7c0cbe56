//! Instances of a distributed run: exact shares, distinct ids and seeds, the labels on the
//! run directory and report, the index from the environment, and `--start-at`.

mod common;
mod scale;

use clap::Parser;
use kprod::cli::{Cli, Command};
use kprod::plan::Plan;
use kprod::report::load_report;
use scale::{kprod, run_dirs};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn plan(args: &[&str]) -> Plan {
    let mut argv = vec!["kprod", "bench"];
    argv.extend_from_slice(args);
    let Command::Bench(a) = Cli::try_parse_from(argv).expect("valid").command else {
        unreachable!()
    };
    let cwd = std::env::current_dir().expect("cwd");
    let profile = kprod::commands::bench::resolve(&a.profile, &cwd).expect("profile");
    Plan::new(profile, Duration::from_secs(30), cwd).expect("plan")
}

#[test]
fn instance_shares_add_up_and_ids_and_seeds_are_distinct() {
    let args = [
        "--profile",
        "transactional",
        "--records",
        "1001",
        "--warmup",
        "0s",
        "--rate",
        "3000",
        "--producers",
        "2",
    ];
    let single = plan(&args);
    let mut records = 0;
    let mut rate = 0.0;
    let mut ids = BTreeSet::new();
    let mut seeds = BTreeSet::new();
    for i in 0..3 {
        let mut p = plan(&args);
        p.set_instance(i, 3).expect("instance");
        assert_eq!((p.instance, p.instances), (i, 3));
        for s in &p.shares {
            records += s.records.expect("record count");
            rate += s.rate.expect("fixed rate");
            let id = s.transactional_id.clone().expect("transactional");
            assert!(id.contains(&format!("-{i}-")), "{id}");
            ids.insert(id);
        }
        assert_eq!(p.target_rate(), Some(1000.0));
        seeds.insert(p.source_seed());
    }
    assert_eq!(records, 1001);
    assert!((rate - 3000.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        ids.len(),
        6,
        "every producer of every instance has its own id"
    );
    assert_eq!(seeds.len(), 3);
    assert!(!seeds.contains(&single.source_seed()));
    // A single run keeps the profile's seed and its ids.
    assert_eq!(single.source_seed(), single.profile.workload.seed);
    assert_eq!(
        single.shares[0].transactional_id.as_deref(),
        Some("kprod-tx-0")
    );

    let mut p = plan(&["--records", "2", "--warmup", "0s"]);
    let err = p
        .set_instance(0, 3)
        .expect_err("fewer records than instances");
    assert_eq!(err.key.as_deref(), Some("workload.records"));
}

#[test]
fn an_instance_takes_its_share_and_says_which_it_is() {
    let (_tmp, o) = common::bench(&[
        "--records",
        "301",
        "--warmup",
        "0s",
        "--rate",
        "3000",
        "--instance",
        "1/3",
    ]);
    let r = &o.report;
    assert_eq!((r.instance, r.instances), (Some(1), Some(3)));
    // 301 split three ways: 101, 100, 100.
    assert_eq!(r.records.sent, 100);
    assert_eq!(r.throughput.target_records_per_sec, Some(1000.0));
    assert_eq!(
        r.config.librdkafka.get("client.id").map(String::as_str),
        Some("kprod-1-0")
    );
    let name = o
        .dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    // The label says what the flags changed, then which instance this is.
    assert!(
        name.contains("-base-") && name.ends_with("-i1of3"),
        "{name}"
    );
    common::assert_accounted(&o);
}

#[test]
fn the_index_comes_from_kprod_instance_or_job_completion_index() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (env, value, extra, want) in [
        ("KPROD_INSTANCE", "2/3", None, (2, 3)),
        ("JOB_COMPLETION_INDEX", "1", Some("2"), (1, 2)),
    ] {
        let out = tmp.path().join(env);
        let mut c = kprod();
        c.args([
            "bench",
            "--quiet",
            "--records",
            "30",
            "--warmup",
            "0s",
            "--out",
        ])
        .arg(&out)
        .env(env, value);
        if let Some(n) = extra {
            c.args(["--instances", n]);
        }
        let o = c.output().expect("run");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let dirs = run_dirs(&out);
        let r = load_report(&dirs[0]).expect("report");
        assert_eq!(
            (r.instance, r.instances),
            (Some(want.0), Some(want.1)),
            "{env}"
        );
    }
}

#[test]
fn bad_instance_settings_exit_2_naming_the_flag() {
    let tmp = tempfile::tempdir().expect("temp dir");
    type Case<'a> = (&'a [&'a str], Option<(&'a str, &'a str)>, &'a str);
    let cases: [Case<'_>; 6] = [
        (&["--instance", "3/3"], None, "--instance"),
        (&["--instance", "one/3"], None, "--instance"),
        (&["--instances", "3"], None, "--instances"),
        (
            &["--instances", "3"],
            Some(("JOB_COMPLETION_INDEX", "7")),
            "JOB_COMPLETION_INDEX",
        ),
        (&["--start-at", "tomorrow"], None, "--start-at"),
        (
            &["--instance", "0/3", "--records", "2", "--warmup", "0s"],
            None,
            "workload.records",
        ),
    ];
    for (args, env, named) in cases {
        let mut c = kprod();
        c.args(["bench", "--quiet", "--out"])
            .arg(tmp.path())
            .args(args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let o = c.output().expect("run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} should name {named}: {err}");
    }
    assert!(run_dirs(tmp.path()).is_empty(), "nothing ran");
}

#[test]
fn start_at_holds_t0_until_the_given_time() {
    let start = SystemTime::now() + Duration::from_millis(1500);
    let stamp = kprod::report::format_rfc3339_utc(start);
    let (_tmp, o) = common::bench(&["--records", "20", "--warmup", "0s", "--start-at", &stamp]);
    let t0 = kprod::report::read_totals(&o.dir)
        .expect("totals")
        .t0_unix_us;
    let start_us = start.duration_since(UNIX_EPOCH).expect("clock").as_micros() as u64;
    // The RFC 3339 stamp has milliseconds: t0 is never before that millisecond.
    assert!(
        t0 >= start_us / 1000 * 1000,
        "t0 {t0} before the start {start_us}"
    );

    // A start time already past: the run starts at once and says so in its report.
    let (_tmp, o) = common::bench(&[
        "--records",
        "20",
        "--warmup",
        "0s",
        "--start-at",
        "1000000000",
    ]);
    assert!(
        o.report.warnings.iter().any(|w| w.contains("had passed")),
        "{:?}",
        o.report.warnings
    );
}
