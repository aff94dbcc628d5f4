#!/usr/bin/env bash
# Builds one `bootstrap` per function for x86_64 and arm64 with cargo-lambda
# (zig as the cross linker) and checks that none needs a glibc newer than
# Amazon Linux 2023's 2.34. Prints each binary's size.
#   usage: scripts/build-lambdas.sh [path/to/venv]   (default: .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-${VENV:-$PWD/.venv}}"
export PATH="$venv/bin:$PATH"
max_glibc="2.34"

packages=()
for dir in functions/*/; do packages+=(-p "$(basename "$dir")"); done

rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true

status=0
for arch in x86-64 arm64; do
  out="target/lambda/$arch"
  echo "==> cargo lambda build --release --$arch"
  cargo lambda build --release "--$arch" --lambda-dir "$out" "${packages[@]}"
  for dir in functions/*/; do
    name=$(basename "$dir")
    bin="$out/$name/bootstrap"
    [ -f "$bin" ] || { echo "missing $bin"; status=1; continue; }
    needed=$(readelf -V --wide "$bin" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -V | tail -n 1)
    size=$(stat -c %s "$bin")
    machine=$(readelf -h "$bin" | awk -F: '/Machine/ { gsub(/^ +/, "", $2); print $2 }')
    if [ -n "$needed" ] && [ "$(printf '%s\n%s\n' "$needed" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
      echo "FAIL $arch $name needs glibc $needed (> $max_glibc)"
      status=1
    else
      printf 'ok   %-7s %-32s %9d bytes  glibc<=%s  %s\n' "$arch" "$name" "$size" "${needed:-none}" "$machine"
    fi
  done
done
exit "$status"
