//! Result safety of the binary: SIGINT / SIGTERM end a run with a partial report marked
//! interrupted (exit 130), a second signal exits at once, a signal before t0 exits 130 at
//! once writing nothing, a crash keeps the intervals measured so far, and closed stdout /
//! stderr pipes are not errors.

use rdkafka::mocking::MockCluster;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Generous bound for a child to finish after the test asked it to; reaching it fails the
/// test instead of hanging CI. Never an assertion about how fast kprod is.
const WATCHDOG: Duration = Duration::from_secs(120);

fn spawn(out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kprod"))
        .args(["bench", "--warmup", "0s", "--rate", "2000", "--out"])
        .arg(out)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kprod starts")
}

/// Stderr lines as they come, on a channel.
fn lines(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a stderr line starting with `prefix`; the progress line of second N is
/// `[   Ns]`, printed once that second's interval is final (and written to intervals.csv).
fn wait_for(rx: &mpsc::Receiver<String>, prefix: &str) {
    loop {
        match rx.recv_timeout(WATCHDOG) {
            Ok(l) if l.starts_with(prefix) => return,
            Ok(_) => {}
            Err(e) => panic!("no stderr line starting with {prefix:?}: {e}"),
        }
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill failed");
}

fn wait(mut child: Child) -> (ExitStatus, String) {
    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout piped");
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        let _ = tx.send(s);
    });
    let stdout = match rx.recv_timeout(WATCHDOG) {
        Ok(s) => s,
        Err(_) => {
            let _ = child.kill();
            panic!("kprod did not finish");
        }
    };
    (child.wait().expect("wait"), stdout)
}

/// The run directories under `out`.
fn run_dirs(out: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(out)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).expect("intervals.csv opens");
    r.records()
        .collect::<Result<_, _>>()
        .expect("every row parses")
}

#[test]
fn sigint_and_sigterm_stop_the_run_with_an_interrupted_report() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let out = tempfile::tempdir().expect("temp dir");
        let mut child = spawn(out.path(), &["--duration", "10m"]);
        let rx = lines(child.stderr.take().expect("stderr piped"));
        wait_for(&rx, "[   2s]");
        // The run directory exists from t0 and intervals.csv already holds its rows.
        let dirs = run_dirs(out.path());
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        let live = csv_rows(&dirs[0].join("intervals.csv"));
        assert!(
            live.len() >= 2,
            "intervals appended as the run goes: {live:?}"
        );
        assert!(!dirs[0].join("report.json").exists());

        signal(&child, sig);
        let (status, stdout) = wait(child);
        assert_eq!(status.code(), Some(130), "signal {sig}: {stdout}");
        assert!(stdout.contains("INTERRUPTED"), "{stdout}");
        let report: kprod::report::RunReport =
            kprod::report::load_report(&dirs[0]).expect("the partial report is written");
        assert_eq!(report.status, kprod::report::Status::Interrupted);
        let r = &report.records;
        assert!(r.identity_holds, "{r:?}");
        assert_eq!(r.sent, r.delivered + r.failed + r.unknown);
        assert!(r.sent > 0 && r.sent < 2000 * 600, "stopped early: {r:?}");
        // The final intervals.csv replaced the live one and matches the report.
        let rows = csv_rows(&dirs[0].join("intervals.csv"));
        assert_eq!(rows.len(), report.intervals.len());
        assert!(out.path().join("runs.csv").is_file());
    }
}

