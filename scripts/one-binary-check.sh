#!/usr/bin/env bash
# Checks that a `hashcart` binary is one binary an operator can copy and run:
#   bash scripts/one-binary-check.sh [BINARY]
# BINARY defaults to the build that deploy/README.md documents:
#   swift build -c release --static-swift-stdlib --product hashcart --scratch-path .build-static
# 1. It links no Swift runtime, Foundation or Dispatch library (only the system's C libraries
#    and SQLite): `ldd` says so.
# 2. Copied alone into an empty folder and run with a bare environment (no LD_LIBRARY_PATH, no
#    toolchain on PATH), `demo` completes and `serve` answers /readyz and /openapi.yaml.
# Exit 1, naming what failed, otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BINARY="${1:-.build-static/release/hashcart}"
[ -x "$BINARY" ] || { echo "one-binary: $BINARY is not an executable (build it first, see deploy/README.md)" >&2; exit 1; }

fail() { echo "one-binary: $*" >&2; exit 1; }

libraries=$(ldd "$BINARY" 2>&1 || true)
echo "one-binary: $BINARY links:"
echo "$libraries" | sed 's/^/  /'
# Here-strings, not pipes: under pipefail a `grep -q` that stops early could fail the writer.
if grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|lib_Foundation|/opt/swift' <<< "$libraries"; then
  fail "the binary still links the Swift runtime (build with --static-swift-stdlib)"
fi
if grep -q 'not found' <<< "$libraries"; then fail "a library the binary needs is missing"; fi

folder=$(mktemp -d /tmp/hashcart-one-binary.XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$folder"
}
trap cleanup EXIT
cp "$BINARY" "$folder/hashcart"
[ "$(ls -A "$folder")" = "hashcart" ] || fail "the folder is not empty but for the binary"
cd "$folder"
bare=(env -i HOME="$folder" PATH=/usr/bin:/bin)

if ! "${bare[@]}" ./hashcart demo --cardholders 200 --data ./demo > demo.log 2>&1; then
  tail -20 demo.log >&2
  fail "demo failed"
fi
grep -q "resource bundle" demo.log && fail "demo looked for a resource bundle"
echo "one-binary: demo ran ($(grep -c '' demo.log) lines of output)"

"${bare[@]}" ./hashcart serve --data ./serve --port 0 --admin-token one-binary-check-admin-token > serve.log 2>&1 &
server=$!
port=""
for _ in $(seq 1 200); do
  port=$(grep -o -m 1 'serving http://127.0.0.1:[0-9]*' serve.log | sed 's/.*://' || true)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat serve.log >&2; fail "serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || { cat serve.log >&2; fail "serve never said where it listens"; }
ready=""
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1; then ready=yes; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { cat serve.log >&2; fail "serve never answered /readyz"; }
# To a file first: `curl | head` can fail the pipeline (curl's write error 23 once head has closed it).
curl -fsS -o openapi.yaml "http://127.0.0.1:$port/openapi.yaml" || fail "serve did not answer /openapi.yaml"
[[ "$(head -n 1 openapi.yaml)" == "openapi: 3"* ]] || fail "/openapi.yaml is not the compiled-in document"
echo "one-binary: serve answered /readyz and /openapi.yaml on port $port"
echo "one-binary: ok"
