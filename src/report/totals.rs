//! `totals.json`: what `kprod merge` needs to rebuild a run's whole-run figures exactly.
//!
//! `report.json` keeps percentiles, and `latency.hlog` keeps the corrected latency of the
//! records *delivered* in each second, warm-up records included. The report's latency is
//! over the records *sent* after the warm-up, and its rates divide integer counts by
//! windows; neither can be rebuilt from the interval log. So every run also keeps its
//! whole-run histograms (V2 + DEFLATE, base64, as in `.hlog`), the integer numerators and
//! the windows of its rates, and the weights behind the librdkafka statistics averages.

use super::files::write_atomic;
use super::hlog::{base64_decode, base64_encode};
use super::{new_histogram, ReportError};
use crate::domain::RunOutcome;
pub use crate::domain::StatsWeights;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::UNIX_EPOCH;

pub const TOTALS_FILE: &str = "totals.json";
/// Bumps when a name or meaning in `totals.json` changes.
pub const TOTALS_VERSION: u32 = 1;

/// Whole-run figures of one run (or of a merge), exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTotals {
    pub schema_version: u32,
    /// The run's t0, microseconds since the Unix epoch (`started_at` has milliseconds).
    pub t0_unix_us: u64,
    pub throughput: RateParts,
    pub stats: StatsWeights,
    pub histograms: TotalHistograms,
}

/// The report's rates as numerator and window, seconds since the run's t0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateParts {
    /// Measured records delivered (`throughput.records_per_sec` numerator).
    pub delivered: u64,
    /// Their payload bytes (`throughput.bytes_per_sec` numerator).
    pub bytes: u64,
    /// Measured records handed to the producer (`send_records_per_sec` numerator).
    pub sent: u64,
    pub window_start_s: f64,
    /// End of the delivery window (`throughput.window_end_s`).
    pub window_end_s: f64,
    /// When generation stopped: the end of the send-rate window.
    pub send_end_s: f64,
}

/// Whole-run histograms, microseconds, each V2 + DEFLATE encoded and base64'd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalHistograms {
    pub corrected: String,
    pub uncorrected: String,
    pub schedule_lag: String,
    pub commit: String,
    /// `[consumers]`: end-to-end latency (`latency_us.e2e`); absent without consumers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e: Option<String>,
}

/// The histograms decoded.
#[derive(Debug, Clone)]
pub struct Histograms {
    pub corrected: Histogram<u64>,
    pub uncorrected: Histogram<u64>,
    pub schedule_lag: Histogram<u64>,
    pub commit: Histogram<u64>,
    pub e2e: Option<Histogram<u64>>,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            schedule_lag: new_histogram(),
            commit: new_histogram(),
            e2e: None,
        }
    }
}

impl Histograms {
    /// Adds another run's histograms: bucket counts add, so every percentile of the sum is
    /// exact over all records of both.
    pub fn add(&mut self, o: &Histograms) -> Result<(), String> {
        for (a, b, name) in [
            (&mut self.corrected, &o.corrected, "corrected"),
            (&mut self.uncorrected, &o.uncorrected, "uncorrected"),
            (&mut self.schedule_lag, &o.schedule_lag, "schedule_lag"),
            (&mut self.commit, &o.commit, "commit"),
        ] {
            a.add(b)
                .map_err(|e| format!("cannot add the {name} histograms: {e:?}"))?;
        }
        if let Some(b) = &o.e2e {
            self.e2e
                .get_or_insert_with(new_histogram)
                .add(b)
                .map_err(|e| format!("cannot add the e2e histograms: {e:?}"))?;
        }
        Ok(())
    }

    pub fn encode(&self) -> Result<TotalHistograms, String> {
        Ok(TotalHistograms {
            corrected: encode_histogram(&self.corrected)?,
            uncorrected: encode_histogram(&self.uncorrected)?,
            schedule_lag: encode_histogram(&self.schedule_lag)?,
            commit: encode_histogram(&self.commit)?,
            e2e: self.e2e.as_ref().map(encode_histogram).transpose()?,
        })
    }
}

impl TotalHistograms {
    pub fn decode(&self) -> Result<Histograms, String> {
        let one = |name: &str, text: &str| {
            decode_histogram(text).map_err(|e| format!("histograms.{name}: {e}"))
        };
        Ok(Histograms {
            corrected: one("corrected", &self.corrected)?,
            uncorrected: one("uncorrected", &self.uncorrected)?,
            schedule_lag: one("schedule_lag", &self.schedule_lag)?,
            commit: one("commit", &self.commit)?,
            e2e: self.e2e.as_deref().map(|t| one("e2e", t)).transpose()?,
        })
    }
}

/// V2 + DEFLATE, base64: the encoding of an `.hlog` line's histogram.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<String, String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| format!("cannot encode a histogram: {e:?}"))?;
    Ok(base64_encode(&bytes))
}

pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64_decode(text).ok_or("not valid base64")?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("cannot decode histogram: {e:?}"))?;
    // Sums of decoded histograms must not silently resize (kprod's histograms never do).
    h.auto(false);
    Ok(h)
}

