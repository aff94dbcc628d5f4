#!/usr/bin/env bash
# The first request over TLS (issue 27), by hand like scripts/perf.sh: the
# coldstart harness with remove-group-participants, the engine (the
# session-service fake) over plain HTTP and over TLS 1.3 through coldstart's
# TLS front (a self-signed end-entity certificate in ENGINE_CA_BUNDLE), and
# DynamoDB (moto behind a keep-alive front) over plain HTTP or TLS too
# (AWS_CA_BUNDLE). Each row uncapped and at 7% of a CPU (Init uncapped);
# pass --env WARM_UP=on through EXTRA to measure the Init warm-up (which the
# template turns on), and --cpu-period-ms 20 for the period Lambda has been
# seen throttling on.
#   usage: scripts/perf-tls.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
venv="${VENV:-$PWD/.venv}"
mkdir -p .tmp/perf
out=.tmp/perf

cargo build --release --locked -p functions --bin remove-group-participants 2>&1 | tail -n 1
cargo build --release --locked -p tools -p testkit --bins 2>&1 | tail -n 1
case " ${BEFORE:-} " in
  *examples/lazy-clients*) cargo build --release --locked -p functions --example lazy-clients 2>&1 | tail -n 1 ;;
esac
bin=target/release

source scripts/perf-env.sh
keepalive=$(free_port)
"$venv/bin/python" scripts/keepalive_front.py "$keepalive" "$AWS_ENDPOINT_URL_DYNAMODB" > "$out/keepalive.log" 2>&1 & pids+=($!)
engine_tls=$(free_port)
dynamo_tls=$(free_port)
sleep 0.5
wuts_hostport=${wuts#http://}
"$bin/admin" tenant put --tenant-id perf --wuts-base-url "https://127.0.0.1:$engine_tls" \
  --wuts-session-id sess-acme-1 --wuts-api-key wuts-key-acme-very-secret > /dev/null
"$bin/admin" tenant put --tenant-id perf-plain --wuts-base-url "$wuts" \
  --wuts-session-id sess-acme-1 --wuts-api-key wuts-key-acme-very-secret > /dev/null
"$bin/admin" tenant pacing --tenant-id perf --off > /dev/null
"$bin/admin" tenant pacing --tenant-id perf-plain --off > /dev/null
plain_token=$("$bin/admin" token issue --tenant-id perf-plain --user-id bench | tail -n 1)
tls_token=$("$bin/admin" token issue --tenant-id perf --user-id bench | tail -n 1)
for t in plain tls; do
  tok_var="${t}_token"
  python3 - "${!tok_var}" > "$out/remove-$t.json" <<'PY'
import json, sys
e = json.load(open("events/remove-group-participants.json"))
e["headers"]["authorization"] = "Bearer " + sys.argv[1]
e["headers"].pop("idempotency-key", None)
print(json.dumps(e))
PY
done

cert="$PWD/$out/coldstart-cert.pem"
fronts=(--tls-front "127.0.0.1:$engine_tls=$wuts_hostport" --tls-front "127.0.0.1:$dynamo_tls=127.0.0.1:$keepalive"
        --tls-cert-out "$cert")
# Every row: the hello floor (#1), BEFORE (#2…, when given: other bootstraps,
# space-separated, e.g. an older build, a wrapper that execs the function
# with WARM_UP=on, or target/release/examples/lazy-clients) and the function
# (last) in turns.
before=()
for b in ${BEFORE:-}; do before+=(--bootstrap "$b"); done
row() {
  local name=$1 event=$2; shift 2
  for quota in "" 0.07; do
    q=(); [ -n "$quota" ] && q=(--cpu-quota "$quota")
    echo "== $name ${quota:+(invocations at $quota of a CPU)}"
    "$bin/coldstart" --bootstrap "$bin/hello-lambda" "${before[@]}" --bootstrap "$bin/remove-group-participants" \
      --event "$event" -n "$runs" "${q[@]}" "${fronts[@]}" "${envs[@]}" ${EXTRA:-} "$@" | grep -E '^#|median'
  done
}
# ONLY=plain|engine|both runs one row.
only=${ONLY:-}
if [ -z "$only" ] || [ "$only" = plain ]; then
  row "engine over HTTP, DynamoDB over HTTP" "$out/remove-plain.json"
fi
if [ -z "$only" ] || [ "$only" = engine ]; then
  row "engine over TLS, DynamoDB over HTTP" "$out/remove-tls.json" --env "ENGINE_CA_BUNDLE=$cert"
fi
[ -n "$only" ] && [ "$only" != both ] && exit 0
row "engine and DynamoDB over TLS" "$out/remove-tls.json" \
  --env "ENGINE_CA_BUNDLE=$cert" --env "AWS_CA_BUNDLE=$cert" \
  --env "AWS_ENDPOINT_URL_DYNAMODB=https://127.0.0.1:$dynamo_tls"
