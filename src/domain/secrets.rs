//! The process-wide list of secret values, and scrubbing them out of text and bytes.
//!
//! It lives this low so that every output sink (`console`, `report::files::write_atomic`)
//! can scrub what it writes, whichever stage composed the text: a secret that reaches a
//! description, a header or `sasl.username` through `${VAR}` is found by value, not by key.

use std::sync::Mutex;

/// Shorter values are not scrubbed: replacing every "abc" in a log line would mangle it,
/// and a secret that short protects nothing anyway.
pub const MIN_SCRUB_LEN: usize = 4;
/// What a scrubbed secret reads as.
pub const REDACTED: &str = "[redacted]";

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn secrets() -> std::sync::MutexGuard<'static, Vec<String>> {
    SECRETS.lock().unwrap_or_else(|p| p.into_inner())
}

/// JSON (and TOML basic-string) escaping of the characters that change a value's bytes
/// when a serializer writes it, so the escaped spelling in `report.json` is found too.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Remember a secret value so [`scrub`] and [`scrub_bytes`] remove it from any output.
pub fn register_secret(value: &str) {
    if value.len() < MIN_SCRUB_LEN {
        return;
    }
    let mut s = secrets();
    for v in [value.to_string(), escaped(value)] {
        if !s.contains(&v) {
            s.push(v);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    s.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// `text` with every registered secret value replaced by `[redacted]`.
pub fn scrub(text: &str) -> String {
    let s = secrets();
    let mut out = text.to_string();
    for v in s.iter() {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), REDACTED);
        }
    }
    out
}

/// `bytes` scrubbed like [`scrub`]; borrowed unchanged when no secret occurs (the common
/// case, and binary files such as `.hlog` never hold one).
pub fn scrub_bytes(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let s = secrets();
    let hit = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    if !s.iter().any(|v| hit(bytes, v.as_bytes()).is_some()) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    for v in s.iter() {
        let needle = v.as_bytes();
        let mut next = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(pos) = hit(rest, needle) {
            next.extend_from_slice(&rest[..pos]);
            next.extend_from_slice(REDACTED.as_bytes());
            rest = &rest[pos + needle.len()..];
        }
        next.extend_from_slice(rest);
        out = next;
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_scrubbed_from_text_and_bytes_escaped_or_not() {
        register_secret("dom-secret\"quoted");
        assert_eq!(scrub("a dom-secret\"quoted b"), "a [redacted] b");
        let json = br#"{"d":"x dom-secret\"quoted y"}"#;
        assert_eq!(&*scrub_bytes(json), br#"{"d":"x [redacted] y"}"#);
        assert!(matches!(
            scrub_bytes(b"nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
        register_secret("abc");
        assert_eq!(scrub("abc"), "abc", "too short to scrub");
    }
}
