#!/usr/bin/env bash
# SubmitCase with every fsync/fdatasync slowed by about 1 ms (an LD_PRELOAD shim built here), so
# that a commit costs what it costs on a disk whose flush takes a millisecond. Both rows of the
# table, SQLite's one-row-per-transaction ceiling and SubmitCase, run in the same slowed process.
#
#   cd Benchmarks && bash slow-fsync.sh                       # 1 ms per flush, the defaults of `submit`
#   SLOW_FSYNC_MICROSECONDS=5000 bash slow-fsync.sh --seconds 5
#
# Needs a C compiler (cc) and the release build (`swift build -c release`, done here if missing).
set -euo pipefail
cd "$(dirname "$0")"
command -v cc >/dev/null || { echo "slow-fsync.sh: needs a C compiler (apt-get install gcc)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -shared -fPIC -o "$out/libslowfsync.so" slow-fsync/slow_fsync.c -ldl
[ -x .build/release/banjie-bench ] || swift build -c release
echo "slow-fsync: every fsync/fdatasync sleeps ${SLOW_FSYNC_MICROSECONDS:-1000} µs first" >&2
LD_PRELOAD="$out/libslowfsync.so" .build/release/banjie-bench submit "$@"
