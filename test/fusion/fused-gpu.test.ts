// Fused, memory-planned plans on the WebGPU device against the CPU backend:
// the rows schedule (softmax, layernorm), epilogues with residual adds,
// concat views and slot-sharing buffers. Skipped without an adapter.

import { afterAll, describe, expect, inject, it } from "vitest";
import { closeGpu, compile, type Source, type Tensor } from "../../compiler/index.js";
import { withDerived } from "../../compiler/passes/prep.js";
import { loadWeights } from "../../compiler/run.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { expectClose, randomTensor } from "../kernels/helpers.js";

async function agree(source: Source, entry: string | undefined, shape: number[], args = {}) {
  const m = compile(source, { ...(entry ? { entry } : {}), args, file: "t.nn" });
  const inputs = new Map<string, Tensor>([["input", randomTensor("f32", shape, 7)]]);
  const plan = m.plan({ input: { shape } });
  const gpu = await m.run(inputs, { backend: "webgpu" });
  const cpu = await m.run(inputs, { backend: "cpu" });
  for (const [name, t] of cpu.outputs) expectClose(gpu.outputs.get(name)!, t, name, 1e-4);
  return plan;
}

// Lavapipe compiles each new pipeline with LLVM on first use: seconds per kernel
// on a busy 2-core machine, so the model-sized cases get minutes.
const COLD = 300_000;

describe.skipIf(!inject("gpu").ok)("fused plans on WebGPU", () => {
  afterAll(() => closeGpu());

  it(
    "softmax, log_softmax and layernorm: one rows kernel each",
    async () => {
      for (const entry of ["softmax", "log_softmax", "layernorm"]) {
        const plan = await agree({ stdlib: "nn" }, entry, [3, 5, 70]);
        expect(plan.kernels).toHaveLength(1);
      }
      await agree({ stdlib: "nn" }, "softmax", [2, 6, 3, 3], { axis: 1 });
      await agree({ stdlib: "nn" }, "layernorm2d", [2, 8, 5, 5]);
    },
    COLD,
  );

  it(
    "a residual CNN with planned memory",
    async () => {
      const plan = await agree({ file: "examples/resnet_small.nn" }, undefined, [2, 3, 32, 32]);
      expect(plan.memory!.slots).toBeLessThan(
        plan.buffers.filter((b) => b.slot !== undefined).length,
      );
    },
    COLD,
  );

  it(
    "DenseNet: convs writing into slices of the block's buffer",
    async () => {
      const src = `import densenet
model tiny()(input: f32[N, 3, H, W]) {
  {logits: densenet(4, [2, 2, 2, 2], 8, bn_size=2, classes=5)(input)}
}`;
      await agree(src, undefined, [2, 3, 32, 32]);
    },
    COLD,
  );

  it(
    "resnet18 split over two devices (as on a software adapter) computes what the CPU backend does",
    async () => {
      const shape = [1, 3, 32, 32];
      const m = compile({ stdlib: "resnet" }, { entry: "resnet18", args: { classes: 10 } });
      const inputs = new Map<string, Tensor>([["input", randomTensor("f32", shape, 3)]]);
      const graph = m.optimized({ input: { shape } });
      const p = await GpuPlan.create(m.plan({ input: { shape } }), { parts: 2 });
      try {
        expect(p.devices).toBe(2);
        p.uploadParams(withDerived(graph, loadWeights(graph, "seeded")));
        const gpu = await p.run(inputs);
        const cpu = await m.run(inputs, { backend: "cpu" });
        for (const [name, t] of cpu.outputs) expectClose(gpu.get(name)!, t, name, 1e-4);
      } finally {
        p.dispose();
      }
    },
    COLD,
  );
});
