#!/usr/bin/env python3
"""Runs `hashcart bench purchases` (release build) and a same-run SQLite reference, interleaved,
and prints the medians and their ratio as a Markdown table for docs/BENCHMARKS.md.

The reference is SQLite's own shell (`sqlite3`, from Debian's sqlite3 package) running TPC-B-like
transactions (3 UPDATEs, 1 SELECT, 1 INSERT each, as pgbench's default script) on the same disk,
with the same settings as Hashcart's store (WAL, synchronous=FULL) and the same batching (1,000
transactions per commit). Machines here are noisy: only medians and same-run ratios are quoted.

    python3 scripts/bench_purchases.py [--rounds 3] [--count 100000] [--binary PATH]
"""
import argparse, json, os, platform, random, statistics, subprocess, tempfile, time

def build():
    subprocess.run(["swift", "build", "-c", "release", "--product", "hashcart"], check=True, stdout=subprocess.DEVNULL)
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "hashcart")

def hashcart(binary, count, batch):
    out = subprocess.run([binary, "bench", "purchases", "--count", str(count), "--batch", str(batch), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)

def sqlite_reference(count, batch, accounts=100_000):
    folder = tempfile.mkdtemp(prefix="hashcart-ref-")
    db = os.path.join(folder, "tpcb.sqlite")
    setup = ["PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;",
             "CREATE TABLE branches(bid INTEGER PRIMARY KEY, bbalance INTEGER);",
             "CREATE TABLE tellers(tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER);",
             "CREATE TABLE accounts(aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER);",
             "CREATE TABLE history(tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime INTEGER);",
             "INSERT INTO branches VALUES (1, 0);",
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10) INSERT INTO tellers SELECT i, 1, 0 FROM n;",
             f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < {accounts}) INSERT INTO accounts SELECT i, 1, 0 FROM n;"]
    subprocess.run(["sqlite3", db], input="\n".join(setup), check=True, text=True, stdout=subprocess.DEVNULL)
    rng = random.Random(2013)
    lines = ["PRAGMA synchronous=FULL;"]
    for start in range(0, count, batch):
        lines.append("BEGIN;")
        for _ in range(min(batch, count - start)):
            aid, tid, delta = rng.randint(1, accounts), rng.randint(1, 10), rng.randint(-5000, 5000)
            lines.append(f"UPDATE accounts SET abalance = abalance + {delta} WHERE aid = {aid};"
                         f"SELECT abalance FROM accounts WHERE aid = {aid};"
                         f"UPDATE tellers SET tbalance = tbalance + {delta} WHERE tid = {tid};"
                         f"UPDATE branches SET bbalance = bbalance + {delta} WHERE bid = 1;"
                         f"INSERT INTO history VALUES ({tid}, 1, {aid}, {delta}, 0);")
        lines.append("COMMIT;")
    script = "\n".join(lines)
    started = time.monotonic()
    subprocess.run(["sqlite3", db], input=script, check=True, text=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    subprocess.run(["rm", "-rf", folder])
    return count / seconds

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--binary", help="an already built release hashcart (default: build one with swift build -c release)")
    args = parser.parse_args()
    binary = args.binary or build()
    runs, refs = [], []
    for _ in range(args.rounds):
        runs.append(hashcart(binary, args.count, args.batch))
        refs.append(sqlite_reference(args.count, args.batch))
    rate = statistics.median(r["purchases_per_second"] for r in runs)
    p50 = statistics.median(r["latency_us"]["p50"] for r in runs)
    p99 = statistics.median(r["latency_us"]["p99"] for r in runs)
    ref = statistics.median(refs)
    sqlite_version = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; sqlite3 {sqlite_version}")
    print(f"rounds: {args.rounds}, purchases per round: {args.count}, batch: {args.batch}")
    print("| measure | median | all rounds |")
    print("| --- | --- | --- |")
    all_runs = ", ".join("{:,}".format(r["purchases_per_second"]) for r in runs)
    all_refs = ", ".join("{:,.0f}".format(r) for r in refs)
    print(f"| hashcart confirmed purchases/s | {rate:,.0f} | {all_runs} |")
    print(f"| latency repost → committed authorization, p50 / p99 | {p50/1000:.0f} ms / {p99/1000:.0f} ms | |")
    print(f"| SQLite shell TPC-B-like transactions/s (same settings) | {ref:,.0f} | {all_refs} |")
    print(f"| ratio hashcart purchases / SQLite TPC-B transactions | {rate / ref:.2f} | |")
    if any(r["invariant_violations"] for r in runs) or any(r["confirmed"] != args.count for r in runs):
        raise SystemExit("a run broke an invariant or confirmed fewer purchases than asked")

if __name__ == "__main__":
    main()
