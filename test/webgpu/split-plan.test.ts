// Splitting an executable plan across devices (runtime/webgpu/split-plan.ts),
// structurally and without a GPU: the parts are the plan's dispatches in
// order, each with only the kernels and buffers it uses, and every value that
// crosses a cut leaves one part as an output and enters a later one as an input.
// That the parts compute what the whole plan does is checked on the device in
// split-gpu.test.ts.

import { describe, expect, it } from "vitest";
import type { ExecutablePlan } from "../../compiler/codegen/plan.js";
import { compile } from "../../compiler/compile.js";
import { pipelineKey, wgslCode } from "../../runtime/webgpu/pipeline-key.js";
import {
  chooseCuts,
  cutName,
  isCutName,
  splitPlan,
  validCuts,
} from "../../runtime/webgpu/split-plan.js";
import { buffer, kernel, plan } from "./plans.js";

const resnet18 = () =>
  compile({ stdlib: "resnet" }, { entry: "resnet18" }).plan({ input: { shape: [1, 3, 224, 224] } });

const cost = (p: ExecutablePlan) => (k: number) => 1500 + wgslCode(p.kernels[k]!.wgsl).length;
const keys = (p: ExecutablePlan) => (k: number) => pipelineKey(p.kernels[k]!);

/** Each part's distinct pipelines' cost. */
function partCosts(parts: ExecutablePlan[]): number[] {
  return parts.map((p) => {
    const seen = new Map<string, number>();
    for (const d of p.dispatches) seen.set(pipelineKey(p.kernels[d.kernel]!), cost(p)(d.kernel));
    return [...seen.values()].reduce((a, b) => a + b, 0);
  });
}

/** Checks what every split must satisfy. */
function expectWellFormed(whole: ExecutablePlan, parts: ExecutablePlan[]) {
  // The dispatches, in order, each with its kernel and buffers.
  const flat = parts.flatMap((p) =>
    p.dispatches.map((d) => ({ ...d, kernel: p.kernels[d.kernel]! })),
  );
  expect(flat).toEqual(whole.dispatches.map((d) => ({ ...d, kernel: whole.kernels[d.kernel]! })));
  for (const p of parts) {
    // Only the kernels it dispatches, only the buffers it binds or names.
    expect(new Set(p.dispatches.map((d) => d.kernel)).size).toBe(p.kernels.length);
    const named = new Set([
      ...p.dispatches.flatMap((d) => d.buffers),
      ...[...p.inputs, ...p.params, ...p.outputs].map((e) => e.buffer),
    ]);
    expect(new Set(p.buffers.map((b) => b.id))).toEqual(named);
  }
  // Every model input, weight and output is in some part; outputs in exactly one.
  for (const list of ["inputs", "params", "outputs"] as const)
    for (const e of whole[list])
      expect(
        parts.some((p) => p[list].some((x) => x.name === e.name && x.buffer === e.buffer)),
        e.name,
      ).toBe(true);
  for (const o of whole.outputs)
    expect(parts.filter((p) => p.outputs.some((x) => x.name === o.name))).toHaveLength(1);
  // A carried value: an output of exactly one part, an input of later parts only.
  parts.forEach((p, i) => {
    for (const inp of p.inputs.filter((e) => isCutName(e.name))) {
      const from = parts.findIndex((q) => q.outputs.some((o) => o.name === inp.name));
      expect(from, inp.name).toBeGreaterThanOrEqual(0);
      expect(from).toBeLessThan(i);
      expect(p.buffers.find((b) => b.id === inp.buffer)!.source).toEqual({
        kind: "input",
        name: inp.name,
      });
    }
  });
}

describe("splitting ResNet-18's plan in two", () => {
  const whole = resnet18();
  const at = chooseCuts(whole, 2, cost(whole), keys(whole));
  const parts = splitPlan(whole, at);

  it("cuts once, where little is live: what crosses is read back and uploaded again", () => {
    expect(at).toHaveLength(1);
    expect(parts).toHaveLength(2);
    expectWellFormed(whole, parts);
    const carried = parts[0]!.outputs.filter((o) => isCutName(o.name));
    expect(carried.length).toBeGreaterThan(0);
    expect(parts[1]!.inputs.map((i) => i.name)).toEqual(
      expect.arrayContaining(carried.map((c) => c.name)),
    );
    // Activations at the cut, not the 3 MiB of the stem's: under a MiB per run.
    const bytes = carried.reduce(
      (a, c) => a + whole.buffers.find((b) => b.id === c.buffer)!.bytes,
      0,
    );
    expect(bytes).toBeLessThan(1 << 20);
  });

  it("gives each part about half of the pipeline code to compile", () => {
    const [a, b] = partCosts(parts);
    const total = partCosts([whole])[0]!;
    expect(a! + b!).toBeLessThan(total * 1.1);
    expect(Math.max(a!, b!)).toBeLessThan(total * 0.6);
  });
});

describe("where a plan can be cut", () => {
  it("never inside a recurrence: no buffer is written on both sides of a cut", () => {
    const lstm = compile({ stdlib: "rnn" }, { entry: "lstm", args: { hidden: 16 } }).plan({
      input: { shape: [1, 6, 8] },
    });
    const writes = (d: ExecutablePlan["dispatches"][number]) =>
      lstm.kernels[d.kernel]!.bindings.flatMap((b, j) =>
        b.access === "read_write" ? [d.buffers[j]!] : [],
      );
    for (const { at } of validCuts(lstm)) {
      const before = new Set(lstm.dispatches.slice(0, at).flatMap(writes));
      const after = lstm.dispatches.slice(at).flatMap(writes);
      expect(
        after.filter((id) => before.has(id)),
        `cut at ${at}`,
      ).toEqual([]);
    }
  });

  it("carries a value straight to the part that reads it, past the parts that do not", () => {
    // x → a → b → c, and c also reads a: in three parts, a goes from part 0 to parts 1 and 2.
    const wgsl = (tag: string) => `// ${tag}\n@compute @workgroup_size(1) fn main() {}`;
    const one = kernel("one", wgsl("one"), ["read", "read_write"]);
    const two = kernel("two", wgsl("two"), ["read", "read", "read_write"]);
    const p = plan(
      [
        buffer(0, "x", "f32", [4], { kind: "input", name: "x" }),
        buffer(1, "a", "f32", [4]),
        buffer(2, "b", "f32", [4]),
        buffer(3, "c", "f32", [4]),
        buffer(4, "d", "f32", [4]),
      ],
      [one, two],
      [
        { kernel: 0, grid: [1, 1, 1], buffers: [0, 1] },
        { kernel: 0, grid: [1, 1, 1], buffers: [1, 2] },
        { kernel: 1, grid: [1, 1, 1], buffers: [2, 1, 3] },
        { kernel: 0, grid: [1, 1, 1], buffers: [3, 4] },
      ],
      { outputs: [{ name: "d", buffer: 4 }] },
    );
    const parts = splitPlan(p, [1, 2]);
    expectWellFormed(p, parts);
    expect(parts[0]!.outputs.map((o) => o.name)).toEqual([cutName(1)]);
    expect(parts[1]!.inputs.map((i) => i.name)).toEqual([cutName(1)]);
    expect(parts[2]!.inputs.map((i) => i.name).sort()).toEqual([cutName(1), cutName(2)].sort());
    expect(parts[2]!.outputs.map((o) => o.name)).toEqual(["d"]);
  });
});
