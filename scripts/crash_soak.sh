#!/usr/bin/env bash
# Longer crash soaks: the CrashTests flash sale with many more SIGKILLs, on SQLite and (when
# HASHCART_TEST_DATABASE_URL is set, e.g. from scripts/postgres-cluster.sh) on PostgreSQL.
#
#   bash scripts/crash_soak.sh [KILLS] [SEED]      # default 500 kills, seed 20131124
#
# A failure prints the seed; the same seed replays the same choices of buyer and pause
# (the moment each kill lands inside the server still depends on timing).
set -euo pipefail
cd "$(dirname "$0")/.."
export HASHCART_CRASH_KILLS="${1:-500}"
export HASHCART_CRASH_SEED="${2:-20131124}"
echo "crash soak: $HASHCART_CRASH_KILLS SIGKILLs per backend, seed $HASHCART_CRASH_SEED"
swift build --build-tests
swift test --skip-build --filter CrashTests
