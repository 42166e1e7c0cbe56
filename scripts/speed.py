#!/usr/bin/env python3
"""kprod speed checks: peak throughput and CPU per record against librdkafka's
rdkafka_performance, rate accuracy at 90% of the peak, and RSS against run length.

CPU is the child's user + sys time (growth of RUSAGE_CHILDREN across its run), per million delivered
records: unlike records/s it does not improve by using more cores, and a busy machine
inflates it far less than wall time. On the embedded cluster both contestants carry their
mock brokers in-process (kprod starts librdkafka's mock cluster itself; rdkafka_performance
gets `-X test.mock.num.brokers=3`), so the brokers' CPU is in both figures alike.

Ratios, not absolute numbers: every comparison alternates its contestants inside one
invocation on the same machine, and reports ratios of medians. Writes a text and a JSON
summary under results/ (never overwriting).

    scripts/speed.py                 # all three checks, 5 rounds
    scripts/speed.py peak --rounds 7
    scripts/speed.py peak --brokers 127.0.0.1:19092   # against a real broker
    scripts/speed.py --also-brokers 127.0.0.1:19092   # everything, and the peak on both clusters
    scripts/speed.py peak --against /tmp/kprod-before  # this build vs another kprod binary
    scripts/speed.py instructions --against /tmp/kprod-before   # contention-free ratio
    scripts/speed.py consumers       # producer peak with consumers on CPU 1 vs without (issue 13)

`instructions` counts the instructions the WHOLE process executes (valgrind callgrind's Ir;
`perf stat -e instructions` is not available on the development VM) per delivered record,
for the peak settings on the embedded cluster: a count, not a time, so other work on the
machine does not move it. Each contestant runs at --records and at twice that; the
difference divided by the extra records is the marginal cost per record (start-up, topic
creation and the mock brokers' idle work cancel out), beside the plain whole-run average.
"""
import argparse
import json
import resource
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KPROD = os.path.join(ROOT, "target", "release", "kprod")

# Settings both tools share: 100-byte records, no keys, acks=all, linger 5 ms, no
# compression, librdkafka's default batching and queue limits, 4 partitions (the mock
# cluster's default for auto-created topics, which rdkafka_performance uses).
PEAK_SETTINGS = [
    "--set", "workload.keys=none",
    "--set", "producer.acks=all",
    "--set", "producer.idempotence=false",
    "--set", "producer.max_in_flight=5",
    "--set", "producer.retries=3",
    "--set", "batching.linger=5ms",
    "--set", "batching.batch_bytes=1000000",
    "--set", "batching.batch_messages=10000",
    "--set", "compression.codec=none",
    "--set", "backpressure.buffer_messages=100000",
    "--set", "backpressure.buffer_bytes=1GiB",
    "--set", "backpressure.on_full=block",
    "--set", "workload.value=random",
    "--set", "workload.partitions=4",
    "--size", "100B",
    "--rate", "unlimited",
    "--warmup", "0s",
]


def sh(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, check=True, text=True, capture_output=True, **kw)


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return sh([os.path.join(ROOT, "scripts", "build-rdkafka-performance.sh")]).stdout.strip().splitlines()[-1]


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def kprod_run(extra, out, binary=KPROD):
    rep, _ = kprod_run_cpu(extra, out, binary)
    return rep


def kprod_run_cpu(extra, out, binary=KPROD, prefix=()):
    """One kprod run: (report.json, CPU seconds of the kprod process). `prefix`: a command
    kprod runs under (taskset)."""
    cmd = list(prefix) + [binary, "bench", "--quiet", "--out", out] + extra
    before = cpu_children()
    p = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True)
    cpu = cpu_children() - before
    if p.returncode != 0:
        sys.exit(f"kprod failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    m = re.search(r"results: (\S+)", p.stdout)
    if not m:
        sys.exit(f"kprod printed no results directory:\n{p.stdout}")
    with open(os.path.join(m.group(1), "report.json")) as f:
        return json.load(f), cpu


def perf_run(perf, records, brokers, latency):
    """One rdkafka_performance run: (records/s, records delivered, CPU seconds)."""
    cmd = [os.path.join(ROOT, perf), "-P", "-t", "kprod-peer", "-s", "100", "-a", "-1",
           "-c", str(records), "-X", "linger.ms=5"]
    cmd += ["-b", brokers] if brokers else ["-X", "test.mock.num.brokers=3"]
    if latency:
        cmd.append("-l")
    before = cpu_children()
    p = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True, timeout=600)
    cpu = cpu_children() - before
    m = re.findall(r"(\d+) msgs/s", p.stdout)
    d = re.findall(r"(\d+) delivered", p.stdout)
    if not m or not d:
        sys.exit(f"rdkafka_performance printed no rate:\n{p.stdout}\n{p.stderr}")
    return float(m[-1]), int(d[-1]), cpu


