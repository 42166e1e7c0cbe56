//! The built-in profiles: `profiles/*.toml` compiled into the binary, so an installed
//! kprod works from any directory.

/// (name, TOML text), in the order `kprod profiles list` shows them.
const BUILTINS: &[(&str, &str)] = &[
    ("base", include_str!("../../profiles/base.toml")),
    ("durable", include_str!("../../profiles/durable.toml")),
    ("throughput", include_str!("../../profiles/throughput.toml")),
    ("latency", include_str!("../../profiles/latency.toml")),
    (
        "fire-and-forget",
        include_str!("../../profiles/fire-and-forget.toml"),
    ),
    ("idempotent", include_str!("../../profiles/idempotent.toml")),
    (
        "transactional",
        include_str!("../../profiles/transactional.toml"),
    ),
    ("none", include_str!("../../profiles/none.toml")),
    ("gzip", include_str!("../../profiles/gzip.toml")),
    ("snappy", include_str!("../../profiles/snappy.toml")),
    ("lz4", include_str!("../../profiles/lz4.toml")),
    ("zstd", include_str!("../../profiles/zstd.toml")),
    ("block", include_str!("../../profiles/block.toml")),
    ("fail-fast", include_str!("../../profiles/fail-fast.toml")),
];

/// The TOML text of a built-in profile.
pub(crate) fn text(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(n, _)| *n)
}

/// The `description` line of a built-in profile, read without a full parse so listing
/// profiles cannot fail.
pub(crate) fn description(text: &'static str) -> &'static str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("description"))
        .and_then(|rest| rest.trim_start().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"'))
        .unwrap_or("")
}

/// (name, description) of every built-in profile, in a stable order.
pub fn builtin_profiles() -> Vec<(&'static str, &'static str)> {
    BUILTINS.iter().map(|(n, t)| (*n, description(t))).collect()
}
