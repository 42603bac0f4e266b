// conv2d and conv_transpose2d: hand-worked cases, shape errors, and property
// tests against independent formulations (im2col + matmul, the adjoint identity).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../compiler/core/tensor.js";
import { getOp } from "../../compiler/ops/index.js";
import { expectOpError, f32, infer, range, run, ty, values } from "./helpers.js";

describe("conv2d", () => {
  it("cross-correlates without flipping the kernel", () => {
    // x = 1..9 (3×3), w = [[1, 0], [0, -1]]: out[i, j] = x[i, j] − x[i+1, j+1] = −4
    const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = f32([1, 1, 2, 2], [1, 0, 0, -1]);
    const out = run("conv2d", [x, w]);
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([-4, -4, -4, -4]);
  });

  it("zero-pads and strides", () => {
    // pad 1, stride 2 → 2×2; rows/cols start at −1 and 1.
    // [0,0]: only w11 hits x[0,0] → −1; [0,1]: −x[0,2] = −3; [1,0]: −x[2,0] = −7; [1,1]: x[1,1] − x[2,2] = −4
    const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = f32([1, 1, 2, 2], [1, 0, 0, -1]);
    const out = run("conv2d", [x, w], { stride: [2, 2], pad: [1, 1] });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([-1, -3, -7, -4]);
  });

  it("dilates the kernel", () => {
    // x[i, j] = 5i + j (5×5), ones 2×2 kernel at dilation 2 (3×3 footprint):
    // out[i, j] = x[i,j] + x[i,j+2] + x[i+2,j] + x[i+2,j+2] = 20i + 4j + 24
    const out = run("conv2d", [range("f32", [1, 1, 5, 5]), f32([1, 1, 2, 2], [1, 1, 1, 1])], {
      dilation: [2, 2],
    });
    expect(out.shape).toEqual([1, 1, 3, 3]);
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expected.push(20 * i + 4 * j + 24);
    expect(values(out)).toEqual(expected);
  });

  it("handles odd sizes with unequal strides and pads", () => {
    // x[i, j] = 5i + j (4×5), ones 3×2 kernel, stride [2, 3], pad [1, 0] → 2×2
    // [0,0] rows 0..1 cols 0..1: 0+1+5+6; [0,1] cols 3..4: 3+4+8+9
    // [1,0] rows 1..3 cols 0..1: 11+21+31; [1,1]: 17+27+37
    const out = run("conv2d", [range("f32", [1, 1, 4, 5]), f32([1, 1, 3, 2], [1, 1, 1, 1, 1, 1])], {
      stride: [2, 3],
      pad: [1, 0],
    });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([12, 24, 63, 81]);
  });

  it("splits channels into contiguous groups", () => {
    // 4 input channels [1, 2, 3, 4], groups 2: out0 = 1·x0 + 10·x1, out1 = 100·x2 + 1000·x3
    const out = run(
      "conv2d",
      [f32([1, 4, 1, 1], [1, 2, 3, 4]), f32([2, 2, 1, 1], [1, 10, 100, 1000])],
      {
        groups: 2,
      },
    );
    expect(values(out)).toEqual([21, 4300]);
  });

  it("depthwise (groups = channels)", () => {
    // ch0 = [1, 2, 3, 4] · ones = 10; ch1 = [5, 6, 7, 8] · [1, −1, 1, −1] = −2
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const w = f32([2, 1, 2, 2], [1, 1, 1, 1, 1, -1, 1, -1]);
    const out = run("conv2d", [x, w], { groups: 2 });
    expect(out.shape).toEqual([1, 2, 1, 1]);
    expect(values(out)).toEqual([10, -2]);
  });

  it("depthwise with channel multiplier 2 and a batch", () => {
    // groups 1 input channel each → two outputs per channel, weights 1 and 2 (1×1 kernels)
    const x = f32([2, 2, 1, 1], [1, 2, 3, 4]);
    const w = f32([4, 1, 1, 1], [1, 2, 1, 2]);
    expect(values(run("conv2d", [x, w], { groups: 2 }))).toEqual([1, 2, 2, 4, 3, 6, 4, 8]);
  });

  it("fills default attributes", () => {
    const op = getOp("conv2d");
    expect(op.attrs.parse({})).toEqual({
      stride: [1, 1],
      pad: [0, 0],
      dilation: [1, 1],
      groups: 1,
    });
  });

  it("infers output shapes", () => {
    expect(infer("conv2d", [ty("f32", [1, 1, 32, 32]), ty("f32", [6, 1, 5, 5])])).toEqual(
      ty("f32", [1, 6, 28, 28]),
    );
    // ResNet stem: 7×7 s2 p3 on 64×64 → 32×32
    expect(
      infer("conv2d", [ty("f32", [1, 3, 64, 64]), ty("f32", [64, 3, 7, 7])], {
        stride: [2, 2],
        pad: [3, 3],
      }),
    ).toEqual(ty("f32", [1, 64, 32, 32]));
  });

  it("counts 2·numel(out)·(C/groups)·kh·kw flops", () => {
    const op = getOp("conv2d");
    const attrs = op.attrs.parse({});
    expect(
      op.flops!(
        [ty("f32", [1, 1, 32, 32]), ty("f32", [6, 1, 5, 5])],
        ty("f32", [1, 6, 28, 28]),
        attrs,
      ),
    ).toBe(235200);
  });

  it("rejects bad shapes", () => {
    const x = ty("f32", [1, 6, 8, 8]);
    expectOpError(
      () => infer("conv2d", [x, ty("f32", [4, 8, 3, 3])]),
      "NN4002",
      "conv2d: input has 6 channels but the weight expects 8 (groups 1)",
    );
    expectOpError(
      () => infer("conv2d", [x, ty("f32", [4, 2, 3, 3])], { groups: 4 }),
      "NN4002",
      "conv2d: input channels (6) are not divisible by groups (4)",
    );
    expectOpError(
      () => infer("conv2d", [ty("f32", [1, 8, 8, 8]), ty("f32", [6, 2, 3, 3])], { groups: 4 }),
      "NN4002",
      "conv2d: output channels (6) are not divisible by groups (4)",
    );
    expectOpError(
      () => infer("conv2d", [ty("f32", [1, 1, 4, 3]), ty("f32", [1, 1, 5, 5])]),
      "NN4002",
      "conv2d: output would be 0×−1: input 4×3 is smaller than the dilated kernel 5×5 with padding 0",
    );
    expectOpError(
      () =>
        infer("conv2d", [ty("f32", [1, 1, 3, 3]), ty("f32", [1, 1, 3, 3])], {
          dilation: [2, 2],
          pad: [0, 1],
        }),
      "NN4002",
      "conv2d: output would be −1×1: input 3×3 is smaller than the dilated kernel 5×5 with padding 0×1",
    );
    expectOpError(
      () => infer("conv2d", [ty("f32", [1, 6, 8]), ty("f32", [4, 6, 3, 3])]),
      "NN4002",
      "conv2d: expects a 4-D input [N, C, H, W], got f32[1, 6, 8]",
    );
    expectOpError(
      () => infer("conv2d", [x, ty("f32", [4, 6, 3])]),
      "NN4002",
      "conv2d: expects a 4-D weight [O, C/groups, kh, kw], got f32[4, 6, 3]",
    );
  });

  it("rejects bad attributes", () => {
    expectOpError(
      () => infer("conv2d", [ty("f32", [1, 1, 4, 4]), ty("f32", [1, 1, 1, 1])], { stride: [0, 1] }),
      "NN4006",
      /^conv2d: invalid stride\[0\]: /,
    );
    expectOpError(
      () => infer("conv2d", [ty("f32", [1, 1, 4, 4]), ty("f32", [1, 1, 1, 1])], { pad: [1] }),
      "NN4006",
      /^conv2d: invalid pad/,
    );
    expectOpError(
      () => infer("conv2d", [ty("f32", [1, 1, 4, 4]), ty("f32", [1, 1, 1, 1])], { bias: true }),
      "NN4006",
      /^conv2d: /,
    );
  });
});

