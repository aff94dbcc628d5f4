#!/usr/bin/env bash
# The functions under the AWS SAM CLI with Docker, offline and scripted:
# `sam build` (x86_64), `sam local invoke -e` every event in events/, and
# `sam local start-api` with a curl per case (success, 401, 400, unmatched 404,
# 405, 413, 415, an idempotent replay). DynamoDB is moto's server and the
# engine is the WUTS fake, both on the host's 127.0.0.1.
#
#   usage: scripts/sam-local.sh [path/to/venv]   (default: .venv, made by scripts/test.sh)
#
# What it does to the machine, and why:
#  * installs docker.io if there is no docker client, and starts dockerd if no
#    daemon answers (root only; Linux), first removing pid files that name a
#    process which is not dockerd/containerd (left by a daemon that is gone);
#    a dockerd it started is stopped when it ends;
#  * the Lambda base image: SAM runs functions on
#    public.ecr.aws/lambda/provided:al2023-x86_64 plus its own emulator layer.
#    When that image is neither present nor pullable (no registry is reachable
#    on the machines this project is built on), the script builds a STAND-IN
#    under that name: a minimal glibc root filesystem taken from this machine
#    (dash, coreutils' mv/chmod/cp/rm and the libraries they and a Rust
#    bootstrap load), `docker import`ed and labelled stand-in=true. It is not
#    Amazon Linux 2023; it is enough to run a glibc bootstrap. With internet,
#    `docker pull` gets the real image and the stand-in is never built;
#    `docker rmi` the tag (and the `...:al2023-rapid-x86_64` one SAM derives
#    from it) to switch back to the real one;
#  * host networking: SAM 1.170 ignores `--docker-network host`
#    (aws/aws-sam-cli#4236), so containers would land on a bridge and could not
#    reach moto or the fake on 127.0.0.1. scripts/sam-hostnet/ is put on the
#    PYTHONPATH of `sam`: it makes that flag real (see sam_hostnet.py);
#  * SAM passes --env-vars keys only when the template declares them, so
#    template.yaml declares the local-only AWS_ENDPOINT_URL_DYNAMODB and
#    ENGINE_ALLOW_HTTP (empty in a deployment; empty means unset).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="${1:-${VENV:-$root/.venv}}"
export PATH="$venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1
work="$root/.tmp/sam-local"
rm -rf "$work"
mkdir -p "$work"
base_image="public.ecr.aws/lambda/provided:al2023-x86_64"
failures=0
pids=()
started_dockerd=""
cleanup() {
  # SIGINT is what makes `sam local start-api` stop its warm containers.
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Whatever Lambda container is left (sam killed hard) goes too.
  docker ps -q --filter "ancestor=${base_image/al2023-/al2023-rapid-}" | xargs -r docker rm -f >/dev/null 2>&1 || true
  # A dockerd this script started stops with it, and removes its pid files.
  if [ -n "$started_dockerd" ]; then
    kill "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.2; done
  fi
}
trap cleanup EXIT

say() { printf '==> %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() { # port, what
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not listen on $1"; return 1
}

# --- Docker -----------------------------------------------------------------
# The daemon, not just a client: a machine may carry a static docker CLI
# (this kind has one in /usr/local/bin) without dockerd.
if ! command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
  say "installing docker.io"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null 2>&1 || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null
  }
