// Shared helpers for the Kernel IR suites: random tensors from a seed, and
// the check every lowering test makes — the Kernel IR interpreter agrees
// with the Graph IR interpreter (each op's CPU evaluate) on the same graph.

import { expect } from "vitest";
import { allocData, type Tensor } from "../../compiler/core/tensor.js";
import type { DType } from "../../compiler/core/types.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { fuseGraph } from "../../compiler/kernels/fuse.js";
import { interpretProgram } from "../../compiler/kernels/interpret.js";
import { programFromJson, programToJson } from "../../compiler/kernels/ir.js";
import {
  type LowerOptions,
  lowerGraph,
  lowerGrouped,
  maxBindingsOf,
} from "../../compiler/kernels/lower.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { rng } from "../fuzz/fuzz.js";

// mulberry32, the fuzzer's generator, for the kernel tests too.
export { rng };

/** f32 in [-1, 1), i32 in [0, intRange), bool 0/1. */
export function randomTensor(dtype: DType, shape: number[], seed: number, intRange = 5): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  const data = allocData(dtype, n);
  for (let i = 0; i < n; i++) {
    if (dtype === "f32") (data as Float32Array)[i] = r() * 2 - 1;
    else if (dtype === "i32") (data as Int32Array)[i] = Math.floor(r() * intRange);
    else if (dtype === "bool") (data as Uint8Array)[i] = r() < 0.5 ? 1 : 0;
    else (data as BigInt64Array)[i] = BigInt(Math.floor(r() * intRange));
  }
  return { dtype, shape: [...shape], data };
}

/** Random values for every input of a graph, seeded values for its params. */
export function randomBindings(
  g: Graph,
  seed = 1,
  intRange = 5,
): { inputs: Map<string, Tensor>; params: Map<string, Tensor> } {
  const inputs = new Map(
    g.inputs.map((x, i) => [x.name, randomTensor(x.type.dtype, x.type.shape, seed + i, intRange)]),
  );
  // Params follow their init rules (a running variance is positive, unlike a random tensor).
  return { inputs, params: seededParams(g.params) };
}

/** Asserts two tensors agree: exactly for integers and bools, within rtol/atol for f32. */
export function expectClose(got: Tensor, want: Tensor, what: string, tol = 1e-5): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  for (let i = 0; i < want.data.length; i++) {
    const a = Number(got.data[i]);
    const b = Number(want.data[i]);
    if (want.dtype !== "f32") {
      if (a !== b) expect(a, `${what}[${i}]`).toBe(b);
      continue;
    }
    if (Number.isNaN(b)) {
      if (!Number.isNaN(a)) expect(a, `${what}[${i}]`).toBeNaN();
      continue;
    }
    if (Math.abs(a - b) > tol * (1 + Math.abs(b))) expect(a, `${what}[${i}]`).toBeCloseTo(b, 5);
  }
}

/** Lowers `g` grouped by the fuse pass (as the pipeline's fuse does, within the options' binding limit). */
export function lowerFused(g: Graph, options: LowerOptions = {}) {
  return lowerGrouped(g, fuseGraph(g, maxBindingsOf(options)), options);
}

/**
 * Lowers `g`, round-trips the program through JSON and its schema, runs it
 * with the Kernel IR interpreter and compares every output with runGraph.
 */
export function checkLowering(
  g: Graph,
  options: LowerOptions & { fuse?: boolean } = {},
  seed = 1,
  intRange = 5,
): void {
  const { inputs, params } = randomBindings(g, seed, intRange);
  const want = runGraph(g, inputs, params);
  const lowered = options.fuse ? lowerFused(g, options) : lowerGraph(g, options);
  const program = programFromJson(programToJson(lowered));
  const got = interpretProgram(program, inputs, params);
  for (const [name, t] of want) expectClose(got.get(name)!, t, name);
}

/** conv → + bias → relu and x @ wᵀ → + bias → relu, plus softmax: graphs to fuse by hand. */
export function fusableGraph(): { graph: Graph; groups: { root: number; nodes: number[] }[] } {
  const b = new GraphBuilder();
  const x = b.input("x", "f32", [2, 3, 7, 9]);
  const w = b.input("w", "f32", [8, 3, 3, 3]);
  const bias = b.input("bias", "f32", [8]);
  const conv = b.op("conv2d", [x, w], { pad: [1, 1] });
  const shaped = b.op("reshape", [bias], { shape: [1, 8, 1, 1] });
  const sum = b.op("add", [conv, shaped]);
  const act = b.op("relu", [sum]);
  const flat = b.op("reshape", [act], { shape: [2, 504] });
  const fw = b.input("fw", "f32", [12, 504]);
  const t = b.op("permute", [fw], { perm: [1, 0] });
  const mm = b.op("matmul", [flat, t]);
  const fb = b.input("fb", "f32", [12]);
  const y = b.op("relu", [b.op("add", [mm, fb])]);
  const mx = b.op("reduce_max", [y], { axes: [1], keepdims: true });
  const e = b.op("exp", [b.op("sub", [y, mx])]);
  const s = b.op("div", [e, b.op("reduce_sum", [e], { axes: [1], keepdims: true })]);
  b.output("y", s);
  const g = b.graph;
  const after = (from: number, to: number) =>
    g.nodes.filter((n) => n.id >= from && n.id <= to).map((n) => n.id);
  const compute = (ids: number[]) =>
    ids.filter((id) => !["input", "param"].includes(g.nodes[id]!.op));
  return {
    graph: g,
    groups: [
      { root: act, nodes: compute(after(conv, act)) },
      { root: y, nodes: compute([t, mm, y - 1, y]) },
      { root: s, nodes: compute(after(mx, s)) },
    ],
  };
}
