//! `report.html` in a real browser: a bench run and a comparison on the embedded cluster
//! write their pages, headless Chromium loads each one, and the test asserts no console
//! message (the page has no script, so any message is an error), charts that rendered
//! (inline SVGs with data polylines in the DOM), no external resource, and key numbers equal
//! to the JSON results. Screenshots stay next to the pages and are copied to
//! `$KPROD_SCREENSHOT_DIR` when it is set. Chromium is found on PATH (`chromium`,
//! `chromium-browser`, `google-chrome`) or named by `$KPROD_CHROMIUM`; without it
//! (`scripts/setup.sh` installs Debian's) the tests print SKIP and pass; that is the only skip.

mod browser;
mod common;
mod outputs;

use browser::*;
use kprod::cli::Command;
use kprod::commands::compare;
use kprod::engine::Silent;
use outputs::{command, cwd, fixture_dir};
use std::path::{Path, PathBuf};
use std::process::Command as Process;

#[test]
fn the_console_check_catches_a_script_error() {
    let Some(browser) = browser_or_skip("the_console_check_catches_a_script_error") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let l = load(&browser, &page, None);
    assert!(
        l.console
            .iter()
            .any(|m| m.contains("Uncaught ReferenceError")),
        "{:?}",
        l.console
    );
}

#[test]
fn a_bench_report_renders_and_shows_the_numbers_of_report_json() {
    let Some(browser) = browser_or_skip("a_bench_report_renders") else {
        return;
    };
    let out = fixture_dir();
    let o = common::bench_in(
        &out,
        &["--duration", "2s", "--rate", "2k", "--warmup", "500ms"],
    )
    .expect("bench");
    let page = o.dir.join(kprod::charts::REPORT_HTML);
    let l = load(&browser, &page, Some(&o.dir.join("report-bench.png")));
    assert_clean(&l, "bench");
    let drawn = charts(&l.dom);
    // Spectrum, timeline, the latency breakdown's bar (rectangles only) and per second.
    assert_eq!(drawn.len(), 4, "spectrum, timeline, breakdown: {drawn:?}");
    for c in drawn.iter().take(2) {
        assert!(
            c.iter().any(|n| *n >= 2),
            "a chart without data lines: {c:?}"
        );
    }
    // The saved report, not the in-memory one, is what the page must agree with.
    let r = kprod::report::load_report(&o.dir).unwrap();
    assert_eq!(text_of(&l.dom, "status"), "COMPLETE");
    let shown = rate(&text_of(&l.dom, "records-per-sec"));
    assert!(
        (shown - r.throughput.records_per_sec).abs() <= 0.05,
        "{shown} vs {}",
        r.throughput.records_per_sec
    );
    assert_eq!(
        latency_us(&text_of(&l.dom, "p99")),
        r.latency_us.corrected.p99
    );
    assert_eq!(
        text_of(&l.dom, "delivered")
            .replace(',', "")
            .parse::<u64>()
            .unwrap(),
        r.records.delivered
    );
    // How it ran: the command line (shell-quoted) and the end time of report.json.
    let argv = r
        .command_line
        .as_ref()
        .expect("report.json has command_line");
    assert_eq!(
        inner_text(&l.dom, "command-line", "code"),
        kprod::charts::html::shell_quote(argv)
    );
    let ended = r.ended_at.as_deref().expect("report.json has ended_at");
    assert_eq!(text_of(&l.dom, "run-details-ended"), ended);
    assert_eq!(text_of(&l.dom, "run-details-started"), r.started_at);
    for t in [
        "librdkafka properties",
        "resolved profile",
        &r.environment.host,
    ] {
        assert!(l.dom.contains(t), "missing {t:?}");
    }
}

