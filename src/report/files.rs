//! The results directory on disk: creating a fresh run directory, checking the root is
//! writable before a run, atomic file writes, writing a finished run's files, and loading
//! a `report.json` back with its schema version checked.

use super::csv_out::{append_run, intervals_csv};
use super::datetime::{compact_utc, parse_rfc3339_ms};
use super::hdr::write_hgrm;
use super::hlog::{read_hlog, write_hlog, IntervalHistogram};
use super::{ReportError, RunReport, SCHEMA_VERSION};
use hdrhistogram::Histogram;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

pub const REPORT_FILE: &str = "report.json";
pub const INTERVALS_CSV_FILE: &str = "intervals.csv";
pub const HLOG_FILE: &str = "latency.hlog";
/// With consumers: end-to-end latency of the records consumed in each interval, the same
/// intervals as `latency.hlog`.
pub const E2E_HLOG_FILE: &str = "latency-e2e.hlog";
pub const HGRM_FILE: &str = "latency.hgrm";

/// Longest label kept in a directory name; file systems cap names at 255 bytes.
const MAX_LABEL_LEN: usize = 80;
/// Suffixes tried on a name collision before giving up.
const MAX_COLLISION_SUFFIX: u32 = 10_000;

/// Distinguishes temp/probe files of concurrent writers within one process.
static UNIQUE: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

/// A label safe as part of a directory name: each '+'-separated profile name keeps only its
/// last path component, characters outside `[A-Za-z0-9._+-]` become '_'. Never empty.
pub fn sanitize_label(label: &str) -> String {
    let parts: Vec<String> = label
        .split('+')
        .filter_map(|part| {
            let last = part.trim().rsplit(['/', '\\']).next().unwrap_or_default();
            let clean: String = last
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (!clean.is_empty()).then_some(clean)
        })
        .collect();
    let mut s = parts.join("+");
    // Only ASCII remains, so truncating at a byte index cannot split a character.
    s.truncate(MAX_LABEL_LEN);
    if s.is_empty() {
        s.push_str("run");
    }
    s
}

/// Instances started together on one `--out` race at their start: one's
/// [`check_writable`] removes the directory it made, empty, while another is about to use
/// it (or is inside `create_dir_all`, which then reports that the directory exists and is
/// not one). What meets a vanished directory makes it again; the race is over within a
/// few tries, and a lasting error (a file where the directory should be) is returned.
fn again_if_removed<T>(mut f: impl FnMut() -> Result<T, ReportError>) -> Result<T, ReportError> {
    let mut left = 20;
    loop {
        match f() {
            Err(ReportError::Io { source, op, .. })
                if left > 0
                    && (source.kind() == ErrorKind::NotFound
                        || (source.kind() == ErrorKind::AlreadyExists
                            && op == "create results directory")) =>
            {
                left -= 1;
                std::thread::yield_now();
            }
            r => return r,
        }
    }
}

/// Creates a NEW run directory `<root>/<YYYYMMDDTHHMMSSZ>-<label>/` (root created if
/// missing). On a name collision `-2`, `-3`, ... is appended; the final component is made
/// with `create_dir`, which fails if it exists, so two runs can never share a directory.
pub fn create_run_dir(
    root: &Path,
    started: SystemTime,
    label: &str,
) -> Result<PathBuf, ReportError> {
    let base = format!("{}-{}", compact_utc(started), sanitize_label(label));
    for n in 1..=MAX_COLLISION_SUFFIX {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let candidate = root.join(name);
        let made = again_if_removed(|| {
            fs::create_dir_all(root)
                .map_err(|e| ReportError::io(root, "create results directory", e))?;
            fs::create_dir(&candidate)
                .map_err(|e| ReportError::io(&candidate, "create run directory", e))
        });
        match made {
            Ok(()) => return Ok(candidate),
            Err(ReportError::Io {
                source,
                op: "create run directory",
                ..
            }) if source.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ReportError::invalid(
        root,
        format!("{MAX_COLLISION_SUFFIX} run directories named {base}-N already exist"),
    ))
}

/// Checks up front that `root` can be created and written, and that a `runs.csv` in it is
/// one this kprod appends to, so a bad `--out` fails before the run instead of after it.
/// Directories it had to create are removed again: a run refused later leaves nothing.
pub fn check_writable(root: &Path) -> Result<(), ReportError> {
    // One look: between `exists` and `is_dir` another instance may remove it.
    if fs::metadata(root).is_ok_and(|m| !m.is_dir()) {
        return Err(ReportError::invalid(root, "is a file, not a directory"));
    }
    let mut missing = Vec::new();
    let mut up = Some(root);
    while let Some(dir) = up.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(dir.to_path_buf());
        up = dir.parent();
    }
    let probed = again_if_removed(|| {
        fs::create_dir_all(root)
            .map_err(|e| ReportError::io(root, "create results directory", e))?;
        probe(root)
    })
    .and_then(|()| super::csv_out::check_runs_csv(root));
    // Innermost first; each was empty when made and the probe file is gone.
    for dir in &missing {
        let _ = fs::remove_dir(dir);
    }
    probed
}

