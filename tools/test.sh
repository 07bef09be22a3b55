#!/usr/bin/env bash
# Runs every test: installs what is missing (tools/setup.sh), builds the
# default preset and runs all of CTest; then builds the bad-input suites and
# the fuzzers with clang 19 under AddressSanitizer and UBSan (the fuzz
# preset), reruns those suites there, and fuzzes each loader briefly.
#   ANET_TEST_QUICK=1       skip the sanitizer pass
#   ANET_FUZZ_SECONDS=N     fuzzing time per fuzzer (default 10)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${ANET_JOBS:-$(nproc)}
start=$(date +%s)
stage() { echo "== test.sh: $(( $(date +%s) - start )) s: $*"; }

stage "setup"
tools/setup.sh

stage "build (default preset)"
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"
stage "ctest (default preset)"
ctest --preset default -j "$jobs"

[ "${ANET_TEST_QUICK:-0}" = 1 ] && exit 0

# What parses outside input, and the tools that read it: under ASan/UBSan.
fuzzers=(onnx_loader plan_loader ir_text checkpoint_loader)
targets=(frontend_tests ir_tests tools_cli_tests tools_io_tests train_tests train_errors_tests anetc
  anetrun)
for f in "${fuzzers[@]}"; do
  targets+=("${f}_replay" "${f}_fuzzer")
done
targets+=(onnx_fuzz_seeds ir_fuzz_seeds checkpoint_fuzz_seeds)
stage "build (fuzz preset: clang, ASan, UBSan)"
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]}"
stage "ctest -L bad-input (fuzz preset)"
ctest --test-dir build-fuzz -j "$jobs" --output-on-failure -L bad-input
stage "fuzzing"

for f in "${fuzzers[@]}"; do
  corpus=$(mktemp -d)
  echo "fuzzing ${f} for ${ANET_FUZZ_SECONDS:-10} s"
  "build-fuzz/tests/fuzz/${f}_fuzzer" -max_total_time="${ANET_FUZZ_SECONDS:-10}" \
    -rss_limit_mb=4096 -print_final_stats=1 "$corpus" "build-fuzz/tests/fuzz/${f}_seeds" 2>&1 |
    grep -E '^stat::number_of_executed_units|^Done|ERROR|SUMMARY' || true
  status=${PIPESTATUS[0]}
  rm -rf "$corpus"
  if [ "$status" -ne 0 ]; then
    echo "fuzzer ${f} failed (exit $status)" >&2
    exit 1
  fi
done
stage "done"
