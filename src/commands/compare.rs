//! `kprod compare A B [C ...]`: one workload run under several variant profiles, repeats
//! interleaved, aggregated into one table with ratios to the first variant and a
//! "within noise" mark; writes `compare.json`, `compare.csv` and the charts.
//!
//! Each variant profile is layered last, over the shared `--profile` layers and every
//! other bench flag, so variants differ only in what the variant profile sets. Runs go
//! through `bench::execute`, so each keeps its own run directory and `runs.csv` row.

use super::bench;
use super::topology::{self, Asker, FreshTopics};
use crate::charts::{self, RunSeries};
use crate::cli::{BenchArgs, CompareArgs, CompareVerdictArgs, RunArgs};
use crate::engine::Observer;
use crate::error::KprodError;
use crate::report::{self, RunReport, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[path = "compare_judge.rs"]
mod judge;
pub use judge::Versus;

#[path = "compare_out.rs"]
mod out;
use out::labels;
pub use out::{compare_csv, render_table};

pub const COMPARE_JSON: &str = "compare.json";
pub const COMPARE_CSV: &str = "compare.csv";
pub const COMPARE_SCHEMA_VERSION: u32 = 1;
/// Runs per variant without `--repeat`: the fewest a bootstrap over runs accepts.
pub const DEFAULT_REPEAT: u32 = 3;

/// The rule behind the "within noise" mark, printed under the table and stored in
/// `compare.json`.
pub const NOISE_RULE: &str =
    "Cells show the median of the repeats and [min .. max] across them. A ratio \
     is to the first variant's median; it is marked \"within noise\" when the two variants' \
     [min .. max] ranges across repeats overlap, i.e. the repeats do not separate them.";

/// A figure of the comparison: key (used in JSON/CSV), label, and how to read it off a report.
struct Figure {
    key: &'static str,
    label: &'static str,
    get: Get,
    fmt: fn(f64) -> String,
}

/// How a figure is read off a report: any value, or a corrected latency in microseconds.
enum Get {
    Value(fn(&RunReport) -> Option<f64>),
    Latency(fn(&RunReport) -> u64),
}

impl Figure {
    fn value(&self, r: &RunReport) -> Option<f64> {
        match self.get {
            Get::Value(f) => f(r),
            Get::Latency(f) => Some(f(r) as f64),
        }
    }
}

fn us(v: f64) -> String {
    report::fmt_latency_us(v.round().max(0.0) as u64)
}

/// A corrected-latency figure (microseconds).
const fn latency(key: &'static str, label: &'static str, get: fn(&RunReport) -> u64) -> Figure {
    Figure {
        key,
        label,
        get: Get::Latency(get),
        fmt: us,
    }
}

const FIGURES: &[Figure] = &[
    Figure {
        key: "records_per_sec",
        label: "records/s",
        get: Get::Value(|r| Some(r.throughput.records_per_sec)),
        fmt: |v| report::fmt_rate(v),
    },
    Figure {
        key: "mb_per_sec",
        label: "MB/s",
        get: Get::Value(|r| Some(r.throughput.bytes_per_sec / 1e6)),
        fmt: |v| report::fmt_mb_per_sec(v * 1e6),
    },
    latency("p50_us", "p50 (corrected)", |r| r.latency_us.corrected.p50),
    latency("p99_us", "p99 (corrected)", |r| r.latency_us.corrected.p99),
    latency("p999_us", "p99.9 (corrected)", |r| {
        r.latency_us.corrected.p999
    }),
    latency("max_us", "max (corrected)", |r| r.latency_us.corrected.max),
    Figure {
        key: "compression_ratio",
        label: "compression ratio",
        get: Get::Value(|r| r.compression_ratio),
        fmt: |v| format!("{v:.2}x"),
    },
    Figure {
        key: "avg_batch_bytes",
        label: "avg batch (bytes)",
        get: Get::Value(|r| r.librdkafka_stats.avg_batch_bytes),
        fmt: |v| format!("{:.1} kB", v / 1000.0),
    },
    Figure {
        key: "avg_batch_records",
        label: "avg batch (records)",
        get: Get::Value(|r| r.librdkafka_stats.avg_batch_records),
        fmt: |v| format!("{v:.1}"),
    },
    Figure {
        key: "errors",
        label: "errors (failed + unknown)",
        get: Get::Value(|r| Some((r.records.failed + r.records.unknown) as f64)),
        fmt: |v| report::fmt_count(v.round().max(0.0) as u64),
    },
];

/// One run of the comparison, as stored in `compare.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareRun {
    /// Index into `variants`.
    pub variant: usize,
    /// 1-based repeat number.
    pub repeat: u32,
    /// The run directory's name, a sibling of the compare directory under the results root.
    pub run_dir: String,
    pub status: Status,
    /// Figure key -> value (None when the run has no such figure, e.g. no statistics).
    pub figures: BTreeMap<String, Option<f64>>,
    /// The topic the run used and its partition count from metadata (absent in
    /// comparisons written before they were recorded).
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub partitions: Option<u32>,
    /// Many topics: how many (`partitions` is then all of theirs); absent for one topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<u32>,
}

