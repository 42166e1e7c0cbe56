//! CSV exports derived from the `RunReport` serde model: `intervals.csv` (one row per
//! `report.intervals` entry) and the cross-run index `<root>/runs.csv` (one row per run,
//! appended under a lock file with an atomic rewrite). Columns are only ever appended; a
//! `runs.csv` written by an older kprod (its header a prefix of today's) is renamed to
//! `runs-v1.csv` and a new one started, so no file mixes row shapes.

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
    // Appended after the first release's columns, so positional readers keep theirs.
    /// None = unlimited.
    pub target_records_per_sec: Option<f64>,
    pub producers: u32,
    /// Value size: bytes when fixed, else the distribution (`uniform:1..1024`).
    pub size: String,
    pub codec: String,
    /// librdkafka's `acks` as the producers used it (`all`, `1`, `0`).
    pub acks: String,
    pub idempotence: Option<bool>,
    pub send_mode: String,
    /// `--name`, empty when none was given.
    pub name: String,
}

/// The first release's column count: a `runs.csv` with exactly these columns is renamed
/// aside rather than refused.
const V1_COLUMNS: usize = 17;

/// `workload.size` of the resolved profile as one short cell.
fn size_cell(profile: &serde_json::Value) -> String {
    // Per-topic sizes: the share-weighted mean when all are fixed, else "per-topic".
    if let Some((b, true)) = super::topics::fixed_record_bytes(profile) {
        return format!("{b:.0}");
    }
    if super::topics::has_topic_sizes(profile) {
        return "per-topic".into();
    }
    let size = &profile["workload"]["size"];
    if let Some(b) = size["bytes"].as_u64() {
        return b.to_string();
    }
    let kind = size["kind"].as_str().unwrap_or_default();
    match (size["min"].as_u64(), size["max"].as_u64()) {
        (Some(lo), Some(hi)) => format!("{kind}:{lo}..{hi}"),
        _ => kind.to_string(),
    }
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
            target_records_per_sec: r.throughput.target_records_per_sec,
            producers: r.producers,
            size: size_cell(&r.config.profile),
            codec: r.config.profile["compression"]["codec"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            acks: r.config.librdkafka.get("acks").cloned().unwrap_or_default(),
            idempotence: r
                .config
                .librdkafka
                .get("enable.idempotence")
                .map(|v| v == "true"),
            send_mode: r.send_mode.clone(),
            name: r.name.clone().unwrap_or_default(),
        }
    }

    /// A row whose only use is to name the columns.
    fn sample() -> Self {
        RunsRow {
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
            target_records_per_sec: None,
            producers: 0,
            size: String::new(),
            codec: String::new(),
            acks: String::new(),
            idempotence: None,
            send_mode: String::new(),
            name: String::new(),
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

/// `intervals.csv`: a header plus one row per `report.intervals` entry, each carrying
/// `run_id` (the run directory's name).
pub fn intervals_csv(report: &RunReport, run_id: &str) -> Result<Vec<u8>, String> {
    let mut out = intervals_header()?;
    let rows: Vec<Interval> = report
        .intervals
        .iter()
        .map(|i| Interval {
            run_id: Some(run_id.to_string()),
            ..i.clone()
        })
        .collect();
    out.extend(rows_bytes(&rows)?);
    Ok(out)
}

/// The header of `intervals.csv`: `run_id` is left out of report.json when unset, so the
/// sample that names the columns sets it.
pub(super) fn intervals_header() -> Result<Vec<u8>, String> {
    header_bytes(&Interval {
        run_id: Some(String::new()),
        ..Interval::default()
    })
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
        Ok(existing) if !existing.is_empty() && older_columns(&existing, &header) => {
            retire_v1(root, &path)?;
            header
        }
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

/// The header line of `bytes`, without its line ending.
fn first_line(bytes: &[u8]) -> &[u8] {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    first.strip_suffix(b"\r").unwrap_or(first)
}

/// Whether `existing` is a runs.csv of the first release: exactly its 17 columns, the
/// start of today's header.
fn older_columns(existing: &[u8], header: &[u8]) -> bool {
    let old = first_line(existing);
    let new = first_line(header);
    old.split(|&b| b == b',').count() == V1_COLUMNS
        && new.starts_with(old)
        && new.get(old.len()) == Some(&b',')
}

/// Renames an older kprod's runs.csv to `runs-v1.csv` (`runs-v1-2.csv`, ... if taken), so
/// the new file starts with today's header and the old rows stay as they were.
fn retire_v1(root: &Path, path: &Path) -> Result<(), ReportError> {
    for n in 1..=1000u32 {
        let name = match n {
            1 => "runs-v1.csv".to_string(),
            n => format!("runs-v1-{n}.csv"),
        };
        let to = root.join(name);
        // A hard link fails when the name exists, so an earlier retired file is never
        // replaced; the original is removed only once the link stands.
        match fs::hard_link(path, &to) {
            Ok(()) => {
                return fs::remove_file(path)
                    .map_err(|e| ReportError::io(path, "remove after renaming to runs-v1.csv", e))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ReportError::io(to, "rename the older runs.csv to", e)),
        }
    }
    Err(ReportError::invalid(
        path,
        "1000 older runs-v1-N.csv files exist; move them aside",
    ))
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
    let header = header_bytes(&RunsRow::sample()).map_err(|m| ReportError::invalid(&path, m))?;
    if older_columns(&existing, &header) {
        return Ok(()); // renamed aside when the run appends its row
    }
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
        let bytes = intervals_csv(&report, "20260101T000000Z-durable").expect("csv");
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        let headers = rdr.headers().expect("headers").clone();
        assert_eq!(&headers[0], "t_s");
        // New columns go before `fault`, which stays last for positional readers.
        let names: Vec<&str> = headers.iter().collect();
        assert_eq!(
            names[names.len() - 15..],
            [
                "length_s",
                "partial",
                "p999_us",
                "run_id",
                "stage",
                "mean_us",
                "breakdown_queue_wait_us",
                "breakdown_inflight_wait_us",
                "breakdown_broker_rtt_us",
                "breakdown_throttle_us",
                "consumed",
                "consumed_per_sec",
                "consumer_lag",
                "e2e_p99_us",
                "fault"
            ]
        );
        let rows: Vec<Interval> = rdr.deserialize().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows.len(), report.intervals.len());
        for (row, want) in rows.iter().zip(&report.intervals) {
            assert_eq!(row.run_id.as_deref(), Some("20260101T000000Z-durable"));
            assert_eq!(row.p999_us, want.p999_us);
            assert_ne!(row.p999_us, 0, "the sample's p99.9 reaches the file");
            assert_eq!(
                &Interval {
                    run_id: None,
                    ..row.clone()
                },
                want
            );
        }
    }

    #[test]
    fn intervals_csv_of_no_intervals_is_just_the_header() {
        let mut report = sample_report();
        report.intervals.clear();
        let text = String::from_utf8(intervals_csv(&report, "r").expect("csv")).expect("utf-8");
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

    #[test]
    fn a_first_release_runs_csv_is_renamed_aside_not_mixed() {
        let root = tempfile::tempdir().expect("tempdir");
        let full = header_bytes(&RunsRow::sample()).expect("header");
        let full = String::from_utf8(full).expect("utf-8");
        let cols: Vec<&str> = full.trim_end().split(',').collect();
        assert_eq!(cols.len(), V1_COLUMNS + 8);
        assert_eq!(
            cols[V1_COLUMNS..],
            [
                "target_records_per_sec",
                "producers",
                "size",
                "codec",
                "acks",
                "idempotence",
                "send_mode",
                "name"
            ]
        );
        let old = format!("{}\nr0,old row\n", cols[..V1_COLUMNS].join(","));
        let path = root.path().join(RUNS_CSV);
        fs::write(&path, &old).expect("seed");
        check_runs_csv(root.path()).expect("an older header is accepted before the run");
        // An earlier retired file is never replaced.
        fs::write(root.path().join("runs-v1.csv"), "earlier\n").expect("seed v1");
        append_run(root.path(), "r1", &sample_report()).expect("appends");
        assert_eq!(
            fs::read_to_string(root.path().join("runs-v1-2.csv")).expect("renamed"),
            old
        );
        assert_eq!(
            fs::read_to_string(root.path().join("runs-v1.csv")).expect("kept"),
            "earlier\n"
        );
        let new = fs::read_to_string(&path).expect("new runs.csv");
        let mut rdr = csv::Reader::from_reader(new.as_bytes());
        let rows: Vec<RunsRow> = rdr.deserialize().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "nightly");
        assert_eq!(rows[0].target_records_per_sec, Some(10_000.0));
        assert_eq!(
            (rows[0].producers, rows[0].send_mode.as_str()),
            (2, "callback")
        );
    }
}
