//! Percentile extraction and the `.hgrm` percentile distribution writer (byte-for-byte
//! HdrHistogram `outputPercentileDistribution` layout). The histogram settings themselves
//! live in `domain::histogram`, below the recorders that fill histograms.
//!
//! Everything recorded is in microseconds. Number formatting here copies Java's
//! `Formatter` (half-up rounding of the shortest decimal representation) because the
//! `.hgrm` and `.hlog` files must read exactly like the ones HdrHistogram's own tools write.

use super::Percentiles;
pub use crate::domain::histogram::{new_histogram, HIST_HIGHEST_US, HIST_SIGFIG};
use hdrhistogram::Histogram;
use std::io::{self, Write};

/// `.hgrm` values are printed in milliseconds: recorded microseconds / 1000.
pub const HGRM_UNIT_RATIO: f64 = 1000.0;
const HGRM_TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Percentiles (p50..p99.99, max, min, mean, stddev, count) of a µs histogram.
/// Empty histogram -> all zero.
///
/// Percentile values are the highest value equivalent to the recorded one (as
/// HdrHistogram's `getValueAtPercentile` reports), so they never under-state latency.
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    let count = h.len();
    if count == 0 {
        return Percentiles::default();
    }
    // Ranks use exact integer arithmetic: `0.999 * n` in floating point can land one ulp
    // above an integer and ceil() would then pick the next record.
    let ranks: [(u128, u128); 5] = [(50, 100), (90, 100), (99, 100), (999, 1000), (9999, 10000)];
    let targets: Vec<u64> = ranks
        .iter()
        .map(|&(num, den)| {
            let rank = (u128::from(count) * num).div_ceil(den);
            u64::try_from(rank).unwrap_or(u64::MAX).max(1)
        })
        .collect();
    let mut values = [0u64; 5];
    let mut next = 0;
    let mut cumulative = 0u64;
    for v in h.iter_recorded() {
        cumulative = cumulative.saturating_add(v.count_at_value());
        while next < targets.len() && cumulative >= targets[next] {
            values[next] = v.value_iterated_to();
            next += 1;
        }
        if next == targets.len() {
            break;
        }
    }
    // Counts that saturated could leave ranks unassigned; the max is the honest answer then.
    for v in values.iter_mut().skip(next) {
        *v = h.max();
    }
    Percentiles {
        count,
        min: h.min(),
        p50: values[0],
        p90: values[1],
        p99: values[2],
        p999: values[3],
        p9999: values[4],
        max: h.max(),
        mean: java_mean(h),
        stddev: java_stddev(h),
    }
}

/// Mean as HdrHistogram Java computes it (sum of median-equivalent values, then one
/// division), so `.hgrm` footers agree with HdrHistogram's tools to the last digit.
fn java_mean(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    let total: f64 = h
        .iter_recorded()
        .map(|v| h.median_equivalent(v.value_iterated_to()) as f64 * v.count_at_value() as f64)
        .sum();
    total / h.len() as f64
}

fn java_stddev(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    let mean = java_mean(h);
    let total: f64 = h
        .iter_recorded()
        .map(|v| {
            let dev = h.median_equivalent(v.value_iterated_to()) as f64 - mean;
            dev * dev * v.count_at_value() as f64
        })
        .sum();
    (total / h.len() as f64).sqrt()
}

/// One line of the percentile distribution.
struct PercentileRow {
    value: u64,
    /// Percentile level iterated to, 0..=100.
    level: f64,
    total: u64,
}

/// Replays HdrHistogram Java's `PercentileIterator` in percentile space (0..100), not
/// hdrhistogram-rs's quantile space (0..1): the float steps differ, and with them which
/// rows appear when a bucket's cumulative share lands exactly on a tick.
fn java_percentile_rows(h: &Histogram<u64>, ticks_per_half_distance: u32) -> Vec<PercentileRow> {
    let n = h.len();
    let mut rows = Vec::new();
    if n == 0 {
        return rows;
    }
    let buckets: Vec<(u64, u64)> = h
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect();
    let mut level = 0.0f64;
    let mut reached_last = false;
    let mut current: Option<usize> = None;
    let mut total = 0u64;
    loop {
        // Java's hasNext(): more counts ahead, or one final step to exactly 100%.
        if total >= n {
            if reached_last {
                return rows;
            }
            level = 100.0;
            reached_last = true;
        }
        // Java's next(): stay on the current bucket while it satisfies the level, else move on.
        loop {
            if let Some(i) = current {
                let pct = 100.0 * total as f64 / n as f64;
                if pct >= level {
                    rows.push(PercentileRow {
                        value: buckets[i].0,
                        level,
                        total,
                    });
                    if !reached_last {
                        level = next_level(level, ticks_per_half_distance);
                    }
                    break;
                }
            }
            let next = current.map_or(0, |i| i + 1);
            let Some(&(_, count)) = buckets.get(next) else {
                // Only reachable if bucket counts disagree with the total (saturation).
                return rows;
            };
            current = Some(next);
            total = total.saturating_add(count);
        }
    }
}

