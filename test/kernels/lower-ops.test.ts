// Every primitive's Kernel IR lowering agrees with its CPU evaluate: random
// shapes and attributes, one op per graph, run through the Kernel IR
// interpreter and compared with the Graph IR interpreter.

import fc from "fast-check";
import { describe, it } from "vitest";
import type { DType } from "../../compiler/core/types.js";
import { windowOutSize } from "../../compiler/ops/window-geometry.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { checkLowering } from "./helpers.js";

const dim = fc.integer({ min: 1, max: 4 });
const shape = fc.array(dim, { minLength: 0, maxLength: 4 });

/** An output shape and operand shapes that broadcast to it (leading dims dropped, some dims set to 1). */
function broadcastOperands(count: number) {
  return fc
    .tuple(
      shape,
      fc.array(fc.tuple(fc.nat(4), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })), {
        minLength: count,
        maxLength: count,
      }),
    )
    .map(([out, specs]) =>
      specs.map(([drop, ones]) =>
        out.slice(Math.min(drop, out.length)).map((d, i) => (ones[i] ? 1 : d)),
      ),
    );
}

const runs = { numRuns: 25 };

describe("elementwise lowerings", () => {
  const unary: [string, DType][] = [
    ["neg", "f32"],
    ["neg", "i32"],
    ["abs", "f32"],
    ["abs", "i32"],
    ["relu", "f32"],
    ["relu", "i32"],
    ["exp", "f32"],
    ["log", "f32"],
    ["sqrt", "f32"],
    ["rsqrt", "f32"],
    ["tanh", "f32"],
    ["sigmoid", "f32"],
    ["erf", "f32"],
    ["floor", "f32"],
    ["ceil", "f32"],
    ["not", "bool"],
  ];
  it.each(unary)("%s on %s", (op, dtype) => {
    fc.assert(
      fc.property(shape, fc.nat(1000), (s, seed) => {
        const b = new GraphBuilder();
        b.output("y", b.op(op, [b.input("x", dtype, s)]));
        checkLowering(b.graph, {}, seed);
      }),
      { numRuns: 5 },
    );
  });

  const binary: [string, DType][] = [
    ["add", "f32"],
    ["add", "i32"],
    ["sub", "f32"],
    ["mul", "f32"],
    ["mul", "i32"],
    ["div", "f32"],
    ["pow", "f32"],
    ["max", "f32"],
    ["min", "i32"],
    ["and", "bool"],
    ["or", "bool"],
  ];
  it.each(binary)("%s on %s with broadcasting", (op, dtype) => {
    fc.assert(
      fc.property(broadcastOperands(2), fc.nat(1000), ([sa, sb], seed) => {
        const b = new GraphBuilder();
        b.output("y", b.op(op, [b.input("a", dtype, sa!), b.input("b", dtype, sb!)]));
        checkLowering(b.graph, {}, seed);
      }),
      { numRuns: 8 },
    );
  });

  it("cmp and where broadcast all operands", () => {
    const cmps = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
    fc.assert(
      fc.property(
        broadcastOperands(4),
        fc.constantFrom(...cmps),
        fc.constantFrom<DType>("f32", "i32", "bool"),
        fc.nat(1000),
        ([s1, s2, s3, s4], c, dtype, seed) => {
          const b = new GraphBuilder();
          const cond = b.op("cmp", [b.input("a", dtype, s1!), b.input("b", dtype, s2!)], { op: c });
          b.output("c", cond);
          b.output("w", b.op("where", [cond, b.input("x", "f32", s3!), b.input("y", "f32", s4!)]));
          checkLowering(b.graph, {}, seed, 3);
        },
      ),
      runs,
    );
  });

  it("casts between every pair of compute dtypes", () => {
    const types: DType[] = ["f32", "i32", "bool"];
    fc.assert(
      fc.property(
        shape,
        fc.constantFrom(...types),
        fc.constantFrom(...types),
        fc.nat(1000),
        (s, from, to, seed) => {
          const b = new GraphBuilder();
          const x = b.input("x", from, s);
          const scaled =
            from === "f32"
              ? b.op("mul", [x, b.op("const", [], { dtype: "f32", shape: [], value: [7] })])
              : x;
          b.output("y", b.op("cast", [scaled], { to }));
          checkLowering(b.graph, {}, seed);
        },
      ),
      runs,
    );
  });
});

