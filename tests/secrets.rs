//! Secrets: `${VAR}` references in profiles, and a known secret searched for in every
//! output a run leaves: stdout, stderr with librdkafka's own config dump (`--verbose`,
//! `debug=conf`), report.json, intervals.csv, the latency logs, runs.csv, `profiles show`
//! and error messages.

use std::path::Path;
use std::process::{Command, Output};

const SECRET: &str = "kprod-test-s3cr3t-7f1c9a";

/// Secret-bearing properties librdkafka accepts with the plaintext protocol the embedded
/// cluster speaks (OAuth's client secret needs a libcurl build, which this one is not).
const PROFILE: &str = r#"description = "secrets from the environment"

[producer]
transactional_id = ""

[librdkafka]
"sasl.username" = "kprod"
"sasl.password" = "${KPROD_TEST_SECRET}"
"ssl.key.password" = "${KPROD_TEST_SECRET}"
"ssl.keystore.password" = "${KPROD_TEST_SECRET}"
"#;

fn kprod(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kprod"))
        .current_dir(dir)
        .env("KPROD_TEST_SECRET", SECRET)
        .args(args)
        .output()
        .expect("kprod runs")
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(SECRET), "secret leaked in {what}:\n{text}");
}

fn every_file(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            every_file(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn a_known_secret_appears_in_no_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("secret.toml"), PROFILE).expect("profile");
    let o = kprod(
        dir.path(),
        &[
            "bench",
            "--profile",
            "./secret.toml",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--rate",
            "500",
            "--verbose",
            "-X",
            "debug=conf,generic,security",
            "--out",
            "results",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_clean("stdout", &o.stdout);
    assert_clean("stderr", &o.stderr);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // librdkafka did dump its configuration, so the check above searched real config text.
    assert!(
        stderr.contains("sasl.password"),
        "no config dump:\n{stderr}"
    );

    let mut files = Vec::new();
    every_file(&dir.path().join("results"), &mut files);
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for want in [
        "report.json",
        "intervals.csv",
        "latency.hlog",
        "latency.hgrm",
        "runs.csv",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    for f in &files {
        assert_clean(&f.display().to_string(), &std::fs::read(f).expect("read"));
    }
    let report = std::fs::read_to_string(
        files
            .iter()
            .find(|f| f.ends_with("report.json"))
            .expect("report"),
    )
    .expect("read report");
    let v: serde_json::Value = serde_json::from_str(&report).expect("json");
    assert_eq!(v["config"]["librdkafka"]["sasl.password"], "[redacted]");
    assert_eq!(v["config"]["librdkafka"]["ssl.key.password"], "[redacted]");
    assert_eq!(
        v["config"]["profile"]["librdkafka"]["ssl.keystore.password"],
        "[redacted]"
    );

    let show = kprod(dir.path(), &["profiles", "show", "./secret.toml"]);
    assert_eq!(show.status.code(), Some(0));
    assert_clean("profiles show", &show.stdout);
    assert!(String::from_utf8_lossy(&show.stdout).contains("sasl.password"));
}

#[test]
fn error_messages_do_not_echo_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The secret under a key librdkafka does not know (a typo of a secret key).
    let o = kprod(
        dir.path(),
        &[
            "bench",
            "-X",
            &format!("sasl.pasword={SECRET}"),
            "--out",
            "r",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_clean("stderr of an unknown property", &o.stderr);
    // The secret referenced, then a later key in the same profile is invalid.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[librdkafka]\n\"sasl.password\" = \"${KPROD_TEST_SECRET}\"\n\n[producer]\nacks = \"${KPROD_TEST_SECRET}\"\n",
    )
    .expect("profile");
    let o = kprod(
        dir.path(),
        &["bench", "--profile", "./bad.toml", "--out", "r"],
    );
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("./bad.toml:5"), "{stderr}");
    assert_clean("stderr of an invalid value", &o.stderr);
}

#[test]
fn a_missing_variable_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.toml"),
        "[librdkafka]\n\"sasl.password\" = \"${KPROD_TEST_NOT_SET_ANYWHERE}\"\n",
    )
    .expect("profile");
    let o = kprod(dir.path(), &["profiles", "show", "./p.toml"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("./p.toml:2"), "{stderr}");
    assert!(
        stderr.contains("environment variable `KPROD_TEST_NOT_SET_ANYWHERE` is not set"),
        "{stderr}"
    );
}

#[test]
fn variables_expand_in_any_string_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.toml"),
        "[workload]\ntopic = \"bench-${KPROD_TEST_TOPIC}\"\nsize = \"${KPROD_TEST_SIZE}\"\n",
    )
    .expect("profile");
    let o = Command::new(env!("CARGO_BIN_EXE_kprod"))
        .current_dir(dir.path())
        .env("KPROD_TEST_TOPIC", "eu")
        .env("KPROD_TEST_SIZE", "2KiB")
        .args(["profiles", "show", "./p.toml"])
        .output()
        .expect("kprod runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let show = String::from_utf8_lossy(&o.stdout);
    assert!(show.contains("bench-eu"), "{show}");
    assert!(show.contains("2KiB"), "{show}");
}

/// A secret that reaches non-secret keys through a variable whose name says "TOKEN": the
/// description, a fixed header and `sasl.username` carry it, and only its value can tell.
const BY_VALUE: &str = r#"description = "team ${KPROD_API_TOKEN} run"

[workload.headers]
fixed = { auth = "${KPROD_API_TOKEN}" }

[librdkafka]
"sasl.username" = "${KPROD_API_TOKEN}"
"#;

#[test]
fn a_secret_in_any_string_is_scrubbed_by_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("token.toml"), BY_VALUE).expect("profile");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kprod"))
            .current_dir(dir.path())
            .env("KPROD_API_TOKEN", SECRET)
            .args(args)
            .output()
            .expect("kprod runs")
    };
    let o = run(&[
        "bench",
        "--profile",
        "./token.toml",
        "--duration",
        "1s",
        "--warmup",
        "0s",
        "--rate",
        "200",
        "--details",
        "--out",
        "results",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_clean("stdout", &o.stdout);
    assert_clean("stderr", &o.stderr);
    // The description was printed (--details: above the table), scrubbed: the check above looked at the right text.
    assert!(String::from_utf8_lossy(&o.stdout).contains("team [redacted] run"));
    let mut files = Vec::new();
    every_file(&dir.path().join("results"), &mut files);
    assert!(files.iter().any(|f| f.ends_with("report.json")));
    for f in &files {
        assert_clean(&f.display().to_string(), &std::fs::read(f).expect("read"));
    }
    let show = run(&["profiles", "show", "./token.toml"]);
    assert_eq!(show.status.code(), Some(0));
    assert_clean("profiles show", &show.stdout);
    assert!(String::from_utf8_lossy(&show.stdout).contains("auth=[redacted]"));
}
