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

source scripts/local-api-lib.sh
start_local_api .tmp/schemathesis-local-api.log
token=$(grep -oP '^demo token: \K.*' .tmp/schemathesis-local-api.log)

cd .tmp
"$venv/bin/schemathesis" run ../openapi.yaml \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,unsupported_method,missing_required_header,ignored_auth \
  --max-examples "$examples" \
  --warnings off
