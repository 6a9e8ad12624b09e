#!/usr/bin/env python3
"""Runs `hashcart bench purchases --database` (release build) on PostgreSQL and pgbench's TPC-B on
the same server, interleaved round by round, and prints the medians and their ratio as a Markdown
table for docs/BENCHMARKS.md.

The reference is pgbench's built-in TPC-B script (3 UPDATEs, 1 SELECT, 1 INSERT per transaction,
one commit each) at scale 10, with --clients concurrent clients (default 16: PostgreSQL commits
many clients' transactions with one WAL flush, so pgbench gets its best figure). Both run with the
server's synchronous_commit=on (checked). Hashcart commits one batch of --batch purchases per
transaction. Machines here are noisy: only medians and same-run ratios are quoted.

    python3 scripts/bench_postgres.py --database postgres://postgres@127.0.0.1:54329/hashcart \\
        [--rounds 3] [--count 100000] [--batch 1000] [--binary PATH] [--clients 16] [--seconds 20]

Without --database it starts a throwaway cluster with scripts/postgres-cluster.sh.
"""
import argparse, json, os, platform, re, shutil, statistics, subprocess, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

def build():
    subprocess.run(["swift", "build", "-c", "release", "--scratch-path", ".build-release", "--product", "hashcart"],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(".build-release", "release", "hashcart")

def hashcart(binary, url, count, batch):
    out = subprocess.run([binary, "bench", "purchases", "--database", url, "--count", str(count), "--batch", str(batch), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)

def pgbench_binary():
    found = shutil.which("pgbench")
    if found:
        return found
    for root in sorted(os.listdir("/usr/lib/postgresql"), reverse=True):
        candidate = os.path.join("/usr/lib/postgresql", root, "bin", "pgbench")
        if os.path.exists(candidate):
            return candidate
    raise SystemExit("pgbench not found (Debian's postgresql-contrib / postgresql package)")

def pgbench_args(url):
    parts = urllib.parse.urlparse(url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
            parts.path.lstrip("/")]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    return args, env

def pgbench(url, clients, seconds):
    args, env = pgbench_args(url)
    out = subprocess.run([pgbench_binary(), "-c", str(clients), "-j", "2", "-T", str(seconds), "-n"] + args,
                         check=True, capture_output=True, text=True, env=env).stdout
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if not match:
        raise SystemExit("pgbench printed no tps:\n" + out)
    return float(match.group(1))

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="postgres://… (default: start a throwaway cluster)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--binary", help="an already built release hashcart (default: build one)")
    args = parser.parse_args()
    url = args.database or subprocess.run(["bash", os.path.join(HERE, "postgres-cluster.sh"), "start"], check=True,
                                          capture_output=True, text=True).stdout.strip().splitlines()[-1]
    binary = args.binary or build()
    pg_args, env = pgbench_args(url)
    subprocess.run([pgbench_binary(), "-i", "-s", "10", "-q"] + pg_args, check=True, capture_output=True, env=env)
    psql = shutil.which("psql") or "psql"
    version = subprocess.run([psql, url, "-tAc", "SHOW server_version"], capture_output=True, text=True).stdout.strip()
    sync = subprocess.run([psql, url, "-tAc", "SHOW synchronous_commit"], capture_output=True, text=True).stdout.strip()
    if sync != "on":
        raise SystemExit(f"synchronous_commit is {sync!r}: the figures must be taken with it on")
    runs, refs = [], []
    for _ in range(args.rounds):
        runs.append(hashcart(binary, url, args.count, args.batch))
        refs.append(pgbench(url, args.clients, args.seconds))
    rate = statistics.median(r["purchases_per_second"] for r in runs)
    p50 = statistics.median(r["latency_us"]["p50"] for r in runs)
    p99 = statistics.median(r["latency_us"]["p99"] for r in runs)
    requests = statistics.median(r["purchase_requests_per_second"] for r in runs)
    ref = statistics.median(refs)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; PostgreSQL {version}, synchronous_commit={sync}")
    print(f"rounds: {args.rounds}, purchases per round: {args.count}, batch: {args.batch}; pgbench TPC-B scale 10, "
          f"{args.clients} clients, {args.seconds} s")
    print("| measure | median | all rounds |")
    print("| --- | --- | --- |")
    print(f"| hashcart confirmed purchases/s (PostgreSQL) | {rate:,.0f} | " + ", ".join("{:,}".format(r["purchases_per_second"]) for r in runs) + " |")
    print(f"| latency repost → committed authorization, p50 / p99 | {p50/1000:.0f} ms / {p99/1000:.0f} ms | |")
    print(f"| hashcart purchase requests/s (post → reservation) | {requests:,.0f} | |")
    print(f"| pgbench TPC-B transactions/s (same server) | {ref:,.0f} | " + ", ".join("{:,.0f}".format(r) for r in refs) + " |")
    print(f"| ratio hashcart purchases / pgbench transactions | {rate / ref:.2f} | |")
    if any(r["invariant_violations"] for r in runs) or any(r["confirmed"] != args.count for r in runs):
        raise SystemExit("a run broke an invariant or confirmed fewer purchases than asked")

if __name__ == "__main__":
    main()