fi
# A pid file left behind by a daemon that is gone (a machine image taken while
# dockerd ran, a reboot) can name a pid that another process has by now. Then
# dockerd refuses to start ("pid file found, ensure docker is not running") or,
# for containerd's pid file, waits for a containerd that is not there. A pid
# file counts only while its pid is the process it names.
drop_stale_pidfile() { # file, process name
  local pid
  [ -e "$1" ] || return 0
  pid=$(tr -dc '0-9' < "$1")
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then return 1; fi
  say "removing stale $1 (pid ${pid:-none} is not $2)"
  rm -f "$1"
}
docker_answers() { docker info >/dev/null 2>&1; }
if ! docker_answers; then
  if ! drop_stale_pidfile /var/run/docker.pid dockerd; then
    # A live dockerd that does not answer yet may be starting: wait, then replace it.
    old_pid=$(tr -dc '0-9' < /var/run/docker.pid)
    for _ in $(seq 1 60); do docker_answers && break; sleep 0.5; done
    if ! docker_answers; then
      say "dockerd $old_pid does not answer: stopping it"
      kill "$old_pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$old_pid" 2>/dev/null || true
      rm -f /var/run/docker.pid
    fi
  fi
fi
if ! docker_answers; then
  drop_stale_pidfile /var/run/docker/containerd/containerd.pid containerd || true
  say "starting dockerd"
  dockerd > "$work/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 120); do docker_answers && break; sleep 0.5; done
  docker_answers || { echo "dockerd did not start:"; tail -n 20 "$work/dockerd.log"; exit 1; }
fi

# --- the Lambda base image, or a stand-in for it --------------------------------
if docker image inspect "$base_image" >/dev/null 2>&1; then
  say "base image $base_image present ($(docker image inspect -f '{{index .Config.Labels "stand-in"}}' "$base_image" | sed 's/^true$/local stand-in/;s/^$/pulled/'))"
elif timeout 60 docker pull -q "$base_image" >/dev/null 2>&1; then
  say "pulled $base_image"
else
  say "no registry: building a local stand-in for $base_image"
  rootfs="$work/rootfs"
  mkdir -p "$rootfs"/{tmp,var/task,var/runtime,opt,etc,root}
  chmod 1777 "$rootfs/tmp"
  files=(/bin/sh /bin/dash /bin/mv /bin/chmod /bin/cp /bin/rm /bin/mkdir /bin/cat)
  libdir=$(dirname "$(ldd /bin/sh | awk '/libc.so.6/ { print $3 }')")
  # What a glibc Rust bootstrap loads (cargo-lambda links against these).
  for lib in libc.so.6 libm.so.6 libgcc_s.so.1 libpthread.so.0 libdl.so.2 librt.so.1; do
    [ -e "$libdir/$lib" ] && files+=("$libdir/$lib")
  done
  for bin in /bin/dash /bin/mv /bin/chmod /bin/cp /bin/rm /bin/mkdir /bin/cat; do
    while read -r lib; do files+=("$lib"); done < <(ldd "$bin" | grep -oE '/[^ ]+')
  done
  for f in $(printf '%s\n' "${files[@]}" | sort -u); do cp -L --parents "$f" "$rootfs"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | docker import \
    --change 'LABEL stand-in=true' \
    --change 'LABEL description="local stand-in for public.ecr.aws/lambda/provided:al2023-x86_64 (scripts/sam-local.sh)"' \
    --change 'WORKDIR /var/task' \
    - "$base_image" >/dev/null
  # SAM derives ...:al2023-rapid-x86_64 from the base; drop a stale one.
  docker rmi -f "public.ecr.aws/lambda/provided:al2023-rapid-x86_64" >/dev/null 2>&1 || true
fi

# --- build -----------------------------------------------------------------------
say "sam build (x86_64) into .aws-sam/build-x86_64"
started=$(date +%s)
sam build --template template.yaml --build-dir .aws-sam/build-x86_64 \
  --parameter-overrides Architecture=x86_64 > "$work/sam-build.log" 2>&1 \
  || { tail -n 30 "$work/sam-build.log"; exit 1; }
say "sam build took $(( $(date +%s) - started )) s"
built=.aws-sam/build-x86_64/template.yaml
[ "${DEBUG_BINS_BUILT:-0}" = 1 ] || cargo build --locked --bin admin --bin wuts-fake -q