#[test]
fn a_second_signal_exits_at_once_without_a_report() {
    let mock = MockCluster::new(3).expect("mock cluster");
    mock.create_topic("sig2", 3, 3).expect("topic");
    let brokers = mock.bootstrap_servers();
    let out = tempfile::tempdir().expect("temp dir");
    let mut child = spawn(
        out.path(),
        &[
            "--duration",
            "10m",
            "--brokers",
            &brokers,
            "--topic",
            "sig2",
        ],
    );
    let rx = lines(child.stderr.take().expect("stderr piped"));
    wait_for(&rx, "[   1s]");
    // With every broker down the first signal's flush has records to wait for.
    mock.broker_down(-1).expect("brokers down");
    signal(&child, libc::SIGINT);
    wait_for(&rx, "kprod: stopping");
    signal(&child, libc::SIGINT);
    let (status, _) = wait(child);
    assert_eq!(status.code(), Some(130));
    let dirs = run_dirs(out.path());
    assert_eq!(dirs.len(), 1);
    assert!(
        !dirs[0].join("report.json").exists(),
        "the second signal skips the flush and the report"
    );
    assert!(!csv_rows(&dirs[0].join("intervals.csv")).is_empty());
}

#[test]
fn a_killed_run_keeps_the_intervals_measured_so_far() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut child = spawn(out.path(), &["--duration", "10m"]);
    let rx = lines(child.stderr.take().expect("stderr piped"));
    wait_for(&rx, "[   3s]");
    signal(&child, libc::SIGKILL);
    let (status, _) = wait(child);
    assert_eq!(status.code(), None, "killed");
    let dirs = run_dirs(out.path());
    assert_eq!(dirs.len(), 1);
    let rows = csv_rows(&dirs[0].join("intervals.csv"));
    assert!(rows.len() >= 3, "{rows:?}");
    let delivered: u64 = rows
        .iter()
        .map(|r| r[4].parse::<u64>().expect("delivered column"))
        .sum();
    assert!(delivered > 0);
}

fn finishes_with_closed(stream: &str) {
    let out = tempfile::tempdir().expect("temp dir");
    let mut child = spawn(out.path(), &["--duration", "2s"]);
    // Like `kprod bench ... | head -0`: the reader is gone before kprod writes.
    match stream {
        "stdout" => drop(child.stdout.take()),
        _ => drop(child.stderr.take()),
    }
    let status = {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        rx.recv_timeout(WATCHDOG)
            .expect("kprod finishes")
            .expect("wait")
    };
    assert_eq!(status.status.code(), Some(0), "closed {stream}");
    let dirs = run_dirs(out.path());
    assert_eq!(dirs.len(), 1);
    let report = kprod::report::load_report(&dirs[0]).expect("report written");
    assert_eq!(report.status, kprod::report::Status::Complete);
    assert!(report.records.identity_holds);
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    finishes_with_closed("stdout");
}

#[test]
fn a_closed_stderr_pipe_is_not_an_error() {
    finishes_with_closed("stderr");
}

/// Before t0 nothing has been measured: the first signal exits 130 at once and writes
/// nothing. The broker here accepts the connection and never answers, so without the
/// signal the preflight would end with exit 3 ("no metadata answer") at its deadline.
#[test]
fn a_signal_during_the_preflight_exits_130_writing_nothing() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let brokers = silent.local_addr().expect("addr").to_string();
        let out = tempfile::tempdir().expect("temp dir");
        let mut child = spawn(out.path(), &["--duration", "10m", "--brokers", &brokers]);
        let rx = lines(child.stderr.take().expect("stderr piped"));
        // The client's connection proves kprod is in the preflight, handler installed.
        let (tx, accepted) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(silent.accept().map(|(s, _)| s));
        });
        let _conn = accepted
            .recv_timeout(WATCHDOG)
            .expect("kprod connects to the broker")
            .expect("accept");
        signal(&child, sig);
        let (status, stdout) = wait(child);
        // Ends at the child's stderr EOF.
        let stderr: Vec<String> = rx.iter().collect();
        assert_eq!(
            status.code(),
            Some(130),
            "signal {sig}: {stderr:?} {stdout}"
        );
        assert!(
            stderr.iter().any(|l| l.contains("before any run started")),
            "{stderr:?}"
        );
        assert!(
            !stderr.iter().any(|l| l.contains("cannot reach")),
            "{stderr:?}"
        );
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            std::fs::read_dir(out.path()).expect("out").next().is_none(),
            "nothing written"
        );
    }
}
