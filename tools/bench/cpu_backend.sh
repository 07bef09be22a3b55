#!/usr/bin/env bash
# The cpu device (JIT-compiled kernels) against onnxruntime and PyTorch CPU,
# measured side by side on this machine at the same thread count:
#   1. AlexNet inference at each batch: median latency, images/s, ratio;
#   2. a training step of AlexNet (batch 32) and of alexnet-mini (batch 128);
#   3. every convolution (forward and gradients) of the AlexNet training step:
#      its share of the CPU's fp32 peak (measured clock x the flop per cycle
#      its FMA units issue: tools/bench/cpu_peak.c), and of the FMA rate the
#      cores give at the time;
#   4. starting the AlexNet training plan: compiling every kernel with an
#      empty cache, then with a warm one.
#   tools/bench/cpu_backend.sh [--threads N] [--batches "1 64"] [--iterations N]
#                              [--rounds N]
# Inference alternates anet and onnxruntime for --rounds rounds (default 3):
# on a shared host their medians move with the neighbours' load, and rounds
# side by side in time compare them fairly. The ratio is the median of the
# rounds' ratios.
# Builds nothing: run after `cmake --build --preset default`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
threads=$(nproc) batches="1 64" iterations=10 warmup=2 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--threads N] [--batches \"1 64\"] [--iterations N] [--rounds N]" >&2
       exit 2 ;;
  esac
done
python=${ANET_PYTHON:-$HOME/.cache/anet/venv/bin/python} # onnxruntime
torch_python=/usr/bin/python3                           # Debian's python3-torch
bin=$top/build/tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANET_CACHE_DIR=$work/cache

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
# The fp32 peak from the probe (tools/bench/cpu_peak.c): the measured clock x
# the flop per cycle a core issues (the probe's ratio, to the nearest power
# of two: 64 for two 512-bit FMA units, 32 for AMD Zen 4's 256-bit ones).
cc -O2 -mavx512f -pthread "$top/tools/bench/cpu_peak.c" -o "$work/cpu_peak"
read -r ghz probe flop_per_cycle < <("$work/cpu_peak" "$threads")
width=$(awk -v f="$flop_per_cycle" 'BEGIN { w = 8; while (w * 1.4142 < f) w *= 2; print w }')
peak=$(awk -v g="$ghz" -v w="$width" -v t="$threads" 'BEGIN { print g * w * t }')
echo "machine: $cpu, $(nproc) cores; threads: $threads"
echo "fp32 peak at $threads threads: $peak GFLOP/s ($ghz GHz measured x $width flop/cycle" \
  "x $threads; the probe's FMAs ran $probe GFLOP/s, $flop_per_cycle flop/cycle/core)"
[ "$width" = 64 ] || echo "(at 64 flop/cycle/core, two 512-bit FMA units, it would be" \
  "$(awk -v g="$ghz" -v t="$threads" 'BEGIN { print g * 64 * t }') GFLOP/s: these cores do" \
  "not issue that)"
"$bin/anetc" model alexnet -o "$work/alexnet.onnx" --seed 1 >/dev/null
"$bin/anetc" model alexnet-mini -o "$work/mini.onnx" --seed 1 >/dev/null

table() { # title, then rows of: label json...
  "$python" - "$@" <<'PY'
import json, sys
args = sys.argv[1:]
rows = [(args[i], json.loads(args[i + 1])) for i in range(0, len(args), 2)]
print(f"{'case':<34} {'min_ms':>9} {'median_ms':>10} {'p90_ms':>9} {'p99_ms':>9} {'max_ms':>9} {'images/s':>10} {'ratio':>7}")
# A row's ratio is against the anet row before it (of its round).
anet, ratios = None, {}
for label, r in rows:
    if label.startswith("anet"):
        anet = r["median_ms"]
    ratio = r["median_ms"] / anet
    if not label.startswith("anet"):
        ratios.setdefault(label.split(",")[0], []).append(ratio)
    print(f"{label:<34} {r['min_ms']:9.1f} {r['median_ms']:10.1f} {r['p90_ms']:9.1f} "
          f"{r['p99_ms']:9.1f} {r['max_ms']:9.1f} {r['images_per_s']:10.1f} {ratio:6.2f}x")
for other, rs in ratios.items():
    if len(rs) > 1:
        rs = sorted(rs)
        print(f"{other} / anet over {len(rs)} rounds: median {rs[len(rs) // 2]:.2f}x "
              f"(rounds: {', '.join(f'{x:.2f}' for x in rs)})")
PY
}
bench() { "$bin/anetrun" bench "$@" --device cpu --threads "$threads" --json | head -1; }

echo
echo "== 1. AlexNet inference (ratio: the other's median / anet's; above 1: anet is faster)"
for b in $batches; do
  "$bin/anetc" compile "$work/alexnet.onnx" -o "$work/infer.bin" --batch "$b" >/dev/null
  rows=()
  for r in $(seq "$rounds"); do
    anet=$(bench "$work/infer.bin" --warmup "$warmup" --iterations "$iterations")
    ort=$("$python" "$top/tools/bench/ort_bench.py" "$work/alexnet.onnx" "$b" "$threads" \
      "$warmup" "$iterations")
    rows+=("anet cpu, batch $b, round $r" "$anet" "onnxruntime, batch $b, round $r" "$ort")
  done
  torch=$("$torch_python" "$top/tools/bench/torch_bench.py" "$work/alexnet.onnx" "$b" \
    "$threads" "$warmup" "$iterations" infer)
  table "${rows[@]}" "pytorch, batch $b" "$torch"
done

echo
echo "== 2. Training step (forward, loss, backward, SGD with momentum and weight decay)"
train_iterations=$(( iterations < 5 ? iterations : 5 ))
for spec in "alexnet 32" "mini 128"; do
  set -- $spec
  "$bin/anetc" compile "$work/$1.onnx" -o "$work/train-$1.bin" --mode train --batch "$2" \
    >/dev/null
  anet=$(bench "$work/train-$1.bin" --program train_step --warmup 1 \
    --iterations "$train_iterations")
  torch=$("$torch_python" "$top/tools/bench/torch_bench.py" "$work/$1.onnx" "$2" "$threads" 1 \
    "$train_iterations" train)
  table "anet cpu, $1 batch $2" "$anet" "pytorch, $1 batch $2" "$torch"
done

echo
echo "== 3. Convolutions of the AlexNet training step (batch 32): share of the fp32 peak"
# The FMA rate the cores give right now (registers only, no memory), just
# before and after: on a shared host it moves with the neighbours' load.
# of_ceiling is against the lower of the two.
before=$("$work/cpu_peak" "$threads" | awk '{ print $2 }')
profile=$("$bin/anetrun" bench "$work/train-alexnet.bin" --program train_step --device cpu \
  --threads "$threads" --warmup 1 --iterations 3 --profile --peak-gflops "$peak")
after=$("$work/cpu_peak" "$threads" | awk '{ print $2 }')
ceiling=$(awk -v a="$before" -v b="$after" 'BEGIN { print (a < b ? a : b) }')
echo "FMA rate now: $before GFLOP/s before, $after after (peak $peak)"
echo "$profile" | awk -v c="$ceiling" '
  /GFLOP\/s/ { print $0 "  of_ceiling"; next }
  $2 ~ /^(Conv|ConvGradInput|ConvGradWeight|Gemm)$/ { printf "%s  %9.1f%%\n", $0, 100 * $4 / c }'

echo
echo "== 4. Starting the AlexNet training plan (batch 32): compile every kernel"
rm -rf "$ANET_CACHE_DIR"
cold=$(bench "$work/train-alexnet.bin" --program train_step --warmup 0 --iterations 1)
warm=$(bench "$work/train-alexnet.bin" --program train_step --warmup 0 --iterations 1)
"$python" - "$cold" "$warm" <<'PY'
import json, sys
cold, warm = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"empty kernel cache: {cold['start_s']:.2f} s (goal <= 10 s)")
print(f"warm kernel cache:  {warm['start_s']:.2f} s (goal <= 1 s)")
PY
