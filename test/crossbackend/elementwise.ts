// Cross-backend properties of the elementwise primitives: every unary op on
// each dtype it takes, cast between every pair of dtypes, every binary op and
// comparison on each dtype under broadcasting, where, iota and constants.
// One graph per case holds every op of its family, so a case is one plan.

import fc from "fast-check";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { broadcastShapes, shape } from "./arbitraries.js";
import {
  type CrossCase,
  close,
  crossProperty,
  type Domain,
  exact,
  type Tolerance,
} from "./harness.js";

/**
 * f32 unary ops and what WGSL promises for them: exp within 3 + 2|x| ulp, log
 * within 2^-21 absolute near 1, sqrt/rsqrt a few ulp; tanh, sigmoid and erf
 * are composed (exp-based, Abramowitz–Stegun), good to ~1e-7 absolute.
 */
const f32Unary: [string, Tolerance][] = [
  ["neg", exact],
  ["abs", exact],
  ["relu", exact],
  ["floor", exact],
  ["ceil", exact],
  ["exp", close(1e-7, 1e-5)],
  ["tanh", close(1e-6, 1e-5)],
  ["sigmoid", close(1e-6, 1e-5)],
  ["erf", close(1e-6, 1e-5)],
];
/** Defined on positive inputs only (WGSL leaves log/sqrt of negatives unspecified). */
const positiveUnary: [string, Tolerance][] = [
  ["log", close(2e-6, 1e-6)],
  ["sqrt", close(0, 2e-6)],
  ["rsqrt", close(0, 2e-6)],
];
/** i32 only: hash32 (the dropout RNG's mixer) must agree bit for bit, as every i32 op here. */
const i32Unary = ["neg", "abs", "relu", "hash32"];

/**
 * Shapes for the ops whose results do not depend on the shape (no
 * broadcasting): a few, so that runs differ in values and reuse compiled
 * kernels; ranks 0-4, odd sizes.
 */
const elementwiseShapes = fc.constantFrom<number[]>([], [7], [3, 5], [2, 3, 1, 5]);

const unary = crossProperty({
  name: "unary ops on f32, i32 (wrapping) and bool",
  ops: [...f32Unary, ...positiveUnary].map(([op]) => op).concat(["not", "hash32"]),
  numRuns: 16,
  arbitrary: fc.record({
    shape: elementwiseShapes,
    f32: fc.constantFrom<Domain>("unit", "wide", "ints"),
    i32: fc.constantFrom<Domain>("small", "full"),
  }),
  build(c): CrossCase {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", c.shape);
    const p = b.input("p", "f32", c.shape);
    const n = b.input("n", "i32", c.shape);
    const m = b.input("m", "bool", c.shape);
    const tolerance: Record<string, Tolerance> = {};
    for (const [op, tol] of f32Unary) {
      b.output(op, b.op(op, [x]));
      tolerance[op] = tol;
    }
    for (const [op, tol] of positiveUnary) {
      b.output(op, b.op(op, [p]));
      tolerance[op] = tol;
    }
    for (const op of i32Unary) b.output(`i32_${op}`, b.op(op, [n]));
    b.output("not", b.op("not", [m]));
    return { graph: b.graph, domains: { x: c.f32, p: "positive", n: c.i32 }, tolerance };
  },
});

const dtypes = ["f32", "i32", "bool"] as const;

const cast = crossProperty({
  name: "cast between f32, i32 and bool (truncation, saturation, != 0)",
  ops: ["cast"],
  numRuns: 12,
  arbitrary: fc.record({
    shape: elementwiseShapes,
    f32: fc.constantFrom<Domain>("wide", "ints", "huge"),
    i32: fc.constantFrom<Domain>("small", "full"),
  }),
  build(c): CrossCase {
    const b = new GraphBuilder();
    const ins = {
      f32: b.input("x", "f32", c.shape),
      i32: b.input("n", "i32", c.shape),
      bool: b.input("m", "bool", c.shape),
    };
    for (const from of dtypes)
      for (const to of dtypes) b.output(`${from}_to_${to}`, b.op("cast", [ins[from]], { to }));
    return { graph: b.graph, domains: { x: c.f32, n: c.i32 }, tolerance: exact };
  },
});

const comparisons = ["eq", "ne", "lt", "le", "gt", "ge"];

