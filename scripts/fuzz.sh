#!/usr/bin/env bash
# Runs every cargo-fuzz target for N seconds (default 10) on the nightly
# toolchain, installing cargo-fuzz if it is missing. Longer runs by hand:
#   scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
mkdir -p .tmp
cd fuzz
for target in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$target"
  echo "--- $target (${seconds}s)"
  log="../.tmp/fuzz-$target.log"
  # No sanitizer: the targets and the code under them are safe Rust, where
  # AddressSanitizer finds nothing a panic would not; it only slowed the
  # build (~2 min of CI) and each run. Coverage-guided as before.
  if ! cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" -- -max_total_time="$seconds" > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed (artifacts in fuzz/artifacts/$target)"
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$log" || tail -n 3 "$log"
done
