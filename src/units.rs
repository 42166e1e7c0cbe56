//! Human units: sizes (`64KiB`), durations (`10ms`, `2m`), counts (`50k`) and rates
//! (`20k/s`, `unlimited`), both parsing (profiles, flags, `--set`) and formatting (reports,
//! `profiles show`, serialized profiles). Every `format_*` output parses back with the
//! matching `parse_*`, so a printed profile can be pasted into a TOML file.

use serde::Serialize;
use std::time::Duration;

const SIZE_FORMS: &str = "a number with B, KiB, MiB, GiB, KB, MB or GB";
const DURATION_FORMS: &str =
    "a number with a unit: ns, us, ms, s, m or h (e.g. 500us, 10ms, 1.5s, 2m)";
const COUNT_FORMS: &str = "a whole number, optionally with k (thousand), m/M (million) or g/G (billion), e.g. 50k, 1.5M, 1_000_000";
const RATE_FORMS: &str =
    "`unlimited` (or `max`) or a positive count of records per second, e.g. 20k, 500/s, 1.5M/s";

/// Longest digit string accepted in a number (integer and fraction digits together):
/// enough for any u64 and any sensible fraction, small enough that exact u128 arithmetic
/// cannot overflow.
const MAX_DIGITS: usize = 30;

/// A decimal number kept exactly: `mantissa / 10^scale`. Floats would turn
/// `9007199254740993ns` into ...992 and accept `1.0000001KiB` as 1024 bytes.
#[derive(Debug, Clone, Copy)]
struct Decimal {
    mantissa: u128,
    scale: u32,
}

impl Decimal {
    /// `self * multiplier`, exact if it is a whole number (None otherwise, or on overflow).
    fn times_exact(self, multiplier: u128) -> Option<u128> {
        let p = self.mantissa.checked_mul(multiplier)?;
        let d = 10u128.checked_pow(self.scale)?;
        (p % d == 0).then_some(p / d)
    }
    /// `self * multiplier`, rounded half up to a whole number (None on overflow).
    fn times_rounded(self, multiplier: u128) -> Option<u128> {
        let p = self.mantissa.checked_mul(multiplier)?;
        let d = 10u128.checked_pow(self.scale)?;
        Some(p / d + u128::from(p % d >= d.div_ceil(2)))
    }
    fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }
    fn is_zero(self) -> bool {
        self.mantissa == 0
    }
}

/// Splits `"1.5KiB"` into `(1.5, "KiB")`. Underscores are digit separators.
fn split_number(s: &str) -> Option<(Decimal, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_'))
        .map_or(s.len(), |(i, _)| i);
    let (num, rest) = s.split_at(end);
    let digits: String = num.chars().filter(|c| *c != '_').collect();
    // `"."`, `"1.2.3"` and `"_"` are rejected here.
    if !digits.chars().any(|c| c.is_ascii_digit()) || digits.matches('.').count() > 1 {
        return None;
    }
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    // Trailing zeros of the fraction carry no value; dropping them keeps 10^scale small.
    let frac = frac.trim_end_matches('0');
    let int = int.trim_start_matches('0');
    if int.len() + frac.len() > MAX_DIGITS {
        return None;
    }
    let mut mantissa: u128 = 0;
    for c in int.chars().chain(frac.chars()) {
        mantissa = mantissa * 10 + u128::from(c.to_digit(10)?);
    }
    let scale = u32::try_from(frac.len()).ok()?;
    Some((Decimal { mantissa, scale }, rest.trim()))
}

/// Parses a byte size: `512`, `512B`, `64KiB`, `1.5MiB`, `1GiB` (binary) or `64KB`, `1MB`,
/// `1GB` (decimal). Suffixes are case-insensitive except `Kb`/`Mb`/`Gb` (bits), refused.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad = || format!("invalid size {s:?}: expected {SIZE_FORMS}");
    if t.starts_with('-') {
        return Err(format!("invalid size {s:?}: a size cannot be negative"));
    }
    let (value, suffix) = split_number(t).ok_or_else(bad)?;
    // `Kb`, `Mb`, `Gb` are the usual spelling of kilo/mega/gigabits, a factor-of-eight
    // mistake waiting to happen; only these are case-sensitive.
    if matches!(suffix, "kb" | "Kb" | "mb" | "Mb" | "gb" | "Gb") {
        return Err(format!(
            "invalid size {s:?}: expected {SIZE_FORMS} (a lower-case `b` means bits; write {}B)",
            &t[..t.len() - 1]
        ));
    }
    let multiplier: u64 = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(bad()),
    };
    let bytes = value
        .times_exact(multiplier.into())
        .ok_or_else(|| format!("invalid size {s:?}: not a whole number of bytes"))?;
    u64::try_from(bytes).map_err(|_| format!("invalid size {s:?}: too large"))
}

