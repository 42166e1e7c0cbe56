//! What a run is called and how it was asked for: the run directory's label (the profile
//! names, then what the command line changed: `durable-rate20k-acks1`, a sweep step's
//! `-sweep-step03-40k`, then `--name`) and `report.json`'s `command_line` (argv with every
//! secret value redacted).

use crate::cli::BenchArgs;
use crate::profile::Profile;

/// Longest piece one flag adds to a label; `report::sanitize_label` caps the whole.
const MAX_PART: usize = 24;

/// Short spelling of each key flag in a label; the flags left out (`--brokers`) would
/// only add an address.
const FLAG_PARTS: &[(&str, &str)] = &[
    ("--rate", "rate"),
    ("--throughput", "rate"),
    ("--duration", "dur"),
    ("--records", "n"),
    ("--warmup", "warm"),
    ("--producers", "p"),
    ("--size", "size"),
    ("--topic", "topic-"),
    ("--mock-brokers", "mock"),
    ("--seed", "seed"),
];

/// One label piece: `prefix` + `value`, with characters a directory name should not hold
/// dropped, bounded in length.
fn part(prefix: &str, value: &str) -> String {
    let v: String = value
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
        .collect();
    let mut s = format!("{prefix}{v}");
    s.truncate(MAX_PART);
    s
}

/// The pieces that say what this command line changed over its profiles: key flags
/// (`rate20k`), `--set` keys by their last segment (`acks1`, `linger20ms`), `-X` and
/// `--producer-props` properties (`socket.nagle.disabletrue`), secret ones left out.
pub fn changes(args: &BenchArgs) -> Vec<String> {
    let mut out = Vec::new();
    for (flag, _, value) in args.profile.key_flag_values() {
        if let Some((_, short)) = FLAG_PARTS.iter().find(|(f, _)| *f == flag) {
            out.push(part(short, &value));
        }
    }
    let l = &args.profile.layers;
    for set in &l.sets {
        if let Some((k, v)) = set.split_once('=') {
            let last = k.trim().rsplit('.').next().unwrap_or_default();
            if !crate::client::is_secret(k.trim()) && !crate::client::is_secret(last) {
                out.push(part(last, v));
            }
        }
    }
    for prop in l.producer_props.iter().chain(&l.librdkafka) {
        if let Some((k, v)) = prop.split_once('=') {
            if !crate::client::is_secret(k.trim()) {
                out.push(part(k.trim(), v));
            }
        }
    }
    out
}

/// The run directory label: `label` when the command chose one (sweep steps), else the
/// profile names and [`changes`]; then `--name`. (The instance suffix is added by bench.)
pub fn label(args: &BenchArgs, profile: &Profile) -> String {
    let s = match &args.label {
        Some(l) => l.clone(),
        None => {
            // Paths reduced to their file names first, so a long path cannot use up the
            // room the changes need.
            // A profile file's `.toml` says nothing about the run (`base`, not `base.toml`).
            let names: Vec<&str> = (profile.names.iter())
                .map(|n| n.strip_suffix(".toml").unwrap_or(n))
                .collect();
            let mut s = crate::report::sanitize_label(&names.join("+"));
            if profile.names.is_empty() {
                s = "base".to_string();
            }
            for c in changes(args) {
                s.push('-');
                s.push_str(&c);
            }
            s
        }
    };
    named(&s, args.output.name.as_deref())
}

/// Room for a label before an instance suffix (`-i999of1000`): with it the label stays
/// within the 80 characters `report::sanitize_label` keeps, so the suffix is never cut.
const MAX_LABEL: usize = 69;
/// Longest `--name` kept in a directory name (report.json keeps it whole).
const MAX_NAME: usize = 24;

/// `base`, then `--name` made safe for a directory name (characters outside
/// `[A-Za-z0-9._-]` become `_`, so `a/b` cannot become a path) and cut to [`MAX_NAME`];
/// `base` is cut first so that the name always survives. Used for run labels and for the
/// `compare`/`sweep`/`check` directories.
pub fn named(base: &str, name: Option<&str>) -> String {
    let tail: String = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => std::iter::once('-')
            .chain(n.chars().take(MAX_NAME).map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            }))
            .collect(),
        None => String::new(),
    };
    let room = MAX_LABEL - tail.len();
    base.chars().take(room).chain(tail.chars()).collect()
}

/// A sweep step's label: the profile names, `sweep-stepNN` (1-based) and the step's rate
/// or swept value.
pub fn sweep_step(
    profiles: &[String],
    index: usize,
    rate: Option<f64>,
    value: Option<&str>,
) -> String {
    // File names of profile paths only, as in [`label`].
    let names = match profiles.is_empty() {
        true => "base".to_string(),
        false => crate::report::sanitize_label(&profiles.join("+")),
    };
    let what = match (value, rate) {
        (Some(v), _) => part("", v),
        (None, Some(r)) => crate::units::format_count(r),
        (None, None) => String::new(),
    };
    let mut s = format!("{names}-sweep-step{:02}", index + 1);
    if !what.is_empty() {
        s.push('-');
        s.push_str(&what);
    }
    s
}

