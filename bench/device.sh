#!/usr/bin/env bash
# nnc on a real GPU through Dawn's Vulkan backend, next to PyTorch eager on the
# same GPU: the workloads of bench/peers.sh (ResNet-18 224, LSTM 256→512 T=64,
# 2-layer GRU, 1024³ matmul), and the torchvision check at 224 (nnc's WebGPU
# logits against torchvision's own, seeded weights). Run from an nnc checkout
# with dist/ built and node + the npm dependencies on PATH, on a machine with
# a Vulkan GPU driver and python3 with torch and torchvision:
#
#     bash bench/device.sh [OUTDIR]
#
# Writes nnc-*.json (`nnc bench --json`), nnc-*.txt (its table, per-kernel
# times where the adapter has timestamp queries), torch.jsonl
# (bench/torch_eager.py) and torchvision.txt into OUTDIR (default
# /tmp/nnc-device), and a log of everything.
set -u
out=${1:-/tmp/nnc-device}
mkdir -p "$out"
runs=${RUNS:-50}
# The target nnc compiles for (--target): gpu here, unless TARGET says otherwise (auto reads the adapter).
target=${TARGET:-gpu}
log="$out/log.txt"
say() { echo "== $*" | tee -a "$log"; }

declare -A args=(
  [matmul]="bench/workloads/matmul.nn"
  [resnet224]="resnet:resnet18 --input input=seeded:1x3x224x224"
  [lstm]="rnn:lstm --arg hidden=512 --input input=seeded:1x64x256"
  [gru2]="rnn:gru --arg hidden=512 --arg layers=2 --input input=seeded:1x64x256"
)

say "$(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1)"
for w in matmul resnet224 lstm gru2; do
  say "nnc bench $w"
  # Each workload in a fresh process, so cold is the first run of a new device.
  # shellcheck disable=SC2086 # the arguments are meant to split
  timeout 120 node dist/bin/nnc.js bench ${args[$w]} --runs "$runs" --target "$target" --json >"$out/nnc-$w.json" 2>>"$log" ||
    say "nnc bench $w failed ($?)"
  # shellcheck disable=SC2086
  timeout 120 node dist/bin/nnc.js bench ${args[$w]} --runs "$runs" --target "$target" --compare O0 >"$out/nnc-$w.txt" 2>&1 ||
    say "nnc bench $w --compare O0 failed ($?)"
  head -c 600 "$out/nnc-$w.json" | tee -a "$log"
  echo | tee -a "$log"
done

say "pytorch eager"
PYTHONUNBUFFERED=1 timeout 180 python3 bench/torch_eager.py --runs "$runs" | tee "$out/torch.jsonl" | tee -a "$log" ||
  say "torch_eager failed"

say "torchvision check at 224 on webgpu (--target $target)"
PYTHONUNBUFFERED=1 timeout 240 python3 scripts/verify-torchvision.py --size 224 --backend webgpu --target "$target" 2>&1 |
  tee "$out/torchvision.txt" | tee -a "$log"
say "done"
