//! The broker preflight of the binary against other processes: a `kprod cluster` started
//! without `--topic` serves a bench that needs its topic created, and a bootstrap list
//! whose every address refuses connections fails with exit 3 naming them, writing nothing.

mod scale;

use scale::SharedCluster;
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn bench(out: &Path, args: &[&str]) -> Output {
    scale::kprod()
        .args([
            "bench",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--rate",
            "2000",
        ])
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("kprod bench runs")
}

/// Entries of `dir`, none expected: a refused run leaves nothing behind.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kprod_cluster_without_a_topic_serves_the_bench_its_output_suggests() {
    let mut cluster = SharedCluster::start_with(&[]);
    let out = tempfile::tempdir().expect("temp dir");
    // The usage `kprod cluster` prints: only the bootstrap list, the default topic.
    let o = bench(out.path(), &["--brokers", &cluster.bootstrap]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(
        stderr.contains("created topic `kprod-bench` on demand"),
        "the partition count it got is said: {stderr}"
    );
    let dirs = scale::run_dirs(out.path());
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let report = scale::json(&dirs[0].join("report.json"));
    let delivered = report["records"]["delivered"].as_u64().expect("delivered");
    assert!(delivered > 0, "{report}");
    assert_eq!(report["records"]["failed"], 0);
    // The report states the partitions the topic really has (the mock's default).
    let partitions = report["partitions"].as_u64().expect("partitions");
    assert!(partitions > 0);

    // A second run finds the topic and creates nothing.
    let again = bench(out.path(), &["--brokers", &cluster.bootstrap]);
    let (_, stderr) = text(&again);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("on demand"), "{stderr}");

    assert_eq!(
        cluster.stop(),
        Some(0),
        "serving, the first SIGTERM is a clean stop"
    );
}

#[test]
fn every_refusing_address_fails_with_exit_3_naming_them() {
    // Two loopback ports nothing listens on (bound, then released).
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        })
        .collect();
    let brokers = format!("127.0.0.1:{},127.0.0.1:{}", ports[0], ports[1]);
    let out = tempfile::tempdir().expect("temp dir");
    let o = bench(out.path(), &["--brokers", &brokers]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{stderr}\n{stdout}");
    // Only the early end says this; the deadline's end says "no metadata answer".
    assert!(
        stderr.contains("every address refuses connections"),
        "{stderr}"
    );
    for p in &ports {
        assert!(stderr.contains(&format!("127.0.0.1:{p}")), "{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(entries(out.path()), Vec::<String>::new(), "nothing written");
}
