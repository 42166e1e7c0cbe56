#!/usr/bin/env bash
# Endurance: a fixed-rate run on the embedded cluster, sampling kprod's resident memory
# (VmRSS) every 10 s, then a verdict: after the first minute every sample must stay within
# 10% of the median of those samples, and the least-squares trend is printed (growth with
# run length is what a per-record leak or an unbounded buffer looks like). Not a test: it
# takes DURATION (10 minutes by default).
#
#   scripts/soak.sh                   # 10m at 20k records/s
#   DURATION=2m RATE=50k scripts/soak.sh
#   KPROD=target/release/kprod scripts/soak.sh   # a binary already built
#
# Exit 0 when RSS stayed flat, 1 when it grew or shrank by more than 10%, 2 on a failed run.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10m}
RATE=${RATE:-20k}
INTERVAL=${INTERVAL:-10}
SETTLE_S=${SETTLE_S:-60}
LIMIT_PCT=${LIMIT_PCT:-10}
KPROD=${KPROD:-}
if [ -z "$KPROD" ]; then
    cargo build --release --quiet
    KPROD=target/release/kprod
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/kprod-soak.XXXXXX")
samples="$out/rss.csv"
echo "elapsed_s,rss_kib" >"$samples"
echo "soak: $KPROD bench --rate $RATE --duration $DURATION (results and samples in $out)"

"$KPROD" bench --quiet --rate "$RATE" --duration "$DURATION" --warmup 10s \
    --out "$out/results" >"$out/summary.txt" 2>"$out/stderr.txt" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' INT TERM

start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    if [ -n "$rss" ]; then
        echo "$(( $(date +%s) - start )),$rss" >>"$samples"
    fi
    sleep "$INTERVAL"
done
set +e
wait "$pid"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "soak: kprod exited $rc; see $out/stderr.txt" >&2
    exit 2
fi

python3 - "$samples" "$SETTLE_S" "$LIMIT_PCT" "$out/summary.txt" <<'EOF'
import csv, sys
path, settle, limit, summary = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = [(float(r["elapsed_s"]), int(r["rss_kib"])) for r in csv.DictReader(open(path))]
print("elapsed_s  rss_MiB")
for t, kib in rows:
    print(f"{t:9.0f}  {kib / 1024:7.1f}")
late = [(t, kib) for t, kib in rows if t >= settle]
if len(late) < 2:
    print(f"soak: fewer than two samples after {settle:.0f}s; run longer")
    sys.exit(2)
vals = sorted(kib for _, kib in late)
# The median of the samples after the first minute is the reference: one sample alone (the
# one at 60 s) can sit on a momentary peak or dip of the allocator.
ref = vals[len(vals) // 2]
lo, hi = vals[0], vals[-1]
drift = max(hi - ref, ref - lo) / ref * 100
# Least-squares slope: growth with run length is what a leak looks like.
n = len(late)
mt = sum(t for t, _ in late) / n
mk = sum(k for _, k in late) / n
slope = sum((t - mt) * (k - mk) for t, k in late) / max(sum((t - mt) ** 2 for t, _ in late), 1e-9)
ok = drift <= limit
for line in open(summary):
    if "identity" in line or "records/s" in line or "status" in line:
        print(line.rstrip())
print(
    f"soak: after {settle:.0f}s: {n} samples, median {ref / 1024:.1f} MiB, min {lo / 1024:.1f}, "
    f"max {hi / 1024:.1f}, last {late[-1][1] / 1024:.1f} MiB; largest drift from the median "
    f"{drift:.1f}% ({'within' if ok else 'OVER'} {limit:.0f}%); trend {slope * 60 / 1024:+.2f} MiB/min"
)
sys.exit(0 if ok else 1)
EOF