/// One variant's aggregate of one figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantFigure {
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// median / first variant's median.
    pub ratio_to_first: Option<f64>,
    /// Ranges overlap with the first variant's; None for the first variant, or when there is
    /// only one repeat (a single run has no range to judge noise by).
    pub within_noise: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureRow {
    pub figure: String,
    pub label: String,
    /// One entry per variant, in variant order.
    pub variants: Vec<VariantFigure>,
}

/// `compare.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareResult {
    pub schema_version: u32,
    pub kind: String,
    pub created_at: String,
    /// Shared `--profile` layers under every variant (empty = base).
    pub shared_profiles: Vec<String>,
    pub variants: Vec<String>,
    pub repeat: u32,
    pub cluster_note: Option<String>,
    pub noise_rule: String,
    /// Every run, in the order it ran.
    pub runs: Vec<CompareRun>,
    pub figures: Vec<FigureRow>,
    /// Each variant against the first: change with a 95% bootstrap interval over repeats.
    #[serde(default)]
    pub versus: Vec<Versus>,
}

/// A finished (or interrupted) comparison and where it was written.
pub struct CompareOutcome {
    pub result: CompareResult,
    pub dir: PathBuf,
    /// The run reports, in run order (parallel to `result.runs`).
    pub reports: Vec<RunReport>,
    pub interrupted: bool,
}

impl CompareOutcome {
    /// 130 interrupted, 1 when a run failed, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            130
        } else if self.result.runs.iter().any(|r| r.status == Status::Failed) {
            1
        } else {
            0
        }
    }
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Aggregates the runs' figures per variant. Pure: `kprod report` calls it on the runs
/// stored in `compare.json`.
pub fn aggregate(variants: usize, runs: &[CompareRun]) -> Vec<FigureRow> {
    FIGURES
        .iter()
        .map(|f| {
            let per_variant: Vec<(Vec<f64>, usize)> = (0..variants)
                .map(|v| {
                    let of_v: Vec<&CompareRun> = runs.iter().filter(|r| r.variant == v).collect();
                    let mut vals: Vec<f64> = of_v
                        .iter()
                        .filter_map(|r| r.figures.get(f.key).copied().flatten())
                        .filter(|x| x.is_finite())
                        .collect();
                    vals.sort_by(f64::total_cmp);
                    (vals, of_v.len())
                })
                .collect();
            let first = &per_variant[0].0;
            let first_median = median(first);
            let cells = per_variant
                .iter()
                .enumerate()
                .map(|(i, (vals, n_runs))| {
                    let m = median(vals);
                    let ratio = match (m, first_median) {
                        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                        _ => None,
                    };
                    let overlap = match (vals.first(), vals.last(), first.first(), first.last()) {
                        (Some(lo), Some(hi), Some(flo), Some(fhi)) => Some(lo <= fhi && flo <= hi),
                        _ => None,
                    };
                    let judged = i > 0 && *n_runs > 1 && per_variant[0].1 > 1;
                    VariantFigure {
                        median: m,
                        min: vals.first().copied(),
                        max: vals.last().copied(),
                        ratio_to_first: if i > 0 { ratio } else { None },
                        within_noise: if judged { overlap } else { None },
                    }
                })
                .collect();
            FigureRow {
                figure: f.key.to_string(),
                label: f.label.to_string(),
                variants: cells,
            }
        })
        .collect()
}

