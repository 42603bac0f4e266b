// Out-of-range token ids (issue 17): the CPU backend raises NN7001, and
// WebGPU, whose gather kernel clamps, must raise the same error instead of
// returning numbers, for ids given as inputs and ids computed from them. In
// range, the two backends agree.

import { afterAll, describe, expect, inject, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { NncError } from "../../compiler/core/diagnostics.js";
import { tensorOf } from "../../compiler/core/tensor.js";
import type { Backend } from "../../compiler/run.js";
import { closeGpu } from "../../runtime/webgpu/device.js";

const gpu = inject("gpu");

const source = `
model embed(vocab: int = 500)(tokens: i32[N, T]) {
  tokens -> embedding(vocab, 8)
}
model embed_flat(vocab: int = 500)(tokens: i32[N, T]) {
  tokens.reshape([-1]) -> embedding(vocab, 8)
}
model embed_shifted(vocab: int = 500)(tokens: i32[N, T]) {
  tokens[:, 1:] + 1 -> embedding(vocab, 8)
}
`;

async function run(entry: string, ids: number[], backend: Backend) {
  const m = compile(source, { entry });
  const tokens = tensorOf("i32", [2, 3], ids);
  return (await m.run(new Map([["tokens", tokens]]), { backend })).outputs;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NncError) return `${e.code}: ${e.diagnostics[0]!.message}`;
    throw e;
  }
  return "ran";
}

describe.skipIf(!gpu.ok)(`token ids on ${gpu.detail}`, () => {
  afterAll(async () => {
    await closeGpu();
  });

  it("indices computed from the inputs are checked too: 499 + 1 is past the vocabulary", async () => {
    const ids = [0, 1, 2, 3, 4, 499];
    const cpu = await codeOf(run("embed_shifted", ids, "cpu"));
    expect(cpu).toMatch(/^NN7001: gather: index 500 at position \[1, 1\]/);
    expect(await codeOf(run("embed_shifted", ids, "webgpu"))).toBe(cpu);
    expect(await codeOf(run("embed_shifted", [0, 1, 2, 3, 4, 498], "webgpu"))).toBe("ran");
  });

  for (const entry of ["embed", "embed_flat"]) {
    it(`${entry}: an id past the vocabulary is NN7001 on both backends`, async () => {
      for (const ids of [
        [1, 2, 3, 4, 600, 5],
        [1, 2, 3, -1, 0, 5],
      ]) {
        const cpu = await codeOf(run(entry, ids, "cpu"));
        const webgpu = await codeOf(run(entry, ids, "webgpu"));
        expect(cpu).toMatch(/^NN7001: gather: index (600|-1) at position/);
        expect(webgpu).toBe(cpu);
      }
    });

    it(`${entry}: ids in range give the CPU backend's numbers`, async () => {
      const ids = [0, 499, 7, 42, 1, 250];
      const cpu = (await run(entry, ids, "cpu")).values().next().value!;
      const webgpu = (await run(entry, ids, "webgpu")).values().next().value!;
      expect(webgpu.shape).toEqual(cpu.shape);
      const a = Array.from(cpu.data as Float32Array);
      const b = Array.from(webgpu.data as Float32Array);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    });
  }
});
