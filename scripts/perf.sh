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

# The functions alone first (as cargo-lambda builds them: no test doubles,
# only their own features), then the tools.
cargo build --release --locked -p functions --bin get-group-invite-link \
  --bin remove-group-participants --bin add-group-participants 2>&1 | tail -n 1
cargo build --release --locked -p tools -p testkit --bins 2>&1 | tail -n 1
bin=target/release

source scripts/perf-env.sh

# The floor (#1) and our function (#2) in turns, so load drift hits both alike.
for quota in "" 0.07; do
  q=(); [ -n "$quota" ] && q=(--cpu-quota "$quota")
  echo "== coldstart: #1 hello-world floor vs #2 get-group-invite-link (moto + WUTS fake) ${quota:+(cpu quota $quota)}"
  "$bin/coldstart" --bootstrap "$bin/hello-lambda" --bootstrap "$bin/get-group-invite-link" \
    --event "$out/get-invite.json" -n "$runs" "${q[@]}" "${envs[@]}"
done

echo "== criterion (in-process path)"
cargo bench --locked -p testkit --bench pipeline 2>&1 | grep -E '^(remove|add)_participants|time:'

echo "== wrk: local-api embedded default"
env -u AWS_ENDPOINT_URL_DYNAMODB -u TOKENS_TABLE -u TENANTS_TABLE "$bin/local-api" --port 0 > "$out/local-api.log" 2>&1 & pids+=($!)
sleep 1
base=$(grep -oP '^listening on \K.*' "$out/local-api.log")
demo=$(grep -oP '^demo token: \K.*' "$out/local-api.log")
wrk -t2 -c32 -d15s --latency -H "Authorization: Bearer $demo" "$base/groups/120363039000000000@g.us/invite" | sed -n '1,20p'

echo "== sizes (stripped, release profile)"
ls -l "$bin/hello-lambda" "$bin/get-group-invite-link" "$bin/remove-group-participants" | awk '{print "native", $5, $9}'
for arch in x86-64 arm64; do
  ls -l target/lambda/$arch/*/bootstrap 2>/dev/null | awk -v a="$arch" '{print a, $5, $9}' || true
done
