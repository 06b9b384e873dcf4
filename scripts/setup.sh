#!/usr/bin/env bash
# Installs what banjie needs on Debian 12 (with the Swift toolchain already present):
# OpenSSL and SQLite development files, the openssl and sqlite3 tools, python3.
# protobuf-compiler is only needed to regenerate code from schemas/ (scripts/generate-protos.sh).
set -euo pipefail
need=()
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "${WITH_PROTOC:-0}" = 1 ]; then command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "swift not found: install the Swift 6 toolchain first (swift.org)" >&2; exit 1; }
