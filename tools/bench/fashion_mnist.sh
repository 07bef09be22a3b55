#!/usr/bin/env bash
# Accuracy benchmark: alexnet-mini trained on Fashion-MNIST with the paper's
# recipe, scaled (SGD, momentum 0.9, weight decay 0.0005, the learning rate
# divided by 10 every 13 epochs, flips and PCA lighting, inputs minus the
# mean image), then test accuracy with one centre crop and with the paper's
# ten crops, next to the published Fashion-MNIST table. Prints the table;
# the run's metrics, curves and checkpoints stay in --out.
#
# Scaled: pixels scaled to [0, 1] before the mean image is subtracted
# (anetc compile --scale 1/255), the model's own initialisation (He-scaled
# weights, zero biases), lr 0.04 and 36 epochs by default, the rate divided
# by 10 after epochs 13 and 26 (the paper divides it when validation error
# stops improving: --lr-schedule plateau). The
# paper's N(0, 0.01) initialisation (--init paper, with --lr 0.01) leaves this
# eight-layer network at chance for its first epochs: measured, the loss
# stays at ln 10 for 90 steps of 64 on the full set and 60 steps of 16 on 64
# images, where the He initialisation at lr 0.001 falls from 19.6 to 4.0 in
# 24 steps (docs/performance.md).
#
# The images keep their 28x28 (--resize 28: the crops are the whole image,
# so ten crops are the image and its mirror). anetc's default for 28-pixel
# inputs, the paper's proportions (rescale to 32, crops of 28), loses an
# eighth of each side at test time and measured 1 point lower; so did
# framing (--pad 2, crops shifted by up to 2 pixels). docs/performance.md
# has the runs.
#   tools/bench/fashion_mnist.sh [--epochs N] [--batch B] [--lr X]
#                                [--lr-schedule S] [--weight-decay W] [--scale S]
#                                [--init model|paper] [--device D]
#                                [--pad P] [--resize R] [--data-threads N] [--data DIR]
#                                [--eval-limit N] [--out DIR]
# Builds nothing: run after `cmake --build --preset default` (or point
# $ANET_BIN at a folder holding anetc and anetrun).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
epochs=36 batch=128 lr=0.04 schedule=step:13:0.1 decay=0.0005 scale=0.00392156862745098 init=model device=cpu
eval_limit=0 pad=0 resize=28 threads=0 data=/usr/share/datasets/fashion-mnist
out=$top/out/bench-fashion-mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --lr-schedule) schedule=$2; shift 2 ;;
    --weight-decay) decay=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --pad) pad=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --resize) resize=$2; shift 2 ;;
    --data-threads) threads=$2; shift 2 ;;
    --eval-limit) eval_limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--epochs N] [--batch B] [--lr X] [--lr-schedule S]" \
         "[--weight-decay W] [--scale S]" \
         "[--init model|paper]" \
         "[--device D] [--pad P] [--resize R] [--data-threads N] [--data DIR]" \
         "[--eval-limit N] [--out DIR]" >&2
       exit 2 ;;
  esac
done
bin=${ANET_BIN:-$top/build/tools}
mkdir -p "$out"
limit=()
[ "$eval_limit" -gt 0 ] && limit=(--limit "$eval_limit")
# Preprocessing: --resize 0 leaves anetc's default (28 -> 32, crops of 28).
prep=()
[ "$pad" -gt 0 ] && prep+=(--pad "$pad")
[ "$resize" -gt 0 ] && prep+=(--resize "$resize")
# A cuda run carries its kernels compiled for the GPU in the plan.
target=()
[ "$device" = cuda ] && target=(--target cuda)
run_opts=()
[ "$threads" -gt 0 ] && run_opts=(--data-threads "$threads")

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "machine: $cpu, $(nproc) cores; device: $device; alexnet-mini, batch $batch," \
  "$epochs epochs, lr $lr ($schedule), weight decay $decay, input scale $scale, init $init," \
  "pad $pad, resize ${resize/#0/default}"
"$bin/anetc" model alexnet-mini -o "$out/model.onnx" >/dev/null
"$bin/anetc" compile "$out/model.onnx" -o "$out/plan.bin" --mode train --batch "$batch" \
  --init "$init" --scale "$scale" --weight-decay "$decay" "${prep[@]}" "${target[@]}" \
  >"$out/compile.log"
start=$(date +%s)
"$bin/anetrun" train "$out/plan.bin" --data "$data" --epochs "$epochs" --lr "$lr" \
  --lr-schedule "$schedule" --device "$device" "${run_opts[@]}" \
  --checkpoint-dir "$out/checkpoints" --resume auto --log-dir "$out/logs" \
  --no-final-ten-crop --json >"$out/train.json"
train_s=$(( $(date +%s) - start ))
ckpt=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['last_checkpoint'])" \
  "$out/train.json")
"$bin/anetrun" eval "$out/plan.bin" --data "$data" --split test --checkpoint "$ckpt" \
  --device "$device" "${limit[@]}" --json >"$out/eval-centre.json"
"$bin/anetrun" eval "$out/plan.bin" --data "$data" --split test --checkpoint "$ckpt" \
  --device "$device" --ten-crop "${limit[@]}" --json >"$out/eval-tencrop.json"

python3 - "$out" "$train_s" "$epochs" <<'PY'
import json, sys
out, train_s, epochs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = json.load(open(f"{out}/train.json"))
c = json.load(open(f"{out}/eval-centre.json"))
x = json.load(open(f"{out}/eval-tencrop.json"))
print(f"{'model':34s} {'epochs':>6s} {'test acc':>9s} {'ten-crop':>9s} {'wall':>9s}")
print(f"{'anet alexnet-mini (this run)':34s} {epochs:>6s} {100 - c['top1_error_pct']:8.2f}% "
      f"{100 - x['top1_error_pct']:8.2f}% {train_s / 60:7.1f} m")
print(f"{'published: AlexNet':34s} {'':>6s} {89.9:8.2f}% {'':>9s}")
print(f"{'published: VGG16':34s} {'':>6s} {93.5:8.2f}% {'':>9s}")
print(f"{'goal (issue 4)':34s} {'':>6s} {'':>9s} {92.5:8.2f}%")
print(f"images evaluated: {c['examples']}; training {t['step_images_per_s']:.1f} images/s per "
      f"step, data pipeline alone {t['pipeline_images_per_s']:.0f} images/s")
PY