#[test]
fn a_compare_report_renders_every_variant_and_the_direction_words() {
    let Some(browser) = browser_or_skip("a_compare_report_renders") else {
        return;
    };
    let root = fixture_dir();
    let Command::Compare(args) = command(&[
        "compare",
        "none",
        "zstd",
        "--duration",
        "1500ms",
        "--warmup",
        "500ms",
        "--rate",
        "2k",
        "--quiet",
        "--out",
        root.to_str().unwrap(),
    ]) else {
        unreachable!()
    };
    let o = compare::execute(&args, &cwd(), Some(&mut Silent)).expect("compare runs");
    let page = o.dir.join(kprod::charts::REPORT_HTML);
    let l = load(&browser, &page, Some(&o.dir.join("report-compare.png")));
    assert_clean(&l, "compare");
    let drawn = charts(&l.dom);
    assert_eq!(drawn.len(), 2, "{drawn:?}");
    for c in &drawn {
        assert!(
            c.iter().filter(|n| **n >= 2).count() >= 2,
            "both variants: {c:?}"
        );
    }
    let saved = compare::load(&o.dir).unwrap();
    let rps = saved
        .figures
        .iter()
        .find(|f| f.figure == "records_per_sec")
        .unwrap();
    for (i, v) in rps.variants.iter().enumerate() {
        let shown = rate(&text_of(&l.dom, &format!("records-per-sec-{i}")));
        assert!((shown - v.median.unwrap()).abs() <= 0.05, "variant {i}");
    }
    let table = &l.dom[l.dom.find("id=\"compare\"").expect("compare table")..];
    let words = ["better", "worse", "same"];
    assert!(
        words.iter().any(|w| table.contains(w)),
        "direction words in the compare table"
    );
}

/// `kprod bench --repeat 2 --threshold ... --out ROOT` in-process; returns the set directory.
fn bench_set(root: &Path, extra: &[&str]) -> PathBuf {
    let mut argv = vec![
        "bench",
        "--quiet",
        "--duration",
        "1500ms",
        "--warmup",
        "500ms",
        "--rate",
        "1k",
        "--out",
        root.to_str().unwrap(),
    ];
    argv.extend_from_slice(extra);
    let Command::Bench(args) = command(&argv) else {
        unreachable!()
    };
    let code = kprod::commands::bench_set::run(&args, &cwd()).expect("bench runs");
    assert_eq!(code, 0, "errors==0 passes on the embedded cluster");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(kprod::commands::check::runs::SET_FILE).is_file())
        .collect();
    assert!(sets.len() <= 1, "{sets:?}");
    sets.pop().unwrap_or_else(|| root.to_path_buf())
}

