//! Profiles: loading TOML layers, precedence, validation, librdkafka mapping.
mod model;
pub use model::*;
