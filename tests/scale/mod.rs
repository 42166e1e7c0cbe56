//! Helpers of the scale-out tests (instances, merge, metrics, the shared cluster): the
//! kprod binary as separate processes, and readers of run files that share no code with
//! kprod's own readers.
#![allow(dead_code)]

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The kprod binary, with no instance settings leaking in from the environment.
pub fn kprod() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kprod"));
    c.env_remove("KPROD_INSTANCE")
        .env_remove("JOB_COMPLETION_INDEX")
        .stdin(Stdio::null());
    c
}

/// `kprod cluster` as its own process; SIGTERM and a wait when dropped.
pub struct SharedCluster {
    pub child: Child,
    pub bootstrap: String,
}

impl SharedCluster {
    pub fn start(topic: &str, partitions: u32) -> SharedCluster {
        Self::start_with(&["--topic", topic, "--partitions", &partitions.to_string()])
    }

    /// `kprod cluster --mock-brokers 3` with `args` (none: no topic created up front).
    pub fn start_with(args: &[&str]) -> SharedCluster {
        let mut child = kprod()
            .args(["cluster", "--mock-brokers", "3"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kprod cluster");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        // Ends with the process if it fails to start: no hang.
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the bootstrap line");
        let bootstrap = line
            .trim()
            .strip_prefix("bootstrap: ")
            .unwrap_or_else(|| panic!("first stdout line is not `bootstrap: ...`: {line:?}"))
            .to_string();
        assert!(
            bootstrap.split(',').all(|b| b.starts_with("127.0.0.1:")),
            "the cluster must listen on loopback only: {bootstrap}"
        );
        SharedCluster { child, bootstrap }
    }

    /// SIGTERM, then the exit code (the process is killed if it takes over a minute).
    pub fn stop(&mut self) -> Option<i32> {
        terminate(&mut self.child)
    }
}

impl Drop for SharedCluster {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            terminate(&mut self.child);
        }
    }
}

/// SIGTERM to our own child, then its exit code; SIGKILL after a minute.
pub fn terminate(child: &mut Child) -> Option<i32> {
    let pid = i32::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped yet.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Run directories (those holding report.json) directly under `root`, sorted.
pub fn run_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("read results root")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("report.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Standard base64, written here so the test does not read files with kprod's own code.
pub fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// One histogram of a run's `totals.json` (`corrected`, `uncorrected`, ...).
pub fn totals_histogram(dir: &Path, name: &str) -> Histogram<u64> {
    let t = json(&dir.join("totals.json"));
    let text = t["histograms"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no histograms.{name}", dir.display()));
    let bytes = base64_decode(text);
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .expect("V2 + DEFLATE histogram")
}

/// The interval histograms of a run's `latency.hlog`, read with hdrhistogram's own parser.
pub fn hlog_histograms(dir: &Path) -> Vec<Histogram<u64>> {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let bytes = std::fs::read(dir.join("latency.hlog")).expect("read latency.hlog");
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(ilh) = entry.expect("interval log line") {
            let raw = base64_decode(ilh.encoded_histogram());
            out.push(
                Deserializer::new()
                    .deserialize(&mut raw.as_slice())
                    .expect("histogram"),
            );
        }
    }
    out
}
