# Sourced by scripts/schemathesis.sh and scripts/browser-test.sh (run from the
# repository root): starts local-api in its embedded default on a free port.
#   start_local_api LOG   sets $base (http://127.0.0.1:PORT) and $api_pid,
#                         kills local-api on exit, and exits 1 if it does
#                         not start. The banner (demo token …) is in LOG.
# test.sh's shared debug build (DEBUG_BINS_BUILT=1) is used when there is one.
start_local_api() {
  local log=$1
  [ "${DEBUG_BINS_BUILT:-0}" = 1 ] || cargo build --locked --bin local-api
  local var
  for var in TOKENS_TABLE TENANTS_TABLE AWS_ENDPOINT_URL_DYNAMODB; do unset "$var"; done
  ./target/debug/local-api --port 0 > "$log" 2>&1 &
  api_pid=$!
  trap 'kill "$api_pid" 2>/dev/null || true' EXIT
  base=""
  for _ in $(seq 1 100); do
    base=$(grep -oP '^listening on \K.*' "$log" || true)
    [ -n "$base" ] && break
    sleep 0.1
  done
  [ -n "$base" ] || { echo "local-api did not start"; cat "$log"; exit 1; }
}
