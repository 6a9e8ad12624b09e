#!/usr/bin/env python3
"""Runs `hashcart bench latency` (release build) and the same-run SQLite TPC-B reference of
scripts/bench_purchases.py, interleaved, and prints the medians as a Markdown table for
docs/BENCHMARKS.md. Machines here are noisy: only medians and same-run ratios are quoted.

    python3 scripts/bench_latency.py [--rounds 3] [--seconds 10] [--peak-count 20000] [--binary PATH]
"""
import argparse, json, os, platform, statistics, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_purchases import build, sqlite_reference  # noqa: E402


def latency(binary, peak_count, seconds):
    out = subprocess.run([binary, "bench", "latency", "--peak-count", str(peak_count), "--seconds", str(seconds), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--peak-count", type=int, default=20_000)
    parser.add_argument("--binary", help="an already built release hashcart (default: build one with swift build -c release)")
    args = parser.parse_args()
    binary = args.binary or build()
    runs, refs = [], []
    for _ in range(args.rounds):
        runs.append(latency(binary, args.peak_count, args.seconds))
        refs.append(sqlite_reference(20_000, 1_000))
    sqlite_version = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; sqlite3 {sqlite_version}")
    print(f"rounds: {args.rounds}, {args.seconds} s per rate, peak from {args.peak_count} reposts")
    peaks = [r["peak_per_second"] for r in runs]
    print("| measure | median | all rounds |")
    print("| --- | --- | --- |")
    print(f"| peak confirmed purchases/s (batches of 1,000) | {statistics.median(peaks):,.0f} | {', '.join(f'{p:,}' for p in peaks)} |")
    for index, load in enumerate(r["load_percent"] for r in runs[0]["runs"]):
        at = [r["runs"][index] for r in runs]
        for key, name in [("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p99.9")]:
            values = [a[key] for a in at]
            print(f"| {load} % of peak: latency {name} (ms) | {statistics.median(values):,.1f} | {', '.join(f'{v:,.1f}' for v in values)} |")
        batches = [a["mean_batch"] for a in at]
        print(f"| {load} % of peak: mean events per transaction | {statistics.median(batches):,.1f} | {', '.join(f'{b:,.1f}' for b in batches)} |")
    print(f"| SQLite shell TPC-B-like transactions/s (same settings) | {statistics.median(refs):,.0f} | {', '.join(f'{r:,.0f}' for r in refs)} |")


if __name__ == "__main__":
    main()