fn probe(root: &Path) -> Result<(), ReportError> {
    let probe = root.join(format!(".kprod-write-check-{}", unique_suffix()));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| ReportError::io(root, "create a file in results directory", e))?;
    let written = f.write_all(b"kprod");
    drop(f);
    let removed = fs::remove_file(&probe);
    written.map_err(|e| ReportError::io(&probe, "write", e))?;
    removed.map_err(|e| ReportError::io(&probe, "remove write-check file", e))
}

/// Atomic write: a temp file in the same directory, fsync, rename over `path`, then fsync
/// the directory. Readers see the old content or the new, never a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path
        .file_name()
        .ok_or_else(|| ReportError::invalid(path, "not a file path"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            unique_suffix()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (tmp, f),
            // Left over by a crashed process with a recycled pid: pick another name.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ReportError::io(tmp, "create temporary file", e)),
        }
    };
    // Every result file is written here: a secret that reached any field leaves it here.
    let bytes = crate::domain::scrub_bytes(bytes);
    let result = file
        .write_all(&bytes)
        .map_err(|e| ReportError::io(&tmp, "write temporary file", e))
        .and_then(|()| {
            file.sync_all()
                .map_err(|e| ReportError::io(&tmp, "fsync temporary file", e))
        })
        .and_then(|()| {
            fs::rename(&tmp, path).map_err(|e| ReportError::io(path, "rename into place", e))
        });
    drop(file);
    if result.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Makes the rename itself durable. Some file systems refuse fsync on a directory; the
    // data is already safely renamed, so that is not worth failing the run over.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Unix ms of the run's t0 for the interval log's StartTime: from `started_at`, else from
/// the first interval's wall clock, else 0 (the log stays readable; only the label is lost).
fn start_unix_ms(report: &RunReport) -> u64 {
    let ms = parse_rfc3339_ms(&report.started_at).or_else(|| {
        report
            .intervals
            .first()
            .map(|iv| iv.unix_ms as i64 - (iv.t_s * 1000.0).round() as i64)
    });
    ms.map_or(0, |ms| u64::try_from(ms).unwrap_or(0))
}

/// Writes everything a finished (or interrupted) run leaves in `dir`, each file atomically:
/// `report.json`, `intervals.csv`, `latency.hlog` (corrected latency per interval) and
/// `latency.hgrm` (corrected total); then appends the run to `<root>/runs.csv`.
/// Returns the paths written.
pub fn write_run(
    root: &Path,
    dir: &Path,
    report: &RunReport,
    intervals: &[IntervalHistogram],
    total_corrected: &Histogram<u64>,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::with_capacity(5);

    let path = dir.join(REPORT_FILE);
    let mut json = serde_json::to_vec_pretty(report)
        .map_err(|e| ReportError::invalid(&path, format!("cannot serialise report: {e}")))?;
    json.push(b'\n');
    write_atomic(&path, &json)?;
    written.push(path);

    let run_name = run_id(dir);
    let path = dir.join(INTERVALS_CSV_FILE);
    let csv = intervals_csv(report, &run_name).map_err(|m| ReportError::invalid(&path, m))?;
    write_atomic(&path, &csv)?;
    written.push(path);

    let path = dir.join(HLOG_FILE);
    let mut hlog = Vec::new();
    write_hlog(&mut hlog, start_unix_ms(report), intervals)
        .map_err(|e| ReportError::io(&path, "encode interval log", e))?;
    write_atomic(&path, &hlog)?;
    written.push(path);

    let path = dir.join(HGRM_FILE);
    let mut hgrm = Vec::new();
    write_hgrm(&mut hgrm, total_corrected)
        .map_err(|e| ReportError::io(&path, "format percentile distribution", e))?;
    write_atomic(&path, &hgrm)?;
    written.push(path);

    written.push(append_run(root, &run_name, report)?);
    Ok(written)
}

