# Shell helpers shared by the end-to-end checks (crash-test.sh, failover-check.sh,
# migrate-check.sh). Sourced, not run.

# A free TCP port on 127.0.0.1 (asked of the kernel; a random high port without python3).
pick_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    echo $((20000 + RANDOM % 30000))
  fi
}

# json_field NAME < json: the first "NAME": "value" of the CLI's JSON output.
json_field() {
  sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# client_tls CA_FILE CERTS_ISSUE_JSON: the CLI's TLS options for a certificate `banjie certs issue
# --json` made.
client_tls() {
  echo --ca "$1" --cert "$(json_field certificate <<<"$2")" --key "$(json_field key <<<"$2")"
}
