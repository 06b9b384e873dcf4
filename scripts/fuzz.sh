#!/usr/bin/env bash
# Fuzzes banjie's wire decoder with libFuzzer (docs/SECURITY.md, "Fuzzing").
#
#   scripts/fuzz.sh frame [SECONDS]     # FrameDecoder over a stream of frames (default 60 s)
#   scripts/fuzz.sh headers [SECONDS]   # HEADERS / TRAILERS payloads
#   scripts/fuzz.sh frame 3600 -jobs=2 -workers=2    # longer, in parallel; extra args go to libFuzzer
#   scripts/fuzz.sh frame --replay      # run the committed corpus once through the fuzz build
#
# Builds Fuzz/ (a separate package: the targets have no `main`, libFuzzer supplies it) in release
# mode with -sanitize=fuzzer,address into .build-fuzz/, then runs the target on a working corpus
# in .build-fuzz/corpus/TARGET that starts from the committed one in Fuzz/corpus/TARGET. The
# invariants are WireFuzzChecks in Sources/BanjieWireFuzzSupport/FuzzChecks.swift; the normal test suite
# replays Fuzz/corpus through them (Tests/BanjieWireTests/FuzzCorpusReplayTests.swift).
#
# A violated invariant or a sanitizer report stops the run and leaves the input in
# .build-fuzz/artifacts/TARGET/ (crash-*): replay it with
#   .build-fuzz/release/fuzz-TARGET .build-fuzz/artifacts/TARGET/crash-…
# then copy it into Fuzz/corpus/TARGET/ (named found-…) with the fix, so the test suite keeps it.
# Exit status: libFuzzer's (0: nothing found in the time given).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 1 ]] || usage
TARGET=$1
shift
case $TARGET in
  frame|headers) ;;
  -h|--help) usage ;;
  *) echo "fuzz: unknown target '$TARGET' (frame or headers)" >&2; exit 2 ;;
esac
SECONDS_TO_RUN=60
REPLAY=0
if [[ $# -ge 1 && $1 =~ ^[0-9]+$ ]]; then SECONDS_TO_RUN=$1; shift; fi
if [[ $# -ge 1 && $1 == --replay ]]; then REPLAY=1; shift; fi

SCRATCH=$ROOT/.build-fuzz
echo "== building fuzz-$TARGET (release, -sanitize=fuzzer,address) into $SCRATCH"
# --sanitize fuzzer makes SwiftPM link without its own entry point (libFuzzer has `main`);
# -Xswiftc gives the Swift compiler both sanitizers in one flag (a second -sanitize would replace
# the first).
swift build -c release --package-path "$ROOT/Fuzz" --scratch-path "$SCRATCH" \
  --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --product "fuzz-$TARGET" 2>&1 \
  | grep -Ev '^\[[0-9]+/[0-9]+\]|Cannot export local symbol .__asan_extra_spill_area' || true
BINARY=$SCRATCH/release/fuzz-$TARGET
[[ -x $BINARY ]] || { echo "fuzz: build failed" >&2; exit 2; }

# libFuzzer reports a failure itself (and saves the input); Swift's own crash backtracer would
# run first and can take minutes under AddressSanitizer.
export SWIFT_BACKTRACE=enable=no
SEEDS=$ROOT/Fuzz/corpus/$TARGET
WORK=$SCRATCH/corpus/$TARGET
ARTIFACTS=$SCRATCH/artifacts/$TARGET
mkdir -p "$WORK" "$ARTIFACTS"
if [[ $REPLAY == 1 ]]; then
  exec "$BINARY" -runs=0 -artifact_prefix="$ARTIFACTS/" "$@" "$SEEDS"
fi
echo "== fuzzing $TARGET for $SECONDS_TO_RUN s (corpus $WORK, seeds $SEEDS)"
# New inputs go into the first directory; the committed seeds are only read.
exec "$BINARY" -max_total_time="$SECONDS_TO_RUN" -max_len=20000 -print_final_stats=1 \
  -artifact_prefix="$ARTIFACTS/" "$@" "$WORK" "$SEEDS"