impl RunTotals {
    /// The totals of a finished run, from the same figures `report::build` uses.
    /// `schedule_end_us`: as for the report (`report::build::schedule_end_us`).
    pub fn from_outcome(
        out: &RunOutcome,
        warmup_s: f64,
        schedule_end_us: Option<u64>,
    ) -> Result<RunTotals, String> {
        let t = &out.measurements.totals;
        let t0_unix_us = out
            .started_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let histograms = Histograms {
            corrected: t.corrected.clone(),
            uncorrected: t.uncorrected.clone(),
            schedule_lag: t.schedule_lag.clone(),
            commit: t.commit.clone(),
            e2e: out.consumers.as_ref().map(|c| c.e2e.clone()),
        };
        Ok(RunTotals {
            schema_version: TOTALS_VERSION,
            t0_unix_us,
            throughput: RateParts {
                delivered: t.measured.delivered,
                bytes: t.measured_bytes,
                sent: t.measured.sent,
                window_start_s: t.measured_window_start_us((warmup_s * 1e6).round() as u64) as f64
                    / 1e6,
                window_end_s: t.measured_window_end_us(schedule_end_us) as f64 / 1e6,
                send_end_s: t.generation_end_us as f64 / 1e6,
            },
            stats: out.measurements.stats.weights.clone(),
            histograms: histograms.encode()?,
        })
    }
}

/// Writes `dir/totals.json` atomically.
pub fn write_totals(dir: &Path, totals: &RunTotals) -> Result<(), ReportError> {
    let path = dir.join(TOTALS_FILE);
    let mut json = serde_json::to_vec_pretty(totals)
        .map_err(|e| ReportError::invalid(&path, format!("cannot serialise totals: {e}")))?;
    json.push(b'\n');
    write_atomic(&path, &json)
}

/// Writes the totals of a finished run into its directory, with the measured window the
/// report uses.
pub fn write_outcome_totals(
    dir: &Path,
    out: &RunOutcome,
    plan: &crate::plan::Plan,
) -> Result<(), ReportError> {
    let warmup_s = plan.profile.workload.warmup.as_secs_f64();
    let schedule_end = super::build::schedule_end_us(plan);
    let totals = RunTotals::from_outcome(out, warmup_s, schedule_end)
        .map_err(|m| ReportError::invalid(dir.join(TOTALS_FILE), m))?;
    write_totals(dir, &totals)
}

/// Reads `dir/totals.json`, refusing versions this kprod does not know.
pub fn read_totals(dir: &Path) -> Result<RunTotals, ReportError> {
    let path = dir.join(TOTALS_FILE);
    let bytes = std::fs::read(&path).map_err(|e| ReportError::io(&path, "read totals", e))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ReportError::invalid(&path, format!("not valid JSON: {e}")))?;
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(TOTALS_VERSION)) {
        return Err(ReportError::invalid(
            &path,
            format!(
                "schema_version {} is not supported (this kprod reads version {TOTALS_VERSION})",
                version.map_or("missing".to_string(), |v| v.to_string())
            ),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ReportError::invalid(&path, format!("not valid kprod totals: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_and_add_exactly() {
        let mut a = Histograms::default();
        let mut b = Histograms::default();
        for v in 1..=1000u64 {
            a.corrected.record(v * 3).expect("in range");
            b.corrected.record(v * 1000).expect("in range");
        }
        b.commit.record(42).expect("in range");
        let back = a.encode().and_then(|e| e.decode()).expect("round trip");
        assert_eq!(back.corrected, a.corrected);
        let mut sum = back;
        sum.add(&b).expect("add");
        assert_eq!(sum.corrected.len(), 2000);
        assert_eq!(sum.commit.len(), 1);
        let mut expected = a.corrected.clone();
        expected.add(&b.corrected).expect("add");
        assert_eq!(sum.corrected, expected);
    }

    #[test]
    fn totals_file_round_trips_and_rejects_unknown_versions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = RunTotals {
            schema_version: TOTALS_VERSION,
            t0_unix_us: 1_700_000_000_123_456,
            throughput: RateParts {
                delivered: 10,
                bytes: 1000,
                sent: 11,
                window_start_s: 1.0,
                window_end_s: 3.25,
                send_end_s: 3.0,
            },
            stats: StatsWeights::default(),
            histograms: Histograms::default().encode().expect("encode"),
        };
        write_totals(dir.path(), &t).expect("write");
        assert_eq!(read_totals(dir.path()).expect("read"), t);
        let path = dir.path().join(TOTALS_FILE);
        std::fs::write(&path, br#"{"schema_version": 9}"#).expect("write");
        let err = read_totals(dir.path()).expect_err("version 9");
        assert!(err.to_string().contains("schema_version 9"), "{err}");
        std::fs::write(&path, b"{").expect("write");
        assert!(read_totals(dir.path()).is_err());
    }

    #[test]
    fn garbage_histogram_text_is_an_error_not_a_panic() {
        assert!(decode_histogram("@@@").is_err());
        assert!(decode_histogram("AAAA").is_err());
    }
}