/** The binary ops of each dtype, with their tolerances (WGSL's x / y is within 2.5 ulp). */
const binaryByDtype: Record<(typeof dtypes)[number], [string, Tolerance][]> = {
  f32: [
    ["add", exact],
    ["sub", exact],
    ["mul", exact],
    ["div", close(0, 1e-6)],
    ["pow", close(1e-6, 1e-5)],
    ["max", exact],
    ["min", exact],
  ],
  i32: [
    ["add", exact],
    ["sub", exact],
    ["mul", exact],
    ["max", exact],
    ["min", exact],
  ],
  bool: [
    ["and", exact],
    ["or", exact],
  ],
};

/** Whole numbers make ties (eq, max); nonzero keeps x / 0 out (WGSL leaves it unspecified). */
const domainsOf: Record<(typeof dtypes)[number], Domain[]> = {
  f32: ["unit", "nonzero"],
  i32: ["small", "full"],
  bool: ["bool"],
};

/** Every binary op and comparison of one dtype on a broadcast pair; f32 adds constant operands. */
function binary(dtype: (typeof dtypes)[number], numRuns: number) {
  const ops = binaryByDtype[dtype].map(([op]) => op).concat(["cmp"]);
  return crossProperty({
    name: `binary ops and comparisons on ${dtype}, broadcasting`,
    ops: dtype === "f32" ? [...ops, "const"] : ops,
    numRuns,
    arbitrary: fc.record({
      shapes: broadcastShapes(2),
      domain: fc.constantFrom<Domain>(...domainsOf[dtype]),
    }),
    build(c): CrossCase {
      const [sa, sb] = c.shapes as [number[], number[]];
      const b = new GraphBuilder();
      const tolerance: Record<string, Tolerance> = {};
      const x = b.input("a", dtype, sa);
      const y = b.input("b", dtype, sb);
      for (const [op, tol] of binaryByDtype[dtype]) {
        b.output(op, b.op(op, [x, y]));
        tolerance[op] = tol;
      }
      for (const op of comparisons) b.output(op, b.op("cmp", [x, y], { op }));
      if (dtype === "f32") {
        // A scalar constant operand (inlined as a literal) and a tensor one (a buffer).
        b.output("a_plus_const", b.op("add", [x, b.op("const", [], scalar(0.375))]));
        const values = Array.from({ length: 7 }, (_, i) => i - 3.5);
        const table = b.op("const", [], { dtype: "f32", shape: [7], value: values });
        b.output("const_table", b.op("mul", [b.op("reshape", [table], { shape: [7] }), table]));
      }
      return { graph: b.graph, domains: { a: c.domain, b: c.domain }, tolerance };
    },
  });
}

function scalar(v: number) {
  return { dtype: "f32", shape: [], value: [v] };
}

const where = crossProperty({
  name: "where with all three operands broadcast, on every dtype",
  ops: ["where"],
  numRuns: 8,
  arbitrary: broadcastShapes(3),
  build(shapes): CrossCase {
    const [sc, sa, sb] = shapes as [number[], number[], number[]];
    const b = new GraphBuilder();
    const cond = b.input("cond", "bool", sc);
    for (const dtype of dtypes) {
      const x = b.input(`${dtype}_a`, dtype, sa);
      const y = b.input(`${dtype}_b`, dtype, sb);
      b.output(dtype, b.op("where", [cond, x, y]));
    }
    return { graph: b.graph, tolerance: exact };
  },
});

const iota = crossProperty({
  name: "iota on each axis and dtype, alone and inside a compute kernel",
  ops: ["iota"],
  numRuns: 8,
  arbitrary: fc.record({ shape: shape(1, 4), axis: fc.nat(3) }),
  build(c): CrossCase {
    const b = new GraphBuilder();
    const axis = c.axis % c.shape.length;
    const n = b.input("n", "i32", c.shape);
    for (const dtype of ["f32", "i32"] as const) {
      const i = b.op("iota", [], { shape: c.shape, axis, dtype });
      b.output(dtype, i);
      if (dtype === "i32") b.output("iota_le_n", b.op("cmp", [i, n], { op: "le" }));
      else b.output("iota_times_half", b.op("mul", [i, b.op("const", [], scalar(0.5))]));
    }
    return { graph: b.graph, tolerance: exact };
  },
});

export const elementwiseProperties = [
  unary,
  cast,
  binary("f32", 6),
  binary("i32", 6),
  binary("bool", 4),
  where,
  iota,
];
