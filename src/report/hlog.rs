//! The HdrHistogram interval log (`latency.hlog`, format v1.3): writing it the way
//! HdrHistogram Java's `HistogramLogWriter` does, and reading it back for `kprod report` /
//! `kprod merge`.
//!
//! Histograms are V2 + DEFLATE encoded and base64'd. Values are microseconds; the
//! `Interval_Max` column is milliseconds (max value divisor 1000), which is what
//! HdrHistogram's tools expect when told the unit ratio is 1000.

use super::hdr::java_fixed;
use super::{datetime, ReportError};
use hdrhistogram::serialization::interval_log::{
    IntervalLogHistogram, IntervalLogIterator, LogEntry,
};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::io::{self, Read, Write};

/// One interval of the HdrHistogram interval log.
#[derive(Debug, Clone)]
pub struct IntervalHistogram {
    /// Start of the interval, seconds since the run's t0.
    pub start_s: f64,
    pub duration_s: f64,
    /// Latency in microseconds.
    pub hist: Histogram<u64>,
}

pub const HLOG_VERSION_LINE: &str = "#[Histogram log format version 1.3]";
pub const HLOG_LEGEND_LINE: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";
pub const HLOG_UNIT_COMMENT_LINE: &str = "#[kprod: histogram values are in microseconds; \
     Interval_Max is in milliseconds (max value divisor 1000)]";
/// `Interval_Max` = histogram max (µs) / this, i.e. milliseconds.
pub const HLOG_MAX_VALUE_DIVISOR: f64 = 1000.0;

/// Seconds in a (Julian) year: HdrHistogram's reader treats interval timestamps more than
/// this far below StartTime as offsets from it rather than as Unix times.
const YEAR_S: f64 = 365.25 * 86_400.0;

/// Writes the interval log: version line, StartTime (Unix seconds and a UTC date), a unit
/// comment, the legend, then one line per interval with timestamps relative to StartTime.
pub fn write_hlog(
    w: &mut impl Write,
    start_unix_ms: u64,
    intervals: &[IntervalHistogram],
) -> io::Result<()> {
    writeln!(w, "{HLOG_VERSION_LINE}")?;
    writeln!(
        w,
        "#[StartTime: {} (seconds since epoch), {}]",
        java_fixed(start_unix_ms as f64 / 1000.0, 3),
        datetime::java_date_utc(i64::try_from(start_unix_ms).unwrap_or(i64::MAX))
    )?;
    writeln!(w, "{HLOG_UNIT_COMMENT_LINE}")?;
    writeln!(w, "{HLOG_LEGEND_LINE}")?;
    let mut serializer = V2DeflateSerializer::new();
    let mut encoded = Vec::new();
    for iv in intervals {
        encoded.clear();
        serializer
            .serialize(&iv.hist, &mut encoded)
            .map_err(|e| io::Error::other(format!("encoding an interval histogram: {e:?}")))?;
        writeln!(
            w,
            "{},{},{},{}",
            java_fixed(non_negative(iv.start_s), 3),
            java_fixed(non_negative(iv.duration_s), 3),
            java_fixed(iv.hist.max() as f64 / HLOG_MAX_VALUE_DIVISOR, 3),
            base64_encode(&encoded)
        )?;
    }
    Ok(())
}

