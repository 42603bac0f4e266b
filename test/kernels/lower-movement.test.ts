// Movement ops become index expressions: random chains of reshape, permute,
// slice, pad, broadcast, concat and gather agree with the CPU reference, and
// none of them gets a kernel unless it is itself a graph output.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import { printKernels } from "../../compiler/kernels/print.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { checkLowering, rng } from "./helpers.js";

type Step = "reshape" | "permute" | "slice" | "pad" | "broadcast" | "concat" | "gather";
const steps: Step[] = ["reshape", "permute", "slice", "pad", "broadcast", "concat", "gather"];

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** Applies one movement op with parameters drawn from `r` for the current shape. */
function apply(b: GraphBuilder, x: number, step: Step, r: () => number): number {
  const s = b.graph.nodes[x]!.type.shape;
  const pick = (n: number) => Math.floor(r() * n);
  switch (step) {
    case "reshape": {
      const n = s.reduce((a, d) => a * d, 1);
      const ds = divisors(n);
      const a = ds[pick(ds.length)]!;
      const rest = n / a;
      const ds2 = divisors(rest);
      const c = ds2[pick(ds2.length)]!;
      return b.op("reshape", [x], { shape: [a, rest / c, c] });
    }
    case "permute": {
      const perm = s.map((_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = pick(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      return b.op("permute", [x], { perm });
    }
    case "slice": {
      const starts = s.map((d) => pick(d));
      const ends = s.map((d, i) => starts[i]! + 1 + pick(d - starts[i]!));
      const stepsAttr = s.map(() => 1 + pick(2));
      return b.op("slice", [x], { starts, ends, steps: stepsAttr });
    }
    case "pad": {
      const pads = s.map(() => [pick(3), pick(3)]);
      return b.op("pad", [x], { pads, value: r() < 0.5 ? 0 : -2.5 });
    }
    case "broadcast": {
      const shape = [1 + pick(2), ...s.map((d) => (d === 1 ? 1 + pick(3) : d))];
      return b.op("broadcast", [x], { shape });
    }
    case "concat": {
      if (s.length === 0) return x;
      const axis = pick(s.length);
      const other = s.map((d, i) => (i === axis ? 1 + pick(3) : d));
      const y = b.input(`c${b.graph.nodes.length}`, "f32", other);
      return r() < 0.5 ? b.op("concat", [x, y], { axis }) : b.op("concat", [y, x, y], { axis });
    }
    case "gather": {
      if (s.length === 0) return x;
      const axis = pick(s.length);
      const shape = Array.from({ length: pick(3) }, () => 1 + pick(3));
      const n = shape.reduce((a, d) => a * d, 1);
      const value = Array.from({ length: n }, () => pick(s[axis]!));
      const idx = b.op("const", [], { dtype: "i32", shape, value });
      return b.op("gather", [x, idx], { axis });
    }
  }
}

describe("movement chains", () => {
  it("compose into index expressions that match the reference", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.constantFrom(...steps), { minLength: 1, maxLength: 4 }),
        fc.nat(100000),
        (shape, chain, seed) => {
          const r = rng(seed);
          const b = new GraphBuilder();
          let x = b.input("x", "f32", shape);
          for (const step of chain) x = apply(b, x, step, r);
          b.output("moved", x);
          b.output("negated", b.op("neg", [x]));
          checkLowering(b.graph, {}, seed);
          const program = lowerGraph(b.graph);
          // one kernel for neg, one copy for the output that is a movement op
          expect(program.kernels.length).toBe(2);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads a reshape of a reshape as the original element", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [2, 3, 4, 5]);
    const flat = b.op("reshape", [x], { shape: [2, 60] });
    const back = b.op("reshape", [flat], { shape: [6, 4, 5] });
    b.output("y", b.op("relu", [back]));
    const text = printKernels(lowerGraph(b.graph));
    expect(text).toContain("out[i, j, k] = relu(in0[i / 3, i % 3, j, k])");
  });

  it("iota and small constants are inlined as values", () => {
    const b = new GraphBuilder();
    const pos = b.op("iota", [], { shape: [3, 4], axis: 1, dtype: "i32" });
    const lim = b.op("const", [], { dtype: "i32", shape: [3, 1], value: [1, 2, 3] });
    const mask = b.op("cmp", [pos, lim], { op: "lt" });
    const x = b.input("x", "f32", [3, 4]);
    const zero = b.op("const", [], { dtype: "f32", shape: [], value: [0] });
    b.output("y", b.op("where", [mask, x, zero]));
    checkLowering(b.graph);
    const program = lowerGraph(b.graph);
    expect(program.buffers.map((buf) => buf.source.kind)).toEqual([
      "input",
      "computed",
      "computed",
    ]);
  });
});
