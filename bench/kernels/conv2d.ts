// The conv2d workbench: ResNet's 3×3, 64→64 channels at 56×56 (stride 1,
// pad 1, batch 1), direct naive against register-tiled variants, each checked
// against the CPU reference on a small ragged shape first.
//
//   npx tsx bench/kernels/conv2d.ts [--size 56] [--channels 64] [--runs 7] [--filter register] [--json out.json]

import { parseArgs } from "node:util";
import { type ConvKernel, toIHWO } from "./conv2d/kernel.js";
import { naiveConv } from "./conv2d/naive.js";
import { registerTiledConv } from "./conv2d/register-tiled.js";
import { makeKernel, maxRelError, openBench, seeded, storageBuffer } from "./harness.js";
import { type ConvShape, conv2dRef, convOut } from "./reference.js";
import { type Candidate, runOnce, runWorkbench } from "./workbench.js";

export const convKernels: ConvKernel[] = [
  naiveConv(8, 8),
  naiveConv(16, 4),
  naiveConv(64, 1),
  registerTiledConv({ tc4: 1, tx: 4, wx: 64 }),
  registerTiledConv({ tc4: 2, tx: 4, wx: 64 }),
  registerTiledConv({ tc4: 1, tx: 8, wx: 64 }),
  registerTiledConv({ tc4: 2, tx: 4, wx: 128 }),
  registerTiledConv({ tc4: 2, tx: 8, wx: 64 }),
  registerTiledConv({ tc4: 2, tx: 8, wx: 32 }),
  registerTiledConv({ tc4: 2, tx: 8, wx: 128 }),
  registerTiledConv({ tc4: 4, tx: 4, wx: 64 }),
  registerTiledConv({ tc4: 1, tx: 16, wx: 64 }),
  registerTiledConv({ tc4: 2, tx: 16, wx: 64 }),
  registerTiledConv({ tc4: 4, tx: 8, wx: 64 }),
];

/** Ragged: widths no tile divides, two images, padding on every edge. */
const checkShape: ConvShape = { n: 2, cin: 5, cout: 16, h: 11, w: 13, k: 3, pad: 1 };

const { values: opt } = parseArgs({
  options: {
    size: { type: "string", default: "56" },
    channels: { type: "string", default: "64" },
    runs: { type: "string", default: "7" },
    filter: { type: "string" },
    json: { type: "string" },
  },
});
const hw = Number(opt.size);
const ch = Number(opt.channels);
const shape: ConvShape = { n: 1, cin: ch, cout: ch, h: hw, w: hw, k: 3, pad: 1 };
const { ho, wo } = convOut(shape);

const bench = await openBench();
const { device } = bench;
const x = seeded(shape.n * shape.cin * shape.h * shape.w, 1);
const w = seeded(shape.cout * shape.cin * 9, 2);
const X = storageBuffer(device, x);
const weights = { OIHW: storageBuffer(device, w), IHWO: storageBuffer(device, toIHWO(w, shape)) };
const Y = storageBuffer(device, shape.n * shape.cout * ho * wo);

const candidates: Candidate[] = convKernels.map((k) => ({
  variant: k.variant,
  config: k.config,
  outputsPerInvocation: k.outputsPerInvocation,
  unsupported: k.supports(shape) ? undefined : `does not tile ${ch} channels`,
  async check() {
    const s = checkShape;
    if (!k.supports(s)) return undefined;
    const o = convOut(s);
    const xs = seeded(s.n * s.cin * s.h * s.w, 3);
    const ws = seeded(s.cout * s.cin * s.k * s.k, 4);
    const weight = k.weightLayout === "IHWO" ? toIHWO(ws, s) : ws;
    const got = await runOnce(
      device,
      k.wgsl(s),
      [xs, weight],
      s.n * s.cout * o.ho * o.wo,
      k.grid(s),
    );
    return {
      shape: `${s.n}x${s.cin}x${s.h}x${s.w}→${s.cout}`,
      err: maxRelError(got, conv2dRef(xs, ws, s)),
    };
  },
  build: () => makeKernel(device, k.wgsl(shape), [X, weights[k.weightLayout], Y], k.grid(shape)),
}));

await runWorkbench(bench, candidates, {
  title: `conv2d 3x3 ${ch}→${ch} at ${hw}x${hw} (stride 1, pad 1, batch 1) f32`,
  flops: 2 * shape.n * shape.cout * ho * wo * shape.cin * 9,
  runs: Number(opt.runs),
  filter: opt.filter,
  json: opt.json,
});
bench.close();
process.exit(0);
