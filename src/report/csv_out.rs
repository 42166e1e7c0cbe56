//! CSV exports derived from the `RunReport` serde model: `intervals.csv` (one row per
//! `report.intervals` entry) and the cross-run index `<root>/runs.csv` (one row per run,
//! appended under a lock file with an atomic rewrite).

use super::files::write_atomic;
use super::{Interval, ReportError, RunReport, Status};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// File name of the cross-run index under the results root.
pub const RUNS_CSV: &str = "runs.csv";

/// One line of `runs.csv`. Column names are the `RunReport` paths they come from, with
/// units, so a spreadsheet needs no legend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsRow {
    /// Run directory name (relative to the results root).
    pub run: String,
    pub started_at: String,
    pub status: Status,
    /// Profile layers joined by '+'.
    pub profile: String,
    pub cluster: String,
    pub records_sent: u64,
    pub records_delivered: u64,
    pub records_failed: u64,
    pub records_unknown: u64,
    pub throughput_records_per_sec: f64,
    pub throughput_bytes_per_sec: f64,
    pub latency_corrected_p50_us: u64,
    pub latency_corrected_p99_us: u64,
    pub latency_corrected_p999_us: u64,
    pub latency_corrected_max_us: u64,
    pub compression_ratio: Option<f64>,
    pub duration_s: f64,
}

impl RunsRow {
    pub fn from_report(run: &str, r: &RunReport) -> Self {
        let c = &r.latency_us.corrected;
        RunsRow {
            run: run.to_string(),
            started_at: r.started_at.clone(),
            status: r.status,
            profile: r.profile.join("+"),
            cluster: r.cluster.clone(),
            records_sent: r.records.sent,
            records_delivered: r.records.delivered,
            records_failed: r.records.failed,
            records_unknown: r.records.unknown,
            throughput_records_per_sec: r.throughput.records_per_sec,
            throughput_bytes_per_sec: r.throughput.bytes_per_sec,
            latency_corrected_p50_us: c.p50,
            latency_corrected_p99_us: c.p99,
            latency_corrected_p999_us: c.p999,
            latency_corrected_max_us: c.max,
            compression_ratio: r.compression_ratio,
            duration_s: r.duration_s,
        }
    }
}

/// The header line (with its newline) csv derives from a record's field names. csv only
/// writes a header together with the first record, so a stand-in record provides it and
/// an empty table still gets its header.
pub(super) fn header_bytes<T: Serialize>(sample: &T) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(sample).map_err(|e| e.to_string())?;
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    Ok(bytes[..end].to_vec())
}

pub(super) fn rows_bytes<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// `intervals.csv`: a header plus one row per `report.intervals` entry.
pub fn intervals_csv(report: &RunReport) -> Result<Vec<u8>, String> {
    let mut out = header_bytes(&Interval::default())?;
    out.extend(rows_bytes(&report.intervals)?);
    Ok(out)
}

/// Appends one row to `<root>/runs.csv`, creating it with a header if missing. The file is
/// rewritten atomically (read, append in memory, write temp, rename) under `runs.csv.lock`
/// so concurrent instances finishing together cannot lose each other's rows.
pub(crate) fn append_run(
    root: &Path,
    run: &str,
    report: &RunReport,
) -> Result<PathBuf, ReportError> {
    let path = root.join(RUNS_CSV);
    let row = RunsRow::from_report(run, report);
    let header = header_bytes(&row).map_err(|m| ReportError::invalid(&path, m))?;
    let line =
        rows_bytes(std::slice::from_ref(&row)).map_err(|m| ReportError::invalid(&path, m))?;

    let _lock = RunsLock::acquire(root.join(format!("{RUNS_CSV}.lock")))?;
    let mut out = match fs::read(&path) {
        Ok(existing) if !existing.is_empty() => {
            same_columns(&path, &existing, &header)?;
            let mut existing = existing;
            if !existing.ends_with(b"\n") {
                existing.push(b'\n');
            }
            existing
        }
        Ok(_) => header,
        Err(e) if e.kind() == ErrorKind::NotFound => header,
        Err(e) => return Err(ReportError::io(&path, "read", e)),
    };
    out.extend_from_slice(&line);
    write_atomic(&path, &out)?;
    Ok(path)
}

/// A runs.csv that exists must start with the header this kprod writes.
fn same_columns(path: &Path, existing: &[u8], header: &[u8]) -> Result<(), ReportError> {
    let first = existing.split(|&b| b == b'\n').next().unwrap_or_default();
    let trim = |b: &[u8]| b.strip_suffix(b"\r").unwrap_or(b).to_vec();
    if trim(first) == trim(header.strip_suffix(b"\n").unwrap_or(header)) {
        return Ok(());
    }
    Err(ReportError::invalid(
        path,
        format!(
            "its columns differ from the ones this kprod writes ({}); move the file aside and \
             kprod starts a new one",
            String::from_utf8_lossy(header.trim_ascii_end())
        ),
    ))
}