/// Parses a duration: `500us`, `10ms`, `30s`, `2m`, `1h`, fractions such as `0.5ms`, and
/// `0`. Any other bare number is refused: `linger = 10` could mean 10ms or 10s.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!(
            "invalid duration {s:?}: a duration cannot be negative"
        ));
    }
    let (value, suffix) = split_number(t)
        .ok_or_else(|| format!("invalid duration {s:?}: expected {DURATION_FORMS}"))?;
    let nanos_per_unit: u128 = match suffix {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" if value.is_zero() => 1,
        "" => {
            return Err(format!(
                "invalid duration {s:?}: a bare number has no unit; add one, e.g. \"{t}ms\" or \"{t}s\""
            ))
        }
        _ => return Err(format!("invalid duration {s:?}: expected {DURATION_FORMS}")),
    };
    // Fractions of a nanosecond round to the nearest one.
    let nanos = value
        .times_rounded(nanos_per_unit)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format!("invalid duration {s:?}: too long"))?;
    Ok(Duration::from_nanos(nanos))
}

/// Parses a count's number and suffix (shared by counts and rates).
fn parse_count_value(t: &str) -> Option<(Decimal, u128)> {
    let (value, suffix) = split_number(t)?;
    let multiplier = match suffix {
        "" => 1,
        "k" | "K" => 1_000,
        "m" | "M" => 1_000_000,
        "g" | "G" => 1_000_000_000,
        _ => return None,
    };
    Some((value, multiplier))
}

/// Parses a count: `50k` = 50 000, `1m`/`1M` = 1 000 000, `2.5M`, `1g` = 10^9, `1_000_000`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("invalid count {s:?}: a count cannot be negative"));
    }
    let (value, multiplier) = parse_count_value(t)
        .ok_or_else(|| format!("invalid count {s:?}: expected {COUNT_FORMS}"))?;
    let n = value
        .times_exact(multiplier)
        .ok_or_else(|| format!("invalid count {s:?}: not a whole number"))?;
    u64::try_from(n).map_err(|_| format!("invalid count {s:?}: too large"))
}

/// A target rate, as profiles and flags give it (`workload.rate`, `--rate`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "per_sec")]
pub enum Rate {
    Unlimited,
    /// Records per second across all producers.
    Fixed(f64),
}

/// Parses a rate: `unlimited`/`max`, or a positive count optionally followed by `/s`.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("max") {
        return Ok(Rate::Unlimited);
    }
    if t.starts_with('-') {
        return Err(format!(
            "invalid rate {s:?}: a rate must be positive; expected {RATE_FORMS}"
        ));
    }
    let body = t.strip_suffix("/s").unwrap_or(t).trim_end();
    let (value, multiplier) = parse_count_value(body)
        .ok_or_else(|| format!("invalid rate {s:?}: expected {RATE_FORMS}"))?;
    let value = value.to_f64() * multiplier as f64;
    if value <= 0.0 {
        return Err(format!(
            "invalid rate {s:?}: a rate must be greater than 0 (use `unlimited` for no limit)"
        ));
    }
    Ok(Rate::Fixed(value))
}