describe("conv_transpose2d", () => {
  it("scatters each input element through the kernel", () => {
    // x = [[1, 2], [3, 4]], ones 2×2 kernel, stride 1: overlapping 2×2 stamps
    const out = run("conv_transpose2d", [
      f32([1, 1, 2, 2], [1, 2, 3, 4]),
      f32([1, 1, 2, 2], [1, 1, 1, 1]),
    ]);
    expect(out.shape).toEqual([1, 1, 3, 3]);
    expect(values(out)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it("strides, with output_padding adding a bottom row and right column", () => {
    // stride 2, kernel [[1, 2], [3, 4]]: non-overlapping stamps x[i,j]·w at (2i, 2j); size (2−1)·2 + 1 + 1 + 1 = 5
    const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const w = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const out = run("conv_transpose2d", [x, w], { stride: [2, 2], output_padding: [1, 1] });
    expect(out.shape).toEqual([1, 1, 5, 5]);
    // biome-ignore format: a 5×5 grid
    expect(values(out)).toEqual([
      1, 2, 2, 4, 0,
      3, 4, 6, 8, 0,
      3, 6, 4, 8, 0,
      9, 12, 12, 16, 0,
      0, 0, 0, 0, 0,
    ]);
  });

  it("pad crops the full output on every side", () => {
    // same stamps, pad 1: size (2−1)·2 − 2 + 1 + 1 = 2, the centre of the 4×4 above
    const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const w = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const out = run("conv_transpose2d", [x, w], { stride: [2, 2], pad: [1, 1] });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([4, 6, 6, 4]);
  });

  it("groups map input channel blocks to output channel blocks", () => {
    // x = [2, 3]; w [2, 2, 1, 1] = [[1, 10], [100, 1000]]
    const x = f32([1, 2, 1, 1], [2, 3]);
    const w = f32([2, 2, 1, 1], [1, 10, 100, 1000]);
    // groups 2: channel 0 → outputs 0, 1; channel 1 → outputs 2, 3
    const g2 = run("conv_transpose2d", [x, w], { groups: 2 });
    expect(g2.shape).toEqual([1, 4, 1, 1]);
    expect(values(g2)).toEqual([2, 20, 300, 3000]);
    // groups 1: out[o] = Σc x[c]·w[c, o]
    expect(values(run("conv_transpose2d", [x, w]))).toEqual([2 + 300, 20 + 3000]);
  });

  it("dilates the kernel", () => {
    // x = [1, 2] along W, kernel [1, 1] at dilation 2: x0 → 0, 2; x1 → 1, 3
    const out = run("conv_transpose2d", [f32([1, 1, 1, 2], [1, 2]), f32([1, 1, 1, 2], [1, 1])], {
      dilation: [1, 2],
    });
    expect(out.shape).toEqual([1, 1, 1, 4]);
    expect(values(out)).toEqual([1, 2, 1, 2]);
  });

  it("infers output shapes (UNet up-sampling)", () => {
    expect(
      infer("conv_transpose2d", [ty("f32", [1, 16, 8, 8]), ty("f32", [16, 8, 2, 2])], {
        stride: [2, 2],
      }),
    ).toEqual(ty("f32", [1, 8, 16, 16]));
    expect(
      infer("conv_transpose2d", [ty("f32", [1, 4, 5, 5]), ty("f32", [4, 3, 3, 3])], {
        stride: [2, 2],
        pad: [1, 1],
        output_padding: [1, 0],
        groups: 2,
      }),
    ).toEqual(ty("f32", [1, 6, 10, 9]));
  });

  it("counts 2·numel(x)·(Cout/groups)·kh·kw flops", () => {
    const op = getOp("conv_transpose2d");
    const x = ty("f32", [1, 16, 8, 8]);
    const w = ty("f32", [16, 8, 2, 2]);
    expect(op.flops!([x, w], ty("f32", [1, 8, 16, 16]), op.attrs.parse({ stride: [2, 2] }))).toBe(
      2 * 1024 * 8 * 4,
    );
  });

  it("rejects bad shapes and output_padding", () => {
    expectOpError(
      () => infer("conv_transpose2d", [ty("f32", [1, 4, 3, 3]), ty("f32", [8, 2, 3, 3])]),
      "NN4002",
      "conv_transpose2d: input has 4 channels but the weight expects 8",
    );
    expectOpError(
      () =>
        infer("conv_transpose2d", [ty("f32", [1, 6, 3, 3]), ty("f32", [6, 2, 3, 3])], {
          groups: 4,
        }),
      "NN4002",
      "conv_transpose2d: input channels (6) are not divisible by groups (4)",
    );
    expectOpError(
      () =>
        infer("conv_transpose2d", [ty("f32", [1, 1, 3, 3]), ty("f32", [1, 1, 3, 3])], {
          stride: [2, 2],
          output_padding: [2, 0],
        }),
      "NN4006",
      "conv_transpose2d: output_padding 2 (height) must be smaller than the stride 2 or the dilation 1",
    );
    expectOpError(
      () =>
        infer("conv_transpose2d", [ty("f32", [1, 1, 3, 3]), ty("f32", [1, 1, 3, 3])], {
          output_padding: [0, 1],
        }),
      "NN4006",
      "conv_transpose2d: output_padding 1 (width) must be smaller than the stride 1 or the dilation 1",
    );
    // output_padding below the dilation is fine (PyTorch's rule)
    expect(
      infer("conv_transpose2d", [ty("f32", [1, 1, 3, 3]), ty("f32", [1, 1, 3, 3])], {
        dilation: [2, 2],
        output_padding: [1, 1],
      }),
    ).toEqual(ty("f32", [1, 1, 8, 8]));
    expectOpError(
      () =>
        infer("conv_transpose2d", [ty("f32", [1, 1, 1, 1]), ty("f32", [1, 1, 1, 1])], {
          pad: [1, 1],
        }),
      "NN4002",
      "conv_transpose2d: output would be −1×−1: padding 1×1 removes more than the input 1×1 and kernel 1×1 produce",
    );
  });
});

// ---------------------------------------------------------------- properties

interface ConvCase {
  n: number;
  g: number;
  cg: number;
  og: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  pad: [number, number];
  dilation: [number, number];
  x: number[];
  wt: number[];
}

const small = fc.integer({ min: 1, max: 3 });
const ints = (n: number) =>
  fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n });

/** Random conv geometries with a positive output, and small integer data (sums are exact in f32). */
const convCase: fc.Arbitrary<ConvCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    g: fc.integer({ min: 1, max: 2 }),
    cg: small,
    og: small,
    kh: small,
    kw: small,
    stride: fc.tuple(small, small),
    pad: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    extraH: fc.integer({ min: 0, max: 4 }),
    extraW: fc.integer({ min: 0, max: 4 }),
  })
  .chain((r) => {
    // input at least as large as the dilated kernel
    const h = r.dilation[0] * (r.kh - 1) + 1 + r.extraH;
    const w = r.dilation[1] * (r.kw - 1) + 1 + r.extraW;
    const xn = r.n * r.g * r.cg * h * w;
    const wn = r.g * r.og * r.cg * r.kh * r.kw;
    return fc.record({ x: ints(xn), wt: ints(wn) }).map(({ x, wt }) => ({ ...r, h, w, x, wt }));
  });

