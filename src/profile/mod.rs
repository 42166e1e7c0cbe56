//! Profiles: loading TOML layers, precedence, validation, librdkafka mapping.
//!
//! [`resolve`] is the one place precedence lives: built-in defaults (`base`) < each
//! profile's `extends` chain < the profiles (left to right) < `--java-config` < `--set` <
//! explicit flags; `-X` overrides the `[librdkafka]` table. Every value keeps the file,
//! line and column that set it, so validation after merging can still point there.

// `ConfigError` (the crate-wide error contract) is just over clippy's size threshold; it is
// built once, on the cold path that ends the process, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]
mod build;
mod builtin;
mod dist;
mod env;
mod faults;
mod java;
mod keys;
mod layer;
mod librdkafka;
mod load;
mod model;
mod raw;
mod show;
pub mod stages;
pub mod topics;
mod validate;
mod warnings;

pub use builtin::builtin_profiles;
pub use env::{register_secret, scrub};
pub use librdkafka::{is_secret, librdkafka_properties, redacted};
pub use model::*;
pub use show::{keys as keys_text, render_show, size_dist as size_text};
pub use stages::Stage;
pub use topics::TopicCfg;
pub use validate::consumers::{MAX_CONSUMERS, MAX_GROUPS, STAMP_BYTES};
pub use validate::valid_topic;
/// The documented ranges and the planned-memory cap (`kprod cluster` uses them too).
pub mod limits {
    pub use super::validate::{
        PlannedMemory, MAX_HEADERS, MAX_HEADER_BYTES, MAX_KEY_COUNT, MAX_MOCK_BROKERS,
        MAX_PARTITIONS, MAX_PLANNED_MEMORY, MAX_PRODUCERS, MAX_RECORD_BYTES,
    };
}

use crate::error::ConfigError;
use std::path::Path;

/// Explicit CLI inputs that sit above profiles.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Layer above profiles, below `--set`.
    pub java_config: Option<std::path::PathBuf>,
    /// `--producer-props` (kafka-producer-perf-test's flag): Java producer properties
    /// `name=value`, translated like `--java-config` and layered just above it.
    pub java_props: Vec<String>,
    /// "section.key=value", in order.
    pub sets: Vec<String>,
    /// Dedicated flags, each a shorthand for one key: (`--rate`, `workload.rate`, value),
    /// in order. Highest precedence except `-X`. The table of flags lives with the command
    /// line (`cli::KEY_FLAGS`); profile only needs each flag's name for error locations.
    pub flags: Vec<(&'static str, &'static str, String)>,
    /// "-X prop=value" (without the `-X`): override the `[librdkafka]` table.
    pub librdkafka: Vec<String>,
    /// Not a flag: set by `sweep` and `compare` when each step gets fresh topics. Every
    /// topic of the run (`workload.topic` and each expanded `[[workload.topics]]` /
    /// `--topics N` one) becomes `<name>-<suffix>` (`topics::step_topic_name`).
    pub topic_suffix: Option<String>,
}

/// Resolve `--profile` arguments (left to right; empty = just the built-in defaults `base`)
/// plus overrides into a validated Profile. `cwd` is where `./profiles/NAME.toml` is looked up.
pub fn resolve(
    profiles: &[String],
    overrides: &Overrides,
    cwd: &Path,
) -> Result<Profile, ConfigError> {
    let base = load::load_base()?;
    let mut descriptions: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut layers = vec![base.clone()];
    for arg in profiles {
        let chain = load::load_profile(arg, cwd)?;
        let own = chain.last().and_then(|l| l.description.clone());
        descriptions.push(own.unwrap_or_else(|| arg.clone()));
        names.push(arg.clone());
        layers.extend(chain);
    }
    if names.is_empty() {
        names.push("base".into());
        descriptions.push(base.description.clone().unwrap_or_default());
    }
    if let Some(path) = &overrides.java_config {
        layers.push(java::load(path, cwd)?);
        names.push(format!("java:{}", path.display()));
        descriptions.push(format!("Java producer config {}", path.display()));
    }
    if !overrides.java_props.is_empty() {
        // One property a line: the translator's errors then name the N-th value.
        let text = overrides.java_props.join("\n");
        layers.push(java::translate("--producer-props", &text, cwd)?);
        names.push("producer-props".into());
        descriptions.push(format!(
            "Java producer properties {}",
            overrides.java_props.join(" ")
        ));
    }
    if !overrides.sets.is_empty() {
        layers.push(layer::from_sets(&overrides.sets, cwd)?);
    }
    layers.push(layer::from_flags(&overrides.flags, cwd)?);
    let top_rank = layers.len();
    let mut merged = layer::merge(layers);
    for (k, mut p) in layer::from_x(&overrides.librdkafka)? {
        p.origin.rank = top_rank;
        merged.librdkafka.insert(k, p);
    }
    // Literal secrets (a file, --set or -X) join the ${VAR} ones in the scrub list.
    for (k, p) in &merged.librdkafka {
        if is_secret(k) {
            register_secret(&p.value);
        }
    }
    let mut profile = build::build(&merged)?;
    if let Some(suffix) = &overrides.topic_suffix {
        topics::apply_suffix(&mut profile.workload, suffix)?;
    }
    profile.names = names;
    profile.description = descriptions.join(" + ");
    profile.warnings = validate::validate(&profile, &merged)?;
    validate::consumers::validate(&profile, &merged)?;
    librdkafka::check_values(&merged.librdkafka)?;
    check_faults(&profile)?;
    Ok(profile)
}

/// Faults need the embedded cluster and must fit its brokers, the topics and the run. A
/// `leader:` fault moves its partition in every topic that has it, so the partition must
/// exist in at least one: below the largest topic's partition count.
pub fn check_faults(p: &Profile) -> Result<(), ConfigError> {
    let partitions = p
        .workload
        .topics
        .iter()
        .map(|t| t.partitions)
        .max()
        .unwrap_or(p.workload.partitions);
    crate::faults::check(
        &p.faults,
        p.cluster.brokers.is_some(),
        p.cluster.mock_brokers,
        partitions,
        p.workload.duration,
    )
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_java;
#[cfg(test)]
mod tests_stages;
#[cfg(test)]
mod tests_topics;
#[cfg(test)]
mod tests_validate;
