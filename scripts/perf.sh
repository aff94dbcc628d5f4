#!/usr/bin/env bash
# Reproduces the numbers in docs/PERFORMANCE.md (run by hand, not in CI):
# native release builds, the coldstart harness (hello-world floor vs our
# functions, uncapped and at 7% of a CPU), the criterion benchmark, a wrk load
# run of local-api, and binary sizes. Needs .venv (scripts/test.sh makes it)
# and wrk (apt-get install wrk).
#   usage: scripts/perf.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
venv="${VENV:-$PWD/.venv}"
mkdir -p .tmp/perf
out=.tmp/perf

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo || true; free -h | head -2

cargo build --release --locked -p get-group-invite-link -p remove-group-participants \
  -p tools -p integration-tests --bins 2>&1 | tail -n 1
bin=target/release

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

moto_port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > "$out/moto.log" 2>&1 & pids+=($!)
"$bin/wuts-fake" > "$out/wuts.log" 2>&1 & pids+=($!)
sleep 1.5
wuts=$(grep -oP 'wuts fake on \K.*' "$out/wuts.log")

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$moto_port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true \
  TOKENS_TABLE=perf-tokens TENANTS_TABLE=perf-tenants IDEMPOTENCY_TABLE=perf-idem \
  AUDIT_TABLE=perf-audit WUTS_ALLOW_HTTP=true
"$bin/admin" create-tables > /dev/null
"$bin/admin" tenant put --tenant-id perf --wuts-base-url "$wuts" \
  --wuts-session-id sess-acme-1 --wuts-api-key wuts-key-acme-very-secret > /dev/null
token=$("$bin/admin" token issue --tenant-id perf --user-id bench | tail -n 1)

# The event with this run's token.
python3 - "$token" > "$out/get-invite.json" <<'PY'
import json, sys
e = json.load(open("events/get-group-invite-link.json"))
e["headers"]["authorization"] = "Bearer " + sys.argv[1]
print(json.dumps(e))
PY

envs=()
for v in AWS_ENDPOINT_URL_DYNAMODB AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED \
         TOKENS_TABLE TENANTS_TABLE IDEMPOTENCY_TABLE AUDIT_TABLE WUTS_ALLOW_HTTP; do
  envs+=(--env "$v=${!v}")
done

# The floor (#1) and our function (#2) in turns, so load drift hits both alike.
for quota in "" 0.07; do
  q=(); [ -n "$quota" ] && q=(--cpu-quota "$quota")
  echo "== coldstart: #1 hello-world floor vs #2 get-group-invite-link (moto + WUTS fake) ${quota:+(cpu quota $quota)}"
  "$bin/coldstart" --bootstrap "$bin/hello-lambda" --bootstrap "$bin/get-group-invite-link" \
    --event "$out/get-invite.json" -n "$runs" "${q[@]}" "${envs[@]}"
done

echo "== criterion (in-process path)"
cargo bench --locked -p shared --bench pipeline 2>&1 | grep -E '^remove_participants|time:'

echo "== wrk: local-api embedded default"
env -u AWS_ENDPOINT_URL_DYNAMODB -u TOKENS_TABLE -u TENANTS_TABLE "$bin/local-api" --port 0 > "$out/local-api.log" 2>&1 & pids+=($!)
sleep 1
base=$(grep -oP '^listening on \K.*' "$out/local-api.log")
demo=$(grep -oP '^demo token: \K.*' "$out/local-api.log")
wrk -t2 -c32 -d15s --latency -H "Authorization: Bearer $demo" "$base/groups/120363039000000000@g.us/invite" | sed -n '1,20p'

echo "== sizes (stripped, release profile)"
ls -l "$bin/hello-lambda" "$bin/get-group-invite-link" "$bin/remove-group-participants" | awk '{print "native", $5, $9}'
for arch in x86-64 arm64; do
  ls -l target/lambda/$arch/*/bootstrap 2>/dev/null | awk -v a="$arch" '{print a, $5, $9}'
done
