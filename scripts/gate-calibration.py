#!/usr/bin/env python3
"""Calibrates `kprod check` as a CI gate (issue 10, item 7).

Records one baseline run, then runs `check` against it TRIALS times with identical code
while scripts/cpu-burn.py keeps the cores busy (false alarms: fails must be <= 1 of 20;
inconclusive is not a fail), and TRIALS times with a real regression (linger 5ms -> 25ms;
caught: fails must be >= 19 of 20). Prints both counts and the wall time per check.

    scripts/gate-calibration.py                 # the full run: 20 + 20 checks (long on 2 cores)
    scripts/gate-calibration.py --trials 3      # a shortened run

Exit 0 when both targets are met (scaled to --trials), 1 otherwise.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def record_baseline(a, out):
    cmd = [a.kprod, "bench", "--profile", a.profile, "--duration", a.duration,
           "--warmup", a.warmup, "--set", "batching.linger=5ms", "--out", out, "--quiet"]
    code, secs, text = run(cmd)
    if code != 0:
        sys.exit(f"baseline run failed (exit {code}):\n{text}")
    dirs = sorted(d for d in os.listdir(out) if os.path.isfile(os.path.join(out, d, "report.json")))
    print(f"baseline: {dirs[-1]} ({secs:.0f}s)", flush=True)
    return os.path.join(out, dirs[-1])


def checks(a, baseline, out, extra, label):
    counts = {0: 0, 1: 0, 5: 0}
    times = []
    for i in range(a.trials):
        cmd = [a.kprod, "check", "--baseline", baseline, "--out", out, "--quiet",
               "--repeat", str(a.repeat), "--duration", a.duration, "--warmup", a.warmup] + extra
        code, secs, text = run(cmd)
        times.append(secs)
        counts[code] = counts.get(code, 0) + 1
        verdict = {0: "pass", 1: "FAIL", 5: "inconclusive"}.get(code, f"exit {code}")
        print(f"{label} {i + 1}/{a.trials}: {verdict} ({secs:.0f}s)", flush=True)
        if code not in (0, 1, 5):
            print(text, file=sys.stderr)
    return counts, times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kprod", default=default_kprod())
    ap.add_argument("--trials", type=int, default=20, help="checks per condition (default 20)")
    ap.add_argument("--repeat", type=int, default=5, help="check --repeat (default 5)")
    ap.add_argument("--profile", default="durable")
    ap.add_argument("--duration", default="6s")
    ap.add_argument("--warmup", default="2s")
    ap.add_argument("--burn", type=int, default=os.cpu_count() or 1,
                    help="cores kept busy during the identical-code checks (0: quiet)")
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()

    out = tempfile.mkdtemp(prefix="kprod-calibration-")
    baseline = record_baseline(a, out)
    burner = None
    if a.burn > 0:
        burner = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "cpu-burn.py"), str(a.burn)])
    try:
        same, same_t = checks(a, baseline, out, [], "identical (busy)" if burner else "identical")
    finally:
        if burner:
            burner.send_signal(signal.SIGTERM)
            burner.wait()
    reg, reg_t = checks(a, baseline, out, ["--set", "batching.linger=25ms"], "regression 5ms->25ms")

    allowed_false = max(1, round(a.trials / 20))
    needed = a.trials - allowed_false
    per_check = (sum(same_t) + sum(reg_t)) / max(1, len(same_t) + len(reg_t))
    result = {
        "trials": a.trials, "repeat": a.repeat, "duration": a.duration, "warmup": a.warmup,
        "profile": a.profile, "busy_cores": a.burn,
        "identical": {"fail": same[1], "inconclusive": same[5], "pass": same[0]},
        "regression": {"fail": reg[1], "inconclusive": reg[5], "pass": reg[0]},
        "seconds_per_check": round(per_check, 1), "max_seconds_per_check": round(max(same_t + reg_t), 1),
    }
    print(json.dumps(result, indent=2))
    ok = same[1] <= allowed_false and reg[1] >= needed and max(same_t + reg_t) < 90
    print(f"identical code: {same[1]}/{a.trials} failed (target <= {allowed_false}); "
          f"regression: {reg[1]}/{a.trials} failed (target >= {needed}); "
          f"{per_check:.0f}s per check (target < 90s) -> {'OK' if ok else 'NOT MET'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
