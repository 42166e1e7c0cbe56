//! Secrets in profiles: `${VAR}` references to environment variables in any string value,
//! and the process-wide list of secret values that every line kprod prints about its
//! configuration or its client is scrubbed of.
//!
//! Redaction by key name (`is_secret`) covers the librdkafka table; scrubbing by value (the
//! registry is `crate::domain::secrets`, applied by every console line and result file)
//! covers a secret wherever else it lands: a description, a header, `sasl.username`,
//! librdkafka's log lines, errors that quote a value put under the wrong key.

use super::keys::Raw;
use super::librdkafka::is_secret;
pub use crate::domain::secrets::{register_secret, scrub};
use crate::error::{ConfigError, Location};

/// A variable name that says it holds a credential, whatever key it is used for.
fn secret_name(var: &str) -> bool {
    let v = var.to_ascii_lowercase();
    is_secret(&v) || ["token", "passwd", "key"].iter().any(|w| v.contains(w))
}

/// Expands `${VAR}` in `text` (`$${` is a literal `${`). `key` is the key the value
/// belongs to; the values of secret keys, and of secret-looking variables, are registered
/// for scrubbing.
pub(crate) fn expand(
    text: &str,
    key: &str,
    loc: &Location,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let secret_key = is_secret(key.strip_prefix("librdkafka.").unwrap_or(key));
    if !text.contains('$') {
        if secret_key {
            register_secret(text);
        }
        return Ok(text.to_string());
    }
    let err = |msg: String, fix: &str| {
        ConfigError::new(msg)
            .at(loc.clone())
            .key(key.to_string())
            .fix(fix.to_string())
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body.find('}') else {
            return Err(err(
                "unterminated `${`: a variable reference is written ${NAME}".into(),
                "close the reference with `}`, or write $${ for a literal ${",
            ));
        };
        let name = &body[..end];
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(err(
                format!(
                    "`${{{name}}}` is not a variable reference: names are letters, digits and `_`"
                ),
                "write ${NAME}, or $${ for a literal ${",
            ));
        }
        let value = lookup(name).ok_or_else(|| {
            err(
                format!("environment variable `{name}` is not set (referenced as ${{{name}}})"),
                &format!("export {name}=... before running kprod"),
            )
        })?;
        // A number from a variable that merely looks secret (`KEY_COUNT=10000`) is not
        // scrubbed: replacing it in report.json would corrupt the figures, not hide a secret.
        let numeric = value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if secret_key || (secret_name(name) && !numeric) {
            register_secret(&value);
        }
        out.push_str(&value);
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    if secret_key {
        register_secret(&out);
    }
    Ok(out)
}

/// The process environment; a variable that is not valid UTF-8 counts as not set.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Expands every string inside a raw TOML value in place. `key` names the value (for
/// tables, each entry's key is appended).
pub(crate) fn expand_raw(raw: &mut Raw, key: &str, loc: &Location) -> Result<(), ConfigError> {
    match raw {
        Raw::Str(s) => *s = expand(s, key, loc, &process_env)?,
        Raw::Table(entries) => {
            for e in entries {
                let sub = format!("{key}.{}", e.key);
                expand_raw(&mut e.value, &sub, &e.loc)?;
            }
        }
        Raw::List(items) => {
            for (v, at) in items {
                expand_raw(v, key, at)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "USER_NAME" => Some("alice".into()),
            "KPROD_UNIT_PASSWORD" => Some("s3cr3t-unit-value".into()),
            _ => None,
        }
    }

    fn loc() -> Location {
        Location {
            source: "p.toml".into(),
            line: Some(3),
            column: Some(9),
        }
    }

    #[test]
    fn references_expand_and_dollars_stay() {
        let x = |t: &str| expand(t, "workload.topic", &loc(), &env);
        assert_eq!(x("t-${USER_NAME}-1").unwrap(), "t-alice-1");
        assert_eq!(x("cost $5").unwrap(), "cost $5");
        assert_eq!(x("$${USER_NAME}").unwrap(), "${USER_NAME}");
        assert_eq!(x("${USER_NAME}${USER_NAME}").unwrap(), "alicealice");
    }

    #[test]
    fn a_missing_variable_is_named_with_its_location() {
        let e = expand("${NOPE_NOT_SET}", "librdkafka.sasl.username", &loc(), &env).unwrap_err();
        assert!(e.message.contains("`NOPE_NOT_SET` is not set"), "{e}");
        assert_eq!(e.location, Some(loc()));
        assert!(e
            .to_string()
            .starts_with("p.toml:3:9: key `librdkafka.sasl.username`"));
        let e = expand("${NOPE", "k", &loc(), &env).unwrap_err();
        assert!(e.message.contains("unterminated"), "{e}");
        let e = expand("${1X}", "k", &loc(), &env).unwrap_err();
        assert!(e.message.contains("not a variable reference"), "{e}");
    }

    #[test]
    fn secret_values_are_scrubbed_from_any_text() {
        let v = expand("${KPROD_UNIT_PASSWORD}", "workload.topic", &loc(), &env).unwrap();
        assert_eq!(v, "s3cr3t-unit-value");
        let line = format!("log: password={v} end");
        assert_eq!(scrub(&line), "log: password=[redacted] end");
        // A plain value under a secret key is registered too.
        expand(
            "plain-unit-secret",
            "librdkafka.ssl.key.password",
            &loc(),
            &env,
        )
        .unwrap();
        assert_eq!(scrub("x plain-unit-secret"), "x [redacted]");
        // Non-secret values are left alone.
        expand("${USER_NAME}", "workload.topic", &loc(), &env).unwrap();
        assert_eq!(scrub("alice"), "alice");
    }
}
