//! Error names and classes for failed records.
//!
//! librdkafka reports a failed record with a response code; kprod names it the way
//! librdkafka does (`rd_kafka_err2name`) and classes it as the reference text does:
//! retriable errors reach the callback only once retries are exhausted within the
//! delivery timeout, fatal ones come back at once, and local ones never reached a broker.

use rdkafka::types::RDKafkaRespErr;
use std::ffi::CStr;

/// How an error reached the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retried by the client until `delivery_timeout`; the callback sees it when retries ran out.
    Retriable,
    /// Returned at once, no retry (bad data, authorization, configuration).
    Fatal,
    /// Raised inside the client without a broker answer (queue full, timed out in queue, purged).
    Local,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Retriable => "retriable",
            ErrorClass::Fatal => "fatal",
            ErrorClass::Local => "local",
        }
    }
}

/// librdkafka's name for a response code, e.g. `NOT_ENOUGH_REPLICAS`, `_MSG_TIMED_OUT`.
pub fn error_name(code: RDKafkaRespErr) -> String {
    // SAFETY: rd_kafka_err2name returns a static NUL-terminated string for every code.
    unsafe { CStr::from_ptr(rdkafka_sys::rd_kafka_err2name(code)) }
        .to_string_lossy()
        .into_owned()
}

/// The second names rdkafka.h `#define`s for a code, and the name its error table (and
/// `rd_kafka_err2name`) uses: Kafka's current `NOT_LEADER_OR_FOLLOWER` is code 6, listed as
/// `NOT_LEADER_FOR_PARTITION`.
const ALIASES: &[(&str, &str)] = &[
    ("NOT_LEADER_OR_FOLLOWER", "NOT_LEADER_FOR_PARTITION"),
    ("GROUP_LOAD_IN_PROGRESS", "COORDINATOR_LOAD_IN_PROGRESS"),
    (
        "GROUP_COORDINATOR_NOT_AVAILABLE",
        "COORDINATOR_NOT_AVAILABLE",
    ),
    ("NOT_COORDINATOR_FOR_GROUP", "NOT_COORDINATOR"),
];

/// The name librdkafka's error table uses for `name`, which may be Kafka's newer alias.
pub fn librdkafka_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, table)| table)
}

/// librdkafka's human description of a response code.
pub fn error_description(code: RDKafkaRespErr) -> String {
    // SAFETY: rd_kafka_err2str returns a static NUL-terminated string for every code.
    unsafe { CStr::from_ptr(rdkafka_sys::rd_kafka_err2str(code)) }
        .to_string_lossy()
        .into_owned()
}

/// Class of an error by its librdkafka name.
pub fn classify(name: &str) -> ErrorClass {
    // Local codes start with an underscore; a message timeout is the local face of a
    // retriable failure, so it is classed by what the user can do about it: retriable.
    match name {
        "_MSG_TIMED_OUT" | "_TIMED_OUT" | "_TRANSPORT" | "_ALL_BROKERS_DOWN" => {
            return ErrorClass::Retriable
        }
        _ if name.starts_with('_') => return ErrorClass::Local,
        _ => {}
    }
    const RETRIABLE: &[&str] = &[
        "LEADER_NOT_AVAILABLE",
        "NOT_LEADER_FOR_PARTITION",
        "NOT_LEADER_OR_FOLLOWER",
        "NOT_ENOUGH_REPLICAS",
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        "REQUEST_TIMED_OUT",
        "NETWORK_EXCEPTION",
        "UNKNOWN_TOPIC_OR_PART",
        "BROKER_NOT_AVAILABLE",
        "REPLICA_NOT_AVAILABLE",
        "COORDINATOR_LOAD_IN_PROGRESS",
        "COORDINATOR_NOT_AVAILABLE",
        "NOT_COORDINATOR",
        "KAFKA_STORAGE_ERROR",
        "FENCED_LEADER_EPOCH",
        "UNKNOWN_LEADER_EPOCH",
        "CONCURRENT_TRANSACTIONS",
        "THROTTLING_QUOTA_EXCEEDED",
    ];
    if RETRIABLE.contains(&name) {
        ErrorClass::Retriable
    } else {
        ErrorClass::Fatal
    }
}

/// Purged records: outcome unknown, not failed (the flush deadline ended first).
pub fn is_unknown_outcome(code: RDKafkaRespErr) -> bool {
    matches!(
        code,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__PURGE_QUEUE
            | RDKafkaRespErr::RD_KAFKA_RESP_ERR__PURGE_INFLIGHT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_table_classes() {
        for n in [
            "LEADER_NOT_AVAILABLE",
            "NOT_ENOUGH_REPLICAS",
            "REQUEST_TIMED_OUT",
            "NETWORK_EXCEPTION",
        ] {
            assert_eq!(classify(n), ErrorClass::Retriable, "{n}");
        }
        for n in [
            "MSG_SIZE_TOO_LARGE",
            "TOPIC_EXCEPTION",
            "TOPIC_AUTHORIZATION_FAILED",
            "INVALID_RECORD",
        ] {
            assert_eq!(classify(n), ErrorClass::Fatal, "{n}");
        }
        assert_eq!(classify("_QUEUE_FULL"), ErrorClass::Local);
        assert_eq!(classify("_MSG_TIMED_OUT"), ErrorClass::Retriable);
    }

    #[test]
    fn names_come_from_librdkafka() {
        assert_eq!(
            error_name(RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS),
            "NOT_ENOUGH_REPLICAS"
        );
        assert_eq!(
            error_name(RDKafkaRespErr::RD_KAFKA_RESP_ERR__QUEUE_FULL),
            "_QUEUE_FULL"
        );
        assert!(is_unknown_outcome(
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__PURGE_INFLIGHT
        ));
    }

    #[test]
    fn kafka_aliases_map_to_the_name_librdkafka_reports() {
        let code = RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
        assert_eq!(librdkafka_name("NOT_LEADER_OR_FOLLOWER"), error_name(code));
        for (alias, name) in ALIASES {
            assert_eq!(librdkafka_name(alias), *name);
        }
        assert_eq!(
            librdkafka_name("NOT_ENOUGH_REPLICAS"),
            "NOT_ENOUGH_REPLICAS"
        );
    }
}
