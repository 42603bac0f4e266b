// The matmul workbench (llm.c style): every variant and workgroup size is
// checked against the CPU reference on small, ragged shapes, then timed at
// M=N=K=1024 on the current adapter. Prints GFLOP/s per variant and the best
// against the naive one-output-per-invocation kernel, measured in the same run.
//
//   npx tsx bench/kernels/matmul.ts [--size 1024] [--runs 7] [--filter register] [--json out.json]

import { parseArgs } from "node:util";
import { makeKernel, maxRelError, openBench, seeded, storageBuffer } from "./harness.js";
import type { MatmulKernel, MatmulShape } from "./matmul/kernel.js";
import { naiveMatmul } from "./matmul/naive.js";
import { registerTiledMatmul } from "./matmul/register-tiled.js";
import { sharedRegisterMatmul, tiled16Matmul } from "./matmul/workgroup-tiled.js";
import { matmulRef } from "./reference.js";
import { type Candidate, runOnce, runWorkbench } from "./workbench.js";

export const matmulKernels: MatmulKernel[] = [
  naiveMatmul(16, 16),
  naiveMatmul(8, 8),
  naiveMatmul(64, 1),
  tiled16Matmul(),
  sharedRegisterMatmul({ tm: 4, tn4: 2, wx: 16, wy: 4, tk: 16 }),
  sharedRegisterMatmul({ tm: 8, tn4: 2, wx: 16, wy: 8, tk: 16 }),
  registerTiledMatmul({ tm: 4, tn4: 1, wx: 64, wy: 1 }),
  registerTiledMatmul({ tm: 4, tn4: 1, wx: 256, wy: 1 }),
  registerTiledMatmul({ tm: 4, tn4: 1, wx: 16, wy: 4 }),
  registerTiledMatmul({ tm: 4, tn4: 2, wx: 64, wy: 1 }),
  registerTiledMatmul({ tm: 4, tn4: 2, wx: 128, wy: 1 }),
  registerTiledMatmul({ tm: 4, tn4: 2, wx: 32, wy: 2 }),
  registerTiledMatmul({ tm: 8, tn4: 2, wx: 64, wy: 1 }),
];

/** Ragged first (exercises the edge handling), then one every tiled variant divides. */
const checkShapes: MatmulShape[] = [
  { M: 100, N: 196, K: 68 },
  { M: 128, N: 256, K: 64 },
];

const { values: opt } = parseArgs({
  options: {
    size: { type: "string", default: "1024" },
    runs: { type: "string", default: "7" },
    filter: { type: "string" },
    json: { type: "string" },
  },
});
const n = Number(opt.size);
const shape: MatmulShape = { M: n, N: n, K: n };

const bench = await openBench();
const { device } = bench;
const A = storageBuffer(device, seeded(n * n, 1));
const B = storageBuffer(device, seeded(n * n, 2));
const C = storageBuffer(device, n * n);

const candidates: Candidate[] = matmulKernels.map((k) => ({
  variant: k.variant,
  config: k.config,
  outputsPerInvocation: k.outputsPerInvocation,
  unsupported: k.supports(shape) ? undefined : `does not tile ${n}x${n}x${n}`,
  async check() {
    const s = checkShapes.find((c) => k.supports(c));
    if (!s) return undefined;
    const a = seeded(s.M * s.K, 3);
    const b = seeded(s.K * s.N, 4);
    const got = await runOnce(device, k.wgsl(s), [a, b], s.M * s.N, k.grid(s));
    return { shape: `${s.M}x${s.N}x${s.K}`, err: maxRelError(got, matmulRef(a, b, s.M, s.N, s.K)) };
  },
  build: () => makeKernel(device, k.wgsl(shape), [A, B, C], k.grid(shape)),
}));

await runWorkbench(bench, candidates, {
  title: `matmul ${n}x${n}x${n} f32`,
  flops: 2 * n * n * n,
  runs: Number(opt.runs),
  filter: opt.filter,
  json: opt.json,
});
bench.close();
process.exit(0);
