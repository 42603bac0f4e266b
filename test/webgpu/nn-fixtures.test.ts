// The nn fixtures on the WebGPU backend, end to end: .nn → Graph IR → kernels
// → WGSL → GpuPlan on the device, compared with PyTorch's numbers by the same
// tolerances as the CPU suite. Skipped without an adapter.

import { describe, expect, inject, it } from "vitest";
import { nnCases, runFixture } from "../fixture-cases.js";
import { compareOutput, loadFixture } from "../fixture-compare.js";

describe.skipIf(!inject("gpu").ok)("nn fixtures on the WebGPU backend", () => {
  for (const c of nnCases) {
    it(c.fixture, async () => {
      const fx = loadFixture(c.fixture);
      const res = await runFixture(c, fx, ["--backend", "webgpu"]);
      expect(res.backend).toBe("webgpu");
      expect(Object.keys(res.outputs).sort()).toEqual(fx.outputs.map((o) => o.name).sort());
      for (const o of fx.outputs) {
        const got = res.outputs[o.name]!;
        expect(compareOutput(fx, o, got.data, got.shape)).toEqual([]);
      }
    });
  }
});