/** conv2d as im2col + matrix product, per batch item and group, written independently of the op. */
function convByIm2col(c: ConvCase): { shape: number[]; data: number[] } {
  const C = c.g * c.cg;
  const O = c.g * c.og;
  const ho = Math.floor((c.h + 2 * c.pad[0] - c.dilation[0] * (c.kh - 1) - 1) / c.stride[0]) + 1;
  const wo = Math.floor((c.w + 2 * c.pad[1] - c.dilation[1] * (c.kw - 1) - 1) / c.stride[1]) + 1;
  const xAt = (n: number, ch: number, i: number, j: number) =>
    i < 0 || j < 0 || i >= c.h || j >= c.w ? 0 : c.x[((n * C + ch) * c.h + i) * c.w + j]!;
  const out = new Array<number>(c.n * O * ho * wo).fill(0);
  for (let n = 0; n < c.n; n++) {
    for (let g = 0; g < c.g; g++) {
      // cols[r][p]: row r = (channel in group, ki, kj), column p = output position
      const cols: number[][] = [];
      for (let cc = 0; cc < c.cg; cc++)
        for (let ki = 0; ki < c.kh; ki++)
          for (let kj = 0; kj < c.kw; kj++) {
            const row: number[] = [];
            for (let oi = 0; oi < ho; oi++)
              for (let oj = 0; oj < wo; oj++)
                row.push(
                  xAt(
                    n,
                    g * c.cg + cc,
                    oi * c.stride[0] - c.pad[0] + ki * c.dilation[0],
                    oj * c.stride[1] - c.pad[1] + kj * c.dilation[1],
                  ),
                );
            cols.push(row);
          }
      // weight rows of this group, flattened over (cc, ki, kj) in the same order
      const k = c.cg * c.kh * c.kw;
      for (let oo = 0; oo < c.og; oo++) {
        const o = g * c.og + oo;
        const wrow = c.wt.slice(o * k, (o + 1) * k);
        for (let p = 0; p < ho * wo; p++) {
          let s = 0;
          for (let r = 0; r < k; r++) s += wrow[r]! * cols[r]![p]!;
          out[(n * O + o) * ho * wo + p] = s;
        }
      }
    }
  }
  return { shape: [c.n, O, ho, wo], data: out };
}