/// Java: `ticks * (long) Math.pow(2, (long) (Math.log(100 / (100 - level)) / Math.log(2)) + 1)`.
fn next_level(level: f64, ticks_per_half_distance: u32) -> f64 {
    let halvings = ((100.0 / (100.0 - level)).ln() / 2f64.ln()) as i64;
    let pow = 2f64.powf(halvings.saturating_add(1) as f64) as i64;
    let reporting_ticks = i64::from(ticks_per_half_distance).wrapping_mul(pow);
    level + 100.0 / reporting_ticks as f64
}

/// Percentile distribution in HdrHistogram's `outputPercentileDistribution` format
/// (5 ticks per half distance, values in milliseconds = µs / 1000), readable by
/// HdrHistogram's online plotter.
pub fn write_hgrm(w: &mut impl Write, h: &Histogram<u64>) -> io::Result<()> {
    let digits = usize::from(h.sigfig());
    writeln!(
        w,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    for row in java_percentile_rows(h, HGRM_TICKS_PER_HALF_DISTANCE) {
        let value = java_fixed(row.value as f64 / HGRM_UNIT_RATIO, digits);
        let fraction = row.level / 100.0;
        if row.level != 100.0 {
            writeln!(
                w,
                "{:>12} {:>2} {:>10} {:>14}",
                value,
                java_fixed(fraction, 12),
                row.total,
                java_fixed(1.0 / (1.0 - fraction), 2)
            )?;
        } else {
            writeln!(
                w,
                "{:>12} {:>2} {:>10}",
                value,
                java_fixed(fraction, 12),
                row.total
            )?;
        }
    }
    writeln!(
        w,
        "#[Mean    = {:>12}, StdDeviation   = {:>12}]",
        java_fixed(java_mean(h) / HGRM_UNIT_RATIO, digits),
        java_fixed(java_stddev(h) / HGRM_UNIT_RATIO, digits)
    )?;
    writeln!(
        w,
        "#[Max     = {:>12}, Total count    = {:>12}]",
        java_fixed(h.max() as f64 / HGRM_UNIT_RATIO, digits),
        h.len()
    )?;
    writeln!(
        w,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_bucket_count(h.sigfig())
    )
}

/// HdrHistogram's sub-bucket count for a number of significant digits (2048 for 3).
fn sub_bucket_count(sigfig: u8) -> u64 {
    let largest_single_unit = 2.0 * 10f64.powi(i32::from(sigfig));
    let magnitude = largest_single_unit.log2().ceil() as u32;
    1u64 << magnitude.max(1)
}

/// `String.format(Locale.US, "%.<prec>f", x)` as Java prints it: the shortest decimal
/// digits that round-trip, rounded half-up. Rust's `{:.N}` rounds the exact binary value
/// half-to-even instead, which differs on ties such as 5.0005 -> "5.001" (Java) vs "5.000".
pub(crate) fn java_fixed(x: f64, prec: usize) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    // value = 0.d1d2d3... x 10^point
    let mut point = exponent + 1;
    if point <= 0 {
        let pad = usize::try_from(1 - point).unwrap_or(0);
        digits.splice(0..0, std::iter::repeat_n(0u8, pad));
        point = 1;
    }
    let point = usize::try_from(point).unwrap_or(1);
    let keep = point + prec;
    if digits.len() > keep {
        let round_up = digits[keep] >= 5;
        digits.truncate(keep);
        if round_up {
            let mut i = keep;
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    } else {
        digits.resize(keep, 0);
    }
    let int_len = digits.len() - prec;
    let mut s = String::with_capacity(digits.len() + 2);
    if x.is_sign_negative() {
        s.push('-');
    }
    s.extend(digits[..int_len].iter().map(|d| char::from(b'0' + d)));
    if prec > 0 {
        s.push('.');
        s.extend(digits[int_len..].iter().map(|d| char::from(b'0' + d)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform_1_to_10000() -> Histogram<u64> {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v).expect("in range");
        }
        h
    }

    #[test]
    fn percentiles_of_uniform_histogram() {
        let h = uniform_1_to_10000();
        let p = percentiles(&h);
        assert_eq!(p.count, 10_000);
        assert_eq!(p.min, 1);
        // HDR reports the highest value equivalent to the rank's value (3 digits precision).
        assert!(h.equivalent(p.p50, 5000), "p50 {}", p.p50);
        assert!(p.p50 >= 5000);
        assert!(h.equivalent(p.p90, 9000), "p90 {}", p.p90);
        assert!(h.equivalent(p.p99, 9900), "p99 {}", p.p99);
        assert!(h.equivalent(p.p999, 9990), "p999 {}", p.p999);
        assert!(h.equivalent(p.p9999, 9999), "p9999 {}", p.p9999);
        assert!(h.equivalent(p.max, 10_000), "max {}", p.max);
        assert!(p.max >= 10_000 && p.max < 10_010);
        assert!((p.mean - 5000.5).abs() < 5.0, "mean {}", p.mean);
        // stddev of a uniform 1..=n is n/sqrt(12).
        assert!((p.stddev - 2886.75).abs() < 5.0, "stddev {}", p.stddev);
        assert_eq!(p.p50, h.value_at_quantile(0.5));
        assert_eq!(p.p99, h.value_at_quantile(0.99));
    }

    #[test]
    fn percentiles_rank_boundaries_are_exact() {
        let mut h = new_histogram();
        // 999 fast records and one slow one: p99.9 must be the 999th record, not the slow one.
        h.record_n(100, 999).expect("in range");
        h.record(50_000).expect("in range");
        let p = percentiles(&h);
        assert_eq!(p.p999, h.highest_equivalent(100));
        assert_eq!(p.p9999, h.highest_equivalent(50_000));
        assert_eq!(p.max, h.highest_equivalent(50_000));
    }

    #[test]
    fn percentiles_of_empty_histogram_are_zero() {
        assert_eq!(percentiles(&new_histogram()), Percentiles::default());
    }

    #[test]
    fn new_histogram_settings() {
        let mut h = new_histogram();
        assert_eq!(h.low(), 1);
        assert!(h.high() >= HIST_HIGHEST_US);
        assert_eq!(h.sigfig(), 3);
        assert!(!h.is_auto_resize());
        assert!(h.record(HIST_HIGHEST_US).is_ok());
        assert!(h.record(HIST_HIGHEST_US * 100).is_err());
    }

    #[test]
    fn java_fixed_rounds_half_up_on_shortest_digits() {
        assert_eq!(java_fixed(5.0005, 3), "5.001");
        assert_eq!(java_fixed(0.125, 2), "0.13");
        assert_eq!(java_fixed(2.5, 0), "3");
        assert_eq!(java_fixed(0.0, 3), "0.000");
        assert_eq!(java_fixed(9.9996, 3), "10.000");
        assert_eq!(java_fixed(0.0005, 3), "0.001");
        assert_eq!(java_fixed(1e-7, 3), "0.000");
        assert_eq!(java_fixed(1234.5678, 2), "1234.57");
        assert_eq!(java_fixed(0.9998779296875, 12), "0.999877929688");
        assert_eq!(java_fixed(1441812279.474, 3), "1441812279.474");
        assert_eq!(java_fixed(-1.5, 1), "-1.5");
        assert_eq!(java_fixed(f64::INFINITY, 2), "Infinity");
    }

    fn hgrm_text(h: &Histogram<u64>) -> String {
        let mut out = Vec::new();
        write_hgrm(&mut out, h).expect("write to Vec");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn hgrm_header_rows_and_footer() {
        let h = uniform_1_to_10000();
        let text = hgrm_text(&h);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        // First row: lowest value at percentile 0, count 1.
        assert_eq!(
            lines[2],
            "       0.001 0.000000000000          1           1.00"
        );

        let rows: Vec<Vec<&str>> = lines[2..]
            .iter()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let mut last_pct = -1.0;
        let mut last_count = 0u64;
        for r in &rows {
            let pct: f64 = r[1].parse().expect("percentile");
            let count: u64 = r[2].parse().expect("count");
            assert!(pct >= last_pct, "percentile column not monotonic: {r:?}");
            assert!(count >= last_count);
            last_pct = pct;
            last_count = count;
        }
        let last = rows.last().expect("rows");
        assert_eq!(last.len(), 3, "last row has no 1/(1-p) column");
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], "10000");
        assert_eq!(last[0], java_fixed(h.max() as f64 / 1000.0, 3));

        let footer: Vec<&str> = lines.iter().rev().take(3).rev().copied().collect();
        assert_eq!(
            footer[0],
            format!(
                "#[Mean    = {:>12}, StdDeviation   = {:>12}]",
                java_fixed(h.mean() / 1000.0, 3),
                java_fixed(h.stdev() / 1000.0, 3)
            )
        );
        assert_eq!(
            footer[1],
            format!(
                "#[Max     = {:>12}, Total count    = {:>12}]",
                java_fixed(h.max() as f64 / 1000.0, 3),
                10_000
            )
        );
        assert_eq!(
            footer[2],
            "#[Buckets = {:>12}, SubBuckets     = {:>12}]"
                .replacen("{:>12}", &format!("{:>12}", 22), 1)
                .replacen("{:>12}", &format!("{:>12}", 2048), 1)
        );
    }

    #[test]
    fn hgrm_percentile_ticks_follow_java_steps() {
        let text = hgrm_text(&uniform_1_to_10000());
        let pcts: Vec<&str> = text
            .lines()
            .skip(2)
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        // 5 ticks per half distance: 0, 10 .. 50 %, then 55 .. 75 % in 5 % steps, ...
        let expected = [
            "0.000000000000",
            "0.100000000000",
            "0.200000000000",
            "0.300000000000",
            "0.400000000000",
            "0.500000000000",
            "0.550000000000",
            "0.600000000000",
            "0.650000000000",
            "0.700000000000",
            "0.750000000000",
            "0.775000000000",
        ];
        assert_eq!(&pcts[..expected.len()], &expected);
    }

    #[test]
    fn hgrm_of_empty_histogram_has_only_header_and_footer() {
        let text = hgrm_text(&new_histogram());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[2].starts_with("#[Mean    =        0.000"));
        assert!(lines[3].ends_with("Total count    =            0]"));
    }

    #[test]
    fn hgrm_single_value_has_first_and_last_rows() {
        let mut h = new_histogram();
        h.record(1500).expect("in range");
        let text = hgrm_text(&h);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "       1.500 0.000000000000          1           1.00"
        );
        assert_eq!(lines[3], "       1.500 1.000000000000          1");
        assert!(lines[4].starts_with("#[Mean"));
    }

    /// Expected files are HdrHistogram Java 2.1.11's `outputPercentileDistribution(out, 5,
    /// 1000.0)` for the same data (the Debian `libhdrhistogram-java` build): the `.hgrm`
    /// writer must match it byte for byte, which is what HdrHistogram's plotter parses.
    #[test]
    fn hgrm_matches_hdrhistogram_java_byte_for_byte() {
        assert_eq!(
            hgrm_text(&uniform_1_to_100000()),
            include_str!("testdata/java-2.1.11-uniform.hgrm")
        );

        // A skewed mix (1 % slow outliers up to ~5 s) exercises repeated values across
        // ticks and rounding of the mean; the generator is a fixed LCG.
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        let mut mixed = new_histogram();
        for n in [20_000u64, 21_000, 22_000, 24_000] {
            for _ in 0..n {
                let r = next();
                let v = match r % 100 {
                    0 => 50_000 + r % 5_000_000,
                    1..=10 => 2_000 + r % 20_000,
                    _ => 100 + r % 3_000,
                };
                mixed.record(v).expect("in range");
            }
        }
        assert_eq!(
            hgrm_text(&mixed),
            include_str!("testdata/java-2.1.11-mixed.hgrm")
        );
    }

    fn uniform_1_to_100000() -> Histogram<u64> {
        let mut h = new_histogram();
        for v in 1..=100_000u64 {
            h.record(v).expect("in range");
        }
        h
    }
}
