#!/usr/bin/env bash
# The TLS and transport suites under AddressSanitizer and LeakSanitizer, in their own build
# directory (.build-asan; the first build takes about 5 minutes on 2 cores).
#   scripts/asan.sh                 BanjieTLSTests and BanjieTransportTests
#   scripts/asan.sh FILTER          another `swift test --filter`
# Exit 0 only when every test passed and neither sanitizer reported anything. Leaks inside the
# toolchain's own libraries (XCTest's runner, Foundation's Process) are suppressed by
# scripts/lsan-suppressions.txt; nothing of banjie's is. The quarantine of freed memory is kept
# at 8 MB (ASan's default is 256 MB) so that HostileInputTests' resident-memory bound holds.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-BanjieTLSTests|BanjieTransportTests}
swift build --build-tests --sanitize=address --scratch-path .build-asan 2>&1 | grep -E "error|warning: |Build complete" || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:quarantine_size_mb=8 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan-suppressions.txt \
  swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$filter" >"$log" 2>&1 || status=$?
grep -E "Test run with|ERROR: (Address|Leak)Sanitizer|SUMMARY: AddressSanitizer" "$log" || true
if grep -qE "ERROR: (Address|Leak)Sanitizer" "$log"; then
  grep -E "ERROR:|#[0-9]+ .* in .*(Banjie|banjie)" "$log" | head -40
  echo "asan: sanitizer reports (above)" >&2
  exit 1
fi
[ "$status" = 0 ] || { tail -40 "$log"; echo "asan: tests failed (exit $status)" >&2; exit 1; }
echo "asan: clean"
