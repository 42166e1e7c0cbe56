//! The table of hostile inputs `tests/hostile.rs` runs: malformed profiles from this
//! directory and bad flags, each with where the error must point and what it must say.

/// One malformed input: the command line after `kprod`, where the error must point, and
/// what its message must say.
pub struct Case {
    pub args: &'static [&'static str],
    /// `file:line` (or the flag) the message must name; None when no position exists.
    pub at: Option<&'static str>,
    pub says: &'static [&'static str],
}

/// A profile from the corpus, run with `kprod bench --profile`.
const fn file(
    path: &'static [&'static str],
    at: &'static str,
    says: &'static [&'static str],
) -> Case {
    Case {
        args: path,
        at: Some(at),
        says,
    }
}

macro_rules! profile {
    ($name:literal, $line:literal, $($says:literal),+) => {
        file(
            &["bench", "--profile", concat!("tests/hostile/", $name, ".toml")],
            concat!("tests/hostile/", $name, ".toml:", $line),
            &[$($says),+],
        )
    };
}

macro_rules! flags {
    ($at:expr, [$($arg:literal),+], $($says:literal),+) => {
        Case { args: &["bench", $($arg),+], at: $at, says: &[$($says),+] }
    };
}

pub const CASES: &[Case] = &[
    // TOML syntax
    profile!(
        "syntax-unclosed-string",
        "2:",
        "TOML syntax error",
        "string"
    ),
    profile!(
        "syntax-unclosed-table",
        "1:",
        "TOML syntax error",
        "unclosed table"
    ),
    profile!(
        "syntax-duplicate-key",
        "3:",
        "TOML syntax error",
        "duplicate key"
    ),
    profile!("syntax-bare-word", "2:", "TOML syntax error"),
    profile!(
        "syntax-duplicate-table",
        "4:",
        "TOML syntax error",
        "duplicate"
    ),
    // wrong types
    profile!(
        "type-bool-as-string",
        "2:",
        "producer.idempotence",
        "expected a boolean"
    ),
    profile!(
        "type-count-as-word",
        "2:",
        "workload.partitions",
        "invalid count \"six\""
    ),
    profile!("type-array", "2:", "workload.size", "found array"),
    profile!("type-section-as-value", "1:", "is a section, not a value"),
    profile!(
        "type-duration-without-unit",
        "2:",
        "batching.linger",
        "has no unit"
    ),
    profile!("type-datetime", "2:", "workload.duration", "found datetime"),
    profile!(
        "type-integer-overflow",
        "2:",
        "workload.partitions",
        "out of range"
    ),
    profile!("type-librdkafka-table-value", "2:", "take string values"),
    // unknown keys
    profile!(
        "unknown-section",
        "1:",
        "unknown key `producr`",
        "did you mean `producer`"
    ),
    profile!(
        "unknown-key",
        "2:",
        "unknown key `lingr`",
        "batching.linger"
    ),
    profile!(
        "unknown-key-java-name",
        "2:",
        "linger.ms",
        "kprod's key is `batching.linger`"
    ),
    profile!(
        "managed-passthrough",
        "2:",
        "is set by kprod from `producer.acks`"
    ),
    profile!(
        "unknown-librdkafka-property",
        "2:",
        "No such configuration property"
    ),
    profile!(
        "bad-librdkafka-value",
        "2:",
        "socket.nagle.disable",
        "Expected bool value"
    ),
    // contradictions
    profile!(
        "contradiction-idempotence-acks",
        "2:",
        "idempotence requires acks = \"all\""
    ),
    profile!(
        "contradiction-idempotence-in-flight",
        "3:",
        "at most 5 requests in flight"
    ),
    profile!(
        "contradiction-transactional-acks",
        "2:",
        "transactional_id requires idempotence"
    ),
    profile!(
        "contradiction-delivery-timeout",
        "2:",
        "delivery_timeout (1s) must be ≥ linger"
    ),
    profile!(
        "contradiction-replication",
        "2:",
        "replication_factor 5 exceeds the 3 brokers"
    ),
    profile!(
        "contradiction-size-min-max",
        "2:",
        "min (1KiB) is larger than max (100B)"
    ),
    // absurd values
    profile!("absurd-rate-zero", "2:", "rate must be greater than 0"),
    profile!(
        "absurd-rate-negative",
        "2:",
        "rate must be greater than 0, got -5"
    ),
    profile!(
        "absurd-rate-negative-string",
        "2:",
        "a rate must be positive"
    ),
    profile!(
        "absurd-rate-huge",
        "2:",
        "above kprod's maximum of 1G records/s"
    ),
    profile!(
        "absurd-size-over-1gib",
        "2:",
        "record size 2GiB must be between 1B and 1GiB"
    ),
    profile!(
        "absurd-size-zero",
        "2:",
        "record size 0B must be between 1B and 1GiB"
    ),
    profile!("absurd-size-bits", "2:", "a lower-case `b` means bits"),
    profile!(
        "absurd-partitions-zero",
        "2:",
        "workload.partitions",
        "between 1 and"
    ),
    profile!(
        "absurd-duration-zero",
        "2:",
        "duration must be greater than 0"
    ),
    profile!(
        "absurd-duration-huge",
        "2:",
        "longer than kprod's maximum run of 18h"
    ),
    profile!("absurd-records-zero", "3:", "records must be at least 1"),
    profile!("absurd-no-stop", "2:", "the run would never stop"),
    profile!(
        "absurd-headers-10000",
        "2:",
        "headers.count must be between 0 and 1000"
    ),
    profile!(
        "absurd-producers-zero",
        "2:",
        "producers must be between 1 and 1024"
    ),
    profile!("absurd-max-in-flight-negative", "2:", "-1 is negative"),
    profile!("absurd-linger", "2:", "linger (16m)"),
    profile!(
        "absurd-batch-bytes-zero",
        "2:",
        "batch.size must be between 1 and"
    ),
    profile!("absurd-zipf", "3:", "zipf_s must be a positive number"),
    profile!("absurd-partition-map", "3:", "partition 7 does not exist"),
    profile!("absurd-topic", "2:", "not a valid Kafka topic name"),
    profile!("unknown-codec", "2:", "unknown value \"brotli\"", "zstd"),
    profile!("unknown-level", "3:", "level 40 is out of range for zstd"),
    profile!("unknown-acks", "2:", "invalid acks \"2\""),
    profile!("unknown-send-mode", "2:", "unknown value \"whenever\""),
    profile!(
        "unknown-partitioner",
        "2:",
        "unknown partitioner \"murmur3\"",
        "murmur2"
    ),
    // extends
    profile!(
        "extends-self",
        "2:",
        "extends cycle",
        "extends-self.toml -> tests/hostile/extends-self.toml"
    ),
    file(
        &["bench", "--profile", "tests/hostile/extends-cycle-a.toml"],
        "tests/hostile/extends-cycle-b.toml:2:",
        &[
            "extends cycle",
            "extends-cycle-a.toml -> tests/hostile/extends-cycle-b.toml",
        ],
    ),
    profile!(
        "extends-missing",
        "1:",
        "cannot read profile",
        "no-such-parent.toml"
    ),
    profile!("extends-not-string", "1:", "extends", "expected a string"),
    // files a profile points at
    profile!(
        "value-file-missing",
        "2:",
        "no-such-values.txt",
        "does not exist"
    ),
    file(
        &["bench", "--profile", "tests/hostile/size-file-garbage.toml"],
        "sizes-garbage.txt:3",
        &["invalid size \"forty-two\""],
    ),
    file(
        &["bench", "--profile", "tests/hostile/size-file-zero.toml"],
        "sizes-zero.txt:3",
        &["at least 1 B"],
    ),
    // counts past their documented range, and the planned-memory cap
    profile!(
        "absurd-key-count",
        "3:",
        "workload.key_count",
        "1..=10000000"
    ),
    profile!("absurd-headers-huge", "3:", "1000 headers of 1MiB", "16MiB"),
    profile!(
        "absurd-partitions-huge",
        "2:",
        "workload.partitions",
        "1..=100000"
    ),
    profile!(
        "bad-brokers",
        "2:",
        "invalid bootstrap list",
        "no valid host"
    ),
    flags!(
        Some("--set"),
        ["--set", "workload.partitions=100000000"],
        "workload.partitions",
        "1..=100000"
    ),
    flags!(
        Some("--mock-brokers"),
        ["--mock-brokers", "100000"],
        "1..=64"
    ),
    flags!(
        Some("--producers"),
        ["--producers", "1000"],
        "above kprod's cap of 8.0 GiB",
        "backpressure.buffer_messages"
    ),
    flags!(
        Some("--brokers"),
        ["--brokers", ",,,:"],
        "invalid bootstrap list"
    ),
    // unreadable profiles and input files that are not regular or too large
    file(
        &["bench", "--profile", "/dev/zero"],
        "/dev/zero",
        &["not a regular file"],
    ),
    flags!(
        Some("/dev/urandom"),
        ["--java-config", "/dev/urandom"],
        "not a regular file"
    ),
    file(
        &["bench", "--profile", "tests/hostile/not-utf8.toml"],
        "tests/hostile/not-utf8.toml",
        &["not UTF-8"],
    ),
    file(
        &["bench", "--profile", "tests/hostile/does-not-exist.toml"],
        "tests/hostile/does-not-exist.toml",
        &["cannot read profile", "no such file"],
    ),
    file(
        &["bench", "--profile", "tests/hostile"],
        "tests/hostile",
        &["cannot read profile", "directory"],
    ),
    flags!(
        Some("--profile"),
        ["--profile", "durabel"],
        "unknown profile \"durabel\"",
        "did you mean \"durable\""
    ),
    // -X
    flags!(Some("-X"), ["-X", "novalue"], "-X argument has no `=`"),
    flags!(Some("-X"), ["-X", "=1"], "empty librdkafka property name"),
    flags!(
        Some("-X"),
        ["-X", "foo.bar=1"],
        "librdkafka rejects `foo.bar`",
        "No such configuration property"
    ),
    flags!(
        Some("-X"),
        ["-X", "socket.nagle.disable=maybe"],
        "Expected bool value"
    ),
    flags!(
        Some("-X"),
        ["-X", "acks=1"],
        "is set by kprod from `producer.acks`"
    ),
    flags!(
        Some("-X"),
        ["-X", "statistics.interval.ms=10"],
        "set by kprod's engine"
    ),
    // --set
    flags!(Some("--set"), ["--set", "workload.rate"], "has no `=`"),
    flags!(
        Some("--set"),
        ["--set", "workload.rat=5"],
        "unknown key `workload.rat`",
        "did you mean `workload.rate`"
    ),
    flags!(
        Some("--set"),
        ["--set", "workload.partitions=-1"],
        "a count cannot be negative"
    ),
    flags!(
        Some("--set"),
        ["--set", "workload.size={dist="],
        "invalid inline table"
    ),
    flags!(
        Some("--set"),
        ["--set", "workload.size={dist=\"uniform\",min=1}"],
        "needs `max`"
    ),
    flags!(
        Some("--set"),
        ["--set", "extends=durable"],
        "can only be set inside a profile file"
    ),
    // dedicated flags
    flags!(
        Some("--rate"),
        ["--rate", "0"],
        "a rate must be greater than 0"
    ),
    flags!(Some("--rate"), ["--rate=-1"], "a rate must be positive"),
    flags!(
        Some("--duration"),
        ["--duration", "0"],
        "duration must be greater than 0"
    ),
    flags!(
        Some("--duration"),
        ["--duration", "10"],
        "a bare number has no unit"
    ),
    flags!(Some("--size"), ["--size", "0"], "record size 0B"),
    flags!(
        Some("--size"),
        ["--size", "1.1KiB"],
        "not a whole number of bytes"
    ),
    flags!(
        Some("--records"),
        ["--records", "1.5"],
        "not a whole number"
    ),
    // Every record would fall inside the warm-up (1000/s x 1 s): refused, not run empty.
    flags!(
        Some("--records"),
        ["--records", "500", "--rate", "1000", "--warmup", "1s"],
        "fit inside the warm-up",
        "--warmup",
        "raise --records above 1000"
    ),
    flags!(
        Some("--producers"),
        ["--producers", "5000"],
        "between 1 and 1024"
    ),
    flags!(
        Some("--mock-brokers"),
        ["--mock-brokers", "0"],
        "mock_brokers must be between 1"
    ),
    flags!(
        Some("--topic"),
        ["--topic", ""],
        "not a valid Kafka topic name"
    ),
    flags!(
        Some("--flush-timeout"),
        ["--flush-timeout", "forever"],
        "invalid duration \"forever\""
    ),
    // Java config
    flags!(
        Some("nope.properties"),
        ["--java-config", "nope.properties"],
        "cannot read Java config"
    ),
    flags!(
        Some("tests/hostile/java-bad.properties:2"),
        ["--java-config", "tests/hostile/java-bad.properties"],
        "invalid acks \"2\""
    ),
    // A [check] thresholds list: each expression checked where it is written.
    profile!(
        "check-thresholds-bad",
        "2:28",
        "unknown figure \"p98\"",
        "check.thresholds"
    ),
    // Ranges named as documented, flags named as written (issue 11).
    flags!(
        Some("--repeat"),
        ["--repeat=-1"],
        "--repeat must be 1..=1000"
    ),
    flags!(
        Some("--set"),
        ["--set", "workload.partitions=99999999999"],
        "workload.partitions must be 1..=100000"
    ),
    flags!(
        Some("--fault"),
        [
            "--fault",
            "errors:produce=NOT_ENOUGH_REPLICAS*99999999999@1s"
        ],
        "COUNT 99999999999 is out of range: COUNT must be 1..100000"
    ),
    Case {
        args: &["sweep", "--param", "batching.linger=5ms,fast"],
        at: Some("--param: key `batching.linger`"),
        says: &["invalid duration \"fast\""],
    },
    // clap refuses these itself (exit 2 too)
    flags!(None, ["--no-such-flag"], "unexpected argument"),
    flags!(None, ["--rate"], "a value is required"),
];