fn run_figures(r: &RunReport) -> BTreeMap<String, Option<f64>> {
    FIGURES
        .iter()
        .map(|f| (f.key.to_string(), f.value(r)))
        .collect()
}

/// Writes `compare.json` and `compare.csv` into `dir`.
fn write_files(dir: &Path, c: &CompareResult) -> Result<(), KprodError> {
    report::write_json(&dir.join(COMPARE_JSON), c)?;
    Ok(report::write_csv(&dir.join(COMPARE_CSV), compare_csv(c))?)
}

/// Draws the comparison's charts from its runs (directories resolved against `root`).
pub fn write_charts(
    dir: &Path,
    root: &Path,
    c: &CompareResult,
    reports: &[RunReport],
) -> Result<Vec<PathBuf>, KprodError> {
    let names = labels(&c.variants);
    let series: Vec<RunSeries<'_>> = c
        .runs
        .iter()
        .zip(reports)
        .map(|(run, report)| RunSeries {
            label: names.get(run.variant).cloned().unwrap_or_default(),
            color: run.variant,
            legend: !c
                .runs
                .iter()
                .any(|o| o.variant == run.variant && o.repeat < run.repeat),
            dir: root.join(&run.run_dir),
            report,
        })
        .collect();
    let drawn = charts::group_charts(&names.join(" vs "), &series)?;
    let page = out::html_page(c, &drawn, reports);
    Ok(vec![
        write(dir.join(charts::SPECTRUM_SVG), &drawn.spectrum)?,
        write(dir.join(charts::TIMELINE_SVG), &drawn.timeline)?,
        charts::write_html(dir, &page)?,
    ])
}

