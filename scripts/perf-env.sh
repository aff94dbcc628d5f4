# Sourced by scripts/perf.sh and scripts/profile-compare.sh: starts moto and
# the session-service fake (the numbers compare with earlier sessions) on loopback, provisions a tenant and a token with `admin`, and
# leaves `envs` (coldstart --env flags) and "$out/get-invite.json" (the event
# with this run's token). Needs $bin (release binaries), $venv and $out.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

moto_port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > "$out/moto.log" 2>&1 & pids+=($!)
"$bin/wuts-fake" --engine session-service > "$out/wuts.log" 2>&1 & pids+=($!)
sleep 1.5
wuts=$(grep -oP 'wuts fake on \K.*' "$out/wuts.log")

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$moto_port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true \
  TOKENS_TABLE=perf-tokens TENANTS_TABLE=perf-tenants IDEMPOTENCY_TABLE=perf-idem \
  AUDIT_TABLE=perf-audit LANES_TABLE=perf-lanes JOBS_TABLE=perf-jobs EVENTS_TABLE=perf-events ENGINE_ALLOW_HTTP=true
"$bin/admin" create-tables > /dev/null
"$bin/admin" tenant put --tenant-id perf --wuts-base-url "$wuts" \
  --wuts-session-id sess-acme-1 --wuts-api-key wuts-key-acme-very-secret > /dev/null
# The load runs measure the pipeline; the pacing guard would (rightly) hold
# a load test back. Its cost is measured on its own (docs/PERFORMANCE.md).
"$bin/admin" tenant pacing --tenant-id perf --off > /dev/null
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
         TOKENS_TABLE TENANTS_TABLE IDEMPOTENCY_TABLE AUDIT_TABLE LANES_TABLE JOBS_TABLE EVENTS_TABLE ENGINE_ALLOW_HTTP; do
  envs+=(--env "$v=${!v}")
done

