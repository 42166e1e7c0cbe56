//! One module per subcommand. Commands resolve profiles, drive the pipeline and print;
//! they consume run reports and never reach into the engine's internals.
pub mod bench;
pub mod bench_set;
pub mod check;
pub mod cluster_cmd;
pub mod compare;
pub mod completions;
pub mod json_out;
pub mod merge;
mod merge_check;
pub mod profiles;
pub mod progress;
pub mod report_cmd;
pub mod run_name;
pub mod sweep;
pub mod topology;
pub mod tune;
