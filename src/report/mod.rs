//! The run report model and its exporters.
mod model;
pub use model::*;
