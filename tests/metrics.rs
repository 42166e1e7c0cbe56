//! `--metrics-addr`: a scrape during a run sees the counters move; the scrape once the run
//! has finished (`kprod_run_finished 1`, kept up by `--metrics-linger`) equals report.json.

mod scale;

use kprod::report::{load_report, RunReport};
use scale::{kprod, run_dirs, terminate};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Starts `kprod bench ARGS --metrics-addr 127.0.0.1:0 --metrics-linger 2m` and returns the
/// child with the address it printed.
fn start(out: &std::path::Path, args: &[&str]) -> (Child, SocketAddr) {
    let mut child = kprod()
        .args(["bench", "--quiet", "--metrics-addr", "127.0.0.1:0"])
        .args(["--metrics-linger", "2m", "--out"])
        .arg(out)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bench");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line
                .strip_prefix("kprod: metrics at http://")
                .and_then(|l| l.strip_suffix("/metrics"))
            {
                let _ = tx.send(a.to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the metrics address on stderr");
    (child, addr.parse().expect("socket address"))
}

/// One scrape: (sample name with labels, value).
fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: kprod\r\n\r\n")
        .expect("request");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("response");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("application/openmetrics-text"), "{head}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().expect("number")))
        .collect()
}

/// The value of the one sample whose name (before the labels) is `name`.
fn value(m: &BTreeMap<String, f64>, name: &str) -> f64 {
    let hits: Vec<f64> = m
        .iter()
        .filter(|(k, _)| k.split('{').next() == Some(name))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(hits.len(), 1, "one sample named {name}");
    hits[0]
}

/// Scrapes until the run has finished; returns every scrape.
fn scrape_until_finished(addr: SocketAddr) -> Vec<BTreeMap<String, f64>> {
    let mut all = Vec::new();
    // Bounded: the run lasts seconds; 3000 scrapes at 100 ms is five minutes.
    for _ in 0..3000 {
        let m = scrape(addr);
        let done = value(&m, "kprod_run_finished") == 1.0;
        all.push(m);
        if done {
            return all;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the run never finished");
}

fn finish(mut child: Child, out: &std::path::Path) -> RunReport {
    // SIGTERM ends the linger early; the exit code is still the finished run's.
    let code = terminate(&mut child);
    let dirs = run_dirs(out);
    let r = load_report(&dirs[0]).expect("report");
    assert_eq!(code, Some(kprod::commands::bench::exit_code(&r)));
    r
}

#[test]
fn counters_move_during_the_run_and_the_final_scrape_equals_the_report() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (child, addr) = start(
        tmp.path(),
        &[
            "--rate",
            "2000",
            "--duration",
            "4s",
            "--warmup",
            "1s",
            "--profile",
            "durable",
        ],
    );
    let scrapes = scrape_until_finished(addr);
    let fin = scrapes.last().expect("a scrape").clone();
    let r = finish(child, tmp.path());

    // Counters never go backwards, and the run was seen moving before it finished.
    let sent: Vec<f64> = scrapes
        .iter()
        .map(|m| value(m, "kprod_records_sent_total"))
        .collect();
    assert!(sent.windows(2).all(|w| w[0] <= w[1]), "{sent:?}");
    let during: BTreeSet<u64> = scrapes[..scrapes.len() - 1]
        .iter()
        .map(|m| value(m, "kprod_records_sent_total") as u64)
        .filter(|&v| v > 0)
        .collect();
    assert!(
        during.len() >= 2,
        "counters seen during the run: {during:?}"
    );

    // The final scrape is the report.
    assert_eq!(
        value(&fin, "kprod_records_sent_total") as u64,
        r.records.sent
    );
    assert_eq!(
        value(&fin, "kprod_records_delivered_total") as u64,
        r.records.delivered
    );
    assert_eq!(
        value(&fin, "kprod_records_failed_total") as u64,
        r.records.failed
    );
    assert_eq!(
        value(&fin, "kprod_records_unknown_total") as u64,
        r.records.unknown
    );
    assert_eq!(value(&fin, "kprod_target_records_per_second"), 2000.0);
    assert!(value(&fin, "kprod_latency_seconds_count") > 0.0);
    let labels = r#"profile="durable",kprod_instance="0",kprod_instances="1""#;
    assert!(fin.keys().all(|k| k.contains(labels)), "{fin:?}");
    assert!(fin
        .keys()
        .any(|k| k.starts_with("kprod_latency_seconds{") && k.contains("quantile=\"0.99\"")));
    assert!(fin
        .keys()
        .any(|k| k.starts_with("kprod_interval_latency_seconds{")));
}

#[test]
fn failures_by_error_name_reach_the_final_scrape() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Every record is larger than the broker allows: each one fails at enqueue.
    let (child, addr) = start(
        tmp.path(),
        &[
            "--records",
            "200",
            "--warmup",
            "0s",
            "--rate",
            "400",
            "--size",
            "2KiB",
            "-X",
            "message.max.bytes=1000",
        ],
    );
    let fin = scrape_until_finished(addr).pop().expect("scrape");
    let r = finish(child, tmp.path());
    assert!(r.records.failed > 0);
    assert_eq!(
        value(&fin, "kprod_records_failed_total") as u64,
        r.records.failed
    );
    let by_error: BTreeMap<String, u64> = fin
        .iter()
        .filter(|(k, _)| k.starts_with("kprod_records_failed_by_error_total{"))
        .map(|(k, v)| {
            let name = k
                .split("error=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("error label");
            (name.to_string(), *v as u64)
        })
        .collect();
    assert_eq!(by_error, r.errors);
}

#[test]
fn a_non_loopback_address_needs_an_explicit_flag() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let o = kprod()
        .args([
            "bench",
            "--quiet",
            "--records",
            "10",
            "--warmup",
            "0s",
            "--metrics-addr",
            "0.0.0.0:0",
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--metrics-addr") && err.contains("--metrics-allow-remote"),
        "{err}"
    );
    let o = kprod()
        .args([
            "bench",
            "--quiet",
            "--records",
            "10",
            "--warmup",
            "0s",
            "--metrics-linger",
            "5s",
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--metrics-linger"));
}
