// Recurrences on WebGPU against the CPU reference: the loop lowering at every
// optimization setting (per-node kernels each step, a fused step per
// dispatch, one persistent dispatch), with and without initial states, and
// the large sizes the issues ask for: LSTM and GRU with hidden 512, 2 layers,
// bidirectional, 64 steps, batch 4; local-p attention with D = 10 over 64
// positions, its windows reaching both edges. Skipped without an adapter.

import { afterAll, describe, expect, inject, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { loadedParams } from "../../compiler/passes/prep.js";
import type { OptimizeOptions } from "../../compiler/pipeline/index.js";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import {
  compileCase,
  expectAllClose,
  label,
  type RnnCase,
  seededInputs,
  specs,
  withState,
} from "./helpers.js";

const gpu = inject("gpu");

const small: RnnCase[] = [
  { entry: "rnn", args: { hidden: "6", nonlinearity: "relu" }, shapes: { input: [2, 4, 3] } },
  {
    entry: "lstm",
    args: { hidden: "12", layers: "2", bidirectional: "true" },
    shapes: { input: [3, 6, 5] },
  },
  { entry: "gru", args: { hidden: "20", layers: "2" }, shapes: { input: [2, 5, 7] } },
];

const settings: [string, OptimizeOptions][] = [
  ["-O1 (persistent)", {}],
  ["fused step per dispatch", { disable: ["scan-persistent"] }],
  ["-O0 (a kernel per body node)", { level: 0 }],
];

async function cpuAndGpu(
  m: ReturnType<typeof compile>,
  inputs: Map<string, Tensor>,
  weights?: Map<string, Tensor>,
) {
  const opts = weights ? { weights } : {};
  const cpu = await m.run(inputs, { backend: "cpu", ...opts });
  const webgpu = await m.run(inputs, { backend: "webgpu", ...opts });
  expect(webgpu.backend).toBe("webgpu");
  return { cpu: cpu.outputs, gpu: webgpu.outputs };
}

describe.skipIf(!gpu.ok)("recurrences on WebGPU agree with the CPU", () => {
  afterAll(async () => {
    await closeGpu();
  });

  for (const base of small) {
    for (const c of [base, withState(base)]) {
      for (const [name, opt] of settings) {
        it(`${label(c)} ${name}`, async () => {
          const { cpu, gpu: got } = await cpuAndGpu(compileCase(c, opt), seededInputs(c.shapes));
          expectAllClose(got, cpu);
        });
      }
    }
  }

  it("LSTM hidden 512, 2 layers, bidirectional, 64 steps, batch 4", async () => {
    const c: RnnCase = {
      entry: "lstm",
      args: { hidden: "512", layers: "2", bidirectional: "true" },
      shapes: { input: [4, 64, 64] },
    };
    const m = compileCase(c);
    const plan = m.plan(specs(c.shapes));
    // Four recurrences, each a fused step dispatched 64 times; the projections outside.
    expect(plan.dispatches.filter((d) => d.dynamicOffsets).length).toBe(4 * 64);
    const { cpu, gpu: got } = await cpuAndGpu(m, seededInputs(c.shapes));
    expectAllClose(got, cpu);
  }, 120_000);

  // A step split into small workgroups (the last one partly past the columns),
  // weights read by vec4 index: 41 column tiles, batch 5 in row tiles of 2 (the
  // last half empty), both directions, with and without initial states.
  for (const entry of ["lstm", "gru"] as const) {
    const c: RnnCase = {
      entry,
      args: { hidden: "164", bidirectional: "true" },
      shapes: { input: [5, 7, 9] },
    };
    for (const cc of [c, withState(c)]) {
      it(`${label(cc)} fused step in small workgroups`, async () => {
        const m = compileCase(cc, { disable: ["scan-persistent"] });
        const step = m.plan(specs(cc.shapes)).kernels.find((k) => k.name.includes("_step"))!;
        expect(step.workgroupSize[0]).toBeLessThan(64);
        expect(step.wgsl).not.toMatch(/\) \/ 4\]/);
        const { cpu, gpu: got } = await cpuAndGpu(m, seededInputs(cc.shapes));
        expectAllClose(got, cpu);
      }, 60_000);
    }
  }

  it("GRU hidden 512, 2 layers, bidirectional, 64 steps, batch 4", async () => {
    const c: RnnCase = {
      entry: "gru",
      args: { hidden: "512", layers: "2", bidirectional: "true" },
      shapes: { input: [4, 64, 64] },
    };
    const { cpu, gpu: got } = await cpuAndGpu(compileCase(c), seededInputs(c.shapes));
    expectAllClose(got, cpu);
  }, 120_000);

  it("local-p attention, D = 10 over 64 positions, windows at both edges", async () => {
    const m = compile(
      { stdlib: "attention" },
      { entry: "luong_local", args: { mode: "p", D: "10" } },
    );
    const shapes = { decoder_state: [4, 16, 32], encoder_states: [4, 64, 32] };
    const inputs = seededInputs(shapes);
    const g = m.optimized(specs(shapes));
    // A large v_p saturates p_t = S·sigmoid(v_pᵀ tanh(W_p h_t)) towards 0 and S.
    const weights = seededParams(loadedParams(g));
    const vp = weights.get("v_p.weight")!;
    weights.set("v_p.weight", { ...vp, data: (vp.data as Float32Array).map((v) => v * 40) });
    const { cpu, gpu: got } = await cpuAndGpu(m, inputs, weights);
    const p = [...(cpu.get("p_t")!.data as Float32Array)];
    expect(p.some((x) => x < 10)).toBe(true);
    expect(p.some((x) => x > 63 - 10)).toBe(true);
    expect(p.some((x) => x > 10 && x < 53)).toBe(true);
    expectAllClose(got, cpu);
  }, 60_000);
});
