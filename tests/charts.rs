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
        "corrected latency (ms)",
        "warm-up (excluded from results)",
        "p50",
        "p99",
        "p99.9",
        "max (per second)",
    ] {
        assert!(timeline.has_text(t), "{t}: {:?}", timeline.texts());
    }
    // The p99.9 line (palette slot 4) has one point per drawn second, like the p99 line.
    let p999_lines: Vec<usize> = timeline
        .polylines(&charts::color_hex(4))
        .into_iter()
        .filter(|n| *n > 2)
        .collect();
    assert_eq!(p999_lines.len(), 1, "one p99.9 line");
    assert!(
        o.report.intervals.iter().any(|i| i.p999_us > 0),
        "intervals carry p99.9"
    );
    assert!(
        timeline
            .texts()
            .iter()
            .any(|t| t.starts_with(&format!("{label}:"))),
        "title names the run: {:?}",
        timeline.texts()
    );
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
        charts::REPORT_HTML,
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
        [2, 3],
        "p = 1 has no finite x"
    );
}

/// A run whose first second has a 500 ms p99 and whose measured seconds sit near 11 ms,
/// with a fault in second 4; `latency.hgrm` beside it so the charts can be drawn. As in a
/// real run with a 500 ms warm-up, the first second is not flagged `in_warmup` (it ends
/// after the warm-up) yet holds the start-up spike.
fn spiky_run() -> (tempfile::TempDir, kprod::report::RunReport) {
    use kprod::report::Interval;
    let mut r = kprod::report::testing::sample_report();
    r.measurement.warmup_s = 0.5;
    r.throughput.target_records_per_sec = Some(2000.0);
    r.latency_us.corrected.p999 = 13_000;
    r.intervals = (1..=6)
        .map(|s| Interval {
            t_s: s as f64,
            in_warmup: false,
            records_per_sec: if s == 1 { 2600.0 } else { 2000.0 },
            p50_us: if s == 1 { 200_000 } else { 4_000 },
            p99_us: if s == 1 { 500_000 } else { 11_000 + s * 100 },
            p999_us: if s == 1 { 510_000 } else { 12_000 },
            max_us: if s == 1 { 520_000 } else { 12_500 },
            length_s: 1.0,
            fault: (s == 4).then(|| "broker-down:1@3s+1s".to_string()),
            ..Default::default()
        })
        .collect();
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join(HGRM_FILE),
        "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
         \x20      4.000 0.000000000000          1           1.00\n\
         \x20     11.000 0.990000000000          9         100.00\n\
         \x20     13.000 1.000000000000         10\n",
    )
    .unwrap();
    (t, r)
}

/// The numeric labels right-aligned against a y axis (throughput ticks end in "/s").
fn latency_ticks(svg: &Svg) -> Vec<f64> {
    svg.elements
        .iter()
        .filter(|e| e.name == "text" && e.attr("text-anchor") == Some("end"))
        .filter_map(|e| e.text.trim().parse().ok())
        .collect()
}

#[test]
fn a_warmup_spike_is_clipped_and_marked_not_the_scale() {
    let (t, r) = spiky_run();
    charts::write_run_charts(t.path(), &r).unwrap();
    let svg = Svg::read(&t.path().join(charts::TIMELINE_SVG));
    let ticks = latency_ticks(&svg);
    let top = ticks.iter().copied().fold(0.0, f64::max);
    // The measured p99.9 is 13 ms: the axis ends near it, far below the 500 ms spike.
    assert!((10.0..=20.0).contains(&top), "latency ticks {ticks:?}");
    assert!(
        svg.texts()
            .iter()
            .any(|t| t.starts_with("clipped above") && t.contains("peak 520.0 ms")),
        "{:?}",
        svg.texts()
    );
    let triangles = svg.elements.iter().filter(|e| e.name == "polygon").count();
    // Warm-up p50, p99, p99.9 and max in the latency panel, the warm-up rate above the
    // target in the throughput panel, plus the two legend keys.
    assert!(triangles >= 5, "{triangles} clip marks");
}

