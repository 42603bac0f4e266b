// Shared by the recurrent suites: compiling stdlib recurrent entries at an
// optimization level, seeded inputs (with or without initial states), and a
// comparison that reports the worst element instead of thousands of lines.

import { expect } from "vitest";
import { type CompiledModel, compile } from "../../compiler/compile.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import type { Graph } from "../../compiler/graph/graph.js";
import type { OptimizeOptions } from "../../compiler/pipeline/index.js";
import { seededInput } from "../../runtime/weights/seeded.js";

export interface RnnCase {
  entry: "rnn" | "lstm" | "gru";
  args: Record<string, string>;
  /** Input shapes: `input` always, `h0` (and `c0`) for a given initial state. */
  shapes: Record<string, number[]>;
}

/** Initial-state shapes of a case: [layers × directions, batch, hidden]. */
export function withState(c: RnnCase): RnnCase {
  const layers = Number(c.args.layers ?? 1);
  const dirs = c.args.bidirectional === "true" ? 2 : 1;
  const [batch] = c.shapes.input!;
  const s = [layers * dirs, batch!, Number(c.args.hidden)];
  const shapes = { ...c.shapes, h0: s, ...(c.entry === "lstm" ? { c0: s } : {}) };
  return { ...c, shapes };
}

export const label = (c: RnnCase) =>
  `${c.entry}(${Object.entries(c.args)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}) ${Object.entries(c.shapes)
    .map(([k, s]) => `${k}=${s.join("x")}`)
    .join(" ")}`;

export function compileCase(c: RnnCase, optimize: OptimizeOptions = {}): CompiledModel {
  return compile({ stdlib: "rnn" }, { entry: c.entry, args: c.args, optimize });
}

export const specs = (shapes: Record<string, number[]>) =>
  Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { shape: s }]));

export function seededInputs(shapes: Record<string, number[]>, scale = 1): Map<string, Tensor> {
  return new Map(
    Object.entries(shapes).map(([k, s]) => [k, seededInput(k, s, { kind: "uniform", scale })]),
  );
}

export function optimizedGraph(c: RnnCase, optimize: OptimizeOptions = {}): Graph {
  return compileCase(c, optimize).optimized(specs(c.shapes));
}

/** Every output within atol + rtol·|want|; the message names the worst element. */
export function expectAllClose(
  got: Map<string, Tensor>,
  want: Map<string, Tensor>,
  tol = { atol: 1e-5, rtol: 1e-4 },
): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, w] of want) {
    const g = got.get(name)!;
    expect(g.shape, name).toEqual(w.shape);
    let worst = { i: -1, excess: 0, got: 0, want: 0 };
    for (let i = 0; i < w.data.length; i++) {
      const a = Number(g.data[i]);
      const b = Number(w.data[i]);
      const excess = Math.abs(a - b) - (tol.atol + tol.rtol * Math.abs(b));
      if (!(excess <= worst.excess)) worst = { i, excess, got: a, want: b };
    }
    expect(worst.i === -1 ? "ok" : worst, `${name}: worst element`).toBe("ok");
  }
}
