// Run as its own process by process-exit.test.ts: builds and runs a small
// plan on the WebGPU device, closes it, and must then exit by itself (no
// process.exit), which is what Dawn's Node bindings are known to prevent.

import { tensorOf } from "../../compiler/core/tensor.js";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { addWgsl, buffer, kernel, plan } from "./plans.js";

const p = await GpuPlan.create(
  plan(
    [
      buffer(0, "x", "f32", [4], { kind: "input", name: "x" }),
      buffer(1, "w", "f32", [4], { kind: "param", name: "w" }),
      buffer(2, "y", "f32", [4]),
    ],
    [kernel("add", addWgsl(4), ["read", "read", "read_write"])],
    [{ kernel: 0, grid: [1, 1, 1], buffers: [0, 1, 2] }],
    { outputs: [{ name: "y", buffer: 2 }] },
  ),
);
p.uploadParams(new Map([["w", tensorOf("f32", [4], [10, 20, 30, 40])]]));
const out = await p.run(new Map([["x", tensorOf("f32", [4], [1, 2, 3, 4])]]));
process.stdout.write(`RESULT ${[...out.get("y")!.data].join(",")}\n`);
if (process.argv[2] !== "--no-close") await closeGpu();
