#!/usr/bin/env bash
# The main job, end to end on the built-in default: installs what is
# missing, builds, writes the paper's AlexNet as ONNX, compiles it into a
# plan, shows what the plan holds, classifies the bundled image, times it,
# and compiles it again split over two devices as the paper did, with its
# picture (out/demo/alexnet-2-devices.svg).
# Everything it writes goes to out/demo/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tools/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"

out=out/demo
mkdir -p "$out"
bin=build/tools
set -x
"$bin/anetc" model alexnet -o "$out/alexnet.onnx" --seed 1
"$bin/anetc" compile "$out/alexnet.onnx" -o "$out/alexnet.plan" --batch 1
"$bin/anetc" inspect "$out/alexnet.plan"
"$bin/anetrun" infer "$out/alexnet.plan" data/samples/landscape.png --top-k 5
"$bin/anetrun" bench "$out/alexnet.plan" --warmup 1 --iterations 3
"$bin/anetc" compile "$out/alexnet.onnx" -o "$out/alexnet-2-devices.plan" --batch 1 --devices 2
"$bin/anetc" inspect "$out/alexnet-2-devices.plan" --format svg -o "$out/alexnet-2-devices.svg"
"$bin/anetrun" infer "$out/alexnet-2-devices.plan" data/samples/landscape.png --top-k 5
