// Cross-backend properties of the reductions: reduce_sum / reduce_max /
// reduce_mean over every subset of axes, with and without keepdims, on f32
// and (sum, max) on i32 with wrapping; and pool2d, max and average, with
// padding and count_include_pad.

import fc from "fast-check";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { axesOf, dim, shape } from "./arbitraries.js";
import { type CrossCase, close, crossProperty, type Domain, exact, sumOf } from "./harness.js";

const reduce = crossProperty({
  name: "reduce_sum/max/mean over any axes, keepdims, f32 and wrapping i32",
  ops: ["reduce_sum", "reduce_max", "reduce_mean"],
  numRuns: 8,
  arbitrary: fc.record({
    shape: shape(1, 4),
    // Sometimes one long axis, longer than a workgroup's worth of one pass.
    long: fc.option(fc.record({ axis: fc.nat(3), size: fc.integer({ min: 60, max: 300 }) })),
    mask: fc.nat(15),
    keepdims: fc.boolean(),
    f32: fc.constantFrom<Domain>("unit", "ints"),
    i32: fc.constantFrom<Domain>("small", "full"),
  }),
  build(c): CrossCase {
    const dims = [...c.shape];
    if (c.long) dims[c.long.axis % dims.length] = c.long.size;
    const axes = axesOf(dims.length, c.mask);
    const count = axes.reduce((n, a) => n * dims[a]!, 1);
    const attrs = { axes, keepdims: c.keepdims };
    const b = new GraphBuilder();
    const x = b.input("x", "f32", dims);
    const n = b.input("n", "i32", dims);
    b.output("sum", b.op("reduce_sum", [x], attrs));
    b.output("max", b.op("reduce_max", [x], attrs));
    b.output("mean", b.op("reduce_mean", [x], attrs));
    b.output("i32_sum", b.op("reduce_sum", [n], attrs));
    b.output("i32_max", b.op("reduce_max", [n], attrs));
    return {
      graph: b.graph,
      domains: { x: c.f32, n: c.i32 },
      tolerance: {
        sum: sumOf(count * (c.f32 === "ints" ? 4 : 1)),
        max: exact,
        mean: close(1e-6, 1e-5),
        i32_sum: exact,
        i32_max: exact,
      },
    };
  },
});

const pool2d = crossProperty({
  name: "pool2d max and avg: kernel, stride, padding, count_include_pad",
  ops: ["pool2d"],
  numRuns: 10,
  arbitrary: fc.record({
    n: dim(2),
    c: dim(3),
    h: dim(11),
    w: dim(11),
    kh: dim(4),
    kw: dim(4),
    sh: dim(3),
    sw: dim(3),
    ph: fc.nat(2),
    pw: fc.nat(2),
    countIncludePad: fc.boolean(),
  }),
  build(c): CrossCase {
    // Padding at most half the kernel (PyTorch's rule); the input at least one window.
    const ph = Math.min(c.ph, Math.floor(c.kh / 2));
    const pw = Math.min(c.pw, Math.floor(c.kw / 2));
    const h = Math.max(c.h, c.kh - 2 * ph);
    const w = Math.max(c.w, c.kw - 2 * pw);
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [c.n, c.c, h, w]);
    const window = { kernel: [c.kh, c.kw], stride: [c.sh, c.sw], pad: [ph, pw] };
    b.output("max", b.op("pool2d", [x], { kind: "max", ...window }));
    b.output(
      "avg",
      b.op("pool2d", [x], { kind: "avg", ...window, count_include_pad: c.countIncludePad }),
    );
    return { graph: b.graph, tolerance: { max: exact, avg: sumOf(c.kh * c.kw) } };
  },
});

export const reductionProperties = [reduce, pool2d];
