//! Results written while the run goes. The run directory is created once the producers
//! are ready (after validation and the cluster preflight, before t0), and `intervals.csv`
//! grows by one row per finished second, so a crash or a second Ctrl-C keeps every
//! interval measured so far. At the end `write_run` replaces it atomically with the final
//! file. A run that fails before t0 never calls [`LiveWriter::ready`]: no directory.

use super::csv_out::{intervals_header, rows_bytes};
use super::files::{create_run_dir, INTERVALS_CSV_FILE};
use super::ReportError;
use crate::domain::{MergedInterval, Observer};
use crate::error::KprodError;
use crate::faults::FaultSpec;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct LiveWriter {
    root: PathBuf,
    label: String,
    warmup_s: f64,
    faults: Vec<FaultSpec>,
    fire_and_forget: bool,
    /// The stage curve, for each row's `stage`.
    stages: Vec<crate::profile::stages::Piece>,
    dir: Option<PathBuf>,
    /// The run directory's name, each row's `run_id`.
    run_id: Option<String>,
    file: Option<File>,
    start_unix_ms: u64,
    /// The first failed append; later rows are not attempted (the final write reports it).
    error: Option<ReportError>,
}

impl LiveWriter {
    pub fn new(
        root: &Path,
        label: &str,
        warmup: Duration,
        faults: &[FaultSpec],
        fire_and_forget: bool,
    ) -> Self {
        LiveWriter {
            root: root.to_path_buf(),
            label: label.to_string(),
            warmup_s: warmup.as_secs_f64(),
            faults: faults.to_vec(),
            fire_and_forget,
            stages: Vec::new(),
            dir: None,
            run_id: None,
            file: None,
            start_unix_ms: 0,
            error: None,
        }
    }

    /// Rows carry the index of the load stage of each second.
    pub fn with_stages(
        mut self,
        stages: &[crate::profile::Stage],
        duration: Option<Duration>,
    ) -> Self {
        self.stages = super::stages::run_pieces(stages, duration);
        self
    }

    /// The run directory, once the run got as far as t0.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Why live rows stopped being written, if they did.
    pub fn error(&self) -> Option<&ReportError> {
        self.error.as_ref()
    }

    fn append(&mut self, bytes: &[u8]) {
        if let (Some(f), None) = (&mut self.file, &self.error) {
            if let Err(e) = f.write_all(bytes) {
                let path = self
                    .dir
                    .as_deref()
                    .unwrap_or(&self.root)
                    .join(INTERVALS_CSV_FILE);
                self.error = Some(ReportError::io(path, "append to", e));
            }
        }
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Observer for LiveWriter {
    fn ready(&mut self) -> Result<(), KprodError> {
        let dir = create_run_dir(&self.root, SystemTime::now(), &self.label)?;
        let path = dir.join(INTERVALS_CSV_FILE);
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| ReportError::io(&path, "create", e))?;
        self.run_id = Some(super::files::run_id(&dir));
        self.dir = Some(dir);
        self.file = Some(file);
        let header = intervals_header().map_err(|m| ReportError::invalid(&path, m))?;
        self.append(&header);
        Ok(())
    }

    fn started(&mut self, _cluster: &str) {
        self.start_unix_ms = unix_ms(SystemTime::now());
    }

    fn interval(&mut self, i: &MergedInterval, _elapsed: Duration) {
        let mut row = super::build::interval_row(
            i,
            self.start_unix_ms,
            self.warmup_s,
            &self.faults,
            self.fire_and_forget,
            &self.stages,
        );
        row.run_id.clone_from(&self.run_id);
        match rows_bytes(std::slice::from_ref(&row)) {
            Ok(bytes) => self.append(&bytes),
            Err(m) => {
                let path = self.root.join(INTERVALS_CSV_FILE);
                self.error.get_or_insert(ReportError::invalid(path, m));
            }
        }
    }
}
