#!/usr/bin/env bash
# Runs every test: installs what is missing (tools/setup.sh), builds the
# default preset, runs CTest; then builds the sanitizer+fuzzer configuration
# (clang 19, AddressSanitizer, UBSan, libFuzzer) and runs the bad-input tests
# and a short fuzzing session of each fuzzer under it.
# ANET_TEST_QUICK=1 skips the sanitizer pass.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${ANET_JOBS:-$(nproc)}

tools/setup.sh

cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"
ctest --preset default -j "$jobs"

[ "${ANET_TEST_QUICK:-0}" = 1 ] && exit 0

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --test-dir build-fuzz -L bad-input -j "$jobs" --output-on-failure
for fuzzer in build-fuzz/tests/fuzz/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus=$(mktemp -d)
  seeds="tests/fuzz/seeds/${name#fuzz_}"
  echo "fuzzing $name for ${ANET_FUZZ_SECONDS:-30} s"
  "$fuzzer" -max_total_time="${ANET_FUZZ_SECONDS:-30}" -print_final_stats=1 "$corpus" \
    $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -n 4
  rm -rf "$corpus"
done
