#!/usr/bin/env bash
# Run the real Evolution API 2.3.7 server locally, for tests (a test fixture:
# nothing here ships with the product).
#
#   scripts/evolution.sh install             only the cached install
#   scripts/evolution.sh start               install if needed, start Postgres and
#                                            Evolution, create the instance; prints
#                                            EVOLUTION_URL / _KEY / _INSTANCE / _LOG /
#                                            _STATE lines for `eval "$(... start)"`
#   scripts/evolution.sh stop [STATE_DIR]    stop what `start` started (default: the
#                                            last one started) and remove its data
#   scripts/evolution.sh run -- CMD ARGS...  start, export the variables, run CMD,
#                                            stop (also on failure or interrupt),
#                                            exit with CMD's status
#
# Sources: shared/engines beside the checkout, else /work/shared/engines (see
# its README.md); override with EVOLUTION_ENGINES_DIR. The install (~700 MB of node_modules, a few minutes
# cold) is cached in .tmp/evolution/, keyed on the archives' sha256 and
# INSTALL_VERSION below; later starts skip npm and are up in seconds.
# Only stdout carries the variable lines; progress and errors go to stderr.
set -euo pipefail

INSTALL_VERSION=2 # bump when the install steps change
EVO_VERSION=2.3.7

root=$(cd "$(dirname "$0")/.." && pwd)
self="$root/scripts/$(basename "$0")"
# The engine archives: shared/engines beside the checkout (so also in a clone
# elsewhere with shared/ beside it), else /work/shared/engines.
engines=${EVOLUTION_ENGINES_DIR:-}
if [[ -z $engines ]]; then
  if [[ -d $root/../shared/engines ]]; then
    engines=$(cd "$root/../shared/engines" && pwd)
  else
    engines=/work/shared/engines
  fi
fi
evo_tar="$engines/evolution-api-$EVO_VERSION-fa09d378.tar.gz"
signal_tgz="$engines/libsignal-node-1c30d7d.tgz"
cache="$root/.tmp/evolution"
runs="$cache/runs"
last_file="$cache/last-state"
instance_name=${EVOLUTION_INSTANCE_NAME:-acme-main}
start_timeout=${EVOLUTION_START_TIMEOUT:-120}

