#!/usr/bin/env bash
# The release-profile comparison in docs/PERFORMANCE.md (by hand, not in CI):
# builds get-group-invite-link once per profile variant (cargo's
# CARGO_PROFILE_RELEASE_* overrides, separate target dir), then measures the
# variants' cold starts in turns with `coldstart` (moto and the WUTS fake on
# loopback, as in perf.sh) and lists their sizes. Takes ~6 min of build per
# variant on 2 cores. Needs .venv (scripts/test.sh makes it).
#   usage: scripts/profile-compare.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
venv="${VENV:-$PWD/.venv}"
dir=target/profile-compare
out=.tmp/perf
mkdir -p "$dir/bin" "$out"
cargo build --release --locked -p tools -p testkit --bins 2>&1 | tail -n 1
bin=target/release

# name  lto  codegen-units  opt-level  panic
variants=(
  "release   true  1  s  unwind"
  "thin-lto  thin  16 s  unwind"
  "no-lto    false 16 s  unwind"
  "o3        true  1  3  unwind"
  "abort     true  1  s  abort"
)
for v in "${variants[@]}"; do
  read -r name lto cgu opt panic <<< "$v"
  if [ ! -x "$dir/bin/$name" ]; then
    echo "== building $name (lto=$lto codegen-units=$cgu opt-level=$opt panic=$panic)"
    CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$cgu \
      CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt CARGO_PROFILE_RELEASE_PANIC=$panic \
      cargo build --release --locked --target-dir "$dir/target" -p get-group-invite-link 2>&1 | tail -n 1
    cp "$dir/target/release/get-group-invite-link" "$dir/bin/$name"
  fi
done

echo "== sizes (stripped)"
ls -l target/release/hello-lambda "$dir"/bin/* | awk '{print $5, $9}'

source scripts/perf-env.sh
args=()
for v in "${variants[@]}"; do read -r name _ <<< "$v"; args+=(--bootstrap "$dir/bin/$name"); done
for quota in "" 0.07; do
  q=(); [ -n "$quota" ] && q=(--cpu-quota "$quota")
  echo "== coldstart ${quota:+(cpu quota $quota)}: #1 floor, then the variants in the order above"
  "$bin/coldstart" --bootstrap "$bin/hello-lambda" "${args[@]}" \
    --event "$out/get-invite.json" -n "$runs" --warm 3 "${q[@]}" "${envs[@]}" | grep -E '^#'
done
