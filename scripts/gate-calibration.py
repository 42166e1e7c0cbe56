#!/usr/bin/env python3
"""Calibrates `kprod check` as a CI gate (issue 10, item 7).

Records one baseline, then runs `check` against it TRIALS times with identical code while
scripts/cpu-burn.py keeps the cores busy (false alarms: fails must be <= 1 of 20;
inconclusive is not a fail), and TRIALS times with a real regression on the current side
(default: every broker answers 5 ms later, `--fault rtt:*=5ms@0s`; check passes `--fault`
to the current side only). Prints both counts and the wall time per check.

Two baseline modes, the two ways `check` can be used:

  --mode replay  (default, the recommended CI gate) one `kprod bench` run is the baseline;
                 each check replays its profile interleaved with the current side,
                 B C B C ..., --repeat runs each.
  --mode set     `kprod bench --repeat N` once (quiet: recorded before the burner starts,
                 as a team records its baseline once); each check runs only the current
                 side, --repeat times, against the set's spread.

    scripts/gate-calibration.py --json results/calibration/full.json   # 20 + 20 checks
    scripts/gate-calibration.py --trials 3                              # a shortened run
    scripts/gate-calibration.py --regression '--set batching.linger=25ms' \
        --baseline-args '--set batching.linger=5ms'                     # another regression

The JSON (--json) is rewritten after every check, marked "partial" until the run ends, so
an interrupted calibration still leaves its figures. Exit 0 when both targets are met
(scaled to --trials) and every check took under 90 s, 1 otherwise.
"""

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERDICTS = {0: "pass", 1: "fail", 5: "inconclusive"}
LIMIT_S = 90


def default_kprod():
    for build in ("release", "debug"):
        p = os.path.join(ROOT, "target", build, "kprod")
        if os.path.exists(p):
            return p
    return "kprod"


