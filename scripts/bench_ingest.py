#!/usr/bin/env python3
"""Runs `hashcart bench ingest --network bluesky` (release build) and a Python reference filter on
the same Jetstream v1 file, interleaved round by round, and prints the medians and their ratio as
a Markdown table for docs/BENCHMARKS.md.

The stream is generated once by `hashcart bench ingest --generate N --write FILE` (seeded: posts
and reposts shaped like production Jetstream, ~0.1 % of posts carrying a live offer's hashtag).
The reference does the same job as Hashcart's connector, the way a Python service would: orjson
parses each line, tags come from facets, record.tags and the text (a regex, NFKC + casefold),
reposts of the official account and replies to it are kept. Both run on one core; lines are in
memory before timing starts. Both must keep the same number of events (checked).

    python3 scripts/bench_ingest.py [--events 2000000] [--rounds 5] [--binary PATH]

Needs orjson from PyPI (`pip install orjson`).
"""
import argparse, json, os, platform, re, statistics, subprocess, tempfile, time, unicodedata

import orjson

TAGS = "BuyAmexTee,BuyKindleFireHD,HashcartDemo,BuyCafé,買う,BuyVinylPress,BuyTrailShoe,BuyDripKettle,BuySolarLamp,BuyWoolBeanie"
OFFICIAL = "did:plc:shopbotbbbbbbbbbbbbbbbbb"

def key(tag):
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())

# A tag starts at # or ＃ not preceded by a tag character or one of &/=?:. and runs over word characters.
TAG_RE = re.compile(r"(?<![\w&/=?:.])[#＃](\w+)")

def reference(lines, keys, official):
    prefix = "at://" + official + "/"
    kept = 0
    for line in lines:
        event = orjson.loads(line)
        if event.get("kind") != "commit" or event.get("did") == official:
            continue
        commit = event["commit"]
        if commit.get("operation") != "create":
            continue
        collection = commit.get("collection")
        record = commit.get("record") or {}
        if collection == "app.bsky.feed.repost":
            if record.get("subject", {}).get("uri", "").startswith(prefix):
                kept += 1
            continue
        if collection != "app.bsky.feed.post":
            continue
        text = record.get("text", "")
        if "HC-" in text or record.get("reply", {}).get("parent", {}).get("uri", "").startswith(prefix):
            kept += 1
            continue
        tags = [f["tag"] for facet in record.get("facets", ()) for f in facet.get("features", ()) if "tag" in f]
        tags += record.get("tags", [])
        if "#" in text or "＃" in text:
            tags += TAG_RE.findall(text)
        if any(key(t.lstrip("#＃")) in keys for t in tags):
            kept += 1
    return kept

def run_reference(path, rounds_out):
    with open(path, "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l]
    keys = {key(t) for t in TAGS.split(",")}
    began = time.perf_counter()
    kept = reference(lines, keys, OFFICIAL)
    elapsed = time.perf_counter() - began
    rounds_out.append(len(lines) / elapsed)
    return kept, len(lines)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--binary", default=os.path.join(".build-release", "release", "hashcart"))
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", ".build-release", "--product", "hashcart"], check=True)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "jetstream.jsonl")
        subprocess.run([args.binary, "bench", "ingest", "--generate", str(args.events), "--write", path, "--rounds", "1",
                        "--hashtags", TAGS, "--official", OFFICIAL], check=True, stdout=subprocess.DEVNULL)
        size = os.path.getsize(path)
        swift_rates, python_rates = [], []
        swift_kept = python_kept = None
        for _ in range(args.rounds):
            out = subprocess.run([args.binary, "bench", "ingest", "--file", path, "--rounds", "1", "--json",
                                  "--hashtags", TAGS, "--official", OFFICIAL], check=True, capture_output=True, text=True).stdout
            result = json.loads(out)
            swift_rates.append(result["events_per_second_median"])
            swift_kept = result["kept"]
            python_kept, count = run_reference(path, python_rates)
        if swift_kept != python_kept:
            raise SystemExit(f"the two filters disagree: hashcart kept {swift_kept}, the reference {python_kept}")
    swift, python = statistics.median(swift_rates), statistics.median(python_rates)
    mb = size / count
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, orjson {orjson.__version__}")
    print(f"stream: {count} events, {size / 1e6:.0f} MB ({mb:.0f} bytes/event), kept {swift_kept} by both")
    print()
    print("| filter | events/s (median) | rounds | MB/s |")
    print("| --- | --- | --- | --- |")
    print(f"| hashcart bench ingest (Swift, one core) | **{swift:,.0f}** | {min(swift_rates):,.0f}–{max(swift_rates):,.0f} | {swift * mb / 1e6:,.0f} |")
    print(f"| Python reference (orjson {orjson.__version__}) | {python:,.0f} | {min(python_rates):,.0f}–{max(python_rates):,.0f} | {python * mb / 1e6:,.0f} |")
    print(f"\nratio: {swift / python:.1f}× the Python reference")

if __name__ == "__main__":
    main()
