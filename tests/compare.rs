//! `kprod compare`: variants differ only where asked, compression shows on a compressible
//! payload, runs are interleaved with their own directories, and the files, charts and
//! `kprod report` re-rendering all agree. One comparison (none, lz4, zstd; 2 repeats of
//! 1.5 s) is shared by every test here.

mod outputs;

use kprod::charts;
use kprod::cli::Command;
use kprod::commands::{compare, report_cmd};
use kprod::engine::Silent;
use kprod::report::{load_report, RunReport};
use outputs::{command, cwd, fixture_dir, Svg};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Fixture {
    result: compare::CompareResult,
    dir: PathBuf,
    reports: Vec<RunReport>,
    root: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = fixture_dir();
        let out = root.to_str().unwrap().to_string();
        let Command::Compare(args) = command(&[
            "compare",
            "none",
            "lz4",
            "zstd",
            "--repeat",
            "2",
            "--duration",
            "1500ms",
            "--warmup",
            "500ms",
            "--rate",
            "2k",
            "--quiet",
            "--out",
            &out,
        ]) else {
            unreachable!()
        };
        let o = compare::execute(&args, &cwd(), Some(&mut Silent)).expect("compare runs");
        assert_eq!(o.exit_code(), 0);
        Fixture {
            result: o.result,
            dir: o.dir,
            reports: o.reports,
            root,
        }
    })
}

fn run_of<'a>(f: &'a Fixture, variant: &str, repeat: u32) -> &'a RunReport {
    let vi = f.result.variants.iter().position(|v| v == variant).unwrap();
    let k = f
        .result
        .runs
        .iter()
        .position(|r| r.variant == vi && r.repeat == repeat)
        .unwrap();
    &f.reports[k]
}

/// Keys whose values differ between two runs' effective librdkafka properties.
fn differing_properties(a: &RunReport, b: &RunReport) -> BTreeSet<String> {
    let keys: BTreeSet<&String> = a
        .config
        .librdkafka
        .keys()
        .chain(b.config.librdkafka.keys())
        .collect();
    keys.into_iter()
        .filter(|k| a.config.librdkafka.get(*k) != b.config.librdkafka.get(*k))
        // Each embedded cluster listens on fresh ephemeral ports.
        .filter(|k| *k != "bootstrap.servers")
        .cloned()
        .collect()
}

#[test]
fn variants_differ_only_in_their_compression_properties() {
    let f = fixture();
    let (none, lz4, zstd) = (
        run_of(f, "none", 1),
        run_of(f, "lz4", 1),
        run_of(f, "zstd", 1),
    );
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        differing_properties(lz4, zstd),
        set(&["compression.codec", "compression.level"]),
        "lz4 vs zstd"
    );
    assert_eq!(differing_properties(none, lz4), set(&["compression.codec"]));
    assert_eq!(lz4.config.librdkafka["compression.codec"], "lz4");
    assert_eq!(zstd.config.librdkafka["compression.codec"], "zstd");
    // Same workload: topic layout, seed, rate and record size.
    for r in [lz4, zstd] {
        assert_eq!(
            r.config.profile["workload"],
            none.config.profile["workload"]
        );
        assert_eq!(r.partitions, none.partitions);
        assert_eq!(r.topic, none.topic);
    }
    // The repeat of a variant runs exactly the same properties.
    assert!(differing_properties(lz4, run_of(f, "lz4", 2)).is_empty());
}

#[test]
fn compressible_payload_compresses_with_lz4_and_zstd_but_not_none() {
    let f = fixture();
    let row = f
        .result
        .figures
        .iter()
        .find(|r| r.figure == "compression_ratio")
        .unwrap();
    let median = |i: usize| row.variants[i].median.expect("compression ratio measured");
    assert!((0.9..=1.1).contains(&median(0)), "none: {}", median(0));
    assert!(median(1) > 1.3, "lz4: {}", median(1));
    assert!(median(2) > 1.3, "zstd: {}", median(2));
    // The ratio column is each median over the first variant's.
    let ratio = row.variants[2].ratio_to_first.unwrap();
    assert!((ratio - median(2) / median(0)).abs() < 1e-9);
}

#[test]
fn runs_are_interleaved_and_each_keeps_its_directory() {
    let f = fixture();
    let order: Vec<(usize, u32)> = f
        .result
        .runs
        .iter()
        .map(|r| (r.variant, r.repeat))
        .collect();
    assert_eq!(order, [(0, 1), (1, 1), (2, 1), (0, 2), (1, 2), (2, 2)]);
    let dirs: BTreeSet<&String> = f.result.runs.iter().map(|r| &r.run_dir).collect();
    assert_eq!(dirs.len(), 6, "every run has its own directory");
    for (run, report) in f.result.runs.iter().zip(&f.reports) {
        let on_disk = load_report(&f.root.join(&run.run_dir)).expect("run dir has report.json");
        assert_eq!(&on_disk, report);
        // The variant profile is the last layer.
        assert_eq!(
            report.profile.last().unwrap(),
            &f.result.variants[run.variant]
        );
    }
    let runs_csv = std::fs::read_to_string(f.root.join("runs.csv")).unwrap();
    assert_eq!(runs_csv.lines().count(), 1 + 6);
}