fn write(path: PathBuf, text: &str) -> Result<PathBuf, KprodError> {
    report::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// The bench arguments of one variant: the shared arguments with the variant profile last.
pub fn variant_args(shared: &RunArgs<CompareVerdictArgs>, variant: &str) -> BenchArgs {
    let mut a = shared.bench();
    a.profile.profiles.push(variant.to_string());
    a
}

/// Runs the comparison. `observer` = None shows the terminal progress of each run.
pub fn execute(
    args: &CompareArgs,
    cwd: &Path,
    mut observer: Option<&mut dyn Observer>,
) -> Result<CompareOutcome, KprodError> {
    let repeats = args.bench.verdict.repeat.unwrap_or(DEFAULT_REPEAT);
    // Every variant must resolve before the first run: a typo in the last one should not
    // cost the runs of all the others.
    let profiles = args
        .variants
        .iter()
        .map(|v| bench::resolve(&variant_args(&args.bench, v).profile, cwd))
        .collect::<Result<Vec<_>, _>>()?;
    let fresh = fresh_topics(args, &profiles)?;
    let root = bench::results_root(&args.bench.output.out, cwd)?;
    let label = super::run_name::named("compare", args.bench.output.name.as_deref());
    let dir = report::create_run_dir(&root, SystemTime::now(), &label)?;
    let mut result = CompareResult {
        schema_version: COMPARE_SCHEMA_VERSION,
        kind: "compare".into(),
        created_at: report::format_rfc3339_utc(SystemTime::now()),
        shared_profiles: args.bench.profile.profiles.clone(),
        variants: args.variants.clone(),
        repeat: repeats,
        cluster_note: None,
        noise_rule: NOISE_RULE.into(),
        runs: Vec::new(),
        figures: Vec::new(),
        versus: Vec::new(),
    };
    let mut reports = Vec::new();
    let total = args.variants.len() as u32 * repeats;
    let mut interrupted = false;
    'runs: for repeat in 1..=repeats {
        for (vi, v) in args.variants.iter().enumerate() {
            if !args.bench.output.quiet {
                let k = result.runs.len() as u32 + 1;
                crate::print_stderr(&format!(
                    "compare: run {k}/{total}: {v} (repeat {repeat}/{repeats})"
                ));
            }
            // Reborrowed per run; the explicit cast shortens the trait object's lifetime.
            let obs = observer.as_mut().map(|o| &mut **o as &mut dyn Observer);
            let mut a = variant_args(&args.bench, v);
            if let Some((fresh, topics)) = &fresh {
                let t = &topics[vi];
                // Verified again just before the run: it must not start on another shape.
                fresh.check(t)?;
                a.profile.topic_suffix = Some(t.suffix.clone());
            }
            let o = bench::execute(&a, cwd, obs)?;
            bench::print_run_details(&args.bench.output, &o);
            report::usable(&o.report, &o.dir)?;
            result.cluster_note = result.cluster_note.or(o.report.cluster_note.clone());
            result.runs.push(CompareRun {
                variant: vi,
                repeat,
                run_dir: o
                    .dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                status: o.report.status,
                figures: run_figures(&o.report),
                topic: Some(o.report.topic.clone()),
                partitions: Some(o.report.partitions),
                topics: super::sweep::many_topics(&o.report),
            });
            reports.push(o.report);
            result.figures = aggregate(args.variants.len(), &result.runs);
            result.versus = judge::versus(&result.variants, &result.runs);
            judge::attribute(&mut result.versus, &result.runs, &reports);
            // Written after every run, so an interrupted comparison keeps what it has.
            write_files(&dir, &result)?;
            if result
                .runs
                .last()
                .is_some_and(|r| r.status == Status::Interrupted)
            {
                interrupted = true;
                break 'runs;
            }
        }
    }
    if let Err(e) = write_charts(&dir, &root, &result, &reports) {
        crate::print_stderr(&format!("warning: charts not written: {e}"));
    }
    Ok(CompareOutcome {
        result,
        dir,
        reports,
        interrupted,
    })
}

/// Variants whose topics differ in count, partitions, replication or configs against
/// `--brokers`: fresh topics per variant (`<name>-v2-<variant>`), shared by its repeats,
/// created before the first run.
fn fresh_topics(
    args: &CompareArgs,
    profiles: &[crate::profile::Profile],
) -> Result<Option<(FreshTopics, Vec<topology::StepTopics>)>, KprodError> {
    topology::prepare(&topology::Request {
        profiles,
        forced: false,
        suffix: &|i| variant_suffix(i, &args.variants[i]),
        keep: args.keep_topics,
        quiet: args.bench.output.quiet,
        asker: Asker {
            what: "the compared variants' topics (count, partitions, replication or configs)",
            instead: "compare variants of one topology per run",
        },
    })
}

/// `v<n>-<file stem of the variant>`: readable, and distinct even for the same variant
/// given twice.
fn variant_suffix(i: usize, variant: &str) -> String {
    let stem = Path::new(variant)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| variant.to_string());
    format!("v{}-{stem}", i + 1)
}

/// `kprod compare` for the command line: runs, prints the table, returns the exit code.
pub fn run(args: &CompareArgs, cwd: &Path) -> Result<i32, KprodError> {
    // The `--profile` layers' `[check] thresholds` apply to every variant.
    let base = bench::resolve(&args.bench.profile, cwd)?;
    let slos = bench::thresholds(&base.check.thresholds, &args.bench.verdict.thresholds)?;
    let o = execute(args, cwd, None)?;
    let json = args.bench.output.json;
    super::json_out::say(json, &render_table(&o.result));
    super::json_out::say(json, &format!("results: {}", o.dir.display()));
    super::json_out::print_file(json, &o.dir.join(COMPARE_JSON))?;
    match o.exit_code() {
        0 => judge::thresholds(&o, &slos, args.bench.verdict.inconclusive, json),
        code => Ok(code),
    }
}

