import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectClose, expectOpError, f32, infer, range, run, ty, values } from "./helpers.js";

describe("pool2d", () => {
  // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
  const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const negX = f32([1, 1, 3, 3], [-1, -2, -3, -4, -5, -6, -7, -8, -9]);

  it("max pools 2×2 windows at stride 1", () => {
    const out = run("pool2d", [x], { kind: "max", kernel: [2, 2], stride: [1, 1] });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([5, 6, 8, 9]);
  });

  it("max pads with −inf, not zero", () => {
    // 3×3 s2 p1 windows over all-negative data: [0,0] covers −1,−2,−4,−5; the padding never wins
    const out = run("pool2d", [negX], { kind: "max", kernel: [3, 3], stride: [2, 2], pad: [1, 1] });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([-1, -2, -4, -5]);
  });

  it("avg with count_include_pad divides by kh·kw", () => {
    // windows: {1,2,4,5}, {2,3,5,6}, {4,5,7,8}, {5,6,8,9}, each plus five padded zeros
    const out = run("pool2d", [x], { kind: "avg", kernel: [3, 3], stride: [2, 2], pad: [1, 1] });
    expect(values(out)).toEqual([12 / 9, 16 / 9, 24 / 9, 28 / 9].map(Math.fround));
  });

  it("avg without count_include_pad divides by the in-bounds count", () => {
    const out = run("pool2d", [x], {
      kind: "avg",
      kernel: [3, 3],
      stride: [2, 2],
      pad: [1, 1],
      count_include_pad: false,
    });
    expect(values(out)).toEqual([3, 4, 6, 7]);
  });

  it("avg 2×2 s2 (DenseNet transition), dropping the odd last row and column", () => {
    // x[i, j] = 5i + j (5×5) → windows at rows/cols 0..1, 2..3: mean = 5i + j + 3 for top-left (i, j)
    const out = run("pool2d", [range("f32", [1, 1, 5, 5])], {
      kind: "avg",
      kernel: [2, 2],
      stride: [2, 2],
    });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([3, 5, 13, 15]);
  });

  it("pools each batch item and channel separately, with rectangular windows", () => {
    // x[n, c] = 4 values; 1×2 windows at stride [1, 2] → max of each row
    const y = f32([2, 2, 2, 2], [1, 5, 2, 0, 9, 3, 4, 8, -1, -2, -3, -4, 0, 0, 7, 6]);
    const out = run("pool2d", [y], { kind: "max", kernel: [1, 2], stride: [1, 2] });
    expect(out.shape).toEqual([2, 2, 2, 1]);
    expect(values(out)).toEqual([5, 2, 9, 8, -1, -3, 0, 7]);
  });

  it("fills defaults", () => {
    expect(
      infer("pool2d", [ty("f32", [1, 64, 32, 32])], {
        kind: "max",
        kernel: [3, 3],
        stride: [2, 2],
        pad: [1, 1],
      }),
    ).toEqual(ty("f32", [1, 64, 16, 16]));
  });

  it("rejects padding over half the kernel, empty outputs and bad ranks", () => {
    expectOpError(
      () =>
        infer("pool2d", [ty("f32", [1, 1, 8, 8])], {
          kind: "max",
          kernel: [3, 3],
          stride: [1, 1],
          pad: [2, 1],
        }),
      "NN4006",
      "pool2d: padding 2 must be at most half the kernel size 3",
    );
    expectOpError(
      () =>
        infer("pool2d", [ty("f32", [1, 1, 2, 2])], { kind: "avg", kernel: [3, 3], stride: [1, 1] }),
      "NN4002",
      "pool2d: output would be 0×0: input 2×2 is smaller than the kernel 3×3 with padding 0",
    );
    expectOpError(
      () =>
        infer("pool2d", [ty("f32", [64, 8, 8])], { kind: "avg", kernel: [2, 2], stride: [2, 2] }),
      "NN4002",
      "pool2d: expects a 4-D input [N, C, H, W], got f32[64, 8, 8]",
    );
    expectOpError(
      () =>
        infer("pool2d", [ty("f32", [1, 1, 4, 4])], { kind: "min", kernel: [2, 2], stride: [2, 2] }),
      "NN4006",
      /^pool2d: invalid kind/,
    );
  });
});

describe("pool2d properties", () => {
  const geometry = fc
    .record({
      c: fc.integer({ min: 1, max: 3 }),
      k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      extra: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
      padFrac: fc.tuple(fc.boolean(), fc.boolean()),
    })
    .chain((r) => {
      const pad: [number, number] = [
        r.padFrac[0] ? Math.floor(r.k[0] / 2) : 0,
        r.padFrac[1] ? Math.floor(r.k[1] / 2) : 0,
      ];
      const shape = [1, r.c, r.k[0] + r.extra[0], r.k[1] + r.extra[1]];
      const n = shape.reduce((a, b) => a * b, 1);
      return fc
        .array(fc.integer({ min: -20, max: 20 }), { minLength: n, maxLength: n })
        .map((data) => ({ ...r, pad, x: f32(shape, data) }));
    });

  it("avg (count_include_pad) equals a depthwise conv with a constant 1/(kh·kw) kernel", () => {
    fc.assert(
      fc.property(geometry, ({ c, k, s, pad, x }) => {
        const pool = run("pool2d", [x], { kind: "avg", kernel: k, stride: s, pad });
        const w = f32([c, 1, k[0], k[1]], new Array(c * k[0] * k[1]).fill(1 / (k[0] * k[1])));
        const conv = run("conv2d", [x, w], { stride: s, pad, groups: c });
        expectClose(values(pool), values(conv), 1e-6);
      }),
      { numRuns: 150 },
    );
  });

  it("avg without count_include_pad equals window sums over in-bounds counts (both as convs)", () => {
    fc.assert(
      fc.property(geometry, ({ c, k, s, pad, x }) => {
        const pool = run("pool2d", [x], {
          kind: "avg",
          kernel: k,
          stride: s,
          pad,
          count_include_pad: false,
        });
        const ones = f32([c, 1, k[0], k[1]], new Array(c * k[0] * k[1]).fill(1));
        const sums = values(run("conv2d", [x, ones], { stride: s, pad, groups: c }));
        const onesX = f32(x.shape, new Array(x.data.length).fill(1));
        const counts = values(run("conv2d", [onesX, ones], { stride: s, pad, groups: c }));
        expectClose(
          values(pool),
          sums.map((v, i) => Math.fround(v / counts[i]!)),
          0,
        );
      }),
      { numRuns: 150 },
    );
  });
});