#[test]
fn a_high_per_second_p999_widens_the_latency_range() {
    let (t, mut r) = spiky_run();
    // Second 5's p99.9 (40 ms) is above the window's p99.9 (13 ms): the range must hold it
    // rather than clip a measured second.
    r.intervals[4].p999_us = 40_000;
    charts::write_run_charts(t.path(), &r).unwrap();
    let svg = Svg::read(&t.path().join(charts::TIMELINE_SVG));
    let top = latency_ticks(&svg).into_iter().fold(0.0, f64::max);
    assert!((40.0..=50.0).contains(&top), "top latency tick {top}");
    assert!(svg.has_text("p99.9"), "{:?}", svg.texts());
}

#[test]
fn older_reports_without_p999_draw_no_p999_line() {
    let (t, mut r) = spiky_run();
    for i in &mut r.intervals {
        i.p999_us = 0;
    }
    charts::write_run_charts(t.path(), &r).unwrap();
    let svg = Svg::read(&t.path().join(charts::TIMELINE_SVG));
    assert!(!svg.has_text("p99.9"), "{:?}", svg.texts());
    assert!(svg.polylines(&charts::color_hex(4)).is_empty());
    assert!(svg.has_text("max (per second)"));
}

#[test]
fn the_timeline_draws_the_target_and_shades_warmup_and_faults() {
    let (t, r) = spiky_run();
    charts::write_run_charts(t.path(), &r).unwrap();
    let svg = Svg::read(&t.path().join(charts::TIMELINE_SVG));
    assert!(svg.has_text("target 2k/s"), "{:?}", svg.texts());
    assert!(
        svg.has_text("fault: broker-down:1@3s+1s"),
        "{:?}",
        svg.texts()
    );
    let target_lines = svg
        .elements
        .iter()
        .filter(|e| {
            e.name == "line"
                && e.attr("stroke-dasharray") == Some("6 4")
                && e.attr("y1") == e.attr("y2")
        })
        .count();
    assert_eq!(target_lines, 1, "one horizontal target line");
    let fills = |c: &str| {
        svg.elements
            .iter()
            .filter(|e| e.name == "rect" && e.attr("fill") == Some(c))
            .count()
    };
    // Each shading and its legend swatch, in both panels.
    assert_eq!(fills("#9E9E9E"), 4, "warm-up");
    assert_eq!(fills("#FF7F0E"), 4, "fault");
    // The subtitle names rate, size, acks, codec and date.
    let sub = svg
        .texts()
        .into_iter()
        .find(|t| t.starts_with("target 2k/s ·"))
        .expect("subtitle");
    for part in ["acks=", "codec ", "2023-11-14 22:13 UTC"] {
        assert!(sub.contains(part), "{sub}");
    }
}

