#!/usr/bin/env bash
# Builds one `bootstrap` per function for x86_64 and arm64 with cargo-lambda
# (zig as the cross linker) and checks that none needs a glibc newer than
# Amazon Linux 2023's 2.34. Prints each binary's size. Then runs `sam build`
# and checks .aws-sam/build/<Function>/bootstrap the same way.
#   usage: scripts/build-lambdas.sh [path/to/venv]   (default: .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-${VENV:-$PWD/.venv}}"
export PATH="$venv/bin:$PATH"
max_glibc="2.34"


rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true

# check_bootstrap FILE LABEL ARCH: present, built for ARCH, glibc <= 2.34.
check_bootstrap() {
  local bin=$1 label=$2 arch=$3
  [ -f "$bin" ] || { echo "FAIL missing $bin"; status=1; return; }
  local needed size machine want
  needed=$(readelf -V --wide "$bin" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -V | tail -n 1)
  size=$(stat -c %s "$bin")
  machine=$(readelf -h "$bin" | awk -F: '/Machine/ { gsub(/^ +/, "", $2); print $2 }')
  case "$arch" in x86-64) want="Advanced Micro Devices X86-64" ;; arm64) want="AArch64" ;; esac
  if [ "$machine" != "$want" ]; then
    echo "FAIL $arch $label is built for $machine"
    status=1
  elif [ -n "$needed" ] && [ "$(printf '%s\n%s\n' "$needed" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
    echo "FAIL $arch $label needs glibc $needed (> $max_glibc)"
    status=1
  else
    printf 'ok   %-7s %-36s %9d bytes  glibc<=%s  %s\n' "$arch" "$label" "$size" "${needed:-none}" "$machine"
  fi
}

# ARM64_CHECK_BUILD=fast (what .ci/run sets): the arm64 build, which CI only
# checks (it cross-links for AArch64 and needs glibc <= 2.34; nothing runs
# it), is made without LTO and with 16 codegen units: ~4 min less on 2
# cores. The x86_64 build, which the Lambda emulator test and sam local run,
# and every build outside CI (`sam build` included) use the release profile
# as it ships (fat LTO, one codegen unit).
arm64_env=()
if [ "${ARM64_CHECK_BUILD:-}" = fast ]; then
  arm64_env=(CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16)
fi

status=0
for arch in x86-64 arm64; do
  out="target/lambda/$arch"
  started=$(date +%s)
  env_for_arch=()
  [ "$arch" = arm64 ] && env_for_arch=("${arm64_env[@]}")
  echo "==> cargo lambda build --release --$arch ${env_for_arch[*]}"
  env "${env_for_arch[@]}" cargo lambda build --release "--$arch" --lambda-dir "$out" -p functions
  echo "cargo lambda build --$arch took $(( $(date +%s) - started )) s"
  for file in functions/src/bin/*.rs; do
    name=$(basename "$file" .rs)
    check_bootstrap "$out/$name/bootstrap" "$name" "$arch"
  done
done

# `sam build`, the README's first deploy step, for the template's default
# architecture (arm64). BuildMethod rust-cargolambda runs one
# `cargo lambda build --bin X` per function in this workspace's target/, so
# it reuses what the arm64 build above compiled.
echo "==> sam build (template default architecture)"
export SAM_CLI_TELEMETRY=0
started=$(date +%s)
# With ARM64_CHECK_BUILD=fast, sam build (arm64) gets the same profile
# overrides, so it reuses that build instead of redoing it with fat LTO.
env "${arm64_env[@]}" sam build --template template.yaml > .tmp/sam-build.log 2>&1 || { tail -n 30 .tmp/sam-build.log; exit 1; }
echo "sam build took $(( $(date +%s) - started )) s"
default_arch=$(python3 -c 'import re; t=open("template.yaml").read(); print(re.search(r"\n  Architecture:\n(?:    .*\n)*?    Default: (\S+)", t).group(1))')
[ "$default_arch" = "x86_64" ] && default_arch=x86-64
functions=$(grep -oE '^  [A-Za-z]+Function:$' template.yaml | tr -d ' :')
[ -n "$functions" ] || { echo "FAIL no functions found in template.yaml"; status=1; }
for function in $functions; do
  check_bootstrap ".aws-sam/build/$function/bootstrap" "sam build: $function" "$default_arch"
done
exit "$status"