/// Loads a compare directory written earlier (for `kprod report`).
pub fn load(dir: &Path) -> Result<CompareResult, KprodError> {
    let path = dir.join(COMPARE_JSON);
    let c: CompareResult = report::read_json(&path, COMPARE_JSON)?;
    if c.schema_version == 0 || c.schema_version > COMPARE_SCHEMA_VERSION || c.variants.is_empty() {
        return Err(KprodError::Results {
            path,
            message: format!(
                "compare schema_version {} with {} variants is not supported (this kprod reads version {COMPARE_SCHEMA_VERSION})",
                c.schema_version,
                c.variants.len()
            ),
        });
    }
    Ok(c)
}

/// Re-renders a saved comparison: table (returned), `compare.csv` and the charts.
pub fn rerender(dir: &Path) -> Result<String, KprodError> {
    let mut c = load(dir)?;
    c.figures = aggregate(c.variants.len(), &c.runs);
    let root = dir.parent().unwrap_or(Path::new("."));
    let reports = c
        .runs
        .iter()
        .map(|r| report::load_report(&root.join(&r.run_dir)))
        .collect::<Result<Vec<_>, _>>()?;
    let path = dir.join(COMPARE_CSV);
    let csv = compare_csv(&c).map_err(|message| KprodError::Results {
        path: path.clone(),
        message,
    })?;
    report::write_atomic(&path, &csv)?;
    write_charts(dir, root, &c, &reports)?;
    Ok(render_table(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(variant: usize, repeat: u32, rps: f64) -> CompareRun {
        let mut figures = BTreeMap::new();
        figures.insert("records_per_sec".to_string(), Some(rps));
        figures.insert("compression_ratio".to_string(), None);
        CompareRun {
            variant,
            repeat,
            run_dir: format!("r{variant}{repeat}"),
            status: Status::Complete,
            figures,
            topic: None,
            partitions: None,
            topics: None,
        }
    }

    fn rps_row(rows: &[FigureRow]) -> &FigureRow {
        rows.iter().find(|r| r.figure == "records_per_sec").unwrap()
    }

    #[test]
    fn overlapping_ranges_are_within_noise_and_disjoint_ones_are_not() {
        let runs = vec![
            run(0, 1, 100.0),
            run(1, 1, 103.0),
            run(2, 1, 150.0),
            run(0, 2, 104.0),
            run(1, 2, 99.0),
            run(2, 2, 160.0),
            run(0, 3, 102.0),
            run(1, 3, 101.0),
            run(2, 3, 155.0),
        ];
        let rows = aggregate(3, &runs);
        let r = rps_row(&rows);
        assert_eq!(r.variants[0].median, Some(102.0));
        assert_eq!(r.variants[0].within_noise, None);
        assert_eq!(r.variants[1].median, Some(101.0));
        assert_eq!(r.variants[1].within_noise, Some(true));
        assert_eq!(r.variants[2].median, Some(155.0));
        assert_eq!(r.variants[2].min, Some(150.0));
        assert_eq!(r.variants[2].within_noise, Some(false));
        let ratio = r.variants[2].ratio_to_first.unwrap();
        assert!((ratio - 155.0 / 102.0).abs() < 1e-12);
    }

    #[test]
    fn one_repeat_judges_no_noise_and_missing_figures_stay_missing() {
        let rows = aggregate(2, &[run(0, 1, 100.0), run(1, 1, 100.0)]);
        assert_eq!(rps_row(&rows).variants[1].within_noise, None);
        let c = rows
            .iter()
            .find(|r| r.figure == "compression_ratio")
            .unwrap();
        assert_eq!(c.variants[1].median, None);
        assert_eq!(c.variants[1].ratio_to_first, None);
    }

    #[test]
    fn duplicate_variants_get_distinct_labels() {
        let l = labels(&["lz4".into(), "zstd".into(), "lz4".into()]);
        assert_eq!(l, ["lz4", "zstd", "lz4 #2"]);
    }
}
