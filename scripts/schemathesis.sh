#!/usr/bin/env bash
# Contract fuzzing: runs schemathesis against local-api (embedded default) with
# the demo token it prints. Every generated request must get a documented
# status, a body matching openapi.yaml, and never a 5xx.
#   usage: scripts/schemathesis.sh [venv] [max-examples]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-${VENV:-$PWD/.venv}}"
examples="${2:-${SCHEMATHESIS_EXAMPLES:-100}}"
mkdir -p .tmp

[ "${DEBUG_BINS_BUILT:-0}" = 1 ] || cargo build --locked --bin local-api
for var in TOKENS_TABLE TENANTS_TABLE AWS_ENDPOINT_URL_DYNAMODB; do unset "$var"; done
./target/debug/local-api --port 0 > .tmp/schemathesis-local-api.log 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT
base=""
for _ in $(seq 1 100); do
  base=$(grep -oP '^listening on \K.*' .tmp/schemathesis-local-api.log || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "local-api did not start"; cat .tmp/schemathesis-local-api.log; exit 1; }
token=$(grep -oP '^demo token: \K.*' .tmp/schemathesis-local-api.log)

cd .tmp
"$venv/bin/schemathesis" run ../openapi.yaml \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,unsupported_method,missing_required_header,ignored_auth \
  --max-examples "$examples" \
  --warnings off
