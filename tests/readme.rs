//! Every `kprod …` command in README.md's code blocks runs as written and exits 0, with
//! short durations substituted (`--duration 1s --warmup 0s`, fault times, backlogs and
//! repeats shortened) and the files it names (`./my.toml`, `producer.properties`, baseline run
//! directories) made beforehand. Commands that need a real Kafka cluster (`--brokers`) and
//! the merge of their runs are listed, not run: no broker exists here.

use std::path::Path;
use std::process::Command;

/// The README's commands, continuation lines joined and comments dropped.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut lines = text.lines();
    let mut in_block = false;
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let line = line.trim();
        if !in_block || !line.starts_with("kprod ") {
            continue;
        }
        let mut cmd = line.to_string();
        while cmd.ends_with('\\') {
            cmd.pop();
            cmd.push_str(lines.next().unwrap_or("").trim());
        }
        if let Some(pos) = cmd.find(" #") {
            cmd.truncate(pos);
        }
        out.push(cmd.trim().to_string());
    }
    out
}

/// Shell-like split: whitespace separates, double or single quotes group (and are removed).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in cmd.chars() {
        match c {
            '"' | '\'' if quote.is_none() => quote = Some(c),
            c if quote == Some(c) => quote = None,
            c if c.is_whitespace() && quote.is_none() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A fault's times after `@` (start, and `+FOR` where given) shortened to 1s, so it falls
/// inside a short run.
fn short_fault(spec: &str) -> String {
    match spec.split_once('@') {
        Some((what, times)) => {
            let times: Vec<&str> = times.split('+').map(|_| "1s").collect();
            format!("{what}@{}", times.join("+"))
        }
        None => spec.to_string(),
    }
}

/// The command with short durations: value-taking flags replaced, the run length added.
fn shortened(args: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut it = args.iter().skip(1);
    let has_fault = args.iter().any(|a| a == "--fault");
    while let Some(a) = it.next() {
        match a.as_str() {
            "--duration" | "--warmup" | "--records" | "--repeat" | "--fault" | "--backlog" => {
                let v = it.next().cloned().unwrap_or_default();
                match a.as_str() {
                    "--records" => out.extend(["--records".into(), "2k".into()]),
                    "--repeat" => out.extend(["--repeat".into(), "2".into()]),
                    // Consumers must resume before the shortened run ends.
                    "--backlog" => out.extend(["--backlog".into(), "500ms".into()]),
                    "--fault" => out.extend([a.clone(), short_fault(&v)]),
                    _ => {}
                }
            }
            _ => out.push(a.clone()),
        }
    }
    match args.get(1).map(String::as_str) {
        Some("bench" | "compare") => {
            let d = if has_fault { "3s" } else { "1s" };
            out.extend([
                "--duration".into(),
                d.into(),
                "--warmup".into(),
                "0s".into(),
            ]);
        }
        Some("sweep") => out.extend([
            "--step-duration".into(),
            "1s".into(),
            "--warmup".into(),
            "0s".into(),
        ]),
        _ => {}
    }
    out
}

fn kprod(dir: &Path, args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kprod"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("kprod runs")
}

/// What the README's commands expect to find: a profile, a Java config, and saved runs.
fn fixtures(dir: &Path) {
    std::fs::write(dir.join("my.toml"), "description = \"mine\"\n").expect("my.toml");
    std::fs::write(dir.join("producer.properties"), "acks=all\nlinger.ms=5\n").expect("properties");
    let run = |a: &[&str]| {
        let args: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        let o = kprod(dir, &args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&[
        "bench",
        "--duration",
        "1s",
        "--warmup",
        "0s",
        "--out",
        "saved",
    ]);
    let made = std::fs::read_dir(dir.join("saved"))
        .expect("saved")
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .expect("a run directory")
        .path();
    std::fs::create_dir_all(dir.join("results")).expect("results");
    for to in [
        "results/baseline",
        "A",
        "B",
        "results/20261126T160824Z-compare",
    ] {
        copy_dir(&made, &dir.join(to));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// Runs `commands` in a fresh directory of fixtures; returns how many ran and the failures.
fn run_all(commands: &[String]) -> (usize, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    fixtures(dir.path());
    let mut failures = Vec::new();
    let mut ran = 0;
    for cmd in commands {
        let args = words(cmd);
        // A real cluster, and the merge of the runs made against it.
        if args.iter().any(|a| a == "--brokers") || args.get(1).is_some_and(|a| a == "merge") {
            continue;
        }
        let args = shortened(&args);
        let o = kprod(dir.path(), &args);
        ran += 1;
        // `check` gates on a rerun of a 1 s baseline, and `--threshold` judges a 1 s run:
        // exit 1 (fail) or 5 (inconclusive) is their verdict on a noisy shared machine, not
        // a failure to run; 2 and 3 would be.
        let judged =
            args.first().is_some_and(|a| a == "check") || args.iter().any(|a| a == "--threshold");
        let ok = match o.status.code() {
            Some(0) => true,
            Some(1 | 5) => judged,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{cmd}\n  ran as {args:?}: exit {:?}\n{}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    (ran, failures)
}

#[test]
fn every_readme_command_runs_as_written() {
    let commands = readme_commands();
    assert!(
        commands.len() >= 15,
        "README commands not found: {commands:?}"
    );
    // Three groups side by side, each in its own directory: the commands mostly wait on
    // 1 s runs, so the test takes a third of the time without sharing any file.
    let groups: Vec<Vec<String>> = (0..3)
        .map(|g| commands.iter().skip(g).step_by(3).cloned().collect())
        .collect();
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = groups.iter().map(|g| s.spawn(|| run_all(g))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a group panicked"))
            .collect()
    });
    let ran: usize = results.iter().map(|r| r.0).sum();
    let failures: Vec<String> = results.into_iter().flat_map(|r| r.1).collect();
    assert!(ran >= 15, "only {ran} commands ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