#[test]
fn compare_files_hold_the_table_and_charts_show_every_variant() {
    let f = fixture();
    let stored = compare::load(&f.dir).unwrap();
    assert_eq!(stored, f.result);
    let csv = std::fs::read_to_string(f.dir.join(compare::COMPARE_CSV)).unwrap();
    assert_eq!(csv.lines().count(), 1 + f.result.figures.len() * 3);
    assert!(csv.starts_with("figure,variant,repeats,median,min,max,ratio_to_first,within_noise"));

    let spectrum = Svg::read(&f.dir.join(charts::SPECTRUM_SVG));
    let timeline = Svg::read(&f.dir.join(charts::TIMELINE_SVG));
    for (i, v) in ["none", "lz4", "zstd"].iter().enumerate() {
        assert!(
            spectrum.has_text(v),
            "legend of {v}: {:?}",
            spectrum.texts()
        );
        assert!(timeline.has_text(v));
        let color = charts::color_hex(i);
        // One spectrum line per repeat, each with many percentile ticks from the histogram.
        let lines: Vec<usize> = spectrum
            .polylines(&color)
            .into_iter()
            .filter(|n| *n > 10)
            .collect();
        assert_eq!(lines.len(), 2, "{v}: {lines:?}");
    }
    let table = compare::render_table(&f.result);
    assert!(table.contains("within noise"), "{table}");
    assert!(table.contains("[min .. max] ranges across repeats overlap"));
}

#[test]
fn report_rerenders_a_compare_directory_without_running() {
    let f = fixture();
    // A copy holding only compare.json (a sibling, so run directories still resolve); the
    // other tests keep reading the original.
    let copy = f.root.join("copy-of-compare");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(
        f.dir.join(compare::COMPARE_JSON),
        copy.join(compare::COMPARE_JSON),
    )
    .unwrap();
    let runs_before = std::fs::read_to_string(f.root.join("runs.csv")).unwrap();

    let Command::Report(args) = command(&["report", copy.to_str().unwrap()]) else {
        unreachable!()
    };
    let table = report_cmd::execute(&args, &cwd()).expect("report");
    for file in [
        compare::COMPARE_CSV,
        charts::SPECTRUM_SVG,
        charts::TIMELINE_SVG,
    ] {
        assert_eq!(
            std::fs::read(copy.join(file)).unwrap(),
            std::fs::read(f.dir.join(file)).unwrap(),
            "{file} re-rendered identically"
        );
    }
    assert_eq!(table, compare::render_table(&f.result));
    let runs_after = std::fs::read_to_string(f.root.join("runs.csv")).unwrap();
    assert_eq!(runs_before, runs_after, "report must not run anything");
}

#[test]
fn a_typo_in_the_last_variant_fails_before_any_run() {
    let out = tempfile::tempdir().unwrap();
    let Command::Compare(args) = command(&[
        "compare",
        "lz4",
        "zstdd",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ]) else {
        unreachable!()
    };
    let e = compare::execute(&args, &cwd(), Some(&mut Silent))
        .err()
        .expect("unknown profile");
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");
}

