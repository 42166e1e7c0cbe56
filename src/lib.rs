//! kprod: a load generator and benchmark for Kafka producers.
//!
//! Pipeline: profile layers -> resolved [`profile::Profile`] -> [`plan::Plan`] ->
//! [`engine`] -> immutable [`report::RunReport`] -> exporters. `src/main.rs` only parses
//! the command line and calls [`run`].

// `ConfigError` is returned unboxed by the profile and validation functions: they run once,
// on the cold path before a run, and their results are never stored, so its size does not
// matter there. `KprodError`, which travels through every command, boxes it instead.
#![allow(clippy::result_large_err)]

pub mod charts;
pub mod cli;
pub mod client;
pub mod commands;
pub mod domain;
pub mod engine;
pub mod error;
pub mod faults;
pub mod instance;
pub mod measure;
pub mod metrics;
pub mod plan;
pub mod profile;
pub mod report;
pub mod signals;
pub mod units;
pub mod verdict;
pub mod verify;
pub mod workload;

pub use domain::print_stderr;
pub(crate) use domain::print_stdout;
pub use error::{ConfigError, KprodError, Result};

use cli::{Cli, Command};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    // First of all: a signal at any later point, however early, must be obeyed.
    if let Err(e) = signals::install() {
        print_stderr(&format!("error: {e}"));
        return 1;
    }
    domain::console::set_color(match cli.color {
        clap::ColorChoice::Always => domain::console::ColorChoice::Always,
        clap::ColorChoice::Never => domain::console::ColorChoice::Never,
        clap::ColorChoice::Auto => domain::console::ColorChoice::Auto,
    });
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            print_stderr(&format!("error: cannot read the current directory: {e}"));
            return 1;
        }
    };
    let result = match &cli.command {
        Command::Bench(args) => commands::bench_set::run(args, &cwd),
        Command::Profiles(args) => commands::profiles::execute(args, &cwd).map(|s| {
            print_stdout(&s);
            0
        }),
        Command::Compare(args) => commands::compare::run(args, &cwd),
        Command::Check(args) => commands::check::run(args, &cwd),
        Command::Sweep(args) => commands::sweep::run(args, &cwd),
        Command::Tune(args) => commands::tune::run(args, &cwd),
        Command::Report(args) => commands::report_cmd::run(args, &cwd),
        Command::Merge(args) => commands::merge::run(args, &cwd),
        // Serves until the first signal, which stops it cleanly.
        Command::Cluster(args) => commands::cluster_cmd::run(args),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man(args) => commands::completions::man(args, &cwd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            print_stderr(&profile::scrub(&format!("error: {e}")));
            e.exit_code()
        }
    }
}
