//! deploy/kubernetes and the Dockerfile: the manifests parse, say what the distributed run
//! needs (an Indexed Job with completions = parallelism = --instances, the profile from a
//! ConfigMap, results on a shared volume, a merge Job over the same directory), their
//! command lines parse as kprod's own, and the profile resolves. When kubernetes-validate
//! is installed (`scripts/validate-manifests.sh` installs it) the schemas are checked too.

use clap::Parser;
use kprod::cli::{Cli, Command};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every document of every manifest file.
fn manifests() -> Vec<Value> {
    let dir = root().join("deploy/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("deploy/kubernetes")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read manifest");
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            if !v.is_null() {
                docs.push(v);
            }
        }
    }
    docs
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// The container's args with `$(VAR)` replaced as Kubernetes would, given the env values.
fn args(job: &Value, vars: &[(&str, &str)]) -> Vec<String> {
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    c["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| {
            let mut s = str_of(a, "arg").to_string();
            for (k, v) in vars {
                s = s.replace(&format!("$({k})"), v);
            }
            assert!(!s.contains("$("), "unresolved variable in {s}");
            s
        })
        .collect()
}

/// Where `claim` (a PVC name) or `config_map` is mounted in the Job's first container.
fn mount_of(job: &Value, source: &str, name: &str) -> String {
    let spec = &job["spec"]["template"]["spec"];
    let volume = spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| {
            v["persistentVolumeClaim"]["claimName"] == name
                || (source == "configMap" && v["configMap"]["name"] == name)
        })
        .unwrap_or_else(|| panic!("no volume from {source} {name}"));
    let mounts = spec["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts");
    let m = mounts
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("the volume is mounted");
    str_of(&m["mountPath"], "mountPath").to_string()
}

fn env_from_config_map(job: &Value, var: &str) -> (String, String) {
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let e = env
        .iter()
        .find(|e| e["name"] == var)
        .unwrap_or_else(|| panic!("no env {var}"));
    let r = &e["valueFrom"]["configMapKeyRef"];
    (
        str_of(&r["name"], "configMap name").to_string(),
        str_of(&r["key"], "configMap key").to_string(),
    )
}

fn config_value(docs: &[Value], map: &str, key: &str) -> String {
    str_of(&find(docs, "ConfigMap", map)["data"][key], key).to_string()
}