/// Variants that differ in partitions against `--brokers` each run on their own topic
/// (`<topic>-v<n>-<variant>`), recorded in `compare.json` with the partitions metadata
/// showed; without a way to create them, the comparison is refused before its first run.
#[test]
fn variants_of_different_partitions_get_a_topic_each_or_are_refused_up_front() {
    let profiles = tempfile::tempdir().unwrap();
    let p3 = profiles.path().join("p3.toml");
    let p6 = profiles.path().join("p6.toml");
    std::fs::write(&p3, "[workload]\npartitions = 3\nreplication_factor = 1\n").unwrap();
    std::fs::write(&p6, "[workload]\npartitions = 6\nreplication_factor = 1\n").unwrap();
    let mock = |topics: &[(&str, i32)]| {
        let m = rdkafka::mocking::MockCluster::new(1).expect("mock cluster");
        for (t, p) in topics {
            m.create_topic(t, *p, 1).expect("topic");
        }
        let b = m.bootstrap_servers();
        (m, b)
    };
    let compare_in = |out: &std::path::Path, brokers: &str| {
        let Command::Compare(a) = command(&[
            "compare",
            p3.to_str().unwrap(),
            p6.to_str().unwrap(),
            "--repeat",
            "1",
            "--brokers",
            brokers,
            "--topic",
            "cmp",
            "--rate",
            "200",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]) else {
            unreachable!()
        };
        compare::execute(&a, &cwd(), Some(&mut Silent))
    };

    // The mock brokers take no CreateTopics: refused, exit 3, nothing run.
    let (_m, brokers) = mock(&[("cmp", 4)]);
    let out = tempfile::tempdir().unwrap();
    let e = compare_in(out.path(), &brokers).err().expect("refused");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("cmp-v2-p6 (6 partitions)"), "{e}");
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");

    // With the topics there (made by hand, as the refusal says), each variant uses its own.
    let (_m, brokers) = mock(&[("cmp-v1-p3", 3), ("cmp-v2-p6", 6)]);
    let out = tempfile::tempdir().unwrap();
    let o = compare_in(out.path(), &brokers).expect("compare runs");
    let got: Vec<(Option<&str>, Option<u32>)> = o
        .result
        .runs
        .iter()
        .map(|r| (r.topic.as_deref(), r.partitions))
        .collect();
    assert_eq!(
        got,
        [(Some("cmp-v1-p3"), Some(3)), (Some("cmp-v2-p6"), Some(6))]
    );
    for (run, report) in o.result.runs.iter().zip(&o.reports) {
        assert_eq!(Some(report.topic.as_str()), run.topic.as_deref());
        assert_eq!(Some(report.partitions), run.partitions);
    }
    let saved = compare::load(&o.dir).unwrap();
    assert_eq!(saved.runs[1].partitions, Some(6));
}

/// Many-topic variants that differ only in a topic config against `--brokers`: every topic
/// of each variant gets the variant's suffix; refused up front where kprod may not create
/// them, run on them where they exist.
#[test]
fn many_topic_variants_that_differ_in_a_topic_config_get_their_own_topics() {
    let profiles = tempfile::tempdir().unwrap();
    let variant = |name: &str, retention: u32| {
        let p = profiles.path().join(format!("{name}.toml"));
        std::fs::write(
            &p,
            format!(
                "[workload]\npartitions = 2\nreplication_factor = 1\n\n\
                 [[workload.topics]]\nname = \"mt-a\"\n\n\
                 [[workload.topics]]\nname = \"mt-b\"\nconfig = {{ \"retention.ms\" = {retention} }}\n"
            ),
        )
        .unwrap();
        p.to_str().unwrap().to_string()
    };
    let (c1, c2) = (variant("c1", 60_000), variant("c2", 120_000));
    let mock = |topics: &[&str]| {
        let m = rdkafka::mocking::MockCluster::new(1).expect("mock cluster");
        for t in topics {
            m.create_topic(t, 2, 1).expect("topic");
        }
        let b = m.bootstrap_servers();
        (m, b)
    };
    let compare_in = |out: &std::path::Path, brokers: &str| {
        let Command::Compare(a) = command(&[
            "compare",
            &c1,
            &c2,
            "--repeat",
            "1",
            "--brokers",
            brokers,
            "--rate",
            "200",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]) else {
            unreachable!()
        };
        compare::execute(&a, &cwd(), Some(&mut Silent))
    };

    let (_m, brokers) = mock(&["mt-a", "mt-b"]);
    let out = tempfile::tempdir().unwrap();
    let e = compare_in(out.path(), &brokers).err().expect("refused");
    assert_eq!(e.exit_code(), 3, "{e}");
    let msg = e.to_string();
    for t in ["mt-a-v1-c1", "mt-b-v1-c1", "mt-a-v2-c2", "mt-b-v2-c2"] {
        assert!(msg.contains(&format!("{t} (2 partitions)")), "{t}: {msg}");
    }
    assert!(!out.path().join("runs.csv").exists(), "nothing ran");

    let (_m, brokers) = mock(&["mt-a-v1-c1", "mt-b-v1-c1", "mt-a-v2-c2", "mt-b-v2-c2"]);
    let out = tempfile::tempdir().unwrap();
    let o = compare_in(out.path(), &brokers).expect("compare runs");
    let names: Vec<Vec<&str>> = o
        .reports
        .iter()
        .map(|r| r.topics.iter().map(|t| t.name.as_str()).collect())
        .collect();
    assert_eq!(
        names,
        [["mt-a-v1-c1", "mt-b-v1-c1"], ["mt-a-v2-c2", "mt-b-v2-c2"]]
    );
    assert!(o
        .reports
        .iter()
        .all(|r| r.topics.iter().all(|t| t.counts.delivered > 0)));
    let rows: Vec<(Option<u32>, Option<u32>)> = o
        .result
        .runs
        .iter()
        .map(|r| (r.topics, r.partitions))
        .collect();
    assert_eq!(rows, [(Some(2), Some(4)), (Some(2), Some(4))]);
    let saved = compare::load(&o.dir).unwrap();
    assert_eq!(saved.runs[1].topics, Some(2));
}
