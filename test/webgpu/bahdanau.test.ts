// A valid model must run on every backend (issue 17): a hand-written Bahdanau
// decoder, a scan whose step calls the stdlib's `bahdanau` attention over the
// encoder outputs, reads ten tensors per step. It used to fail on WebGPU with
// "kernel for %N scan needs 11 storage buffers, more than the limit of 8"; the
// scan's step kernels are each kept within the limit, so it runs at WebGPU's
// default limits and matches the CPU backend.

import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { compile, type InputSpec } from "../../compiler/compile.js";
import { tensorOf } from "../../compiler/core/tensor.js";
import { closeGpu } from "../../runtime/webgpu/device.js";

const gpu = inject("gpu");
const file = join(import.meta.dirname, "bahdanau-decoder.nn");
const inputs = new Map([
  ["src_tokens", tensorOf("i32", [2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])],
  ["tgt_tokens", tensorOf("i32", [2, 4], [3, 1, 4, 1, 5, 9, 2, 6])],
]);
const shapes: Record<string, InputSpec> = {
  src_tokens: { shape: [2, 5], dtype: "i32" },
  tgt_tokens: { shape: [2, 4], dtype: "i32" },
};

describe("the Bahdanau decoder compiles within the default binding limit", () => {
  for (const level of [0, 1] as const) {
    it(`-O${level}: every kernel binds at most 8 storage buffers; inspect --stage opt works`, () => {
      const m = compile({ file }, { optimize: { level }, inputs: shapes });
      const plan = m.plan();
      for (const k of plan.kernels) expect(k.bindings.length).toBeLessThanOrEqual(8);
      expect(plan.requiredLimits.maxStorageBuffersPerShaderStage).toBeUndefined();
      expect(m.inspect("opt")).toContain("scan");
    });
  }
});

describe.skipIf(!gpu.ok)(`the Bahdanau decoder on ${gpu.detail}`, () => {
  afterAll(async () => {
    await closeGpu();
  });

  for (const level of [0, 1] as const) {
    it(`-O${level}: WebGPU matches the CPU backend`, async () => {
      const m = compile({ file }, { optimize: { level } });
      const cpu = (await m.run(inputs, { backend: "cpu" })).outputs;
      const webgpu = (await m.run(inputs, { backend: "webgpu" })).outputs;
      expect([...webgpu.keys()].sort()).toEqual(["logits", "state"]);
      for (const [name, want] of cpu) {
        const got = webgpu.get(name)!;
        expect(got.shape).toEqual(want.shape);
        const a = want.data as Float32Array;
        const b = got.data as Float32Array;
        for (let i = 0; i < a.length; i++) expect(Math.abs(b[i]! - a[i]!)).toBeLessThan(1e-4);
      }
    });
  }
});
