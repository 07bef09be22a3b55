#!/usr/bin/env bash
# The main job, end to end on the built-in default: installs what is
# missing, builds, writes the paper's AlexNet as ONNX, compiles it into a
# plan, shows what the plan holds, classifies the bundled image, times it,
# and compiles it again split over two devices as the paper did, with its
# picture (out/demo/alexnet-2-devices.svg); compiles AlexNet's two-device
# training program; then trains alexnet-mini on the bundled Fashion-MNIST
# with the paper's recipe for one epoch on the cpu device (kernels compiled
# for this CPU), evaluates it on the test set with ten crops, and exports the
# trained weights as ONNX. Everything it writes goes to out/demo/.
#   ANET_DEMO_EPOCHS=N   training epochs (default 1)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tools/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"

out=out/demo
mkdir -p "$out"
bin=build/tools
data=/usr/share/datasets/fashion-mnist
epochs=${ANET_DEMO_EPOCHS:-1}
rm -rf "$out/checkpoints" "$out/logs"
set -x
"$bin/anetc" model alexnet -o "$out/alexnet.onnx" --seed 1
"$bin/anetc" compile "$out/alexnet.onnx" -o "$out/alexnet.plan" --batch 1
"$bin/anetc" inspect "$out/alexnet.plan"
"$bin/anetrun" infer "$out/alexnet.plan" data/samples/landscape.png --top-k 5
"$bin/anetrun" bench "$out/alexnet.plan" --warmup 1 --iterations 3
"$bin/anetc" compile "$out/alexnet.onnx" -o "$out/alexnet-2-devices.plan" --batch 1 --devices 2
"$bin/anetc" inspect "$out/alexnet-2-devices.plan" --format svg -o "$out/alexnet-2-devices.svg"
"$bin/anetrun" infer "$out/alexnet-2-devices.plan" data/samples/landscape.png --top-k 5
"$bin/anetc" compile "$out/alexnet.onnx" -o "$out/alexnet-train.plan" --mode train --batch 128 \
  --devices 2 --init paper
"$bin/anetc" inspect "$out/alexnet-train.plan"

"$bin/anetc" model alexnet-mini -o "$out/mini.onnx"
# [0, 1] pixels (--scale 1/255), as alexnet-mini's He-scaled weights expect;
# the 28x28 images as they are (--resize 28), which trains a point better
# than enlarging them to 32 and cropping 28 (docs/performance.md).
"$bin/anetc" compile "$out/mini.onnx" -o "$out/mini-train.plan" --mode train --batch 128 \
  --scale 0.00392156862745098 --resize 28
"$bin/anetrun" train "$out/mini-train.plan" --data "$data" --epochs "$epochs" --lr 0.01 \
  --checkpoint-dir "$out/checkpoints" --log-dir "$out/logs" --no-final-ten-crop
ckpt=$(ls "$out"/checkpoints/step-*.ckpt | tail -1)
"$bin/anetrun" eval "$out/mini-train.plan" --data "$data" --split test --checkpoint "$ckpt" \
  --ten-crop
"$bin/anetrun" export "$out/mini-train.plan" --checkpoint "$ckpt" -o "$out/mini-trained.onnx"
