//! The run report model and its exporters: HDR histogram helpers and the `.hlog` / `.hgrm`
//! files, the run directory and its atomically written files (`report.json`,
//! `intervals.csv`, `runs.csv`), and the terminal output: the compact summary (`summary`)
//! and the full table (`table`, `--details`).
//!
//! [`RunReport`] (in `model`) is the contract; every exporter here derives its columns from
//! it so the files cannot disagree with each other.

pub mod attribution;
pub mod breakdown;
pub mod build;
pub mod consumers;
pub mod merge;
mod model;
pub use model::*;

mod csv_out;
mod datetime;
mod files;
mod hdr;
mod hlog;
mod live;
mod profile_diff;
pub mod stages;
mod summary;
mod table;
#[doc(hidden)]
pub mod testing;
pub mod topics;
mod totals;
mod usable;

pub use csv_out::{intervals_csv, RunsRow, RUNS_CSV};
pub use datetime::format_rfc3339_utc;
pub(crate) use datetime::parse_rfc3339_ms;
pub use files::{
    check_writable, create_run_dir, load_report, read_hlog_file, read_json, run_id, sanitize_label,
    write_atomic, write_csv, write_e2e_hlog, write_json, write_run, E2E_HLOG_FILE, HGRM_FILE,
    HLOG_FILE, INTERVALS_CSV_FILE, REPORT_FILE,
};
pub use hdr::{new_histogram, percentiles, write_hgrm, HIST_HIGHEST_US, HIST_SIGFIG};
pub use hlog::{read_hlog, write_hlog, IntervalHistogram};
pub use live::LiveWriter;
pub use profile_diff::{diff_profiles, ProfileDiff};
pub use summary::{compact_summary, SummaryExtras, VerdictLine};
pub use table::{
    fmt_bytes_per_sec, fmt_count, fmt_latency_us, fmt_mb_per_sec, fmt_rate, summary_table,
};
pub use totals::{
    decode_histogram, encode_histogram, read_totals, write_outcome_totals, write_totals,
    Histograms, RateParts, RunTotals, StatsWeights, TotalHistograms, TOTALS_FILE, TOTALS_VERSION,
};
pub use usable::{usable, UnusableRun};

use std::path::PathBuf;

/// A results file could not be written, read or understood. Every variant names the file
/// (or, for an interval log read from a stream, the line) and what was being done.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        path: PathBuf,
        /// What was being attempted, e.g. "create directory", "rename into place".
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The file exists but its content is not what kprod expects.
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// A report written by a newer (or unknown) kprod.
    #[error(
        "{}: report schema_version {found} is not supported (this kprod reads versions 1..={supported}); \
         use a kprod at least as new as the one that wrote it",
        path.display()
    )]
    Schema {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    /// An interval log read from a stream, which has no path; [`read_hlog_file`] turns it
    /// into [`ReportError::Invalid`] naming the file.
    #[error("interval log{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Hlog {
        line: Option<usize>,
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ReportError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The file the error is about, when known.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            ReportError::Io { path, .. }
            | ReportError::Invalid { path, .. }
            | ReportError::Schema { path, .. } => Some(path),
            ReportError::Hlog { .. } => None,
        }
    }
}

impl From<ReportError> for crate::error::KprodError {
    fn from(e: ReportError) -> Self {
        // A streamed interval log has no path; name the kind of input instead of printing "".
        let path = e
            .path()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("interval log"));
        // KprodError::Results displays "{path}: {message}", so the message must not repeat it.
        let message = match &e {
            ReportError::Io { op, source, .. } => format!("cannot {op}: {source}"),
            ReportError::Invalid { message, .. } => message.clone(),
            ReportError::Schema {
                found, supported, ..
            } => format!(
                "report schema_version {found} is not supported (this kprod reads versions \
                 1..={supported}); use a kprod at least as new as the one that wrote it"
            ),
            ReportError::Hlog { line, message } => match line {
                Some(l) => format!("line {l}: {message}"),
                None => message.clone(),
            },
        };
        crate::error::KprodError::Results { path, message }
    }
}