function tensorsOf(c: ConvCase): [Tensor, Tensor] {
  return [f32([c.n, c.g * c.cg, c.h, c.w], c.x), f32([c.g * c.og, c.cg, c.kh, c.kw], c.wt)];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe("conv properties", () => {
  it("conv2d equals im2col + matmul", () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const [x, w] = tensorsOf(c);
        const out = run("conv2d", [x, w], {
          stride: c.stride,
          pad: c.pad,
          dilation: c.dilation,
          groups: c.g,
        });
        const expected = convByIm2col(c);
        expect(out.shape).toEqual(expected.shape);
        expect(values(out)).toEqual(expected.data);
      }),
      { numRuns: 150 },
    );
  });

  it("conv_transpose2d is the adjoint of conv2d: ⟨conv(x), y⟩ = ⟨x, convT(y)⟩", () => {
    fc.assert(
      fc.property(
        convCase.chain((c) => {
          const [x, w] = tensorsOf(c);
          const outShape = infer("conv2d", [x, w], {
            stride: c.stride,
            pad: c.pad,
            dilation: c.dilation,
            groups: c.g,
          }).shape;
          const n = outShape.reduce((a, b) => a * b, 1);
          return ints(n).map((y) => ({ c, x, w, y: f32(outShape, y) }));
        }),
        ({ c, x, w, y }) => {
          const conv = run("conv2d", [x, w], {
            stride: c.stride,
            pad: c.pad,
            dilation: c.dilation,
            groups: c.g,
          });
          // output_padding recovers the rows/cols the conv's floor dropped
          const ho = y.shape[2]!;
          const wo = y.shape[3]!;
          const op: [number, number] = [
            c.h - ((ho - 1) * c.stride[0] - 2 * c.pad[0] + c.dilation[0] * (c.kh - 1) + 1),
            c.w - ((wo - 1) * c.stride[1] - 2 * c.pad[1] + c.dilation[1] * (c.kw - 1) + 1),
          ];
          const convT = run("conv_transpose2d", [y, w], {
            stride: c.stride,
            pad: c.pad,
            dilation: c.dilation,
            output_padding: op,
            groups: c.g,
          });
          expect(convT.shape).toEqual(x.shape);
          expect(dot(conv.data as Float32Array, y.data as Float32Array)).toBe(
            dot(x.data as Float32Array, convT.data as Float32Array),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
