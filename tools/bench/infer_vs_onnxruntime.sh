#!/usr/bin/env bash
# AlexNet inference, anet against onnxruntime, measured side by side on this
# machine: median latency and images/s at each batch size, plus the ratio.
#   tools/bench/infer_vs_onnxruntime.sh [--device D] [--batches "1 64"]
#                                       [--iterations N] [--model NAME]
# Builds nothing: run after `cmake --build --preset default`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
device=cpu-ref batches="1" iterations=5 warmup=1 model=alexnet
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "usage: $0 [--device D] [--batches \"1 64\"] [--iterations N] [--model NAME]" >&2; exit 2 ;;
  esac
done
python=${ANET_PYTHON:-$HOME/.cache/anet/venv/bin/python}
bin=$top/build/tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
threads=1 # the reference kernels are single-threaded; compare like with like
echo "machine: $cpu, $(nproc) cores; threads: $threads; model: $model; anet device: $device"
"$bin/anetc" model "$model" -o "$work/model.onnx" --seed 1 >/dev/null
printf '%-6s %-12s %10s %10s %10s %10s %10s %12s\n' batch runtime min_ms median_ms p90_ms p99_ms max_ms images/s
for b in $batches; do
  "$bin/anetc" compile "$work/model.onnx" -o "$work/plan.bin" --batch "$b" >/dev/null
  anet=$("$bin/anetrun" bench "$work/plan.bin" --device "$device" --warmup "$warmup" \
    --iterations "$iterations" --json)
  ort=$("$python" "$top/tools/bench/ort_bench.py" "$work/model.onnx" "$b" "$threads" "$warmup" \
    "$iterations")
  "$python" - "$b" "$anet" "$ort" <<'PY'
import json, sys
b, anet, ort = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for name, r in (("anet", anet), ("onnxruntime", ort)):
    print(f"{b:<6} {name:<12} {r['min_ms']:10.1f} {r['median_ms']:10.1f} {r['p90_ms']:10.1f} "
          f"{r['p99_ms']:10.1f} {r['max_ms']:10.1f} {r['images_per_s']:12.2f}")
print(f"{b:<6} {'ratio':<12} {'':10} {ort['median_ms'] / anet['median_ms']:10.3f}x  (anet throughput / onnxruntime's)")
PY
done
