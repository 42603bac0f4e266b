// The workbench's kernel variants (bench/kernels) stay correct: one of each
// family against the CPU reference on ragged shapes. The timing sweep itself
// is `npm run bench:kernels`.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { toIHWO } from "../../bench/kernels/conv2d/kernel.js";
import { naiveConv } from "../../bench/kernels/conv2d/naive.js";
import { registerTiledConv } from "../../bench/kernels/conv2d/register-tiled.js";
import { type Bench, maxRelError, openBench, seeded } from "../../bench/kernels/harness.js";
import type { MatmulKernel } from "../../bench/kernels/matmul/kernel.js";
import { naiveMatmul } from "../../bench/kernels/matmul/naive.js";
import { registerTiledMatmul } from "../../bench/kernels/matmul/register-tiled.js";
import { sharedRegisterMatmul } from "../../bench/kernels/matmul/workgroup-tiled.js";
import { type ConvShape, conv2dRef, convOut, matmulRef } from "../../bench/kernels/reference.js";
import { runOnce } from "../../bench/kernels/workbench.js";

describe.skipIf(!inject("gpu").ok)("workbench kernels match the CPU reference", () => {
  let bench: Bench;
  beforeAll(async () => {
    bench = await openBench();
  });
  afterAll(() => bench?.close());

  const run = (wgsl: string, inputs: Float32Array[], out: number, grid: [number, number, number]) =>
    runOnce(bench.device, wgsl, inputs, out, grid);

  const matmuls: [MatmulKernel, { M: number; N: number; K: number }][] = [
    [naiveMatmul(8, 8), { M: 37, N: 52, K: 20 }],
    [registerTiledMatmul({ tm: 4, tn4: 2, wx: 64, wy: 1 }), { M: 37, N: 52, K: 20 }],
    [sharedRegisterMatmul({ tm: 4, tn4: 2, wx: 16, wy: 4, tk: 16 }), { M: 32, N: 128, K: 32 }],
  ];
  for (const [k, s] of matmuls) {
    it(`matmul ${k.variant}, ${k.config} at ${s.M}x${s.N}x${s.K}`, async () => {
      expect(k.supports(s)).toBe(true);
      const a = seeded(s.M * s.K, 1);
      const b = seeded(s.K * s.N, 2);
      const got = await run(k.wgsl(s), [a, b], s.M * s.N, k.grid(s));
      expect(maxRelError(got, matmulRef(a, b, s.M, s.N, s.K))).toBeLessThan(1e-5);
    });
  }

  const shape: ConvShape = { n: 2, cin: 3, cout: 8, h: 7, w: 9, k: 3, pad: 1 };
  for (const k of [naiveConv(8, 8), registerTiledConv({ tc4: 2, tx: 4, wx: 64 })]) {
    it(`conv2d ${k.variant}, ${k.config}`, async () => {
      const { ho, wo } = convOut(shape);
      const x = seeded(shape.n * shape.cin * shape.h * shape.w, 3);
      const w = seeded(shape.cout * shape.cin * 9, 4);
      const weight = k.weightLayout === "IHWO" ? toIHWO(w, shape) : w;
      const got = await run(
        k.wgsl(shape),
        [x, weight],
        shape.n * shape.cout * ho * wo,
        k.grid(shape),
      );
      expect(maxRelError(got, conv2dRef(x, w, shape))).toBeLessThan(1e-5);
    });
  }
});
