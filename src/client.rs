//! librdkafka client configuration that every stage needs: checking properties without
//! connecting (the plan), building a client configuration (engine, verifier), the
//! connection-only subset for metadata and admin clients, which property values are
//! secrets, and the library's version. Nothing here is on the hot path; the producer itself
//! is `engine::native`.

use crate::error::ConfigError;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// librdkafka's own log lines are shown only with `--verbose`.
pub static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Check properties against librdkafka without creating a client (so nothing connects).
pub fn check_properties(props: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for (k, v) in props {
        let mut c = ClientConfig::new();
        c.set(k, v);
        if let Err(e) = c.create_native_config() {
            // rust-rdkafka's message ends with the key and the value; the value may be a
            // secret (a misspelt `sasl.pasword` is not recognised as one), so only
            // librdkafka's own description is kept.
            let why = match &e {
                rdkafka::error::KafkaError::ClientConfig(_, desc, _, _) => desc.clone(),
                other => other.to_string(),
            };
            let why = if is_secret(k) && !v.is_empty() {
                why.replace(v.as_str(), "[redacted]")
            } else {
                why
            };
            return Err(ConfigError::new(format!("librdkafka rejects `{k}`: {why}"))
                .key(k.clone())
                .fix("check the property name and value in librdkafka's CONFIGURATION.md"));
        }
    }
    Ok(())
}

pub fn client_config(props: &BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in props {
        c.set(k, v);
    }
    // rust-rdkafka derives librdkafka's log level from the `log` crate, which kprod does
    // not use, so without this `--verbose` would show nothing.
    if VERBOSE.load(Ordering::Relaxed) {
        c.set_log_level(RDKafkaLogLevel::Debug);
    }
    c
}

/// The subset of producer properties an admin/metadata client accepts: connection and
/// security settings, not producer tuning.
pub fn admin_props(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props
        .iter()
        .filter(|(k, _)| {
            [
                "security.",
                "ssl.",
                "sasl.",
                "socket.",
                "broker.",
                "client.dns",
                "debug",
                "log_level",
            ]
            .iter()
            .any(|p| k.starts_with(p))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// True for property names whose values are secrets.
pub fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "sasl.oauthbearer.client.secret",
        // Private key material and OAuth configs embed credentials without saying so.
        "ssl.key.pem",
        "sasl.oauthbearer.config",
    ];
    EXACT.contains(&k.as_str()) || k.contains("password") || k.contains("secret")
}

/// Same map with secret values replaced by "[redacted]".
pub fn redacted(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props
        .iter()
        .map(|(k, v)| {
            let v = if is_secret(k) {
                "[redacted]".to_string()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// librdkafka's version string.
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}
