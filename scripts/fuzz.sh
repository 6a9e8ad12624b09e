#!/usr/bin/env bash
# Builds a libFuzzer binary per network parser (swiftc -sanitize=fuzzer: HashcartCore and the
# connectors' parsers compiled with coverage, linked with libFuzzer) and runs each for SECONDS,
# from the committed seed corpus (Fuzz/corpus) plus the regressions (Fuzz/regressions).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET…]     # default 30 s; targets: bluesky mastodon x http
#
# bluesky, mastodon and x feed the connectors' parsers (FuzzHarness); http feeds every HTTP
# request body type through the API's strict decoding (BodyFuzzHarness).
#
# Exits non-zero on a crash, naming the input; copy it into Fuzz/regressions/<target>/ so that
# FuzzRegressionTests replays it on every `swift test`. Prints the executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-30}"
shift || true
TARGETS="${*:-bluesky mastodon x http}"
OUT=.build-fuzz
mkdir -p "$OUT"
FLAGS=(-sanitize=fuzzer -parse-as-library -O -swift-version 6)

CORE=$(find Sources/HashcartCore -name '*.swift' | sort)
PARSERS="Shared/Wire.swift Shared/JSONScanner.swift Shared/HashtagMatcher.swift Shared/WireFormatError.swift Shared/Timestamp.swift
  Shared/ServerSentEvents.swift Shared/FuzzHarness.swift Bluesky/JetstreamFilter.swift Bluesky/JetstreamDecoder.swift
  Mastodon/MastodonEntities.swift Mastodon/MastodonDecoder.swift Mastodon/MastodonHTML.swift X/XEntities.swift X/XDecoder.swift"
echo "fuzz: building HashcartCore and the parsers with coverage"
swiftc "${FLAGS[@]}" -module-name HashcartCore -emit-module -emit-module-path "$OUT/HashcartCore.swiftmodule" \
  -emit-library -static -o "$OUT/libHashcartCore.a" $CORE
swiftc "${FLAGS[@]}" -module-name HashcartConnectors -I "$OUT" -emit-module -emit-module-path "$OUT/HashcartConnectors.swiftmodule" \
  -emit-library -static -o "$OUT/libHashcartConnectors.a" $(for f in $PARSERS; do echo "Sources/HashcartConnectors/$f"; done)

# The HTTP API's request bodies: strict decoding needs Foundation only (no Hummingbird).
BODIES="StrictJSON.swift Bodies.swift BodyFuzzHarness.swift"
swiftc "${FLAGS[@]}" -module-name HashcartServerBodies -emit-module -emit-module-path "$OUT/HashcartServerBodies.swiftmodule" \
  -emit-library -static -o "$OUT/libHashcartServerBodies.a" $(for f in $BODIES; do echo "Sources/HashcartServer/$f"; done)

status=0
for target in $TARGETS; do
  if [ "$target" = http ]; then
    module=HashcartServerBodies; call='_ = BodyFuzzHarness.run(UnsafeBufferPointer(start: data, count: size))'; libs=(-lHashcartServerBodies)
  else
    module=HashcartConnectors; call="FuzzHarness.run(\"$target\", UnsafeBufferPointer(start: data, count: size))"
    libs=(-lHashcartConnectors -lHashcartCore)
  fi
  cat > "$OUT/fuzz-$target.swift" <<SWIFT
import $module

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    $call
    return 0
}
SWIFT
  swiftc "${FLAGS[@]}" -I "$OUT" "$OUT/fuzz-$target.swift" -L "$OUT" "${libs[@]}" -o "$OUT/fuzz-$target"
  work="$OUT/work-$target"
  rm -rf "$work" && mkdir -p "$work"
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
  if ! "$OUT/fuzz-$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$OUT/crash-$target-" -print_final_stats=1 \
      "$work" "Fuzz/corpus/$target" "Fuzz/regressions/$target" > "$OUT/fuzz-$target.log" 2>&1; then
    echo "fuzz: $target CRASHED; the input is $(ls "$OUT"/crash-"$target"-* 2>/dev/null | head -1) (copy it into Fuzz/regressions/$target/)"
    tail -40 "$OUT/fuzz-$target.log"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/fuzz-$target.log" | grep -o '[0-9]*$' || echo 0)
  echo "fuzz: $target: $runs executions, corpus $(ls "$work" | wc -l) new inputs"
done
exit $status