log() { printf 'evolution.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,14p' "$self" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- install -----------------------------------------------------------------

install_key() {
  [[ -r $evo_tar ]] || die "missing archive $evo_tar"
  [[ -r $signal_tgz ]] || die "missing archive $signal_tgz"
  {
    sha256sum "$evo_tar" "$signal_tgz" | cut -d' ' -f1
    echo "install-version $INSTALL_VERSION"
  } | sha256sum | cut -c1-16
}

install_dir() { echo "$cache/evolution-api-$EVO_VERSION-$(install_key)"; }

# The install is complete iff its stamp exists and names its key.
install_ok() { [[ -f $1/.evolution-stamp && $(cat "$1/.evolution-stamp") == "$2" ]]; }

do_install() {
  command -v node >/dev/null || die "node is not installed (node 20 expected)"
  command -v npm >/dev/null || die "npm is not installed"
  local key dir
  key=$(install_key)
  dir="$cache/evolution-api-$EVO_VERSION-$key"
  mkdir -p "$cache"
  # One installer at a time; a second caller waits, then finds the stamp.
  exec 9>"$cache/.install.lock"
  flock 9
  if install_ok "$dir" "$key"; then
    exec 9>&-
    echo "$dir"
    return 0
  fi
  local t0=$SECONDS
  log "installing Evolution API $EVO_VERSION into $dir (npm, a few minutes)"
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xzf "$evo_tar" -C "$dir" --strip-components=1
  (
    cd "$dir"
    # The lock file pins tarballs the registry no longer serves.
    mv package-lock.json package-lock.json.orig
    # The libsignal git dependency comes from the packed tarball (an absolute
    # file: path; a relative one fails). Drop the `prepare` script: husky would
    # otherwise set core.hooksPath on whatever git repository encloses us.
    SIGNAL_TGZ=$(realpath "$signal_tgz") node -e '
      const fs = require("fs");
      const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
      p.overrides = Object.assign({}, p.overrides, { libsignal: "file:" + process.env.SIGNAL_TGZ });
      if (p.scripts) delete p.scripts.prepare;
      fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");
    '
    # Prisma's engines cannot be downloaded here: use the TypeScript query
    # compiler ("client" engine) with the pg driver adapter.
    # shellcheck disable=SC2016 # "$1" is the regex group, for node
    node -e '
      const fs = require("fs");
      const f = "prisma/postgresql-schema.prisma";
      const s = fs.readFileSync(f, "utf8");
      const out = s.replace(/(generator client \{[^}]*?provider\s*=\s*"prisma-client-js"\n)/, "$1  engineType = \"client\"\n");
      if (out === s) { console.error("generator block not found in " + f); process.exit(1); }
      fs.writeFileSync(f, out);
    '
    # shellcheck disable=SC2030 # deliberately local to this subshell
    export HUSKY=0 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
    # --ignore-scripts: npm 11 skips dependencies' install scripts anyway
    # (allowScripts); npm 10 would run them, and Prisma's would try to
    # download its engines (unreachable). Nothing here needs them.
    npm install --no-audit --no-fund --ignore-scripts >&2
    local prisma_version
    prisma_version=$(node -p 'require("@prisma/client/package.json").version')
    log "adding @prisma/adapter-pg@$prisma_version"
    npm install --no-audit --no-fund --ignore-scripts "@prisma/adapter-pg@$prisma_version" >&2
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/false PRISMA_QUERY_ENGINE_LIBRARY=/bin/false \
      npx --no-install prisma generate --schema ./prisma/postgresql-schema.prisma >&2
    node -e '
      const fs = require("fs");
      const f = "src/api/repository/repository.service.ts";
      let s = fs.readFileSync(f, "utf8");
      const imp = "import { PrismaClient } from '"'"'@prisma/client'"'"';\n";
      if (!s.includes(imp) || !s.includes("    super();\n")) { console.error("unexpected " + f); process.exit(1); }
      s = s.replace(imp, imp + "import { PrismaPg } from '"'"'@prisma/adapter-pg'"'"';\n");
      s = s.replace("    super();\n",
        "    super({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_CONNECTION_URI }) });\n");
      fs.writeFileSync(f, s);
    '
    # What `start` needs must be there.
    node -e 'require("@prisma/adapter-pg"); require(".prisma/client")' >&2
    [[ -x node_modules/.bin/tsx ]] || {
      echo "node_modules/.bin/tsx missing" >&2
      exit 1
    }
  ) || {
    log "install failed; the partial install in $dir is left for inspection (it is redone next time)"
    exit 1
  }
  echo "$key" >"$dir/.evolution-stamp"
  log "installed in $((SECONDS - t0)) s"
  # Installs for other archives or install versions are stale: remove them,
  # unless a run (which may use one) is under way.
  if ! compgen -G "$runs/run-*" >/dev/null; then
    local old
    for old in "$cache"/evolution-api-*; do
      [[ -d $old && $old != "$dir" ]] || continue
      log "removing stale install $old"
      rm -rf "$old"
    done
  fi
  exec 9>&-
  echo "$dir"
}

# --- postgres ----------------------------------------------------------------

pg_bindir=
find_pg() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
      pg_bindir=$d
      return 0
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    pg_bindir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    return 0
  fi
  return 1
}

ensure_pg() {
  find_pg && return 0
  log "initdb/pg_ctl not found; installing postgresql with apt-get"
  [[ $(id -u) == 0 ]] || die "postgresql is not installed and we are not root"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; } ||
    die "apt-get install postgresql failed"
  find_pg || die "postgresql installed but initdb/pg_ctl not found"
}

# Postgres refuses to run as root: run its tools as the postgres user then.
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- stop --------------------------------------------------------------------