def peak(args, out, log, brokers=None):
    perf = build()
    # A real broker may keep every record in memory (Tansu's memory engine does: 5 rounds of
    # 4 contestants at 2M 100-byte records grow it to about 4.5 GB), so runs against one are
    # shorter unless --records says otherwise.
    records = args.records or (2_000_000 if brokers else 3_000_000)
    common = PEAK_SETTINGS + ["--records", str(records)]
    if brokers:
        common += ["--brokers", brokers, "--topic", "kprod-peak"]
        # rdkafka_performance needs its topic to exist unless the broker auto-creates
        # topics (Tansu does not): kprod's preflight makes it with the partitions and
        # replication kprod's own topic gets, so both contestants write to the same shape.
        kprod_run(PEAK_SETTINGS + ["--records", "1", "--brokers", brokers, "--topic", "kprod-peer"], out)
    names = ["kprod", "perf", "perf_l"] + [f"kprod_p{p}" for p in args.producers]
    if args.against:
        # Another kprod build (e.g. the previous commit's), run with the same settings in
        # the same alternation, so a refactor's cost is a ratio measured in one run.
        names += ["against"] + [f"against_p{p}" for p in args.producers]
    variants = {k: [] for k in names}
    # CPU seconds (user + sys of the whole process) per million delivered records.
    cpu = {k: [] for k in names}
    for r in range(args.rounds):
        for name in names:
            if name in ("perf", "perf_l"):
                v, delivered, secs = perf_run(perf, records, brokers, name == "perf_l")
            else:
                n = int(name.split("_p")[1]) if "_p" in name else 1
                binary = args.against if name.startswith("against") else KPROD
                rep, secs = kprod_run_cpu(common + ["--producers", str(n)], out, binary)
                assert rep["records"]["identity_holds"], "accounting identity broken"
                v = rep["throughput"]["records_per_sec"]
                delivered = rep["records"]["delivered"]
            c = secs / (delivered / 1e6) if delivered else float("inf")
            variants[name].append(v)
            cpu[name].append(c)
            log(f"round {r + 1} {name:10s} {v:12,.0f} records/s {c:7.3f} CPU-s/M records")
    med = {k: statistics.median(v) for k, v in variants.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    best_kprod = max((k for k in med if k.startswith("kprod")), key=lambda k: med[k])
    result = {
        "records": records,
        "rounds": args.rounds,
        "cluster": brokers or "embedded (3 mock brokers, in-process for both tools)",
        "medians_records_per_sec": med,
        "medians_cpu_s_per_million": med_cpu,
        "samples": variants,
        "cpu_samples": cpu,
        "best_kprod": best_kprod,
        "ratio_kprod_vs_perf": med[best_kprod] / med["perf"],
        "ratio_kprod_vs_perf_latency": med[best_kprod] / med["perf_l"],
        "ratio_kprod_1producer_vs_perf": med["kprod"] / med["perf"],
        "cpu_ratio_vs_perf": {k: med_cpu[k] / med_cpu["perf"] for k in names if k.startswith("kprod")},
    }
    if args.against:
        result["against"] = args.against
        result["ratio_kprod_vs_against"] = {
            k: med[k] / med[k.replace("kprod", "against")] for k in med if k.startswith("kprod")
        }
        result["cpu_ratio_kprod_vs_against"] = {
            k: med_cpu[k] / med_cpu[k.replace("kprod", "against")] for k in med if k.startswith("kprod")
        }
    log(f"cluster: {result['cluster']}, {records:,} records, median of {args.rounds} alternating rounds")
    log(f"{'contestant':12s} {'records/s':>12s} {'vs perf':>8s} {'CPU-s/M':>8s} {'vs perf':>8s}")
    for k in names:
        log(f"{k:12s} {med[k]:12,.0f} {med[k] / med['perf']:8.3f} {med_cpu[k]:8.3f} "
            f"{med_cpu[k] / med_cpu['perf']:8.3f}")
    for k, v in result.get("ratio_kprod_vs_against", {}).items():
        a = k.replace("kprod", "against")
        log(f"ratio {k} / {a} (this build / --against) = {v:.3f} records/s, "
            f"{result['cpu_ratio_kprod_vs_against'][k]:.3f} CPU per record")
    log(f"ratio {best_kprod} / rdkafka_performance        = {result['ratio_kprod_vs_perf']:.3f} records/s (target >= 1.5)")
    log(f"ratio {best_kprod} / rdkafka_performance -l     = {result['ratio_kprod_vs_perf_latency']:.3f} records/s")
    log(f"ratio kprod 1 producer / rdkafka_performance CPU per record = "
        f"{result['cpu_ratio_vs_perf']['kprod']:.3f} (target <= 0.8)")
    return result


def consumers(args, out, log):
    """Issue 13: producer peak with consumers on vs producers only, on the same share of the
    machine. Pinned: the whole process (producers and the embedded cluster) on CPU 0 in both,
    and with consumers, the consumers (their threads and librdkafka's) on CPU 1
    (--consumer-cpus); CPU 1 stays idle in the producers-only run. Unpinned: both on every CPU,
    for comparison (there the consumers compete with the producers for the same cores).

    Two workloads, because what the consumers cost the producers' core is the brokers' work
    of serving the reads, which grows with the bytes the brokers send: incompressible
    100-byte values without compression (every byte produced is also sent to the consumers)
    and JSON values with lz4 (the producers compress on their core; the brokers serve a
    fraction of the bytes)."""
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if (os.cpu_count() or 1) < 2:
        sys.exit("the consumers check needs at least 2 CPUs")
    # Long enough (≈ 3 s at the peak) that start-up is a small part of each run.
    records = args.records or 6_000_000
    workloads = {
        "random/none": ["--set", "workload.value=random", "--set", "compression.codec=none"],
        "json/lz4": ["--set", "workload.value=json", "--set", "compression.codec=lz4"],
    }
    cons = ["--consumers", "1"]
    variants = {
        "producers (cpu 0)": (["taskset", "-c", "0"], []),
        "+consumers (cpu 1)": (["taskset", "-c", "0"], cons + ["--consumer-cpus", "1"]),
        "producers (all cpus)": ([], []),
        "+consumers (all cpus)": ([], cons),
    }
    result = {"records": records, "rounds": args.rounds, "workloads": {}}
    for wname, wset in workloads.items():
        common = PEAK_SETTINGS + wset + ["--records", str(records)]
        rates = {k: [] for k in variants}
        consumed = {k: [] for k in variants}
        short = {k: 0 for k in variants}
        for r in range(args.rounds):
            for name, (prefix, extra) in variants.items():
                rep, _ = kprod_run_cpu(common + extra, out, prefix=prefix)
                assert rep["records"]["identity_holds"], "accounting identity broken"
                v = rep["throughput"]["records_per_sec"]
                c = sum(rep.get("consumers", {}).get("consumed", [0])) if extra else 0
                rates[name].append(v)
                consumed[name].append(c)
                if extra and c < rep["records"]["delivered"]:
                    short[name] += 1
                log(f"{wname:11s} round {r + 1} {name:22s} {v:12,.0f} records/s produced"
                    + (f", {c:,} of {rep['records']['delivered']:,} consumed" if extra else ""))
        med = {k: statistics.median(v) for k, v in rates.items()}
        pinned = med["+consumers (cpu 1)"] / med["producers (cpu 0)"]
        shared = med["+consumers (all cpus)"] / med["producers (all cpus)"]
        result["workloads"][wname] = {"samples": rates, "consumed": consumed,
                                      "runs_consumed_short": short,
                                      "medians_records_per_sec": med, "ratio_pinned": pinned,
                                      "ratio_shared": shared}
    log(f"{records:,} records of 100 B per run, median of {args.rounds} alternating rounds, "
        "embedded cluster in the kprod process")
    for wname, w in result["workloads"].items():
        for k, v in w["medians_records_per_sec"].items():
            log(f"{wname:11s} {k:22s} {v:12,.0f} records/s")
        p = w["ratio_pinned"]
        # A ratio where the consumers fell behind and the mock brokers trimmed what they had
        # not read measures lighter consumers than asked: not a pass.
        whole = w["runs_consumed_short"]["+consumers (cpu 1)"] == 0
        verdict = "met" if p >= 0.9 and whole else "NOT met"
        log(f"{wname:11s} producer peak with consumers / without, same share (producers + "
            f"cluster on CPU 0, consumers on CPU 1) = {p:.3f} ({verdict}, >= 0.9 with every "
            f"record consumed; {w['runs_consumed_short']['+consumers (cpu 1)']} of "
            f"{args.rounds} runs consumed fewer than delivered); all CPUs shared = "
            f"{w['ratio_shared']:.3f}")
    return result


def callgrind_ir(cmd):
    """Run cmd under callgrind; return the instructions it executed (all threads)."""
    with tempfile.TemporaryDirectory(prefix="kprod-cg-") as d:
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.%p"] + cmd,
                           cwd=ROOT, text=True, capture_output=True, timeout=1800)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        sys.exit(f"valgrind run failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return int(m.group(1)), p.stdout


def instructions(args, out, log):
    perf = build()
    records = args.records or 300_000
    names = ["kprod", "perf"] + (["against"] if args.against else [])
    per = {k: [] for k in names}
    marginal = {k: [] for k in names}
    for r in range(args.rounds):
        for name in names:
            ir = {}
            for n in (records, 2 * records):
                if name == "perf":
                    cmd = [os.path.join(ROOT, perf), "-P", "-t", "kprod-peer", "-s", "100", "-a", "-1",
                           "-c", str(n), "-X", "linger.ms=5", "-X", "test.mock.num.brokers=3"]
                    total, stdout = callgrind_ir(cmd)
                    d = re.findall(r"(\d+) delivered", stdout)
                    delivered = int(d[-1]) if d else 0
                else:
                    binary = args.against if name == "against" else KPROD
                    cmd = [binary, "bench", "--quiet", "--out", out] + PEAK_SETTINGS + ["--records", str(n)]
                    total, stdout = callgrind_ir(cmd)
                    m = re.search(r"results: (\S+)", stdout)
                    with open(os.path.join(m.group(1), "report.json")) as f:
                        rep = json.load(f)
                    assert rep["records"]["identity_holds"], "accounting identity broken"
                    delivered = rep["records"]["delivered"]
                if delivered != n:
                    sys.exit(f"{name}: {delivered} of {n} records delivered under valgrind")
                ir[n] = total
            per[name].append(ir[records] / records)
            marginal[name].append((ir[2 * records] - ir[records]) / records)
            log(f"round {r + 1} {name:8s} {per[name][-1]:8.0f} instructions/record over {records:,}, "
                f"marginal {marginal[name][-1]:8.0f}")
    med = {k: statistics.median(v) for k, v in per.items()}
    med_m = {k: statistics.median(v) for k, v in marginal.items()}
    log(f"embedded cluster, peak settings, {records:,} and {2 * records:,} records, "
        f"median of {args.rounds} rounds under valgrind --tool=callgrind (whole process)")
    log(f"{'contestant':12s} {'instr/rec':>10s} {'vs perf':>8s} {'marginal':>10s} {'vs perf':>8s}")
    for k in names:
        log(f"{k:12s} {med[k]:10.0f} {med[k] / med['perf']:8.3f} {med_m[k]:10.0f} {med_m[k] / med_m['perf']:8.3f}")
    return {"records": records, "rounds": args.rounds, "against": args.against,
            "instructions_per_record": per, "marginal_instructions_per_record": marginal,
            "medians": med, "medians_marginal": med_m,
            "ratio_vs_perf": {k: med[k] / med["perf"] for k in names},
            "marginal_ratio_vs_perf": {k: med_m[k] / med_m["perf"] for k in names}}


def rate_accuracy(args, out, log, peak_rate):
    target = int(peak_rate * args.rate_fraction)
    rows = []
    for r in range(args.rounds):
        rep = kprod_run(PEAK_SETTINGS[:-4] + ["--rate", str(target), "--duration", f"{args.rate_seconds}s",
                                              "--warmup", "2s"], out)
        achieved = rep["throughput"]["records_per_sec"]
        sent = rep["throughput"]["send_records_per_sec"]
        err = (achieved - target) / target
        rows.append({"target": target, "achieved": achieved, "sent_per_sec": sent, "error": err,
                     "p99_us": rep["latency_us"]["corrected"]["p99"]})
        log(f"round {r + 1} target {target:,}/s achieved {achieved:,.0f}/s sent {sent:,.0f}/s error {err:+.3%}")
    worst = max(abs(x["error"]) for x in rows)
    log(f"rate accuracy at {args.rate_fraction:.0%} of kprod's 1-producer peak: worst error {worst:.3%} "
        f"(target within 0.1%)")
    return {"target": target, "rounds": rows, "worst_abs_error": worst}


def rss_run(cmd):
    """Run cmd, sampling RSS (kB) every 0.5 s; return the samples."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        samples.append(int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.5)
    return samples


def memory(args, out, log):
    res = {}
    for secs in (args.mem_short, args.mem_long):
        cmd = [KPROD, "bench", "--quiet", "--out", out, "--rate", "100k", "--duration", f"{secs}s",
               "--warmup", "1s", "--size", "512B"]
        s = rss_run(cmd)
        res[f"{secs}s"] = {"peak_rss_kb": max(s) if s else 0, "last_rss_kb": s[-1] if s else 0, "samples": len(s)}
        log(f"{secs:>4}s run at 100k records/s: peak RSS {max(s) / 1024:.1f} MiB")
    a, b = res[f"{args.mem_short}s"]["peak_rss_kb"], res[f"{args.mem_long}s"]["peak_rss_kb"]
    res["growth_ratio"] = b / a if a else None
    log(f"peak RSS ratio {args.mem_long}s / {args.mem_short}s = {res['growth_ratio']:.3f}")
    return res


def targets(summary, log):
    """Issue 15's two targets, for every cluster the peak check ran on."""
    for key in ("peak", "peak_brokers"):
        r = summary.get(key)
        if not r:
            continue
        cpu = r["cpu_ratio_vs_perf"]["kprod"]
        best = r["ratio_kprod_vs_perf"]
        log(f"targets on {r['cluster']}: kprod 1 producer CPU per record {cpu:.3f}x rdkafka_performance "
            f"({'met' if cpu <= 0.8 else 'NOT met'}, <= 0.8); best kprod peak ({r['best_kprod']}) {best:.3f}x "
            f"({'met' if best >= 1.5 else 'NOT met'}, >= 1.5)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("check", nargs="?", default="all", choices=["all", "peak", "rate", "memory", "instructions", "consumers"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--records", type=int,
                    help="records per peak run (default: 3,000,000 embedded, 2,000,000 with --brokers; "
                         "instructions: 300,000 and twice that)")
    ap.add_argument("--producers", type=int, nargs="*", default=[2],
                    help="extra kprod variants with this many producers")
    ap.add_argument("--brokers", help="real cluster bootstrap list (default: embedded)")
    ap.add_argument("--also-brokers", metavar="BOOTSTRAP",
                    help="after the peak check on the embedded cluster (or --brokers), run it again "
                         "against this real cluster, e.g. Tansu from scripts/broker.sh start")
    ap.add_argument("--against", help="another kprod binary to alternate with this build (peak)")
    ap.add_argument("--rate-seconds", type=int, default=12)
    ap.add_argument("--rate", type=float, help="peak rate for the rate check (default: measured)")
    ap.add_argument("--rate-fraction", type=float, default=0.9,
                    help="rate check target as a fraction of the peak (default 0.9, as issue 15 asks)")
    ap.add_argument("--mem-short", type=int, default=15)
    ap.add_argument("--mem-long", type=int, default=60)
    args = ap.parse_args()

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    base = os.path.join(ROOT, "results", f"speed-{stamp}")
    n = 1
    while os.path.exists(base + ".json"):
        n += 1
        base = os.path.join(ROOT, "results", f"speed-{stamp}-{n}")
    lines = []

    def log(s):
        print(s, flush=True)
        lines.append(s)

    summary = {"started_at": stamp, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="kprod-speed-") as out:
        if args.check == "instructions":
            summary["instructions"] = instructions(args, out, log)
        if args.check == "consumers":
            summary["consumers"] = consumers(args, out, log)
        if args.check in ("all", "peak"):
            summary["peak"] = peak(args, out, log, args.brokers)
            if args.also_brokers:
                summary["peak_brokers"] = peak(args, out, log, args.also_brokers)
            targets(summary, log)
        if args.check in ("all", "rate"):
            pr = args.rate or summary.get("peak", {}).get("medians_records_per_sec", {}).get("kprod")
            if pr is None:
                build()
                pr = kprod_run(PEAK_SETTINGS + ["--records", "2000000"], out)["throughput"]["records_per_sec"]
            summary["rate"] = rate_accuracy(args, out, log, pr)
        if args.check in ("all", "memory"):
            build()
            summary["memory"] = memory(args, out, log)
    for ext, data in ((".json", json.dumps(summary, indent=2)), (".txt", "\n".join(lines) + "\n")):
        tmp = base + ext + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, base + ext)
    print(f"written: {base}.txt and {base}.json")


if __name__ == "__main__":
    main()