/// `latency-e2e.hlog` (runs with consumers), atomically, with `latency.hlog`'s base time.
pub fn write_e2e_hlog(
    dir: &Path,
    report: &RunReport,
    intervals: &[IntervalHistogram],
) -> Result<PathBuf, ReportError> {
    let path = dir.join(E2E_HLOG_FILE);
    let mut hlog = Vec::new();
    write_hlog(&mut hlog, start_unix_ms(report), intervals)
        .map_err(|e| ReportError::io(&path, "encode end-to-end interval log", e))?;
    write_atomic(&path, &hlog)?;
    Ok(path)
}

/// A run's id in `runs.csv` and `intervals.csv`: its directory's name.
pub fn run_id(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// Loads a `report.json` (the file, or a run directory containing it), refusing reports
/// whose `schema_version` is missing, zero or newer than this kprod understands.
pub fn load_report(path: &Path) -> Result<RunReport, ReportError> {
    let file = if path.is_dir() {
        path.join(REPORT_FILE)
    } else {
        path.to_path_buf()
    };
    let bytes = fs::read(&file).map_err(|e| ReportError::io(&file, "read report", e))?;
    // serde_json's float_roundtrip feature (Cargo.toml) makes floats come back bit-exactly,
    // so a report read back equals the one written.
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ReportError::invalid(&file, format!("not valid JSON: {e}")))?;
    let version = value
        .get("schema_version")
        .ok_or_else(|| ReportError::invalid(&file, "not a kprod report: no schema_version"))?;
    let found = version.as_u64().ok_or_else(|| {
        ReportError::invalid(
            &file,
            format!("schema_version must be a positive integer, found {version}"),
        )
    })?;
    if found == 0 || found > u64::from(SCHEMA_VERSION) {
        return Err(ReportError::Schema {
            path: file,
            found,
            supported: SCHEMA_VERSION,
        });
    }
    serde_json::from_value(value)
        .map_err(|e| ReportError::invalid(&file, format!("not a valid kprod report: {e}")))
}

/// Writes `value` as pretty JSON with a final newline, atomically (`compare.json`,
/// `sweep.json`).
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), ReportError> {
    let mut json = serde_json::to_vec_pretty(value).map_err(|e| ReportError::Invalid {
        path: path.to_path_buf(),
        message: format!("cannot serialise: {e}"),
    })?;
    json.push(b'\n');
    write_atomic(path, &json)
}

/// Writes a rendered CSV document atomically; a rendering error is reported for `path`.
pub fn write_csv(path: &Path, csv: Result<Vec<u8>, String>) -> Result<(), ReportError> {
    let csv = csv.map_err(|message| ReportError::Invalid {
        path: path.to_path_buf(),
        message,
    })?;
    write_atomic(path, &csv)
}

/// Reads a JSON results file that kprod wrote (`compare.json`, `sweep.json`); `what`
/// names the kind of file in the error when it does not parse.
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> Result<T, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        op: "read",
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::Invalid {
        path: path.to_path_buf(),
        message: format!("not a kprod {what}: {e}"),
    })
}

/// [`read_hlog`] on a file, with errors naming it.
pub fn read_hlog_file(path: &Path) -> Result<(Option<u64>, Vec<IntervalHistogram>), ReportError> {
    let file = File::open(path).map_err(|e| ReportError::io(path, "open interval log", e))?;
    read_hlog(std::io::BufReader::new(file)).map_err(|e| match e {
        ReportError::Hlog { line, message } => ReportError::invalid(
            path,
            match line {
                Some(l) => format!("line {l}: {message}"),
                None => message,
            },
        ),
        other => other,
    })
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
