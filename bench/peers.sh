#!/usr/bin/env bash
# nnc against the peer WebGPU runtimes on the same workloads, one table with ratios (see bench/README.md).
# usage: bench/peers.sh [-w "matmul resnet224 lstm gru2"] [--runs 7] [--json FILE] [-p PEERS] [-t SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec node --import tsx bench/peers.ts "$@"