# --- moto and the WUTS fake on 127.0.0.1 ------------------------------------------
moto_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
pids+=($!)
wait_port "$moto_port" moto_server
target/debug/wuts-fake > "$work/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^wuts fake on ' "$work/fake.log" && break; sleep 0.1; done
fake_url=$(sed -n 's/^wuts fake on //p' "$work/fake.log")
engine=$(sed -n 's/^engine: //p' "$work/fake.log")
session=$(sed -n 's/^session id: //p' "$work/fake.log")
key=$(sed -n 's/^api key: //p' "$work/fake.log")
[ -n "$fake_url" ] || { echo "the WUTS fake did not start"; cat "$work/fake.log"; exit 1; }

id=$(date +%s)-$$
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$moto_port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test ENGINE_ALLOW_HTTP=true \
  TOKENS_TABLE="tokens-$id" TENANTS_TABLE="tenants-$id" \
  IDEMPOTENCY_TABLE="idempotency-$id" AUDIT_TABLE="audit-$id" LANES_TABLE="lanes-$id" \
  JOBS_TABLE="jobs-$id" EVENTS_TABLE="events-$id" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$moto_port"
# The tables, and the jobs queues on moto's SQS (JOBS_QUEUE_URL=...).
target/debug/admin create-tables > "$work/create-tables.out"
JOBS_QUEUE_URL=$(sed -n 's/^JOBS_QUEUE_URL=//p' "$work/create-tables.out")
EVENTS_QUEUE_URL=$(sed -n 's/^EVENTS_QUEUE_URL=//p' "$work/create-tables.out")
[ -n "$JOBS_QUEUE_URL" ] || { echo "admin create-tables made no jobs queue"; exit 1; }
[ -n "$EVENTS_QUEUE_URL" ] || { echo "admin create-tables made no deliveries queue"; exit 1; }
export JOBS_QUEUE_URL EVENTS_QUEUE_URL
# The sample tenant runs WUTS (the fake's default engine), which serves
# every operation: every sample event answers 2xx or its own 4xx.
target/debug/admin tenant put --tenant-id acme --engine "$engine" --wuts-base-url "$fake_url" \
  ${session:+--wuts-session-id "$session"} --wuts-api-key "$key" > /dev/null
# Pacing stays on (the functions take their lane's budget from the lanes
# table), with room for every sample event in a row: each is sent once.
for class in add change create settings read; do
  target/debug/admin tenant pacing --tenant-id acme --class "$class" --burst 30 > /dev/null