#[test]
fn the_bench_job_is_an_indexed_job_of_n_instances() {
    let docs = manifests();
    let job = find(&docs, "Job", "kprod-bench");
    assert_eq!(job["apiVersion"], "batch/v1");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().expect("completions");
    assert!(n > 1);
    assert_eq!(
        spec["parallelism"].as_u64(),
        Some(n),
        "all instances run at once"
    );
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(
        spec["backoffLimit"].as_u64(),
        Some(0),
        "a retried instance would be counted twice"
    );

    let (run_map, run_key) = env_from_config_map(job, "RUN_ID");
    let (start_map, start_key) = env_from_config_map(job, "START_AT");
    let run_id = config_value(&docs, &run_map, &run_key);
    let start = config_value(&docs, &start_map, &start_key);
    let argv = args(job, &[("RUN_ID", &run_id), ("START_AT", &start)]);
    let cli = Cli::try_parse_from(std::iter::once("kprod".to_string()).chain(argv.clone()))
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let Command::Bench(b) = cli.command else {
        panic!("the bench Job runs `kprod bench`: {argv:?}")
    };
    assert_eq!(
        b.instance.instances.as_deref(),
        Some(n.to_string().as_str())
    );
    assert!(
        b.instance.instance.is_none(),
        "the index comes from JOB_COMPLETION_INDEX"
    );
    kprod::instance::parse_start_at(&start).expect("start-at parses");
    // The metrics port is the one declared, and a pod address needs the explicit flag.
    assert!(b.metrics.metrics_allow_remote);
    let port = job["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        .as_u64()
        .expect("port");
    assert!(b
        .metrics
        .metrics_addr
        .as_deref()
        .is_some_and(|a| a.ends_with(&format!(":{port}"))));

    // The profile comes from the ConfigMap, mounted where --profile points, and resolves.
    let profile_dir = mount_of(job, "configMap", "kprod-profile");
    let profile_arg = b.profile.profiles.first().expect("--profile");
    let file = Path::new(profile_arg)
        .strip_prefix(&profile_dir)
        .unwrap_or_else(|_| panic!("--profile {profile_arg} is not under {profile_dir}"));
    let toml = config_value(&docs, "kprod-profile", file.to_str().expect("utf-8"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("profile.toml");
    std::fs::write(&path, toml).expect("write profile");
    let p = kprod::profile::resolve(
        &[path.display().to_string()],
        &Default::default(),
        tmp.path(),
    )
    .expect("the ConfigMap's profile resolves");
    assert!(p.cluster.brokers.is_some(), "a Job drives a real cluster");

    // Results go to the shared volume, under the run's own directory.
    let results = mount_of(job, "pvc", "kprod-results");
    assert!(b.output.out.starts_with(&results), "{:?}", b.output.out);
    assert!(b.output.out.ends_with(&run_id));
    let pvc = find(&docs, "PersistentVolumeClaim", "kprod-results");
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
}

#[test]
fn the_merge_job_merges_the_bench_jobs_directory() {
    let docs = manifests();
    let bench = find(&docs, "Job", "kprod-bench");
    let merge = find(&docs, "Job", "kprod-merge");
    assert_eq!(merge["spec"]["completions"].as_u64(), Some(1));
    let run_id = config_value(&docs, "kprod-run", "run-id");
    let vars = [("RUN_ID", run_id.as_str()), ("START_AT", "0")];
    let bench_out = {
        let argv = args(bench, &vars);
        let Command::Bench(b) = Cli::try_parse_from(std::iter::once("kprod".into()).chain(argv))
            .expect("bench args")
            .command
        else {
            unreachable!()
        };
        b.output.out
    };
    let argv = args(merge, &vars);
    let Command::Merge(m) = Cli::try_parse_from(std::iter::once("kprod".to_string()).chain(argv))
        .expect("merge args")
        .command
    else {
        panic!("the merge Job runs `kprod merge`")
    };
    assert_eq!(m.dirs, vec![bench_out.clone()]);
    assert!(
        !m.force,
        "a merge Job must not hide differences between instances"
    );
    assert_ne!(
        m.out, bench_out,
        "the merged run must not land among the instances"
    );
    assert_eq!(
        mount_of(merge, "pvc", "kprod-results"),
        mount_of(bench, "pvc", "kprod-results")
    );
}

#[test]
fn the_dockerfile_is_multi_stage_and_runs_kprod_unprivileged() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a builder and a runtime stage: {froms:?}");
    assert!(froms[0].contains(" AS build"));
    assert!(text.contains("COPY --from=build"));
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/kprod\"]"));
    // The manifests run as this user (runAsNonRoot needs a numeric one).
    let user = text
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER");
    let uid = user.split(':').next().expect("uid");
    for job in ["kprod-bench", "kprod-merge"] {
        let docs = manifests();
        let sc = &find(&docs, "Job", job)["spec"]["template"]["spec"]["securityContext"];
        assert_eq!(sc["runAsUser"].to_string(), uid, "{job}");
        assert_eq!(sc["runAsNonRoot"], true);
    }
}

#[test]
fn manifests_match_the_kubernetes_schemas_when_the_validator_is_installed() {
    let venv = root().join("target/tools/k8s-venv/bin/kubernetes-validate");
    let bin = if venv.is_file() {
        venv
    } else {
        PathBuf::from("kubernetes-validate")
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("deploy/kubernetes"))
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    match std::process::Command::new(&bin)
        .arg("--strict")
        .args(&files)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "kubernetes-validate: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => eprintln!(
            "kubernetes-validate is not installed (scripts/validate-manifests.sh installs it); \
             schema check skipped, the structural checks above still ran"
        ),
    }
}
