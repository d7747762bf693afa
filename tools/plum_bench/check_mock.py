#!/usr/bin/env python3
"""bench_mock: plum_bench's mock mode, small and quick. Checks the JSON it
prints has every field tools/bench reads and that the values are sane: all
granted, renewals seen, nothing left on the mock router. No timed assertion:
the times are only checked to be present and non-negative.

usage: check_mock.py PLUM_BENCH"""
import json
import subprocess
import sys

N = 1000


def main():
    cmd = [sys.argv[1], "mock", "-n", str(N), "--lifetime", "4", "--window", "3",
           "--deadline-ms", "60000"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=100)
    print(run.stdout)
    print(run.stderr, file=sys.stderr)
    if run.returncode != 0:
        print(f"FAIL: exit status {run.returncode}")
        return 1
    r = json.loads(run.stdout)
    fails = []

    def check(what, ok):
        print(("ok   - " if ok else "FAIL - ") + what)
        if not ok:
            fails.append(what)

    for key in ("n", "granted", "all_granted_ms", "rss_kb", "hwm_kb", "renewals",
                "renewal_histogram", "cpu_ms_per_1000_renewals", "cleanup_ms", "router_left",
                "router_held", "protocol"):
        check(f"field {key}", key in r)
    if fails:
        return 1
    check("every mapping granted", r["done"] and r["granted"] == N)
    check("the router held them all", r["router_held"] == N)
    check("via PCP", r["protocol"] == "PCP")
    check("times are non-negative", r["all_granted_ms"] >= 0 and r["cleanup_ms"] >= 0)
    check("RSS read", r["rss_kb"] > 0 and r["hwm_kb"] >= r["rss_kb"])
    # lifetime 4 s: each mapping renews after ~2 s, within the 3 s window.
    check("renewals seen", r["renewals"] > 0)
    check("histogram sums to the renewals", sum(r["renewal_histogram"]) == r["renewals"])
    check("cleanup ok", r["cleanup_ok"])
    check("nothing left on the router", r["router_left"] == 0)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