#[test]
fn a_doubling_sweep_gets_a_log_axis_with_even_units() {
    let rates: Vec<f64> = (0..7).map(|k| 1000.0 * 2f64.powi(k)).collect();
    let line = charts::Line {
        label: "p99".into(),
        legend: true,
        color: 1,
        points: rates.iter().map(|r| (*r, 5.0 + r / 10_000.0)).collect(),
    };
    let saturated = [charts::Marker {
        label: "saturated".into(),
        x: 64_000.0,
        y: 11.4,
    }];
    let knee = charts::Marker {
        label: "knee: 32k/s achieved".into(),
        x: 32_000.0,
        y: 8.2,
    };
    let svg = Svg::parse(&charts::sweep_chart(&charts::SweepChart {
        title: "sweep",
        subtitle: "rates",
        x_desc: "achieved records/s",
        lines: &[line],
        slo: &[],
        knee: Some(&knee),
        saturated: &saturated,
        x_labels: None,
    }));
    let x_of = |label: &str| -> f64 {
        let e = svg
            .elements
            .iter()
            .find(|e| e.name == "text" && e.text.trim() == label)
            .unwrap_or_else(|| panic!("no tick {label}: {:?}", svg.texts()));
        e.attr("x").unwrap().parse().unwrap()
    };
    for l in ["1k/s", "2k/s", "5k/s", "10k/s", "20k/s", "50k/s"] {
        x_of(l);
    }
    assert!(
        !svg.texts().iter().any(|t| t.contains(".0k")),
        "{:?}",
        svg.texts()
    );
    // Log scale: 1k→10k spans the same width as 2k→20k, and 1k→2k as 10k→20k.
    let decade = x_of("10k/s") - x_of("1k/s");
    assert!((decade - (x_of("20k/s") - x_of("2k/s"))).abs() < 0.3);
    assert!(((x_of("2k/s") - x_of("1k/s")) - (x_of("20k/s") - x_of("10k/s"))).abs() < 0.3);
    assert!(svg.has_text("achieved records/s (log scale)"));
    assert!(svg.has_text("saturated step") && svg.has_text("knee: 32k/s achieved"));
    // The saturated step's × is two red strokes.
    let red = svg
        .elements
        .iter()
        .filter(|e| e.name == "line" && e.attr("stroke") == Some(charts::color_hex(3).as_str()))
        .count();
    assert_eq!(red, 4, "one × in the legend, one on the step");
}

#[test]
fn report_html_flag_rewrites_the_page_of_a_saved_run() {
    let (_t, o) = common::bench(&["--duration", "1s", "--warmup", "0s", "--rate", "500"]);
    let page = o.dir.join(charts::REPORT_HTML);
    let before = std::fs::read_to_string(&page).expect("bench writes report.html");
    assert!(before.starts_with("<!DOCTYPE html>"));
    // Spectrum and timeline; the latency breakdown's bar and per-second chart only when a
    // statistics window fell inside this 1 s run (librdkafka emits 1 s after the client
    // starts, so a slow start leaves none, or one without a whole second of its own).
    let svgs = before.matches("<svg").count();
    match o.report.latency_breakdown_us {
        Some(_) => assert!((3..=4).contains(&svgs), "every chart inline: {svgs}"),
        None => assert_eq!(svgs, 2, "every chart inline"),
    }
    std::fs::remove_file(&page).unwrap();
    let Command::Report(a) = command(&["report", o.dir.to_str().unwrap(), "--html"]) else {
        unreachable!()
    };
    assert!(a.html);
    report_cmd::execute(&a, &cwd()).unwrap();
    assert_eq!(std::fs::read_to_string(&page).unwrap(), before);
}

#[test]
fn a_staged_run_draws_its_stage_curve_as_the_target() {
    let (t, mut r) = spiky_run();
    let dashed_polylines = |svg: &Svg| {
        svg.elements
            .iter()
            .filter(|e| e.name == "polyline" && e.attr("stroke-dasharray") == Some("6 4"))
            .count()
    };
    charts::write_run_charts(t.path(), &r).unwrap();
    let before = dashed_polylines(&Svg::read(&t.path().join(charts::TIMELINE_SVG)));
    r.stages = vec![kprod::report::stages::StageReport {
        kind: "ramp".into(),
        target_curve: vec![(0.0, 1000.0), (6.0, 3000.0)],
        ..Default::default()
    }];
    charts::write_run_charts(t.path(), &r).unwrap();
    let svg = Svg::read(&t.path().join(charts::TIMELINE_SVG));
    assert!(svg.has_text("target (load stages)"), "{:?}", svg.texts());
    // The mean rate is not drawn as a flat line; the ramp is one more dashed polyline.
    assert!(!svg.has_text("target 2k/s"), "{:?}", svg.texts());
    assert_eq!(dashed_polylines(&svg), before + 1);
}
