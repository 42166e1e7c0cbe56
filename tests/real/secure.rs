//! Where the TLS and SASL endpoints of `scripts/broker.sh start --tls --sasl` are, and
//! the profiles a user would write to reach them.

use std::path::{Path, PathBuf};

/// The TLS endpoint of `scripts/broker.sh start --tls` and its certificate directory.
pub fn tls(test: &str) -> (String, PathBuf) {
    match (
        std::env::var("KPROD_REAL_BROKER_TLS"),
        std::env::var("KPROD_TLS_DIR"),
    ) {
        (Ok(b), Ok(d)) if !b.is_empty() && !d.is_empty() => (b, d.into()),
        _ => panic!(
            "{test}: KPROD_REAL_BROKER_TLS / KPROD_TLS_DIR are not set \
             (scripts/broker.sh start --tls prints them)"
        ),
    }
}

/// A profile that turns TLS on and trusts `ca`, as a user would write it.
pub fn tls_profile(dir: &Path, ca: &Path) -> PathBuf {
    let p = dir.join("tls.toml");
    let text = format!(
        "description = \"TLS with a private CA\"\n\n[librdkafka]\n\
         \"security.protocol\" = \"ssl\"\n\"ssl.ca.location\" = {:?}\n",
        ca.to_str().expect("utf-8 path")
    );
    std::fs::write(&p, text).expect("write TLS profile");
    p
}

/// The SASL/SCRAM broker of `scripts/broker.sh start --sasl` and the password of its user.
pub fn sasl(test: &str) -> (String, String) {
    match (
        std::env::var("KPROD_REAL_BROKER_SASL"),
        std::env::var("KPROD_SASL_PASSWORD"),
    ) {
        (Ok(b), Ok(p)) if !b.is_empty() && !p.is_empty() => (b, p),
        _ => panic!(
            "{test}: KPROD_REAL_BROKER_SASL / KPROD_SASL_PASSWORD are not set \
             (KPROD_SASL_PASSWORD=... scripts/broker.sh start --sasl)"
        ),
    }
}

/// A SCRAM-SHA-256 profile for user kprod; `password` is written into the file as is, so
/// `${KPROD_SASL_PASSWORD}` makes kprod read it from the environment.
pub fn sasl_profile(dir: &Path, password: &str) -> PathBuf {
    let p = dir.join("sasl.toml");
    let text = format!(
        "[librdkafka]\n\"security.protocol\" = \"sasl_plaintext\"\n\
         \"sasl.mechanism\" = \"SCRAM-SHA-256\"\n\"sasl.username\" = \"kprod\"\n\
         \"sasl.password\" = \"{password}\"\n"
    );
    std::fs::write(&p, text).expect("write SASL profile");
    p
}
