#!/usr/bin/env bash
# The project's one test command. It installs what it needs (a Python venv
# with moto's server, aws-sam-cli and cargo-lambda), starts moto on a free
# loopback port, starts the real Evolution API 2.3.7 (scripts/evolution.sh,
# for tests/it/engines/real_evolution.rs), and runs format, lint, every test of the workspace and the
# template checks, schemathesis against local-api, the /docs page in headless
# Chromium (scripts/browser-test.sh), and a short fuzz smoke run.
# BUILD_LAMBDAS=1 also cross-builds the functions and checks their glibc needs
# (scripts/build-lambdas.sh, which also runs `sam build`); SAM_LOCAL=1 runs
# scripts/sam-local.sh (Docker: sam local invoke and start-api) at the end;
# FUZZ_SECONDS sets the smoke run per target (10).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# Every "==> " line says how far into the run it is (the phases' times).
run_started=$(date +%s)
stamp() { echo "[+$(( $(date +%s) - run_started )) s]"; }
mkdir -p .tmp

venv="${VENV:-$root/.venv}"
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "$(stamp) ==> installing test tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-test.txt
  echo "$want" > "$stamp"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

moto_port=$(free_port)
# moto's own server, with DynamoDB requests one at a time: DynamoDB's
# conditional writes are atomic, moto's threaded backend's are not
# (scripts/moto_server.py).
"$venv/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$moto_port" > .tmp/moto.log 2>&1 &
moto_pid=$!
evo_pid=""
cleanup() {
  kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true
  # Evolution: let a start still under way finish, then stop what it started.
  if [ -n "$evo_pid" ]; then wait "$evo_pid" 2>/dev/null || true; fi
  if [ -z "${EVOLUTION_STATE:-}" ] && [ -s .tmp/evolution.env ]; then eval "$(cat .tmp/evolution.env)"; fi
  if [ -n "${EVOLUTION_STATE:-}" ]; then ./scripts/evolution.sh stop "$EVOLUTION_STATE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$moto_port") 2>/dev/null; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then echo "moto_server died:"; cat .tmp/moto.log; exit 1; fi
  sleep 0.1
done
export MOTO_URL="http://127.0.0.1:$moto_port" MOTO_SERVER_BIN="$venv/bin/moto_server" TEST_PYTHON="$venv/bin/python"
echo "$(stamp) ==> moto_server on $MOTO_URL"

# The real Evolution API 2.3.7 for tests/it/engines/real_evolution.rs (issue 22): its
# cached install and start run beside the Rust build below (npm is mostly
# network and disk); the tests wait for it.
echo "$(stamp) ==> scripts/evolution.sh start (in the background; log .tmp/evolution-start.log)"
evo_started=$(date +%s)
rm -f .tmp/evolution.env
( TIMEFORMAT='evolution start: %R s wall, %U s user, %S s sys'; time ./scripts/evolution.sh start ) \
  > .tmp/evolution.env 2> .tmp/evolution-start.log &
evo_pid=$!

echo "$(stamp) ==> cargo fmt --check"
cargo fmt --all -- --check
echo "$(stamp) ==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# One debug build for everything below: the test binaries and the tools the
# scripts run (local-api, admin, wuts-fake). The scripts would otherwise each
# build their binary alone, with fewer features unified, which compiles the
# workspace and a share of its dependencies a second time (time and disk).
echo "$(stamp) ==> cargo test --no-run (the debug build the scripts and tests share)"
cargo test --workspace --locked --no-run --quiet
# The tools and the fakes the tests and scripts run as processes (the test
# binary finds them beside itself, in target/debug).
cargo build --locked --quiet -p tools -p testkit --bins
[ -x target/debug/local-api ] && [ -x target/debug/admin ] && [ -x target/debug/wuts-fake ] \
  || { echo "the debug build did not produce local-api, admin and wuts-fake"; exit 1; }
export DEBUG_BINS_BUILT=1
disk_report() { echo "disk: $(du -sh target 2>/dev/null | cut -f1) in target/, $(df -h --output=avail . | tail -n 1 | tr -d ' ') free"; }
disk_report

echo "$(stamp) ==> template: sam validate --lint, SAM expansion + cfn-lint"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
"$venv/bin/sam" validate --lint --region us-east-1 --template template.yaml
"$venv/bin/python" scripts/lint_template.py template.yaml

if [ "${BUILD_LAMBDAS:-0}" = "1" ]; then
  ./scripts/build-lambdas.sh "$venv"
fi

echo "$(stamp) ==> schemathesis against local-api (embedded default)"
./scripts/schemathesis.sh "$venv" "${SCHEMATHESIS_EXAMPLES:-100}" | tee .tmp/schemathesis.log | tail -n 12

echo "$(stamp) ==> /docs in headless Chromium (Debian's chromium, playwright-core)"
./scripts/browser-test.sh "$venv" | tail -n 4

echo "$(stamp) ==> fuzz smoke (${FUZZ_SECONDS:-10} s per target)"
./scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

# The Lambda-emulator test (tests/it/deploy/lambda_emulator.rs) runs each function's
# bootstrap under aws-sam-cli's aws-lambda-rie: the cargo-lambda x86_64 build
# when there is one, else the debug binaries built here.
export LAMBDA_RIE
LAMBDA_RIE=$(ls "$venv"/lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64 | head -n 1)
export SAM_BIN="$venv/bin/sam"
if [ "${BUILD_LAMBDAS:-0}" = "1" ]; then
  export LAMBDA_BOOTSTRAP_DIR="$root/target/lambda/x86-64"
else
  echo "$(stamp) ==> cargo build --workspace --bins (debug bootstraps for the Lambda emulator)"
  cargo build --workspace --bins --locked
fi

echo "$(stamp) ==> waiting for Evolution API (scripts/evolution.sh start)"
if ! wait "$evo_pid"; then
  evo_pid=""
  tail -n 40 .tmp/evolution-start.log
  echo "Evolution API did not start"; exit 1
fi
evo_pid=""
eval "$(cat .tmp/evolution.env)"
export EVOLUTION_URL EVOLUTION_KEY EVOLUTION_INSTANCE EVOLUTION_LOG EVOLUTION_STATE
echo "evolution: $EVOLUTION_URL, instance $EVOLUTION_INSTANCE, ready $(( $(date +%s) - evo_started )) s after its start began"
grep '^evolution start:' .tmp/evolution-start.log || true

echo "$(stamp) ==> cargo test"
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee .tmp/cargo-test.log
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' .tmp/cargo-test.log

disk_report
./scripts/evolution.sh stop "$EVOLUTION_STATE" >/dev/null 2>&1 || true
unset EVOLUTION_STATE
rm -f .tmp/evolution.env

if [ "${SAM_LOCAL:-0}" = "1" ]; then
  echo "$(stamp) ==> scripts/sam-local.sh: sam build, sam local invoke and start-api with Docker"
  started=$(date +%s)
  if ./scripts/sam-local.sh "$venv"; then sam_status=0; else sam_status=$?; fi
  echo "sam-local: $(( $(date +%s) - started )) s, exit $sam_status"
  [ "$status" -ne 0 ] || status=$sam_status
fi
disk_report
exit "$status"