# Is any process of group $1 still running? (Zombies do not count: the
# reaper here, pid 1, can take seconds to collect them.)
group_alive() {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# Stop what the state dir records; tolerant of a partial start.
stop_state() {
  local state=$1 pgid i pg_ctl
  # A second Ctrl-C must not abort the cleanup half way.
  trap '' INT TERM HUP
  if [[ -f $state/evolution.pgid ]]; then
    pgid=$(cat "$state/evolution.pgid")
    if [[ $pgid =~ ^[0-9]+$ ]] && group_alive "$pgid"; then
      log "stopping Evolution (process group $pgid)"
      kill -TERM -- "-$pgid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do
        group_alive "$pgid" || break
        sleep 0.1
      done
      if group_alive "$pgid"; then
        log "Evolution still running after 10 s; killing"
        kill -KILL -- "-$pgid" 2>/dev/null || true
        sleep 0.2
      fi
    fi
  fi
  if [[ -f $state/pgdata/postmaster.pid ]]; then
    pg_ctl=$(cat "$state/pg_ctl" 2>/dev/null || true)
    [[ -x $pg_ctl ]] || { find_pg && pg_ctl=$pg_bindir/pg_ctl; }
    log "stopping Postgres"
    as_pg "$pg_ctl" -D "$state/pgdata" stop -m fast -w -t 30 >&2 || {
      local pid
      pid=$(head -1 "$state/pgdata/postmaster.pid" 2>/dev/null || true)
      if [[ $pid =~ ^[0-9]+$ ]]; then
        log "pg_ctl stop failed; killing postmaster $pid"
        kill -QUIT "$pid" 2>/dev/null || true
      fi
    }
  fi
  rm -rf "$state"
  if [[ -f $last_file && $(cat "$last_file") == "$state" ]]; then
    rm -f "$last_file"
  fi
}

cmd_stop() {
  local state=${1:-}
  if [[ -z $state ]]; then
    [[ -f $last_file ]] || die "no state dir given and no last run recorded in $last_file"
    state=$(cat "$last_file")
  fi
  [[ -d $state ]] || die "no such state dir: $state"
  [[ -f $state/evolution.state ]] || die "$state is not an evolution.sh state dir"
  state=$(cd "$state" && pwd)
  local t0=$SECONDS
  stop_state "$state"
  log "stopped in $((SECONDS - t0)) s"
}

# --- start -------------------------------------------------------------------

show_log_tail() {
  local f=$1
  if [[ -s $f ]]; then
    log "last lines of $f:"
    tail -n 40 "$f" >&2
  else
    log "$f is empty"
  fi
}

cmd_start() {
  # Everything but the final lines goes to stderr. Long-lived children must
  # not inherit fd 3, or `$(evolution.sh start)` would wait for them.
  exec 3>&1 1>&2
  local t0=$SECONDS inst
  inst=$(do_install)
  ensure_pg

  mkdir -p "$runs"
  # Globals: the EXIT trap below reads them.
  state=$(mktemp -d "$runs/run-XXXXXX")
  chmod 755 "$state"
  : >"$state/evolution.state"
  echo "$pg_bindir/pg_ctl" >"$state/pg_ctl"
  # A failed or interrupted start leaves nothing behind.
  started=0
  trap 'if [[ $started == 0 ]]; then log "start failed; cleaning up $state"; stop_state "$state"; fi' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  # Postgres: fresh cluster, loopback TCP on a free port, socket in the state dir.
  local pgport pgdata="$state/pgdata" sock="$state/pgsock" pglog="$state/postgres.log"
  pgport=$(free_port)
  mkdir -p "$pgdata" "$sock"
  touch "$pglog"
  if [[ $(id -u) == 0 ]]; then chown postgres: "$pgdata" "$sock" "$pglog"; fi
  chmod 700 "$pgdata"
  log "initdb ($pg_bindir)"
  as_pg "$pg_bindir/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$state/initdb.log" 2>&1 ||
    {
      cat "$state/initdb.log" >&2
      die "initdb failed"
    }
  log "starting Postgres on 127.0.0.1:$pgport"
  as_pg "$pg_bindir/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 60 \
    -o "-p $pgport -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
    start >&2 3>&- || {
    show_log_tail "$pglog"
    die "Postgres did not start"
  }
  local db=evolution
  psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U postgres "$@"; }
  psql_ -d postgres -c "CREATE DATABASE $db" >&2 || die "CREATE DATABASE failed"
  local f files=()
  for f in "$inst"/prisma/postgresql-migrations/*/migration.sql; do files+=(-f "$f"); done
  ((${#files[@]} > 0)) || die "no migrations in $inst/prisma/postgresql-migrations"
  log "applying $((${#files[@]} / 2)) migrations"
  psql_ -d "$db" "${files[@]}" >"$state/migrations.log" 2>&1 || {
    tail -n 20 "$state/migrations.log" >&2
    die "applying the migrations failed"
  }

  # Evolution runs from a per-run directory of symlinks into the install, so
  # what it writes under its working directory (instances/, store/) is per run.
  local app="$state/app" e
  mkdir -p "$app/instances" "$app/store"
  for e in "$inst"/* "$inst"/.env.example; do
    case $(basename "$e") in instances | store | .env | .env.example) continue ;; esac
    ln -s "$e" "$app/$(basename "$e")"
  done

  local port key url evlog="$state/evolution.log"
  port=$(free_port)
  key=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  url="http://127.0.0.1:$port"
  cat >"$state/evolution.env" <<EOF
SERVER_NAME=evolution
SERVER_TYPE=http
SERVER_PORT=$port
SERVER_URL=$url
CORS_ORIGIN=*
CORS_METHODS=GET,POST,PUT,DELETE
CORS_CREDENTIALS=true
LOG_LEVEL=ERROR,WARN,DEBUG,INFO,LOG,VERBOSE,DARK,WEBHOOKS,WEBSOCKET
LOG_COLOR=false
LOG_BAILEYS=error
DEL_INSTANCE=false
DATABASE_PROVIDER=postgresql
DATABASE_CONNECTION_URI=postgresql://postgres@127.0.0.1:$pgport/$db
DATABASE_CONNECTION_CLIENT_NAME=evolution_test
DATABASE_SAVE_DATA_INSTANCE=true
DATABASE_SAVE_DATA_NEW_MESSAGE=true
DATABASE_SAVE_MESSAGE_UPDATE=true
DATABASE_SAVE_DATA_CONTACTS=true
DATABASE_SAVE_DATA_CHATS=true
DATABASE_SAVE_DATA_LABELS=true
DATABASE_SAVE_DATA_HISTORIC=true
AUTHENTICATION_API_KEY=$key
AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES=true
CACHE_REDIS_ENABLED=false
CACHE_LOCAL_ENABLED=true
TELEMETRY_ENABLED=false
PROVIDER_ENABLED=false
WEBSOCKET_ENABLED=false
RABBITMQ_ENABLED=false
SQS_ENABLED=false
NATS_ENABLED=false
KAFKA_ENABLED=false
PUSHER_ENABLED=false
CHATWOOT_ENABLED=false
S3_ENABLED=false
OPENAI_ENABLED=false
DIFY_ENABLED=false
TYPEBOT_ENABLED=false
N8N_ENABLED=false
EVOAI_ENABLED=false
FLOWISE_ENABLED=false
EVOLUTION_BOT_ENABLED=false
WEBHOOK_GLOBAL_ENABLED=false
PROMETHEUS_METRICS=false
SENTRY_DSN=
QRCODE_LIMIT=30
LANGUAGE=en
EOF
  # Evolution logs no line per request (only some errors), so the server
  # process is started with this preload: for every HTTP request it writes
  #   [access] <ISO time> request METHOD /path?query
  #   [access] <ISO time> response METHOD /path?query STATUS <ms>ms
  # to stdout, that is to the log file, interleaved with Evolution's own lines.
  cat >"$state/access-log.cjs" <<'EOF'
'use strict';
const http = require('http');
const emit = http.Server.prototype.emit;
const line = (s) => process.stdout.write(`[access] ${new Date().toISOString()} ${s}\n`);
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request' && req && res) {
    const what = `${req.method} ${req.url}`;
    const t0 = Date.now();
    line(`request ${what}`);
    res.on('finish', () => line(`response ${what} ${res.statusCode} ${Date.now() - t0}ms`));
  }
  return emit.apply(this, arguments);
};
EOF
  log "starting Evolution on $url (log: $evlog)"
  (
    cd "$app"
    set -a
    # shellcheck disable=SC1091
    . "$state/evolution.env"
    set +a
    # Evolution logs no access lines: the preload adds them (see above).
    export NODE_OPTIONS="--require \"$state/access-log.cjs\""
    # shellcheck disable=SC2031 # a different subshell from the install's
    export HUSKY=0 CHECKPOINT_DISABLE=1
    # --tsconfig: the sources are reached through symlinks; without it tsx
    # does not apply the install's tsconfig to them (and class fields then get
    # define semantics, which breaks Evolution's services).
    exec setsid ./node_modules/.bin/tsx --tsconfig "$inst/tsconfig.json" ./src/main.ts
  ) </dev/null >"$evlog" 2>&1 3>&- &
  # The subshell is no group leader, so setsid does not fork: the server's
  # pid is its session and process group id. Wait for the setsid to happen.
  local pgid=$! i
  echo "$pgid" >"$state/evolution.pgid"
  for ((i = 0; i < 50; i++)); do
    [[ $(ps -o pgid= -p "$pgid" 2>/dev/null | tr -d ' ') == "$pgid" ]] && break
    kill -0 "$pgid" 2>/dev/null || break
    sleep 0.1
  done

  local deadline=$((SECONDS + start_timeout)) code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/" || true)
    [[ $code == 200 ]] && break
    if ! group_alive "$pgid"; then
      show_log_tail "$evlog"
      die "Evolution exited before answering HTTP"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$evlog"
      die "Evolution did not answer GET $url/ within $start_timeout s (last status: ${code:-none})"
    fi
    sleep 0.5
  done
  log "Evolution answers on $url"

  local body
  body=$(curl -s --max-time 30 -w '\n%{http_code}' -X POST "$url/instance/create" \
    -H "apikey: $key" -H 'Content-Type: application/json' \
    -d "{\"instanceName\": \"$instance_name\", \"qrcode\": false, \"integration\": \"WHATSAPP-BAILEYS\"}") || true
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  if [[ $code != 201 && $code != 200 ]] || [[ $body != *"\"instanceName\":\"$instance_name\""* ]]; then
    log "POST /instance/create answered ${code:-nothing}: $body"
    show_log_tail "$evlog"
    die "creating instance $instance_name failed"
  fi
  log "instance $instance_name created (HTTP $code); up in $((SECONDS - t0)) s"

  echo "$state" >"$last_file"
  started=1
  trap - EXIT INT TERM HUP
  # %q leaves ordinary values as they are and makes odd paths safe for eval.
  printf 'EVOLUTION_URL=%q\nEVOLUTION_KEY=%q\nEVOLUTION_INSTANCE=%q\nEVOLUTION_LOG=%q\nEVOLUTION_STATE=%q\n' \
    "$url" "$key" "$instance_name" "$evlog" "$state" >&3
}

# --- run ---------------------------------------------------------------------

# Globals, for the EXIT trap of `run`.
run_out=
EVOLUTION_STATE=
run_cleanup() {
  # Interrupted between the end of `start` and the eval: take it from its output.
  if [[ -z $EVOLUTION_STATE && -n $run_out ]]; then
    eval "$(grep '^EVOLUTION_STATE=' <<<"$run_out")" || true
  fi
  if [[ -n $EVOLUTION_STATE ]]; then
    "$self" stop "$EVOLUTION_STATE" || true
  fi
}

cmd_run() {
  [[ ${1:-} == -- ]] && shift
  (($# > 0)) || usage
  # Traps first: an interrupt during `start` is cleaned up by `start` itself,
  # one after it by run_cleanup.
  trap run_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  run_out=$("$self" start) || die "start failed"
  eval "$run_out"
  export EVOLUTION_URL EVOLUTION_KEY EVOLUTION_INSTANCE EVOLUTION_LOG EVOLUTION_STATE
  local status=0
  "$@" || status=$?
  exit "$status"
}

case ${1:-} in
install)
  shift
  (($# == 0)) || usage
  do_install >/dev/null
  log "install ready: $(install_dir)"
  ;;
start)
  shift
  (($# == 0)) || usage
  cmd_start
  ;;
stop)
  shift
  (($# <= 1)) || usage
  cmd_stop "$@"
  ;;
run)
  shift
  cmd_run "$@"
  ;;
*) usage ;;
esac
