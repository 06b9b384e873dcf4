#!/usr/bin/env bash
# Rotates a running banjied's server certificate with a real SIGHUP, as docs/OPERATIONS.md says:
# new connections must present the new certificate, a connection opened before the rotation
# must still be served after it, a corrupt file must be refused with the old certificate kept,
# the metrics endpoint must count both, and SIGTERM must still stop the server with exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN_DIR:-.build/debug}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "tls rotation: $*" >&2; [ -f "$work/banjied.log" ] && tail -n 20 "$work/banjied.log" >&2; exit 1; }

"$bin/banjie" certs init --dir "$work/ca" >/dev/null
"$bin/banjie" certs issue --dir "$work/ca" --role clerk --org SCJGJ --name 张伟 >/dev/null
mkdir "$work/etc"
cp "$work/ca/server.pem" "$work/ca/server.key" "$work/ca/ca.pem" "$work/etc/"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
metrics=$(free_port)
"$bin/banjied" serve --certs-dir "$work/etc" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics" \
  --database "$work/banjie.sqlite" --log-level info >"$work/banjied.log" 2>&1 &
echo $! > "$work/pid"
pid=$(cat "$work/pid")
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done

client=(--ca "$work/ca/ca.pem" --cert "$work/ca/clerk-zhang-wei.pem" --key "$work/ca/clerk-zhang-wei.key")
# The serial of the certificate a new connection is shown.
serial() {
  openssl s_client -connect "127.0.0.1:$port" -CAfile "$work/ca/ca.pem" -cert "$work/ca/clerk-zhang-wei.pem" \
    -key "$work/ca/clerk-zhang-wei.key" </dev/null 2>/dev/null | openssl x509 -noout -serial | sed 's/^serial=//' | tr 'a-f' 'A-F' | sed 's/^0*//'
}
file_serial() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//' | tr 'a-f' 'A-F' | sed 's/^0*//'; }
reloads() { python3 -c "
import urllib.request
for line in urllib.request.urlopen('http://127.0.0.1:$metrics/metrics', timeout=10).read().decode().splitlines():
    if line.startswith('banjie_tls_reloads_total{result=\"$1\"}'): print(int(float(line.split()[-1])))"; }
# Waits until the log says a reload happened (the n-th line matching $1).
wait_log() { for _ in $(seq 1 100); do [ "$(grep -c "$1" "$work/banjied.log")" -ge "$2" ] && return 0; sleep 0.1; done; fail "no \"$1\" in the log"; }

old=$(file_serial "$work/etc/server.pem")
[ "$(serial)" = "$old" ] || fail "before rotation the server should show $old, shows $(serial)"

# A connection opened before the rotation: the Python protocol client, calling once now and
# again after the SIGHUP on the same connection.
fifo="$work/hold"
mkfifo "$fifo"
python3 scripts/protocol_client.py --host 127.0.0.1 --port "$port" "${client[@]}" hold <"$fifo" >"$work/hold.out" 2>&1 &
holder=$!
exec 3>"$fifo"
for _ in $(seq 1 100); do grep -q "first SERVING" "$work/hold.out" 2>/dev/null && break; sleep 0.1; done
grep -q "first SERVING" "$work/hold.out" || fail "the held connection did not answer: $(cat "$work/hold.out")"

"$bin/banjie" certs server --dir "$work/ca" --file rotated >/dev/null
cp "$work/ca/rotated.key" "$work/etc/server.key.new" && mv "$work/etc/server.key.new" "$work/etc/server.key"
cp "$work/ca/rotated.pem" "$work/etc/server.pem.new" && mv "$work/etc/server.pem.new" "$work/etc/server.pem"
new=$(file_serial "$work/etc/server.pem")
kill -HUP "$pid"
wait_log "TLS reloaded" 1
kill -0 "$pid" 2>/dev/null || fail "banjied died on SIGHUP"
[ "$(serial)" = "$new" ] || fail "after rotation new connections should see $new, see $(serial)"

echo >&3   # the held connection calls again
exec 3>&-
wait "$holder" || fail "the held connection failed after the rotation: $(cat "$work/hold.out")"
grep -q "second SERVING" "$work/hold.out" || fail "the held connection was not served after the rotation: $(cat "$work/hold.out")"

# A corrupt certificate is refused; the server keeps the one it has.
echo "not a certificate" > "$work/etc/server.pem"
kill -HUP "$pid"
wait_log "TLS reload refused" 1
kill -0 "$pid" 2>/dev/null || fail "banjied died on a refused reload"
[ "$(serial)" = "$new" ] || fail "after a refused reload new connections should still see $new, see $(serial)"
health=$("$bin/banjie" health --server "127.0.0.1:$port" "${client[@]}") || fail "banjie health failed after a refused reload"
shown=$(echo "$health" | sed -n 's/^server cert  serial \([0-9A-Fa-f]*\),.*/\1/p' | tr 'a-f' 'A-F' | sed 's/^0*//')
[ "$shown" = "$new" ] || fail "banjie health shows server certificate '$shown', expected $new"
[ "$(reloads ok)" = 1 ] && [ "$(reloads refused)" = 1 ] || fail "metrics: reloads ok=$(reloads ok) refused=$(reloads refused), expected 1 and 1"

kill -TERM "$pid"
status=0; wait "$pid" || status=$?
rm -f "$work/pid"
[ "$status" = 0 ] || fail "banjied exited $status after SIGTERM"
echo "tls rotation: SIGHUP switched new connections from $old to $new, the held connection was still served, a corrupt file was refused"
