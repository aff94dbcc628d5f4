#!/usr/bin/env bash
# The /docs page in a real browser (issue 16): Debian's headless Chromium,
# driven by playwright-core from npm (no browser download), against
# local-api's embedded default. Installs chromium with apt when it is
# missing. Keeps the screenshot in .tmp/docs-browser.png.
#   usage: scripts/browser-test.sh [venv]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-${VENV:-$PWD/.venv}}"
mkdir -p .tmp

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium > .tmp/apt-chromium.log 2>&1 \
    || { apt-get update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium > .tmp/apt-chromium.log 2>&1; }
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)

# The operations of the repository's openapi.yaml (the source of truth).
"$venv/bin/python" - > .tmp/docs-operations.json <<'PY'
import json, yaml
doc = yaml.safe_load(open("openapi.yaml"))
ops = [{"path": p, "method": m, "operationId": o["operationId"], "tag": o["tags"][0]}
       for p, item in doc["paths"].items() for m, o in item.items()
       if m in ("get", "post", "put", "patch", "delete")]
print(json.dumps({"operations": ops, "tags": [t["name"] for t in doc["tags"]]}))
PY

source scripts/local-api-lib.sh
start_local_api .tmp/browser-local-api.log

LOCAL_API_BASE="$base" OPERATIONS_FILE=.tmp/docs-operations.json SCREENSHOT=.tmp/docs-browser.png \
  node tests/browser/docs.test.mjs