/// `--name` as stored in report.json and runs.csv: trimmed, None when empty.
pub fn name(args: &BenchArgs) -> Option<String> {
    let n = args.output.name.as_deref()?.trim();
    (!n.is_empty()).then(|| n.to_string())
}

/// This process's command line with secret values redacted: `k=v` arguments whose
/// property is a secret (`-X sasl.password=...`, `--producer-props`, `--set`), then every
/// value the secrets registry knows (profile `${VAR}` secrets, -X values).
pub fn command_line() -> Vec<String> {
    redact_argv(std::env::args())
}

pub fn redact_argv(argv: impl IntoIterator<Item = String>) -> Vec<String> {
    argv.into_iter()
        .map(|a| {
            // `-Xsasl.password=...` is one argument for clap too.
            let (lead, body) = match a.strip_prefix("-X") {
                Some(rest) if !rest.is_empty() => ("-X", rest),
                _ => ("", a.as_str()),
            };
            let redacted = body.split_once('=').and_then(|(k, _)| {
                let k = k.trim();
                let last = k.rsplit('.').next().unwrap_or_default();
                (crate::client::is_secret(k) || crate::client::is_secret(last))
                    .then(|| format!("{lead}{k}=[redacted]"))
            });
            crate::domain::scrub(&redacted.unwrap_or(a))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn bench(argv: &[&str]) -> BenchArgs {
        let mut all = vec!["kprod", "bench"];
        all.extend_from_slice(argv);
        match Cli::try_parse_from(all).expect("parses").command {
            Command::Bench(b) => b,
            _ => unreachable!(),
        }
    }

    fn label_of(argv: &[&str]) -> String {
        let a = bench(argv);
        let p =
            crate::commands::bench::resolve(&a.profile, &std::env::temp_dir()).expect("resolves");
        label(&a, &p)
    }

    #[test]
    fn labels_say_what_the_command_line_changed() {
        assert_eq!(label_of(&["-p", "durable"]), "durable");
        assert_eq!(label_of(&["-p", "durable", "-r", "20k"]), "durable-rate20k");
        assert_eq!(
            label_of(&[
                "-p",
                "durable",
                "--set",
                "batching.linger=20ms",
                "-s",
                "1KiB"
            ]),
            "durable-size1KiB-linger20ms"
        );
        assert_eq!(label_of(&["--name", "nightly"]), "base-nightly");
        // A profile file is named by its stem, wherever it lies.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.toml");
        std::fs::write(&file, "description = \"x\"\n").unwrap();
        assert_eq!(label_of(&["-p", file.to_str().unwrap()]), "mine");
        let p = ["durable".to_string()];
        assert_eq!(
            sweep_step(&p, 2, Some(40_000.0), None),
            "durable-sweep-step03-40k"
        );
        assert_eq!(
            sweep_step(&[], 0, None, Some("20ms")),
            "base-sweep-step01-20ms"
        );
        assert_eq!(named("compare", Some("codecs")), "compare-codecs");
        // A name is never a path, and a long label keeps its name.
        assert_eq!(label_of(&["--name", "a/b+c d"]), "base-a_b_c_d");
        let long = label_of(&[
            "-p",
            "durable",
            "-r",
            "12345",
            "-d",
            "61s",
            "--warmup",
            "3s",
            "-s",
            "2KiB",
            "--producers",
            "3",
            "--seed",
            "7",
            "--name",
            "nightly",
        ]);
        assert!(long.ends_with("-nightly") && long.len() <= 80, "{long}");
        assert_eq!(crate::report::sanitize_label(&long), long);
        assert_eq!(
            label_of(&["-X", "socket.nagle.disable=true"]),
            "base-socket.nagle.disabletrue"
        );
    }

    #[test]
    fn secret_values_stay_out_of_labels_and_command_lines() {
        let l = label_of(&["-X", "sasl.password=hunter2-label"]);
        assert!(!l.contains("hunter2"), "{l}");
        let argv = [
            "kprod",
            "bench",
            "-X",
            "sasl.password=hunter2-argv",
            "-Xssl.key.password=hunter3",
            "--set",
            "librdkafka.sasl.password=hunter4",
            "--producer-props",
            "acks=1",
            "sasl.oauthbearer.client.secret=hunter5",
        ];
        let out = redact_argv(argv.iter().map(|s| s.to_string()));
        let joined = out.join(" ");
        assert!(!joined.contains("hunter"), "{joined}");
        assert_eq!(out[3], "sasl.password=[redacted]");
        assert_eq!(out[4], "-Xssl.key.password=[redacted]");
        assert_eq!(out[8], "acks=1", "ordinary values stay");
    }
}