/// Checks before t0 that `<root>/runs.csv`, if there, is one this kprod can append to, so
/// a bad or foreign file is found before the run rather than after it.
pub(crate) fn check_runs_csv(root: &Path) -> Result<(), ReportError> {
    let path = root.join(RUNS_CSV);
    let existing = match crate::domain::input::read_bounded(&path) {
        Ok(b) => b,
        Err(crate::domain::input::InputError::Missing) => return Ok(()),
        // Larger than the input cap: only its first line matters.
        Err(crate::domain::input::InputError::TooLarge(_)) => {
            let mut first = Vec::new();
            let f = fs::File::open(&path).map_err(|e| ReportError::io(&path, "read", e))?;
            std::io::BufRead::read_until(&mut std::io::BufReader::new(f), b'\n', &mut first)
                .map_err(|e| ReportError::io(&path, "read", e))?;
            first
        }
        Err(e) => return Err(ReportError::invalid(&path, format!("it {e}"))),
    };
    if existing.is_empty() {
        return Ok(());
    }
    // Only the column names matter; the header is serialized from the same struct.
    let sample = RunsRow {
        run: String::new(),
        started_at: String::new(),
        status: Status::Complete,
        profile: String::new(),
        cluster: String::new(),
        records_sent: 0,
        records_delivered: 0,
        records_failed: 0,
        records_unknown: 0,
        throughput_records_per_sec: 0.0,
        throughput_bytes_per_sec: 0.0,
        latency_corrected_p50_us: 0,
        latency_corrected_p99_us: 0,
        latency_corrected_p999_us: 0,
        latency_corrected_max_us: 0,
        compression_ratio: None,
        duration_s: 0.0,
    };
    let header = header_bytes(&sample).map_err(|m| ReportError::invalid(&path, m))?;
    same_columns(&path, &existing, &header)
}

/// Exclusive lock on runs.csv: a file created with `create_new`, removed on drop.
struct RunsLock {
    path: PathBuf,
}

/// A lock older than this was left by a crashed process (an append takes milliseconds).
const STALE_LOCK: Duration = Duration::from_secs(60);
const LOCK_WAIT: Duration = Duration::from_secs(15);

impl RunsLock {
    fn acquire(path: PathBuf) -> Result<Self, ReportError> {
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(RunsLock { path }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        // Another waiter may remove it first; either way, retry creation.
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if Instant::now() >= deadline {
                        return Err(ReportError::invalid(
                            &path,
                            "another kprod is updating runs.csv (lock held); if none is \
                             running, delete this lock file",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(ReportError::io(&path, "create lock file", e)),
            }
        }
    }
}

impl Drop for RunsLock {
    fn drop(&mut self) {
        // Nothing useful to do on failure: a leftover lock is broken as stale later.
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::sample_report;

    #[test]
    fn intervals_csv_has_header_and_one_row_per_interval() {
        let report = sample_report();
        let bytes = intervals_csv(&report).expect("csv");
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        let headers = rdr.headers().expect("headers").clone();
        assert_eq!(&headers[0], "t_s");
        assert!(headers.iter().any(|h| h == "p99_us"));
        let rows: Vec<Interval> = rdr.deserialize().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows, report.intervals);
    }

    #[test]
    fn intervals_csv_of_no_intervals_is_just_the_header() {
        let mut report = sample_report();
        report.intervals.clear();
        let text = String::from_utf8(intervals_csv(&report).expect("csv")).expect("utf-8");
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("t_s,unix_ms,in_warmup,"));
    }

    #[test]
    fn runs_row_quotes_bootstrap_lists() {
        let mut report = sample_report();
        report.cluster = "a:9092,b:9092".to_string();
        let row = RunsRow::from_report("r1", &report);
        let mut bytes = header_bytes(&row).expect("header");
        bytes.extend(rows_bytes(std::slice::from_ref(&row)).expect("row"));
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        let back: Vec<RunsRow> = rdr.deserialize().collect::<Result<_, _>>().expect("rows");
        assert_eq!(back, vec![row]);
    }

    #[test]
    fn runs_csv_refuses_foreign_header() {
        let root = tempfile::tempdir().expect("tempdir");
        fs::write(root.path().join(RUNS_CSV), "a,b\n1,2\n").expect("seed");
        let err = append_run(root.path(), "r", &sample_report()).expect_err("foreign header");
        assert!(err.to_string().contains("columns differ"), "{err}");
        // The existing file is untouched and the lock released.
        assert_eq!(
            fs::read_to_string(root.path().join(RUNS_CSV)).expect("read"),
            "a,b\n1,2\n"
        );
        assert!(!root.path().join("runs.csv.lock").exists());
    }
}