#[test]
fn a_baseline_set_report_links_its_runs_and_shows_median_spread_and_verdict() {
    let Some(browser) = browser_or_skip("a_baseline_set_report") else {
        return;
    };
    let root = fixture_dir();
    let set_dir = bench_set(&root, &["--repeat", "2", "--threshold", "errors==0"]);
    let page = set_dir.join(kprod::charts::REPORT_HTML);
    let before = std::fs::read(&page).expect("the set has report.html");
    let l = load(&browser, &page, Some(&set_dir.join("report-set.png")));
    assert_clean(&l, "set");
    let set = kprod::commands::check::runs::read_set(&set_dir).unwrap();
    assert_eq!(set.runs.len(), 2);
    assert_eq!(set.thresholds, ["errors==0"]);
    // Each run is linked by its relative path, and the link resolves to its own page.
    for run in &set.runs {
        let href = format!("href=\"{run}/report.html\"");
        assert!(l.dom.contains(&href), "missing link {href}");
        assert!(set_dir.join(run).join(kprod::charts::REPORT_HTML).is_file());
    }
    // The headline's median equals the median of the runs' report.json.
    let mut rates: Vec<f64> = set
        .runs
        .iter()
        .map(|r| {
            kprod::report::load_report(&set_dir.join(r))
                .unwrap()
                .throughput
                .records_per_sec
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    let median = (rates[0] + rates[1]) / 2.0;
    let shown = rate(&text_of(&l.dom, "records-per-sec"));
    assert!((shown - median).abs() <= 0.05, "{shown} vs {median}");
    assert_eq!(text_of(&l.dom, "status"), "PASS");
    let table = &l.dom[l.dom.find("id=\"thresholds\"").expect("threshold rows")..];
    assert!(table.contains("threshold errors==0"), "{table}");
    assert!(l.dom.contains("id=\"spread\""));
    // `kprod report SETDIR` rewrites the same page from set.json and the runs.
    let Command::Report(a) = command(&["report", set_dir.to_str().unwrap()]) else {
        unreachable!()
    };
    let text = kprod::commands::report_cmd::execute(&a, &cwd()).expect("report SETDIR");
    assert!(
        text.contains("errors==0") && text.contains("PASS"),
        "{text}"
    );
    assert_eq!(std::fs::read(&page).unwrap(), before, "redrawn identically");
}

#[test]
fn a_single_bench_with_thresholds_shows_the_rows_on_its_page() {
    let root = tempfile::tempdir().unwrap();
    let dir = bench_set(root.path(), &["--threshold", "errors==0"]);
    let run = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.join(kprod::report::REPORT_FILE).is_file())
        .expect("the run directory");
    let html = std::fs::read_to_string(run.join(kprod::charts::REPORT_HTML)).unwrap();
    let at = html.find("id=\"thresholds\"").expect("threshold rows");
    assert!(html[at..].contains("threshold errors==0"));
    assert!(html[at..].contains("pass"));
}

/// Runs the kprod binary and asserts it exited as expected.
fn kprod_bin(args: &[&str], ok_codes: &[i32]) {
    let out = Process::new(env!("CARGO_BIN_EXE_kprod"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kprod");
    assert!(
        out.status.code().is_some_and(|c| ok_codes.contains(&c)),
        "kprod {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The one directory directly under `root` whose name ends with `kind` and that holds a
/// report.html (`check` and `sweep` write their runs beside their own directory).
fn page_dir(root: &Path, kind: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(kprod::charts::REPORT_HTML).is_file())
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(kind))
        .collect();
    assert_eq!(dirs.len(), 1, "one page under {}: {dirs:?}", root.display());
    dirs.pop().unwrap()
}

#[test]
fn sweep_check_and_merge_pages_render_clean_and_say_their_verdicts() {
    let Some(browser) = browser_or_skip("sweep_check_and_merge_pages_render") else {
        return;
    };
    let root = fixture_dir();
    let at = |d: &str| root.join(d).to_str().unwrap().to_string();
    let short = [
        "--duration",
        "1500ms",
        "--warmup",
        "500ms",
        "--rate",
        "1k",
        "--quiet",
    ];
    let mut argv = vec!["bench"];
    argv.extend_from_slice(&short);
    let a_out = at("a");
    argv.extend_from_slice(&["--out", &a_out]);
    kprod_bin(&argv, &[0]);
    let a = page_dir(&root.join("a"), "");

    // check: the page leads with the gate's verdict (exit 0 pass, 1 fail, 5 inconclusive).
    // Without --current the gate runs the baseline's workload again and writes its own
    // directory (with --current it writes no file, so there is no page).
    let (a_s, c_out) = (a.to_str().unwrap().to_string(), at("c"));
    kprod_bin(
        &[
            "check",
            "--baseline",
            &a_s,
            "--repeat",
            "1",
            "--quiet",
            "--out",
            &c_out,
        ],
        &[0, 1, 5],
    );
    let c = page_dir(&root.join("c"), "-check");
    let l = load(
        &browser,
        &c.join(kprod::charts::REPORT_HTML),
        Some(&c.join("report-check.png")),
    );
    assert_clean(&l, "check");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.join(kprod::commands::check::CHECK_JSON)).unwrap())
            .unwrap();
    let overall = saved["overall"].as_str().unwrap().to_uppercase();
    assert_eq!(text_of(&l.dom, "status"), overall);

    // merge: a merged run's page is a run page with both charts and the merged count.
    let m_out = at("m");
    kprod_bin(&["merge", &a_s, "--force", "--out", &m_out], &[0]);
    let m = page_dir(&root.join("m"), "");
    let l = load(
        &browser,
        &m.join(kprod::charts::REPORT_HTML),
        Some(&m.join("report-merge.png")),
    );
    assert_clean(&l, "merge");
    let r = kprod::report::load_report(&m).unwrap();
    // Spectrum and timeline, and the breakdown charts the merged report can still draw:
    // the bar for one run, the per-second chart for seconds one run alone filled.
    let breakdown = usize::from(r.latency_breakdown_us.is_some())
        + usize::from(
            r.intervals
                .iter()
                .any(|i| i.breakdown_queue_wait_us.is_some()),
        );
    assert_eq!(charts(&l.dom).len(), 2 + breakdown, "spectrum and timeline");
    assert_eq!(
        text_of(&l.dom, "delivered")
            .replace(',', "")
            .parse::<u64>()
            .unwrap(),
        r.records.delivered
    );

    // sweep: the curve is drawn with a point per step.
    let s_out = at("s");
    kprod_bin(
        &[
            "sweep",
            "--rates",
            "500,1k",
            "--step-duration",
            "1500ms",
            "--warmup",
            "500ms",
            "--quiet",
            "--out",
            &s_out,
        ],
        &[0, 1],
    );
    let s = page_dir(&root.join("s"), "-sweep");
    let l = load(
        &browser,
        &s.join(kprod::charts::REPORT_HTML),
        Some(&s.join("report-sweep.png")),
    );
    assert_clean(&l, "sweep");
    let drawn = charts(&l.dom);
    assert!(
        drawn.iter().any(|c| c.iter().any(|n| *n >= 2)),
        "the sweep curve has a line through both steps: {drawn:?}"
    );
}
