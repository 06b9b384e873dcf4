#!/usr/bin/env bash
# Starts banjied on a free port with fresh certificates and calls it with the Python client
# written from docs/PROTOCOL.md alone: health must answer SERVING, info must name the caller.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN_DIR:-.build/debug}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/banjie" certs init --dir "$work/certs" >/dev/null
"$bin/banjie" certs issue --dir "$work/certs" --role clerk --org SCJGJ --name 张伟 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/banjied" serve --certs-dir "$work/certs" --listen "127.0.0.1:$port" --metrics-listen off --database "$work/banjie.sqlite" --log-level warning &
echo $! > "$work/pid"
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
args=(--host 127.0.0.1 --port "$port" --ca "$work/certs/ca.pem" --cert "$work/certs/clerk-zhang-wei.pem" --key "$work/certs/clerk-zhang-wei.key")
out=$(python3 scripts/protocol_client.py "${args[@]}" health)
[ "$out" = "SERVING" ] || { echo "protocol client: expected SERVING, got: $out" >&2; exit 1; }
info=$(python3 scripts/protocol_client.py "${args[@]}" info)
echo "$info" | grep -q "张伟" || { echo "protocol client: info does not name the caller: $info" >&2; exit 1; }
echo "protocol client: health SERVING, info names the caller"
