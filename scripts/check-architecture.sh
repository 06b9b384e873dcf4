#!/usr/bin/env bash
# Checks the import rules of docs/ARCHITECTURE.md ("Module rules") over the sources, and fails
# naming every violation:
#   - BanjieCore is the pure domain: it imports Foundation at most (no NIO, GRDB, OpenSSL, GRPC,
#     TOMLKit, nor any other banjie module);
#   - the `banjie` CLI never opens a database: it imports no BanjieStore, BanjieServer or GRDB;
#   - SQL lives in the store: only Sources/BanjieStore imports GRDB or runs SQL.
# Usage: scripts/check-architecture.sh [SOURCES_DIR]   (default: Sources)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-Sources}
violations=0
fail() { echo "architecture: $1" >&2; violations=$((violations + 1)); }

# Every import line as "file:line:module".
imports() {
  grep -rnE '^[[:space:]]*(@[A-Za-z_]+(\([^)]*\))?[[:space:]]+)*((public|internal|package|private|fileprivate)[[:space:]]+)?import[[:space:]]+' \
    --include='*.swift' "$@" 2>/dev/null \
    | sed -E 's/^([^:]+:[0-9]+):.*import[[:space:]]+(class |struct |enum |protocol |func |var |let |typealias )?([A-Za-z_][A-Za-z0-9_]*).*/\1:\3/' || true
}

while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  module=${hit##*:}
  case "$module" in
    Foundation|Synchronization) ;;
    *) fail "${hit%:*}: BanjieCore is pure and may import Foundation only, not $module" ;;
  esac
done < <(imports "$src/BanjieCore")

while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  module=${hit##*:}
  case "$module" in
    BanjieStore|BanjieServer|GRDB|SQLite3|CSQLite) fail "${hit%:*}: the banjie CLI never opens a database and may not import $module" ;;
  esac
done < <(imports "$src/banjie")

for dir in "$src"/*/; do
  name=$(basename "$dir")
  [ "$name" = BanjieStore ] && continue
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    module=${hit##*:}
    case "$module" in
      GRDB|SQLite3|CSQLite) fail "${hit%:*}: only BanjieStore talks to the database, $name may not import $module" ;;
    esac
  done < <(imports "$dir")
  # SQL outside the store: GRDB's statement arguments or SQL keywords in a string literal.
  while IFS= read -r hit; do
    [ -n "$hit" ] && fail "$hit: SQL outside BanjieStore"
  done < <(grep -rnE '\bsql:|"[[:space:]]*(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|CREATE (TABLE|INDEX|TRIGGER)|PRAGMA)[[:space:]]' \
    --include='*.swift' "$dir" 2>/dev/null | cut -d: -f1,2 || true)
done

if [ "$violations" -gt 0 ]; then
  echo "architecture: $violations violation(s) of the module rules in docs/ARCHITECTURE.md" >&2
  exit 1
fi
echo "architecture: module rules hold"