def run(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, time.monotonic() - t0, p.stdout + p.stderr


def newest(out, marker):
    """The most recently written directory in `out` holding `marker`."""
    dirs = [os.path.join(out, d) for d in os.listdir(out)]
    dirs = [d for d in dirs if os.path.isfile(os.path.join(d, marker))]
    return max(dirs, key=os.path.getmtime) if dirs else None


def record_baseline(a, out):
    cmd = [a.kprod, "bench", "--profile", a.profile, "--duration", a.duration,
           "--warmup", a.warmup, "--out", out, "--quiet"] + shlex.split(a.baseline_args)
    if a.mode == "set":
        cmd += ["--repeat", str(a.repeat)]
    code, secs, text = run(cmd)
    if code != 0:
        sys.exit(f"baseline run failed (exit {code}):\n{text}")
    base = newest(out, "set.json" if a.mode == "set" else "report.json")
    if base is None:
        sys.exit(f"baseline run wrote no {'set' if a.mode == 'set' else 'report'} into {out}:\n{text}")
    print(f"baseline ({a.mode}): {os.path.basename(base)} ({secs:.0f}s)", flush=True)
    return base


def figures(check_dir):
    """Per-figure verdicts of one check (from its check.json), to see what decided it."""
    try:
        with open(os.path.join(check_dir, "check.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError, TypeError):
        return []
    found = []

    def walk(v):
        if isinstance(v, dict):
            name = v.get("figure") or v.get("name")
            if "verdict" in v and isinstance(name, str):
                found.append({k: v.get(k) for k in ("change", "ci_low", "ci_high", "allowed", "verdict") if k in v}
                             | {"figure": name})
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc)
    return found


def checks(a, baseline, out, extra, label, record):
    for i in range(a.trials):
        cmd = [a.kprod, "check", "--baseline", baseline, "--out", out, "--quiet",
               "--repeat", str(a.repeat), "--duration", a.duration, "--warmup", a.warmup] + extra
        before = time.time()
        code, secs, text = run(cmd)
        d = newest(out, "check.json")
        figs = figures(d) if d and os.path.getmtime(d) >= before else []
        verdict = VERDICTS.get(code, f"exit {code}")
        record({"exit": code, "verdict": verdict, "seconds": round(secs, 1), "figures": figs})
        decided = [f"{f['figure']} {f.get('change', '')}" for f in figs if f.get("verdict") not in ("pass", None)]
        print(f"{label} {i + 1}/{a.trials}: {verdict.upper() if code == 1 else verdict} ({secs:.0f}s)"
              + (f"  [{'; '.join(map(str, decided))}]" if decided else ""), flush=True)
        if code not in VERDICTS:
            print(text, file=sys.stderr)


def summary(series):
    counts = {v: sum(1 for c in series if c["verdict"] == v) for v in VERDICTS.values()}
    counts["other"] = len(series) - sum(counts.values())
    counts["checks"] = len(series)
    return counts


def seconds(series):
    t = [c["seconds"] for c in series]
    if not t:
        return {}
    return {"min": min(t), "median": round(statistics.median(t), 1), "max": max(t)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kprod", default=default_kprod())
    ap.add_argument("--mode", choices=("replay", "set"), default="replay",
                    help="replay: interleaved B C B C (default, recommended); set: a baseline set, current side only")
    ap.add_argument("--trials", type=int, default=20, help="checks per condition (default 20)")
    ap.add_argument("--repeat", type=int, default=5, help="check --repeat, and bench --repeat in set mode (default 5)")
    ap.add_argument("--profile", default="durable")
    ap.add_argument("--duration", default="4s", help="run length including warm-up (default 4s)")
    ap.add_argument("--warmup", default="1s")
    ap.add_argument("--baseline-args", default="", help="extra bench arguments of the baseline")
    ap.add_argument("--regression", default="--fault rtt:*=5ms@0s",
                    help="check arguments that make the current side slower (default: '--fault rtt:*=5ms@0s')")
    ap.add_argument("--burn", type=int, default=os.cpu_count() or 1,
                    help="cores kept busy during the identical-code checks (0: quiet)")
    ap.add_argument("--out", help="directory for the runs (default: a new temporary one)")
    ap.add_argument("--json", help="write the figures to this file (rewritten after every check)")
    a = ap.parse_args()

    out = a.out or tempfile.mkdtemp(prefix="kprod-calibration-")
    os.makedirs(out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    result = {
        "partial": True, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit,
        "kprod": a.kprod, "mode": a.mode, "trials": a.trials, "repeat": a.repeat, "profile": a.profile,
        "duration": a.duration, "warmup": a.warmup, "baseline_args": a.baseline_args,
        "regression_args": a.regression, "busy_cores": a.burn, "cpus": os.cpu_count(),
        "identical": [], "regression": [],
    }

    def save():
        if a.json:
            tmp = a.json + ".tmp"
            with open(tmp, "w") as f:
                json.dump(result, f, indent=2)
            os.replace(tmp, a.json)

    baseline = record_baseline(a, out)
    result["baseline"] = os.path.basename(baseline)
    save()
    burner = None
    if a.burn > 0:
        burner = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "cpu-burn.py"), str(a.burn)])
    try:
        checks(a, baseline, out, [], "identical (busy)" if burner else "identical",
               lambda c: (result["identical"].append(c), save()))
    finally:
        if burner:
            burner.send_signal(signal.SIGTERM)
            burner.wait()
    checks(a, baseline, out, shlex.split(a.regression), f"regression ({a.regression})",
           lambda c: (result["regression"].append(c), save()))

    same, reg = summary(result["identical"]), summary(result["regression"])
    allowed_false = max(1, round(a.trials / 20))
    needed = a.trials - allowed_false
    every = result["identical"] + result["regression"]
    result.update({
        "partial": False, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "identical_counts": same, "regression_counts": reg,
        "seconds_per_check": seconds(every),
        "seconds_identical": seconds(result["identical"]), "seconds_regression": seconds(result["regression"]),
    })
    longest = max(c["seconds"] for c in every)
    # A check that errored (exit 2, 3, ...) measured nothing: the calibration is not met.
    ok = (same["fail"] <= allowed_false and reg["fail"] >= needed and longest < LIMIT_S
          and same["other"] == 0 and reg["other"] == 0)
    result["targets_met"] = ok
    save()
    t = result["seconds_per_check"]
    print(f"identical code (busy={a.burn}): {same['fail']}/{a.trials} failed, {same['inconclusive']} inconclusive "
          f"(target <= {allowed_false} failed); regression: {reg['fail']}/{a.trials} failed, "
          f"{reg['inconclusive']} inconclusive (target >= {needed}); wall time per check "
          f"min {t['min']:.0f}s / median {t['median']:.0f}s / max {t['max']:.0f}s (target < {LIMIT_S}s) "
          f"-> {'OK' if ok else 'NOT MET'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