/// Both HdrHistogram parsers reject a sign or `NaN` in a timestamp, which would make the
/// whole log unreadable; a clock glitch must not cost the data.
fn non_negative(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

/// Reads an interval log (kprod's or any HdrHistogram v1.2/v1.3 log without tags).
/// Returns the StartTime in Unix milliseconds, if present, and the intervals with
/// `start_s` measured from that StartTime (or from the first interval when there is none).
pub fn read_hlog(mut r: impl Read) -> Result<(Option<u64>, Vec<IntervalHistogram>), ReportError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).map_err(|e| ReportError::Hlog {
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    let line_of = |offset: usize| {
        bytes[..offset.min(bytes.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };

    let mut start_time: Option<f64> = None;
    let mut base_time: Option<f64> = None;
    let mut raw: Vec<(f64, f64, Histogram<u64>)> = Vec::new();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| {
            let hdrhistogram::serialization::interval_log::LogIteratorError::ParseError { offset } =
                e;
            ReportError::Hlog {
                line: Some(line_of(offset)),
                message: "not an interval log line".to_string(),
            }
        })?;
        match entry {
            // Java's reader also honours only the first of each; later ones would silently
            // re-base every following interval.
            LogEntry::StartTime(d) => {
                start_time.get_or_insert(d.as_secs_f64());
            }
            LogEntry::BaseTime(d) => {
                base_time.get_or_insert(d.as_secs_f64());
            }
            LogEntry::Interval(ilh) => {
                let text = ilh.encoded_histogram();
                let offset = (text.as_ptr() as usize).saturating_sub(bytes.as_ptr() as usize);
                raw.push(decode_interval(&ilh, line_of(offset), &mut deserializer)?);
            }
        }
    }
    Ok((
        start_time.map(|s| (s * 1000.0).round() as u64),
        rebase(raw, base_time, start_time),
    ))
}

/// One interval line: (start timestamp s, duration s, histogram); `line` names it in errors.
fn decode_interval(
    ilh: &IntervalLogHistogram<'_>,
    line: usize,
    deserializer: &mut Deserializer,
) -> Result<(f64, f64, Histogram<u64>), ReportError> {
    let line = Some(line);
    if let Some(tag) = ilh.tag() {
        return Err(ReportError::Hlog {
            line,
            message: format!(
                "tagged histogram (Tag={}) not supported: kprod logs one series",
                tag.as_str()
            ),
        });
    }
    let decoded = base64_decode(ilh.encoded_histogram()).ok_or_else(|| ReportError::Hlog {
        line,
        message: "histogram is not valid base64".to_string(),
    })?;
    let hist: Histogram<u64> = deserializer
        .deserialize(&mut decoded.as_slice())
        .map_err(|e| ReportError::Hlog {
            line,
            message: format!("cannot decode histogram: {e:?}"),
        })?;
    Ok((
        ilh.start_timestamp().as_secs_f64(),
        ilh.duration().as_secs_f64(),
        hist,
    ))
}

/// Interval starts in seconds from the log's StartTime (or its first interval), read
/// as HdrHistogram Java's HistogramLogReader reads them.
fn rebase(
    raw: Vec<(f64, f64, Histogram<u64>)>,
    base_time: Option<f64>,
    start_time: Option<f64>,
) -> Vec<IntervalHistogram> {
    let first_ts = raw.first().map_or(0.0, |r| r.0);
    raw.into_iter()
        .map(|(ts, duration_s, hist)| {
            let start_s = match (base_time, start_time) {
                (Some(base), Some(start)) => base + ts - start,
                (Some(_), None) => ts - first_ts,
                (None, Some(start)) if ts < start - YEAR_S => ts,
                (None, Some(start)) => ts - start,
                (None, None) => ts - first_ts,
            };
            IntervalHistogram {
                start_s,
                duration_s,
                hist,
            }
        })
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as `java.util.Base64` / `DatatypeConverter` write it.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; padding optional. None on any other character.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover base64 digit cannot encode a byte: the text was truncated.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::new_histogram;

    fn sample_intervals() -> Vec<IntervalHistogram> {
        (0..4u64)
            .map(|i| {
                let mut hist = new_histogram();
                if i != 2 {
                    // Interval 2 stays empty: idle seconds must survive the round trip too.
                    for v in 1..=(500 * (i + 1)) {
                        hist.record(v * 37 + i).expect("in range");
                    }
                    hist.record(1_234_567 * (i + 1)).expect("in range");
                }
                IntervalHistogram {
                    start_s: i as f64 * 1.0 + 0.25,
                    duration_s: 1.0,
                    hist,
                }
            })
            .collect()
    }

    const START_MS: u64 = 1_441_812_279_474;

    fn written() -> Vec<u8> {
        let mut out = Vec::new();
        write_hlog(&mut out, START_MS, &sample_intervals()).expect("write");
        out
    }

    #[test]
    fn hlog_header_lines_are_exact() {
        let text = String::from_utf8(written()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#[Histogram log format version 1.3]");
        assert_eq!(
            lines[1],
            "#[StartTime: 1441812279.474 (seconds since epoch), Wed Sep 09 15:24:39 UTC 2015]"
        );
        assert!(lines[2].starts_with('#') && lines[2].contains("microseconds"));
        assert_eq!(
            lines[3],
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        );
        assert_eq!(lines.len(), 4 + 4);
        // Interval_Max is milliseconds with 3 decimals: highest equivalent of 1_234_567 µs.
        let h = new_histogram();
        let max_ms = java_fixed(h.highest_equivalent(1_234_567) as f64 / 1000.0, 3);
        assert!(
            lines[4].starts_with(&format!("0.250,1.000,{max_ms},HISTF")),
            "{}",
            lines[4]
        );
        assert!(lines[6].starts_with("2.250,1.000,0.000,"), "{}", lines[6]);
    }

    #[test]
    fn hlog_round_trips_through_read_hlog() {
        let original = sample_intervals();
        let (start, back) = read_hlog(written().as_slice()).expect("read");
        assert_eq!(start, Some(START_MS));
        assert_eq!(back.len(), original.len());
        for (a, b) in original.iter().zip(&back) {
            assert!((a.start_s - b.start_s).abs() < 0.0005);
            assert!((a.duration_s - b.duration_s).abs() < 0.0005);
            assert_eq!(a.hist.len(), b.hist.len());
            assert_eq!(a.hist.max(), b.hist.max());
            assert_eq!(a.hist.min(), b.hist.min());
            assert_eq!(
                a.hist.value_at_quantile(0.99),
                b.hist.value_at_quantile(0.99)
            );
            let av: Vec<(u64, u64)> = a
                .hist
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect();
            let bv: Vec<(u64, u64)> = b
                .hist
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect();
            assert_eq!(av, bv);
        }
    }

    #[test]
    fn hlog_is_readable_by_hdrhistogram_interval_log_iterator() {
        let bytes = written();
        let original = sample_intervals();
        let mut starts = 0;
        let mut seen = 0;
        for entry in IntervalLogIterator::new(&bytes) {
            match entry.expect("hdrhistogram parses every line") {
                LogEntry::StartTime(d) => {
                    starts += 1;
                    assert_eq!(d.as_millis() as u64, START_MS);
                }
                LogEntry::BaseTime(_) => panic!("kprod writes no BaseTime"),
                LogEntry::Interval(ilh) => {
                    let want = &original[seen];
                    let raw = base64_decode(ilh.encoded_histogram()).expect("base64");
                    let h: Histogram<u64> = Deserializer::new()
                        .deserialize(&mut raw.as_slice())
                        .expect("V2 deflate histogram");
                    assert_eq!(h.len(), want.hist.len());
                    assert_eq!(h.max(), want.hist.max());
                    assert!((ilh.max() - want.hist.max() as f64 / 1000.0).abs() < 0.0005);
                    seen += 1;
                }
            }
        }
        assert_eq!(starts, 1);
        assert_eq!(seen, original.len());
    }

    #[test]
    fn read_hlog_reports_line_of_bad_input() {
        let mut bytes = written();
        bytes.extend_from_slice(b"0.000,1.000,0.000,@@@notbase64\n");
        match read_hlog(bytes.as_slice()) {
            Err(ReportError::Hlog { line, .. }) => assert_eq!(line, Some(9)),
            other => panic!("expected an Hlog error, got {other:?}"),
        }
        let err =
            read_hlog(&b"#[Histogram log format version 1.3]\ngarbage\n"[..]).expect_err("garbage");
        assert!(
            matches!(err, ReportError::Hlog { line: Some(2), .. }),
            "{err:?}"
        );
    }

    #[test]
    fn read_hlog_interprets_base_time_and_absolute_timestamps() {
        let mut enc = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&new_histogram(), &mut enc)
            .expect("encode");
        let b64 = base64_encode(&enc);
        let log = format!(
            "#[StartTime: 1000000000.000 (seconds since epoch)]\n\
             1000000005.500,1.000,0.000,{b64}\n"
        );
        let (_, iv) = read_hlog(log.as_bytes()).expect("absolute");
        assert!((iv[0].start_s - 5.5).abs() < 1e-6);
        let log = format!(
            "#[StartTime: 1000000000.000 (seconds since epoch)]\n\
             #[BaseTime: 1000000010.000 (seconds since epoch)]\n\
             2.000,1.000,0.000,{b64}\n"
        );
        let (_, iv) = read_hlog(log.as_bytes()).expect("base time");
        assert!((iv[0].start_s - 12.0).abs() < 1e-6);
    }

    #[test]
    fn base64_matches_known_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).expect("valid"), plain.as_bytes());
        }
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(base64_decode("Z"), None);
    }
}
