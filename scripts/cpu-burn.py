#!/usr/bin/env python3
"""Keeps N cores busy until killed (SIGTERM/SIGINT): the "machine is busy" condition of
scripts/gate-calibration.py. Usage: scripts/cpu-burn.py [N]  (default: every core)."""

import multiprocessing
import os
import signal
import sys


def spin():
    # Busy loop; the parent's signal ends the process group.
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else (os.cpu_count() or 1)
    procs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()

    def stop(*_):
        for p in procs:
            p.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"cpu-burn: {n} busy processes (pid {os.getpid()})", file=sys.stderr, flush=True)
    for p in procs:
        p.join()


if __name__ == "__main__":
    main()
