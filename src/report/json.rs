//! Bit-exact JSON reading of `report.json`.
//!
//! serde_json built without its `float_roundtrip` feature (as in this crate) converts a
//! 17-digit float such as `1283.1000000000001` with two roundings and can come back one
//! ulp off, so a report read back would not equal the one written. Here every float token
//! is parsed with Rust's correctly rounded `str::parse::<f64>` instead: tokens are wrapped
//! in marked strings before serde_json sees them and turned back into numbers afterwards.

use serde_json::{Number, Value};

/// Prefix of the strings standing in for float tokens. Only a report string that itself
/// starts with the control characters U+0000 U+0001 and this text could be mistaken for
/// one, which nothing kprod writes does.
const MARKER: &str = "\u{0}\u{1}kprod-f64:";
/// [`MARKER`] as JSON string content (control characters must be escaped there).
const MARKER_JSON: &str = "\\u0000\\u0001kprod-f64:";

/// Parses JSON into a [`Value`] whose floats are exactly the ones the text denotes.
pub(crate) fn parse_exact(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut out = String::with_capacity(text.len() + 64);
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
            continue;
        }
        if c == '-' || c.is_ascii_digit() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E' | '+' | '-') {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let token = &text[i..end];
            // Integers already parse exactly (as u64/i64); only floats need the detour.
            if token.contains(['.', 'e', 'E']) {
                out.push('"');
                out.push_str(MARKER_JSON);
                out.push_str(token);
                out.push('"');
            } else {
                out.push_str(token);
            }
            continue;
        }
        out.push(c);
    }
    let mut value: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    restore_floats(&mut value)?;
    Ok(value)
}

fn restore_floats(v: &mut Value) -> Result<(), String> {
    match v {
        Value::String(s) => {
            if let Some(token) = s.strip_prefix(MARKER) {
                let f: f64 = token
                    .parse()
                    .map_err(|_| format!("invalid number `{token}`"))?;
                let n =
                    Number::from_f64(f).ok_or_else(|| format!("number out of range `{token}`"))?;
                *v = Value::Number(n);
            }
        }
        Value::Array(items) => {
            for item in items {
                restore_floats(item)?;
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                restore_floats(item)?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_parse_bit_exact() {
        let awkward: [f64; 8] = [
            1283.1000000000001,
            0.1 + 0.2,
            1.0 / 3.0,
            10_238_259.2,
            5e-324,
            1.7976931348623157e308,
            -2.5e-7,
            123_456_789.123_456_79,
        ];
        for x in awkward {
            let text = serde_json::to_string(&serde_json::json!({ "x": x, "s": "a\"1.5\\" }))
                .expect("serialise");
            let v = parse_exact(text.as_bytes()).expect("parse");
            assert_eq!(
                v["x"].as_f64().map(f64::to_bits),
                Some(x.to_bits()),
                "{text}"
            );
            assert_eq!(v["s"], "a\"1.5\\");
        }
    }

    #[test]
    fn integers_strings_and_structure_are_untouched() {
        let text = r#"{"a": [1, -2, 18446744073709551615, 2.5e3], "b": "x 1.5 \u0000", "c": null, "d": true}"#;
        let v = parse_exact(text.as_bytes()).expect("parse");
        assert_eq!(v["a"][0], 1);
        assert_eq!(v["a"][1], -2);
        assert_eq!(v["a"][2].as_u64(), Some(u64::MAX));
        assert_eq!(v["a"][3].as_f64(), Some(2500.0));
        assert_eq!(v["b"], "x 1.5 \u{0}");
        assert!(v["c"].is_null());
        assert_eq!(v["d"], true);
        assert!(parse_exact(b"{\"a\": 1.2.3}").is_err());
        assert!(parse_exact(b"{\"a\": ").is_err());
    }
}
