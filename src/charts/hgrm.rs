//! Reading a `.hgrm` percentile distribution (HdrHistogram `outputPercentileDistribution`
//! text, as `report::write_hgrm` writes it) back into points for the spectrum chart.
//!
//! The spectrum is drawn from this file rather than from the handful of percentiles in
//! `report.json`: it is the run's merged corrected histogram, tick by tick.

use crate::report::ReportError;
use std::path::Path;

/// One row of the distribution: the latency (µs) at a percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectrumPoint {
    /// Fraction in [0, 1].
    pub percentile: f64,
    pub value_us: u64,
}

/// Parses `.hgrm` text whose values are milliseconds (kprod's unit ratio of 1000).
/// Returns the rows in file order; comment and header lines are skipped.
pub fn parse_hgrm(text: &str) -> Result<Vec<SpectrumPoint>, String> {
    let mut points = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("Value") {
            continue;
        }
        let mut cols = t.split_whitespace();
        let (Some(value), Some(pct)) = (cols.next(), cols.next()) else {
            return Err(format!("line {}: expected `value percentile ...`", n + 1));
        };
        let bad = || format!("line {}: not a percentile row: {t:?}", n + 1);
        let value_ms: f64 = value.parse().map_err(|_| bad())?;
        let percentile: f64 = pct.parse().map_err(|_| bad())?;
        if !(0.0..=1.0).contains(&percentile) || !value_ms.is_finite() || value_ms < 0.0 {
            return Err(bad());
        }
        points.push(SpectrumPoint {
            percentile,
            // The file prints µs / 1000 with 3 decimals, so this recovers the µs exactly.
            value_us: (value_ms * 1000.0).round() as u64,
        });
    }
    Ok(points)
}

/// [`parse_hgrm`] on a file, with errors naming it.
pub fn read_hgrm_file(path: &Path) -> Result<Vec<SpectrumPoint>, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::Io {
        path: path.to_path_buf(),
        op: "read percentile distribution",
        source: e,
    })?;
    parse_hgrm(&text).map_err(|m| ReportError::Invalid {
        path: path.to_path_buf(),
        message: m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_skips_headers_and_footer() {
        let text = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
                    \x20      0.512 0.000000000000          1           1.00\n\
                    \x20      4.019 0.500000000000       2023           2.00\n\
                    \x20     24.767 1.000000000000       4000\n\
                    #[Mean    =        4.300, StdDeviation   =        2.735]\n";
        let p = parse_hgrm(text).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].value_us, 512);
        assert_eq!(p[1].value_us, 4019);
        assert_eq!(p[1].percentile, 0.5);
        assert_eq!(p[2].percentile, 1.0);
    }

    #[test]
    fn garbage_row_is_an_error_naming_the_line() {
        let e = parse_hgrm("Value Percentile\n1.0 banana 3 4\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }
}