/// `n / unit` with at most `decimals` decimals, trailing zeros dropped; None if that would
/// not be exact (so callers fall back to a smaller unit). Integer arithmetic: floats would
/// call 3600.000000001s "3600s".
fn exact_decimal(n: u128, unit: u128, decimals: u32) -> Option<String> {
    let scale = 10u128.pow(decimals);
    let scaled = n.checked_mul(scale)?;
    if scaled % unit != 0 {
        return None;
    }
    let q = scaled / unit;
    let (int, frac) = (q / scale, q % scale);
    if frac == 0 {
        return Some(int.to_string());
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    Some(format!("{int}.{}", frac.trim_end_matches('0')))
}

/// `65536` -> `64KiB`, `1000000` -> `1MB`, `1536` -> `1.5KiB`, `100` -> `100B`.
/// A CPU list as `taskset -c` takes it: `1`, `0,2`, `2-3`, `0,2-3`. Sorted, no repeats.
pub fn parse_cpu_list(s: &str) -> Result<Vec<u32>, String> {
    let mut cpus = Vec::new();
    for part in s.split(',').map(str::trim) {
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{t}` in `{s}` is not a CPU number"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("`{part}` in `{s}` is an empty range"));
                }
                if b - a >= 4096 {
                    return Err(format!("`{part}` in `{s}` names more than 4096 CPUs"));
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(num(part)?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

pub fn format_size(bytes: u64) -> String {
    const BINARY: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    const DECIMAL: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    // Whole numbers in either system read best; a short fraction of a binary unit next.
    for (unit, name) in BINARY.iter().chain(DECIMAL.iter()) {
        if bytes >= *unit && bytes.is_multiple_of(*unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    for (unit, name) in BINARY {
        if bytes >= unit {
            if let Some(v) = exact_decimal(bytes.into(), unit.into(), 2) {
                return format!("{v}{name}");
            }
        }
    }
    format!("{bytes}B")
}

/// `10ms`, `2m`, `90s`, `1.5s`, `500us`, `0`. Minutes and hours only when whole.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0".to_string();
    }
    for (unit, name) in [(3_600_000_000_000u128, "h"), (60_000_000_000, "m")] {
        if nanos.is_multiple_of(unit) {
            return format!("{}{name}", nanos / unit);
        }
    }
    for (unit, name) in [(1_000_000_000u128, "s"), (1_000_000, "ms"), (1_000, "us")] {
        if nanos >= unit {
            if let Some(v) = exact_decimal(nanos, unit, 3) {
                return format!("{v}{name}");
            }
        }
    }
    format!("{nanos}ns")
}

/// Three significant digits with k/M/G: `50k`, `1.2M`, `12.3k`, `999`, `0.5`.
pub fn format_count(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let sig3 = |v: f64| -> String {
        let decimals = if v >= 100.0 {
            0
        } else if v >= 10.0 {
            1
        } else {
            2
        };
        let text = format!("{v:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    const UNITS: [(f64, &str); 4] = [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")];
    let abs = value.abs();
    let sign = if value < 0.0 { "-" } else { "" };
    let mut idx = UNITS
        .iter()
        .position(|(u, _)| abs >= *u)
        .unwrap_or(UNITS.len() - 1);
    loop {
        let (unit, name) = UNITS[idx];
        let text = sig3(abs / unit);
        // Rounding can turn 999_999 into "1000k"; that reads better as the next unit.
        if text == "1000" && idx > 0 {
            idx -= 1;
            continue;
        }
        return format!("{sign}{text}{name}");
    }
}

/// `#[serde(with = "crate::units::serde_duration")]`: human units (`"10ms"`) both ways.
pub mod serde_duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "crate::units::serde_opt_duration")]`: like `serde_duration`, None as null.
pub mod serde_opt_duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_lists_read_like_taskset() {
        use super::parse_cpu_list as p;
        assert_eq!(p("1"), Ok(vec![1]));
        assert_eq!(p("3,0-1, 1"), Ok(vec![0, 1, 3]));
        assert!(p("2-1").unwrap_err().contains("empty range"));
        assert!(p("a").unwrap_err().contains("not a CPU number"));
        assert!(p("").is_err());
        assert!(p("0-100000").is_err());
    }

    use super::*;

    #[test]
    fn sizes_parse_in_every_form() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("64kib"), Ok(65_536));
        assert_eq!(parse_size("512b"), Ok(512));
        assert_eq!(parse_size("64kiB"), Ok(65_536));
        assert_eq!(parse_size("64KIB"), Ok(65_536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("64KB"), Ok(64_000));
        assert_eq!(parse_size("64kB"), Ok(64_000));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size(" 1_024 B "), Ok(1024));
    }

    #[test]
    fn size_errors_name_the_accepted_forms() {
        assert_eq!(
            parse_size("64Kb").unwrap_err(),
            "invalid size \"64Kb\": expected a number with B, KiB, MiB, GiB, KB, MB or GB \
             (a lower-case `b` means bits; write 64KB)"
        );
        let e = parse_size("64XB").unwrap_err();
        assert!(
            e.contains("expected a number with B, KiB, MiB, GiB, KB, MB or GB"),
            "{e}"
        );
        assert!(parse_size("1mb").unwrap_err().contains("bits"));
        assert!(parse_size("").is_err());
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("1.2.3KiB").is_err());
        assert!(parse_size("-1KiB").unwrap_err().contains("negative"));
        assert!(parse_size("1.1KiB")
            .unwrap_err()
            .contains("whole number of bytes"));
    }

    #[test]
    fn durations_parse_in_every_form() {
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("500µs"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0.5ms"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ns"), Ok(Duration::from_nanos(250)));
    }

    #[test]
    fn duration_errors_explain_the_unit() {
        let e = parse_duration("10").unwrap_err();
        assert!(e.contains("add one") && e.contains("10ms"), "{e}");
        let e = parse_duration("10 parsecs").unwrap_err();
        assert!(e.contains("ns, us, ms, s, m or h"), "{e}");
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn counts_parse_in_every_form() {
        assert_eq!(parse_count("50k"), Ok(50_000));
        assert_eq!(parse_count("50K"), Ok(50_000));
        assert_eq!(parse_count("1m"), Ok(1_000_000));
        assert_eq!(parse_count("1M"), Ok(1_000_000));
        assert_eq!(parse_count("2.5M"), Ok(2_500_000));
        assert_eq!(parse_count("1g"), Ok(1_000_000_000));
        assert_eq!(parse_count("1G"), Ok(1_000_000_000));
        assert_eq!(parse_count("42"), Ok(42));
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("0"), Ok(0));
    }

    #[test]
    fn count_errors() {
        assert!(parse_count("1.5").unwrap_err().contains("whole number"));
        assert!(parse_count("-5").unwrap_err().contains("negative"));
        let e = parse_count("5x").unwrap_err();
        assert!(e.contains("50k") && e.contains("m/M"), "{e}");
        assert!(parse_count("").is_err());
    }

    #[test]
    fn numbers_are_exact_not_floats() {
        // Beyond 2^53 a float would silently change the value.
        assert_eq!(
            parse_duration("9007199254740993ns"),
            Ok(Duration::from_nanos(9_007_199_254_740_993))
        );
        assert_eq!(parse_count("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_count("18446744073709551616")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("16EiB").is_err());
        assert!(parse_size("18446744073709551616")
            .unwrap_err()
            .contains("too large"));
        // Near-integers are not rounded into integers.
        assert!(parse_size("1.0000001KiB").is_err());
        assert!(parse_count("1.0000000001k").is_err());
        assert_eq!(parse_duration("0.4ns"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1.5ns"), Ok(Duration::from_nanos(2)));
        assert!(parse_duration("5124096h").unwrap_err().contains("too long"));
        assert!(parse_count("1234567890123456789012345678901").is_err());
    }

    #[test]
    fn rates_parse_and_reject_zero() {
        assert_eq!(parse_rate("unlimited"), Ok(Rate::Unlimited));
        assert_eq!(parse_rate("MAX"), Ok(Rate::Unlimited));
        assert_eq!(parse_rate("20k"), Ok(Rate::Fixed(20_000.0)));
        assert_eq!(parse_rate("500/s"), Ok(Rate::Fixed(500.0)));
        assert_eq!(parse_rate("1.5M/s"), Ok(Rate::Fixed(1_500_000.0)));
        assert_eq!(parse_rate("0.5"), Ok(Rate::Fixed(0.5)));
        assert!(parse_rate("0").unwrap_err().contains("greater than 0"));
        assert!(parse_rate("0/s").unwrap_err().contains("greater than 0"));
        assert!(parse_rate("-5").unwrap_err().contains("positive"));
        assert!(parse_rate("fast").unwrap_err().contains("unlimited"));
    }

    #[test]
    fn sizes_format_and_round_trip() {
        assert_eq!(format_size(65_536), "64KiB");
        assert_eq!(format_size(1 << 20), "1MiB");
        assert_eq!(format_size(1_000_000), "1MB");
        assert_eq!(format_size(1536), "1.5KiB");
        assert_eq!(format_size(512), "512B");
        assert_eq!(format_size(0), "0B");
        for n in [
            0,
            1,
            999,
            1000,
            1023,
            1024,
            1536,
            65_536,
            1_000_000,
            1_048_577,
            3 << 30,
        ] {
            assert_eq!(parse_size(&format_size(n)), Ok(n), "{}", format_size(n));
        }
    }

    #[test]
    fn durations_format_and_round_trip() {
        assert_eq!(format_duration(Duration::from_millis(10)), "10ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_micros(500)), "500us");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::ZERO), "0");
        for d in [
            1,
            999,
            1_000,
            500_000,
            1_000_500_000,
            61_000_000_000,
            3_600_000_000_001u64,
        ] {
            let d = Duration::from_nanos(d);
            assert_eq!(
                parse_duration(&format_duration(d)),
                Ok(d),
                "{}",
                format_duration(d)
            );
        }
    }

    #[test]
    fn counts_format_with_three_significant_digits() {
        assert_eq!(format_count(50_000.0), "50k");
        assert_eq!(format_count(1_200_000.0), "1.2M");
        assert_eq!(format_count(12_345.0), "12.3k");
        assert_eq!(format_count(999.0), "999");
        assert_eq!(format_count(999_999.0), "1M");
        assert_eq!(format_count(2_000_000_000.0), "2G");
        assert_eq!(format_count(0.5), "0.5");
        assert_eq!(format_count(0.0), "0");
    }

    #[test]
    fn serde_helpers_use_human_units() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T {
            #[serde(with = "serde_duration")]
            d: Duration,
            #[serde(with = "serde_opt_duration")]
            o: Option<Duration>,
        }
        let t = T {
            d: Duration::from_secs(120),
            o: Some(Duration::from_millis(10)),
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"d":"2m","o":"10ms"}"#);
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), t);
        let none = T {
            d: Duration::ZERO,
            o: None,
        };
        assert_eq!(
            serde_json::to_string(&none).unwrap(),
            r#"{"d":"0","o":null}"#
        );
    }
}