describe("reduction lowerings", () => {
  it("sum, max and mean over any axes, keepdims or not", () => {
    fc.assert(
      fc.property(
        fc.array(dim, { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom("reduce_sum", "reduce_max", "reduce_mean"),
        fc.constantFrom<DType>("f32", "i32"),
        fc.nat(1000),
        (s, pick, keepdims, op, dtype, seed) => {
          let axes = s.map((_, i) => i).filter((i) => pick[i]);
          if (axes.length === 0) axes = [s.length - 1];
          const t: DType = op === "reduce_mean" ? "f32" : dtype;
          const b = new GraphBuilder();
          b.output("y", b.op(op, [b.input("x", t, s)], { axes, keepdims }));
          checkLowering(b.graph, {}, seed);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("contraction lowerings", () => {
  it("matmul: batched, broadcast, 1-D operands", () => {
    const mk = fc.integer({ min: 1, max: 9 });
    fc.assert(
      fc.property(
        broadcastOperands(2),
        mk,
        mk,
        mk,
        fc.constantFrom("mm", "vm", "mv", "vv"),
        fc.boolean(),
        fc.nat(1000),
        ([ba, bb], m, k, n, kind, tiling, seed) => {
          const sa = kind[0] === "v" ? [k] : [...ba!.slice(-2), m, k];
          const sb = kind[1] === "v" ? [k] : [...bb!.slice(-2), k, n];
          const b = new GraphBuilder();
          b.output("y", b.op("matmul", [b.input("a", "f32", sa), b.input("b", "f32", sb)]));
          checkLowering(b.graph, { tiling }, seed);
        },
      ),
      { numRuns: 40 },
    );
  });

  const convGeometry = fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 8 }),
    w: fc.integer({ min: 1, max: 8 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pad: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  });

  it("conv2d: stride, padding, dilation and groups", () => {
    fc.assert(
      fc.property(convGeometry, fc.nat(1000), (c, seed) => {
        const ho = windowOutSize(c.h, c.kh, c.stride[0], c.pad[0], c.dilation[0]);
        const wo = windowOutSize(c.w, c.kw, c.stride[1], c.pad[1], c.dilation[1]);
        fc.pre(ho > 0 && wo > 0);
        const b = new GraphBuilder();
        const x = b.input("x", "f32", [c.n, c.groups * c.cg, c.h, c.w]);
        const w = b.input("w", "f32", [c.groups * c.og, c.cg, c.kh, c.kw]);
        const { stride, pad, dilation, groups } = c;
        b.output("y", b.op("conv2d", [x, w], { stride, pad, dilation, groups }));
        checkLowering(b.graph, {}, seed);
      }),
      { numRuns: 40 },
    );
  });

  it("conv_transpose2d: stride, padding, output_padding, dilation and groups", () => {
    fc.assert(
      fc.property(convGeometry, fc.nat(2), fc.nat(2), fc.nat(1000), (c, oph, opw, seed) => {
        const output_padding = [
          oph % Math.max(c.stride[0], c.dilation[0]),
          opw % Math.max(c.stride[1], c.dilation[1]),
        ];
        const size = (i: number, k: number, ax: 0 | 1) =>
          (i - 1) * c.stride[ax] -
          2 * c.pad[ax] +
          c.dilation[ax] * (k - 1) +
          output_padding[ax]! +
          1;
        fc.pre(size(c.h, c.kh, 0) > 0 && size(c.w, c.kw, 1) > 0);
        const b = new GraphBuilder();
        const x = b.input("x", "f32", [c.n, c.groups * c.cg, Math.min(c.h, 5), Math.min(c.w, 5)]);
        const w = b.input("w", "f32", [c.groups * c.cg, c.og, c.kh, c.kw]);
        const { stride, pad, dilation, groups } = c;
        const attrs = { stride, pad, dilation, groups, output_padding };
        fc.pre(size(Math.min(c.h, 5), c.kh, 0) > 0 && size(Math.min(c.w, 5), c.kw, 1) > 0);
        b.output("y", b.op("conv_transpose2d", [x, w], attrs));
        checkLowering(b.graph, {}, seed);
      }),
      { numRuns: 40 },
    );
  });

  it("pool2d: max and avg, padding, count_include_pad", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("max", "avg"),
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        fc.tuple(fc.nat(1), fc.nat(1)),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(1000),
        (kind, kernel, stride, p, count_include_pad, h, w, seed) => {
          const pad = [
            Math.min(p[0], Math.floor(kernel[0] / 2)),
            Math.min(p[1], Math.floor(kernel[1] / 2)),
          ];
          fc.pre(windowOutSize(h, kernel[0], stride[0], pad[0]!) > 0);
          fc.pre(windowOutSize(w, kernel[1], stride[1], pad[1]!) > 0);
          const b = new GraphBuilder();
          const x = b.input("x", "f32", [2, 3, h, w]);
          b.output("y", b.op("pool2d", [x], { kind, kernel, stride, pad, count_include_pad }));
          checkLowering(b.graph, {}, seed);
        },
      ),
      { numRuns: 40 },
    );
  });
});
