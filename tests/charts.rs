//! Charts: every bench run directory gets well-formed SVGs whose spectrum is drawn from the
//! run's HDR histogram (`latency.hgrm`), and `kprod report` redraws them identically.

mod common;
mod outputs;

use kprod::charts::{self, read_hgrm_file, spectrum_points};
use kprod::cli::Command;
use kprod::commands::report_cmd;
use kprod::report::{HGRM_FILE, INTERVALS_CSV_FILE};
use outputs::{command, cwd, Svg};

#[test]
fn a_bench_run_gets_charts_drawn_from_its_histogram() {
    let (_t, o) = common::bench(&["--duration", "3s", "--warmup", "500ms", "--rate", "2000"]);
    let spectrum = Svg::read(&o.dir.join(charts::SPECTRUM_SVG));
    let label = o.report.profile.join(" + ");
    assert!(spectrum.has_text(&label), "legend: {:?}", spectrum.texts());
    assert!(spectrum.has_text("corrected latency (ms)"));
    assert!(
        spectrum.has_text("99%"),
        "percentile axis: {:?}",
        spectrum.texts()
    );
    // The drawn line has one point per percentile row of the histogram file (p < 1).
    let rows = read_hgrm_file(&o.dir.join(HGRM_FILE)).unwrap();
    let expected = spectrum_points(&rows).len();
    assert!(
        expected > 20,
        "a real distribution has many ticks: {expected}"
    );
    let lines = spectrum.polylines(&charts::color_hex(0));
    assert!(
        lines.contains(&expected),
        "{lines:?} vs {expected} histogram rows"
    );
    // ...and its last finite row carries the histogram's p99.9 or more.
    let last = spectrum_points(&rows).last().unwrap().1;
    assert!(last * 1000.0 >= o.report.latency_us.corrected.p999 as f64);

    let timeline = Svg::read(&o.dir.join(charts::TIMELINE_SVG));
    for t in [
        "delivered records/s",
        "corrected p99 (ms)",
        "end of warm-up",
        label.as_str(),
    ] {
        assert!(timeline.has_text(t), "{t}: {:?}", timeline.texts());
    }
    // Two panels, one throughput line and one p99 line, one point per whole interval (the
    // legend samples are the 2-point lines).
    let per_panel = timeline.polylines(&charts::color_hex(0));
    let data: Vec<usize> = per_panel.iter().copied().filter(|n| *n > 2).collect();
    let iv = &o.report.intervals;
    let n = iv.len();
    let sliver = n >= 2 && iv[n - 1].t_s - iv[n - 2].t_s < 0.5;
    let drawn = n - usize::from(sliver);
    assert!(drawn >= 3, "a 3 s run has 3 whole seconds: {iv:?}");
    assert_eq!(data, [drawn, drawn], "{per_panel:?}");
}

#[test]
fn report_redraws_a_bench_directory_identically() {
    let (_t, o) = common::bench(&[
        "--duration",
        "1500ms",
        "--warmup",
        "500ms",
        "--rate",
        "1000",
    ]);
    let files = [
        charts::SPECTRUM_SVG,
        charts::TIMELINE_SVG,
        INTERVALS_CSV_FILE,
    ];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(o.dir.join(f)).unwrap())
        .collect();
    for f in files {
        std::fs::remove_file(o.dir.join(f)).unwrap();
    }
    let Command::Report(a) = command(&["report", "--details", o.dir.to_str().unwrap()]) else {
        unreachable!()
    };
    let table = report_cmd::execute(&a, &cwd()).unwrap();
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&std::fs::read(o.dir.join(f)).unwrap(), b, "{f}");
    }
    // --details: the full table, then the compact summary the run printed.
    let full = kprod::report::summary_table(&o.report);
    assert!(table.starts_with(&full), "{table}");
    let summary = table[full.len()..]
        .strip_prefix('\n')
        .expect("a blank line between");
    let extras = kprod::report::SummaryExtras {
        verdicts: Vec::new(),
        results: Some(format!("results: {}", cwd().join(&o.dir).display())),
        below_details: true,
    };
    assert_eq!(summary, kprod::report::compact_summary(&o.report, &extras));
}

#[test]
fn report_on_a_directory_without_results_is_invalid_input() {
    let t = tempfile::tempdir().unwrap();
    let Command::Report(a) = command(&["report", t.path().to_str().unwrap()]) else {
        unreachable!()
    };
    let e = report_cmd::execute(&a, &cwd()).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
}

#[test]
fn labels_with_markup_stay_well_formed() {
    let mut r = kprod::report::testing::sample_report();
    r.profile = vec!["<a&b>".into(), "\"q\"".into()];
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join(HGRM_FILE),
        "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
         \x20      1.000 0.000000000000          1           1.00\n\
         \x20      2.000 0.500000000000          5           2.00\n\
         \x20      9.000 0.990000000000          9         100.00\n\
         \x20      9.000 1.000000000000         10\n",
    )
    .unwrap();
    charts::write_run_charts(t.path(), &r).unwrap();
    let svg = Svg::read(&t.path().join(charts::SPECTRUM_SVG));
    assert!(svg.has_text("<a&b> + \"q\""), "{:?}", svg.texts());
    // The legend's sample line is a 2-point polyline in the same colour.
    assert_eq!(
        svg.polylines(&charts::color_hex(0)),
        [3, 2],
        "p = 1 has no finite x"
    );
}
