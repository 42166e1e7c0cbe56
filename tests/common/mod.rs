//! Helpers shared by the integration tests: run `kprod bench` in-process.
#![allow(dead_code, clippy::result_large_err)]

use clap::Parser;
use kprod::cli::{Cli, Command};
use kprod::commands::bench::{self, BenchOutcome};
use kprod::engine::Silent;
use kprod::KprodError;
use std::path::Path;

/// Run `kprod bench ARGS --out OUT` in-process with no progress output.
pub fn bench_in(out: &Path, args: &[&str]) -> Result<BenchOutcome, KprodError> {
    let mut argv = vec!["kprod", "bench", "--quiet", "--out"];
    let out_s = out.to_str().expect("utf-8 temp path");
    argv.push(out_s);
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("valid command line");
    let Command::Bench(a) = cli.command else {
        unreachable!()
    };
    let cwd = std::env::current_dir().expect("cwd");
    bench::execute(&a, &cwd, Some(&mut Silent))
}

pub fn bench(args: &[&str]) -> (tempfile::TempDir, BenchOutcome) {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = bench_in(dir.path(), args).unwrap_or_else(|e| panic!("bench {args:?} failed: {e}"));
    (dir, o)
}

/// The accounting identity, whole run and both windows.
pub fn assert_accounted(o: &BenchOutcome) {
    let r = &o.report.records;
    assert_eq!(
        r.sent,
        r.delivered + r.failed + r.unknown,
        "identity: {r:?}"
    );
    assert!(
        r.identity_holds,
        "report says the identity does not hold: {r:?}"
    );
    let m = &r.measured;
    assert_eq!(
        m.sent,
        m.delivered + m.failed + m.unknown,
        "measured: {m:?}"
    );
    assert_eq!(r.sent, r.measured.sent + r.warmup.sent);
}