done
token=$(target/debug/admin token issue --tenant-id acme --user-id sam | tail -n 1)
# The job events/get-job.json and cancel-job.json name.
target/debug/admin sample-job --tenant-id acme > /dev/null
# The hooks events/hooks-<engine>.json name: one tenant per engine (the
# sessions the samples name), each with its engine's sample hook.
target/debug/admin sample-hook --tenant-id acme > /dev/null
for spec in session-service:sess-acme-1 evolution:acme-main waha:acme-main; do
  e=${spec%%:*}; s=${spec#*:}
  if [ "$e" = session-service ]; then flag=(--wuts-session-id "$s"); else flag=(--engine-session "$s"); fi
  target/debug/admin tenant put --tenant-id "t-$e" --engine "$e" --wuts-base-url "$fake_url" \
    "${flag[@]}" --wuts-api-key "$key" > /dev/null
  target/debug/admin sample-hook --tenant-id "t-$e" > /dev/null
done

# What SAM passes to every function (the template declares each key).
python3 - "$work/env.json" <<'PY'
import json, os, sys
keys = ["TOKENS_TABLE", "TENANTS_TABLE", "IDEMPOTENCY_TABLE", "AUDIT_TABLE", "LANES_TABLE",
        "JOBS_TABLE", "EVENTS_TABLE", "JOBS_QUEUE_URL", "EVENTS_QUEUE_URL", "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_DYNAMODB", "ENGINE_ALLOW_HTTP"]
env = {k: os.environ[k] for k in keys}
env.update({"ENGINE_TIMEOUT_MS": "5000", "AUTH_CACHE_TTL_SECS": "0", "LOG_LEVEL": "warn"})
json.dump({"Parameters": env}, open(sys.argv[1], "w"), indent=2)
PY
export PYTHONPATH="$root/scripts/sam-hostnet${PYTHONPATH:+:$PYTHONPATH}"
sam_flags=(--template "$built" --parameter-overrides Architecture=x86_64 --env-vars "$work/env.json"
           --docker-network host --skip-pull-image)

# --- sam local invoke -e: every event -------------------------------------------
event_token=$(sed -n 's/.*"authorization": "Bearer \([0-9a-f-]*\)".*/\1/p' events/get-group-invite-link.json)
say "sam local invoke -e events/*.json"
for event in events/*.json; do
  name=$(basename "$event")
  function=$(python3 - "$event" <<'PY'
import json, re, sys
event = json.load(open(sys.argv[1]))
key = event["routeKey"]
if key == "$default":
    print("UnmatchedRouteFunction")
else:
    template = open("template.yaml").read()
    method, path = key.split(" ", 1)
    # The function whose HttpApi event names this method and path.
    for block in re.split(r"\n  (?=\w+Function:\n)", template):
        if f"Method: {method}\n" in block and f"Path: {path}\n" in block:
            print(block.split(":", 1)[0].strip())
PY
)
  # An operation's own sample (events/<function>.json) must succeed (2xx);
  # any other event answers what tests/event-statuses.json says.
  want=$(python3 -c 'import json,sys; print(json.load(open("tests/event-statuses.json")).get(sys.argv[1], "2xx"))' "$name")
  sed "s/$event_token/$token/" "$event" > "$work/$name"
  if ! sam local invoke "$function" -e "$work/$name" "${sam_flags[@]}" \
      > "$work/invoke-$name.out" 2> "$work/invoke-$name.err"; then
    fail "invoke $function -e $name: sam exited non-zero"; tail -n 5 "$work/invoke-$name.err"; continue
  fi
  if python3 - "$work/invoke-$name.out" "$work/$name" "$want" <<'PY'
import json, sys
out = open(sys.argv[1]).read().strip().splitlines()[-1]
reply, event, want = json.loads(out), json.load(open(sys.argv[2])), sys.argv[3]
headers = {k.lower(): v for k, v in reply["headers"].items()}
body = json.loads(reply["body"])
rid = event["requestContext"]["requestId"]
if want == "2xx":
    assert 200 <= reply["statusCode"] < 300, (reply["statusCode"], body)
    want = 200
else:
    want = int(want)
    assert reply["statusCode"] == want, (reply["statusCode"], body)
assert headers["x-request-id"] == rid, headers
assert body["success"] is (want < 300), body
if want >= 300:
    assert body["request_id"] == rid and body["error_code"], body
PY
  then ok "invoke $function -e $name -> $want"
  else fail "invoke $function -e $name (want $want): $(tail -n 1 "$work/invoke-$name.out")"
  fi
done

# --- sam local start-api: curl every case ---------------------------------------
api_port=$(free_port)
say "sam local start-api on 127.0.0.1:$api_port"
sam local start-api "${sam_flags[@]}" --host 127.0.0.1 --port "$api_port" \
  --warm-containers EAGER > "$work/start-api.log" 2>&1 &
pids+=($!)
wait_port "$api_port" "sam local start-api" || { tail -n 30 "$work/start-api.log"; exit 1; }
base="http://127.0.0.1:$api_port"
group=120363039000000000@g.us
# curl_case NAME WANT_STATUS WANT_CODE [curl args...]: status, envelope, X-Request-Id.
curl_case() {
  local name=$1 want=$2 code=$3; shift 3
  local out="$work/curl-$name"
  local status
  status=$(curl -s -o "$out.body" -D "$out.headers" -w '%{http_code}' "$@" || true)
  if python3 - "$out.body" "$out.headers" "$status" "$want" "$code" <<'PY'
import json, sys
body_path, headers_path, status, want, code = sys.argv[1:]
headers = {}
for line in open(headers_path).read().splitlines()[1:]:
    if ":" in line:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
body = json.loads(open(body_path).read())
assert status == want, (status, body)
assert headers.get("x-request-id"), headers
assert headers.get("content-type", "").startswith("application/json"), headers
if code == "-":
    assert body["success"] is True, body
else:
    assert body["success"] is False and body["error_code"] == code, body
    assert body["request_id"] == headers["x-request-id"], (body, headers)
PY
  then ok "start-api $name -> $want $code"
  else fail "start-api $name (want $want $code): $(head -c 300 "$out.body")"
  fi
}
auth=(-H "Authorization: Bearer $token")
curl_case get-invite 200 - "${auth[@]}" "$base/groups/$group/invite"
# An engine's webhook in: no bearer token; the hook token names the tenant.
hook=$(target/debug/admin sample-hook --tenant-id acme | sed -n 's/^hook_path=//p')
curl_case hook 200 - -X POST -H 'content-type: application/json' \
  -d "{\"event\":\"group.info\",\"data\":{\"JID\":\"$group\",\"Promote\":[\"5511977776666@s.whatsapp.net\"]}}" "$base$hook"
curl_case hook-unknown 404 NOT_FOUND -X POST -H 'content-type: application/json' -d '{}' \
  "$base/hooks/wuts/hk_$(printf '0%.0s' $(seq 1 64))"
if target/debug/admin events list --tenant-id acme | grep -q '"group.participants.promoted"'; then
  ok "the hook's event is stored (admin events list)"
else
  fail "no stored event after the hook"
fi
curl_case remove 200 - "${auth[@]}" -X DELETE -H 'content-type: application/json' \
  -d '{"participants":["+55 11 88888-8888"]}' "$base/groups/$group/participants"
curl_case no-token 401 UNAUTHORIZED "$base/groups/$group/invite"
curl_case bad-jid 400 VALIDATION_ERROR "${auth[@]}" "$base/groups/not-a-jid/invite"
curl_case unmatched 404 NOT_FOUND "${auth[@]}" "$base/nope"
curl_case unmatched-members 404 NOT_FOUND "${auth[@]}" "$base/groups/$group/members"
curl_case wrong-method 405 METHOD_NOT_ALLOWED "${auth[@]}" -X PUT "$base/groups/$group/invite"
if grep -qi '^allow: GET' "$work/curl-wrong-method.headers"; then ok "405 names Allow: GET"; else fail "405 without Allow: GET"; fi
python3 -c 'import json; print(json.dumps({"participants": ["5511888888888"] * 2000}))' > "$work/big.json"
curl_case too-large 413 PAYLOAD_TOO_LARGE "${auth[@]}" -X DELETE -H 'content-type: application/json' \
  --data-binary "@$work/big.json" "$base/groups/$group/participants"
curl_case not-json 415 UNSUPPORTED_MEDIA_TYPE "${auth[@]}" -X DELETE -H 'content-type: text/plain' \
  -d 'participants' "$base/groups/$group/participants"
curl_case reset-first 200 - "${auth[@]}" -X POST -H "Idempotency-Key: sam-local-$id" "$base/groups/$group/invite/reset"
curl_case reset-replay 200 - "${auth[@]}" -X POST -H "Idempotency-Key: sam-local-$id" "$base/groups/$group/invite/reset"
if grep -qi '^idempotent-replayed: true' "$work/curl-reset-replay.headers" \
   && cmp -s "$work/curl-reset-first.body" "$work/curl-reset-replay.body"; then
  ok "idempotent replay: same body, Idempotent-Replayed: true"
else
  fail "idempotent replay: $(cat "$work/curl-reset-replay.body")"
fi

echo "sam-local: $failures failure(s); logs in $work"
[ "$failures" -eq 0 ]
