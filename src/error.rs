//! Typed errors of the library and the exit code each one maps to.
//!
//! Exit codes are a contract for scripts and CI: 0 success, 2 invalid input or
//! configuration, 3 cluster or topic unreachable, 130 interrupted, 1 anything else.
//! Verdicts add 5 inconclusive (`verdict::EXIT_INCONCLUSIVE`); `bench --verify` uses 4;
//! a run `--abort-on-breach` stopped exits 6 (`commands::bench::EXIT_ABORTED`).

use std::path::PathBuf;

/// Where in a profile source a problem sits. Every profile error carries one when the
/// problem comes from a file (or from a `--set` / `-X` / flag, named in `source`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// File path, or a pseudo-source such as `--set`, `-X`, `--rate`, `built-in:durable`.
    pub source: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        Ok(())
    }
}

/// An invalid profile, flag or value. Displayed as
/// `<file>:<line>:<col>: key `<key>`: <message>` followed by `  fix: <fix>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_config_error(.location, .key, .message, .fix))]
pub struct ConfigError {
    pub location: Option<Location>,
    pub key: Option<String>,
    pub message: String,
    pub fix: Option<String>,
}

fn render_config_error(
    location: &Option<Location>,
    key: &Option<String>,
    message: &str,
    fix: &Option<String>,
) -> String {
    let mut s = String::new();
    if let Some(l) = location {
        s.push_str(&format!("{l}: "));
    }
    if let Some(k) = key {
        s.push_str(&format!("key `{k}`: "));
    }
    s.push_str(message);
    if let Some(f) = fix {
        s.push_str(&format!("\n  fix: {f}"));
    }
    s
}

impl Location {
    /// A command-line flag (or environment variable) as the source of a problem.
    pub fn flag(name: &str) -> Self {
        Location {
            source: name.into(),
            line: None,
            column: None,
        }
    }
}

impl ConfigError {
    /// Invalid input given with `flag` (or an environment variable, or `report DIR`), and
    /// how to fix it: the one constructor for errors that point at the command line.
    pub fn flag(flag: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        ConfigError::new(message).at(Location::flag(flag)).fix(fix)
    }
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            location: None,
            key: None,
            message: message.into(),
            fix: None,
        }
    }
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KprodError {
    #[error("{0}")]
    /// Boxed: the error is rare and large, `Result<T, KprodError>` stays small.
    Config(Box<ConfigError>),
    #[error("cannot reach the Kafka cluster at {brokers}: {detail}")]
    Unreachable { brokers: String, detail: String },
    #[error("topic `{topic}`: {detail}")]
    Topic { topic: String, detail: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Results { path: PathBuf, message: String },
    #[error("kafka client: {0}")]
    Kafka(String),
    #[error("interrupted")]
    Interrupted,
}

impl From<ConfigError> for KprodError {
    fn from(e: ConfigError) -> Self {
        KprodError::Config(Box::new(e))
    }
}

impl KprodError {
    pub fn exit_code(&self) -> i32 {
        match self {
            KprodError::Config(_) => 2,
            KprodError::Unreachable { .. } | KprodError::Topic { .. } => 3,
            KprodError::Interrupted => 130,
            KprodError::Io { .. } | KprodError::Results { .. } | KprodError::Kafka(_) => 1,
        }
    }

    /// Invalid input given with `flag`, and how to fix it (exit code 2).
    pub fn flag(flag: &str, message: impl Into<String>, fix: &str) -> Self {
        ConfigError::flag(flag, message, fix).into()
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        KprodError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = KprodError> = std::result::Result<T, E>;
