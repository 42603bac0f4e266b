// Train-mode dropout: stdlib/nn.nn's `dropout` keeps an element when hash32
// of (rng:seed, rng:step, its index) clears the p-quantile and scales it by
// 1/(1-p). The mask is the same bit for bit on the CPU and WebGPU, about 1-p of
// the elements survive, and it depends on (seed, step) alone.

import { describe, expect, inject, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { RNG_SEED, RNG_STEP } from "../../compiler/elaborate/builtins/random.js";
import { fmix32 } from "../../compiler/ops/scalar.js";

const N = 64 * 1024;
const P = 0.3;
const src = `def drop(x: f32[${N}]) { dropout(x, p=${P}) }
def two(x: f32[8, 16]) { dropout(x, p=0.5) + dropout(x, p=0.5) }`;

const scalarI32 = (v: number): Tensor => ({ dtype: "i32", shape: [], data: new Int32Array([v]) });
const ones = (n: number): Tensor => ({
  dtype: "f32",
  shape: [n],
  data: new Float32Array(n).fill(1),
});

async function draw(seed: number, step: number, backend: "cpu" | "webgpu", opt = 1) {
  const m = compile(src, {
    entry: "drop",
    mode: "train",
    ...(opt === 0 ? { optimize: { level: 0 } } : {}),
  });
  const inputs = new Map([
    ["x", ones(N)],
    [RNG_SEED, scalarI32(seed)],
    [RNG_STEP, scalarI32(step)],
  ]);
  const r = await m.run(inputs, { backend, weights: "seeded" });
  return r.outputs.get("output")!.data as Float32Array;
}

describe("train-mode dropout", () => {
  it("hash32 is murmur3's fmix32", () => {
    // Reference values of fmix32 (murmur3 finalizer) as unsigned ints.
    expect(fmix32(0) >>> 0).toBe(0);
    expect(fmix32(1) >>> 0).toBe(0x514e28b7);
  });

  it("keeps about 1-p of the elements, scaled by 1/(1-p)", async () => {
    const y = await draw(7, 0, "cpu");
    const kept = y.filter((v) => v !== 0);
    // Binomial(65536, 0.7): sd ≈ 117, so 6 sd ≈ 0.011 of the rate.
    expect(Math.abs(kept.length / N - (1 - P))).toBeLessThan(0.011);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / (1 - P))]));
  });

  it("is deterministic per (seed, step) and differs across steps and seeds", async () => {
    const a = await draw(7, 3, "cpu");
    const again = await draw(7, 3, "cpu", 0);
    const nextStep = await draw(7, 4, "cpu");
    const otherSeed = await draw(8, 3, "cpu");
    expect(again).toEqual(a);
    const agree = (u: Float32Array, v: Float32Array) =>
      u.filter((x, i) => (x === 0) === (v[i] === 0)).length / N;
    // Independent masks agree on p² + (1-p)² = 0.58 of the elements.
    expect(agree(a, nextStep)).toBeLessThan(0.6);
    expect(agree(a, otherSeed)).toBeLessThan(0.6);
  });

  it("gives each dropout call of a step its own mask", async () => {
    const m = compile(src, { entry: "two", mode: "train" });
    const x: Tensor = { dtype: "f32", shape: [8, 16], data: new Float32Array(128).fill(1) };
    const r = await m.run(
      new Map([
        ["x", x],
        [RNG_SEED, scalarI32(1)],
        [RNG_STEP, scalarI32(0)],
      ]),
      { backend: "cpu", weights: "seeded" },
    );
    // Two equal masks would give only 0 and 4; independent ones also give 2.
    expect(new Set(r.outputs.get("output")!.data as Float32Array)).toEqual(new Set([0, 2, 4]));
  });

  it("is the identity in eval mode (no RNG inputs)", () => {
    const g = compile(src, { entry: "drop" }).elaborate().graph;
    expect(g.inputs.map((i) => i.name)).toEqual(["x"]);
    expect(g.nodes.filter((n) => n.op !== "input").length).toBe(0);
  });

  describe.skipIf(!inject("gpu").ok)("on WebGPU", () => {
    for (const opt of [1, 0]) {
      it(`draws the CPU's mask bit for bit at -O${opt}`, async () => {
        const cpu = await draw(123456789, 41, "cpu", opt);
        const gpu = await draw(123456789, 41, "webgpu", opt);
        expect(gpu.length).toBe(cpu.length);
        const differ = cpu.findIndex((v, i) => v !== gpu[i]);
        expect(differ).toBe(-1);
      }, 120_000);
    }
  });
});
