//! Human units: sizes (`64KiB`), durations (`10ms`, `2m`), counts (`50k`) and rates.
pub mod serde_duration {
    use serde::Serializer;
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{d:?}"))
    }
}
pub mod serde_opt_duration {
    use serde::Serializer;
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format!("{d:?}")),
            None => s.serialize_none(),
        }
    }
}
