// Cross-backend properties of the movement ops, which lower to index
// expressions: random chains of pad, slice (with steps), permute, reshape,
// broadcast and concat on f32, i32 and bool, ending in a copy or in a compute
// kernel they are inlined into; and gather along any axis. All exact.

import fc from "fast-check";
import type { DType } from "../../compiler/core/types.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { shape } from "./arbitraries.js";
import { type CrossCase, crossProperty, exact } from "./harness.js";

const kinds = ["pad", "slice", "permute", "reshape", "broadcast", "concat"] as const;

/** One step of a chain: its kind and numbers it reads its attributes from, whatever the shape. */
interface Step {
  kind: (typeof kinds)[number];
  r: number[];
}

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom(...kinds),
  // Enough for three numbers per axis of a rank-5 tensor.
  r: fc.array(fc.nat(1000), { minLength: 16, maxLength: 16 }),
});

/** Values a pad may fill with, per dtype (-inf as max-pooling pads). */
const fills: Record<string, number[]> = {
  f32: [0, 1.5, Number.NEGATIVE_INFINITY],
  i32: [0, -7],
  bool: [0, 1],
};

const MAX_ELEMENTS = 4096;
const numel = (s: number[]) => s.reduce((a, d) => a * d, 1);

/** Applies one step to `x` of shape `s`; returns the new node and shape (unchanged if it would grow too big). */
function apply(
  b: GraphBuilder,
  x: number,
  s: number[],
  dtype: DType,
  st: Step,
  k: number,
): [number, number[]] {
  const r = st.r;
  const rank = s.length;
  const keep: [number, number[]] = [x, s];
  switch (st.kind) {
    case "pad": {
      const pads = s.map((_, i) => [r[2 * i]! % 3, r[2 * i + 1]! % 3] as [number, number]);
      const out = s.map((d, i) => d + pads[i]![0] + pads[i]![1]);
      if (numel(out) > MAX_ELEMENTS) return keep;
      const value = fills[dtype]![r[11]! % fills[dtype]!.length]!;
      return [b.op("pad", [x], { pads, value }), out];
    }
    case "slice": {
      const starts = s.map((d, i) => r[3 * i]! % d);
      const ends = s.map((d, i) => starts[i]! + 1 + (r[3 * i + 1]! % (d - starts[i]!)));
      const steps = s.map((_, i) => 1 + (r[3 * i + 2]! % 3));
      const out = s.map((_, i) => Math.ceil((ends[i]! - starts[i]!) / steps[i]!));
      return [b.op("slice", [x], { starts, ends, steps }), out];
    }
    case "permute": {
      const perm = [...Array(rank).keys()];
      for (let i = rank - 1; i > 0; i--) {
        const j = r[i]! % (i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      return [b.op("permute", [x], { perm }), perm.map((p) => s[p]!)];
    }
    case "reshape": {
      // Merge two neighbouring axes, split one into two factors, or add a unit axis.
      const out = [...s];
      const i = r[0]! % Math.max(1, rank);
      const how = r[1]! % 3;
      if (how === 0 && rank >= 2) {
        const at = Math.min(i, rank - 2);
        out.splice(at, 2, s[at]! * s[at + 1]!);
      } else if (how === 1 && rank > 0 && rank < 5) {
        const d = s[i]!;
        const divisors = [...Array(d).keys()].map((v) => v + 1).filter((v) => d % v === 0);
        const f = divisors[r[2]! % divisors.length]!;
        out.splice(i, 1, f, d / f);
      } else if (rank < 5) out.splice(r[2]! % (rank + 1), 0, 1);
      return [b.op("reshape", [x], { shape: out }), out];
    }
    case "broadcast": {
      // Expand the unit axes, and maybe prepend one.
      const out = s.map((d, i) => (d === 1 ? 1 + (r[i]! % 3) : d));
      if (rank < 5 && r[10]! % 2 === 0) out.unshift(1 + (r[11]! % 3));
      if (numel(out) > MAX_ELEMENTS) return keep;
      return [b.op("broadcast", [x], { shape: out }), out];
    }
    case "concat": {
      if (rank === 0) return keep;
      // With a fresh input of another length on the axis, and maybe itself again.
      const axis = r[0]! % rank;
      const other = [...s];
      other[axis] = 1 + (r[1]! % 3);
      const y = b.input(`y${k}`, dtype, other);
      const parts = r[2]! % 2 === 0 ? [x, y] : [y, x, x];
      const out = [...s];
      out[axis] = parts.reduce((n, p) => n + (p === x ? s[axis]! : other[axis]!), 0);
      if (numel(out) > MAX_ELEMENTS) return keep;
      return [b.op("concat", parts, { axis }), out];
    }
  }
}

/** An exact elementwise op of each dtype, so the chain is inlined into a compute kernel. */
function compute(b: GraphBuilder, x: number, dtype: DType): number {
  if (dtype === "bool") return b.op("not", [x]);
  const two = b.op("const", [], { dtype, shape: [], value: [2] });
  return b.op(dtype === "f32" ? "mul" : "add", [x, two]);
}

const chains = crossProperty({
  name: "pad/slice/permute/reshape/broadcast/concat chains on every dtype",
  ops: ["pad", "slice", "permute", "reshape", "broadcast", "concat"],
  numRuns: 30,
  arbitrary: fc.record({
    shape: shape(1, 4, 6),
    dtype: fc.constantFrom<DType>("f32", "i32", "bool"),
    steps: fc.array(step, { minLength: 1, maxLength: 4 }),
    compute: fc.boolean(),
  }),
  build(c): CrossCase {
    const b = new GraphBuilder();
    let x = b.input("x", c.dtype, c.shape);
    let s = c.shape;
    c.steps.forEach((st, k) => {
      [x, s] = apply(b, x, s, c.dtype, st, k);
    });
    // A copy kernel when the chain ends the graph, else an index map inside a compute kernel.
    if (c.compute || b.graph.nodes[x]!.op === "input") x = compute(b, x, c.dtype);
    b.output("y", x);
    return { graph: b.graph, tolerance: exact };
  },
});

const gather = crossProperty({
  name: "gather along any axis with indices of rank 0-2, alone and inlined",
  ops: ["gather"],
  numRuns: 12,
  arbitrary: fc.record({
    data: shape(1, 3, 7),
    axis: fc.nat(2),
    indices: shape(0, 2, 5),
    dtype: fc.constantFrom<DType>("f32", "i32"),
  }),
  build(c): CrossCase {
    const axis = c.axis % c.data.length;
    const b = new GraphBuilder();
    const data = b.input("data", c.dtype, c.data);
    const idx = b.input("idx", "i32", c.indices);
    const g = b.op("gather", [data, idx], { axis });
    b.output("gather", g);
    b.output("gather_computed", compute(b, g, c.dtype));
    return { graph: b.graph, domains: { idx: { below: c.data[axis]! } }, tolerance: exact };
  },
});

export const movementProperties = [chains, gather];
