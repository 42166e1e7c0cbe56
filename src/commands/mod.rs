//! One module per subcommand. Commands resolve profiles, drive the pipeline and print;
//! they consume run reports and never reach into the engine's internals.
pub mod bench;
pub mod profiles;
pub mod progress;
