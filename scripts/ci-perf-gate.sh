#!/usr/bin/env bash
# Performance gate for CI: rerun the committed baseline's profile and workload with this
# build and fail on a regression (kprod check). See "CI performance gate" in README.md and
# docs/ci-example.yml.
#
# Usage:
#   scripts/ci-perf-gate.sh                      # gate on results/baseline
#   scripts/ci-perf-gate.sh --record -- ARGS...  # (re)record the baseline: kprod bench ARGS
#   scripts/ci-perf-gate.sh -- --max-regression throughput=10%,p99=25%   # extra check args
#
# Environment:
#   KPROD         kprod binary (default: target/release/kprod, built when missing)
#   BASELINE_DIR  the baseline run directory (default: results/baseline)
#   OUT           where the gate's runs, summary and JUnit files go (default: results/ci)
#
# Exit codes are kprod check's: 0 pass, 1 regression, 2 invalid input (e.g. no baseline),
# 3 cluster unreachable, 5 inconclusive (docs/ci.md). Without a baseline the gate fails with 2 and says how to record one:
# a gate that passes because it has nothing to compare with would hide every regression.
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE_DIR=${BASELINE_DIR:-results/baseline}
OUT=${OUT:-results/ci}
KPROD=${KPROD:-target/release/kprod}

record=false
if [[ ${1:-} == --record ]]; then
    record=true
    shift
fi
if [[ ${1:-} == -- ]]; then
    shift
fi

if [[ ! -x $KPROD ]]; then
    cargo build --release --quiet
fi
mkdir -p "$OUT"

if $record; then
    # kprod never overwrites a run directory, so the new run is found as the newest one.
    "$KPROD" bench --quiet --out "$OUT" "$@"
    newest=$(ls -1td "$OUT"/*/ | grep -v -- '-check/$' | head -n 1)
    rm -rf "$BASELINE_DIR"
    mkdir -p "$(dirname "$BASELINE_DIR")"
    cp -r "$newest" "$BASELINE_DIR"
    echo "ci-perf-gate: baseline recorded in $BASELINE_DIR from $newest"
    echo "ci-perf-gate: commit it (git add -f $BASELINE_DIR) so CI gates on it"
    exit 0
fi

if [[ ! -f $BASELINE_DIR/report.json ]]; then
    echo "ci-perf-gate: no baseline at $BASELINE_DIR/report.json" >&2
    echo "ci-perf-gate: record one on the CI machine type: scripts/ci-perf-gate.sh --record -- --profile durable --duration 4s --warmup 1s" >&2
    exit 2
fi

summary="$OUT/check-summary.md"
junit="$OUT/check-junit.xml"
set +e
"$KPROD" check --baseline "$BASELINE_DIR" --quiet --out "$OUT" \
    --summary "$summary" --junit "$junit" "$@"
code=$?
set -e
# GitHub Actions shows this file on the run's summary page.
if [[ -n ${GITHUB_STEP_SUMMARY:-} && -f $summary ]]; then
    cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
case $code in
    0) echo "ci-perf-gate: pass" ;;
    1) echo "ci-perf-gate: REGRESSION (see $summary)" >&2 ;;
    2) echo "ci-perf-gate: invalid input (baseline or thresholds)" >&2 ;;
    3) echo "ci-perf-gate: cluster unreachable" >&2 ;;
    5) echo "ci-perf-gate: INCONCLUSIVE: noise too large to tell (see $summary; --inconclusive pass|fail decides)" >&2 ;;
    *) echo "ci-perf-gate: kprod check exited $code" >&2 ;;
esac
exit "$code"
