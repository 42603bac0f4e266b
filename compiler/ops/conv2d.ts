// conv2d: PyTorch's Conv2d without bias (a bias is a separate add):
// cross-correlation, zero padding, dilation, contiguous channel groups.
// Weight [O, C/groups, kh, kw]. Sums accumulate in float64.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { numel, type TensorType } from "../core/types.js";
import {
  cand,
  type ICond,
  type IExpr,
  type IVar,
  iadd,
  idiv,
  imul,
  inBounds,
  isub,
  type VExpr,
  vbinary,
  vconst,
  vreduce,
  vselect,
  vtest,
} from "../kernels/expr.js";
import { nonNegInt, pair, posInt } from "./attrs.js";
import { defineOp, type GradBuilder, type LowerContext, OpError } from "./op.js";
import { expectDTypes } from "./shape-utils.js";
import { expectNCHW, formatHW, formatPad, windowOutSize } from "./window-geometry.js";

/** The window attributes conv2d and conv_transpose2d share. */
export const convAttrFields = {
  stride: pair(posInt).default([1, 1]),
  pad: pair(nonNegInt).default([0, 0]),
  dilation: pair(posInt).default([1, 1]),
  groups: posInt.default(1),
};

const conv2dAttrs = z.strictObject(convAttrFields);

type Conv2dAttrs = z.output<typeof conv2dAttrs>;

type NCHW = [number, number, number, number];

/** The operand checks of both convolutions: f32, 4-D, input channels divisible by the groups. */
export function expectConvOperands(
  name: string,
  x: TensorType,
  w: TensorType,
  what: [input: string, weight: string],
  groups: number,
): [NCHW, NCHW] {
  expectDTypes(name, [x, w], ["f32"]);
  const xs = expectNCHW(name, x, what[0]);
  const ws = expectNCHW(name, w, what[1]);
  if (xs[1] % groups !== 0) {
    throw new OpError(
      "NN4002",
      `${name}: input channels (${xs[1]}) are not divisible by groups (${groups})`,
    );
  }
  return [xs, ws];
}

function inferConv2d(x: TensorType, w: TensorType, a: Conv2dAttrs): TensorType {
  const [[n, c, h, wd], [o, cg, kh, kw]] = expectConvOperands(
    "conv2d",
    x,
    w,
    ["a 4-D input [N, C, H, W]", "a 4-D weight [O, C/groups, kh, kw]"],
    a.groups,
  );
  const g = a.groups;
  if (c !== cg * g) {
    throw new OpError(
      "NN4002",
      `conv2d: input has ${c} channels but the weight expects ${cg * g} (groups ${g})`,
    );
  }
  if (o % g !== 0) {
    throw new OpError(
      "NN4002",
      `conv2d: output channels (${o}) are not divisible by groups (${g})`,
    );
  }
  const [sh, sw] = a.stride;
  const [ph, pw] = a.pad;
  const [dh, dw] = a.dilation;
  const ho = windowOutSize(h, kh, sh, ph, dh);
  const wo = windowOutSize(wd, kw, sw, pw, dw);
  if (ho <= 0 || wo <= 0) {
    const ekh = dh * (kh - 1) + 1;
    const ekw = dw * (kw - 1) + 1;
    throw new OpError(
      "NN4002",
      `conv2d: output would be ${formatHW(ho, wo)}: input ${formatHW(h, wd)} is smaller than the dilated kernel ${formatHW(ekh, ekw)} with padding ${formatPad(a.pad)}`,
    );
  }
  return { dtype: "f32", shape: [n, o, ho, wo] };
}

/**
 * The weight gradient of y = conv2d(x, w): dw[o, c, i, j] = Σ_{n,y,x} cot[n, o, y, x] ·
 * x[n, group(o)·Cg + c, y·s + i·d − p, …], itself a grouped convolution with the
 * batch as its channels: x viewed as [Cg, groups·N, H, W] convolved with the
 * cotangent viewed as weights [O, N, Ho, Wo], stride and dilation swapped, then
 * cut to the kernel size and transposed to [O, Cg, kh, kw]. conv_transpose2d's
 * weight gradient is the same with x and the cotangent exchanged.
 */
export function convWeightGrad(
  g: GradBuilder,
  x: number,
  cot: number,
  a: { stride: number[]; pad: number[]; dilation: number[]; groups: number },
  kernel: [number, number],
): number {
  const [N, C, H, W] = g.type(x).shape as [number, number, number, number];
  const groups = a.groups;
  const Cg = C / groups;
  const split = g.emit("reshape", [x], { shape: [N, groups, Cg, H, W] });
  const swapped = g.emit("permute", [split], { perm: [2, 1, 0, 3, 4] });
  const xb = g.emit("reshape", [swapped], { shape: [Cg, groups * N, H, W] });
  const wb = g.emit("permute", [cot], { perm: [1, 0, 2, 3] });
  const full = g.emit("conv2d", [xb, wb], {
    stride: a.dilation,
    pad: a.pad,
    dilation: a.stride,
    groups,
  });
  const fs = g.type(full).shape;
  const cut =
    fs[2] === kernel[0] && fs[3] === kernel[1]
      ? full
      : g.emit("slice", [full], {
          starts: [0, 0, 0, 0],
          ends: [fs[0]!, fs[1]!, kernel[0], kernel[1]],
        });
  return g.emit("permute", [cut], { perm: [1, 0, 2, 3] });
}

/** The reduction variables of one output element: channel within the group, kernel row, column. */
interface Taps {
  ci: IVar;
  kh: IVar;
  kw: IVar;
}

/**
 * Fresh taps for output channel `o` of a convolution lowering, and the input
 * channel `c` they read (the group's first channel plus ci).
 */
export function convTaps(
  ctx: LowerContext,
  o: IExpr,
  [Og, Cg, KH, KW]: NCHW,
  groups: number,
): Taps & { c: IExpr } {
  const ci = ctx.fresh("ci", Cg);
  const kh = ctx.fresh("kh", KH);
  const kw = ctx.fresh("kw", KW);
  const c = groups === 1 ? ci : iadd(imul(idiv(o, Og), Cg), ci);
  return { ci, kh, kw, c };
}

/** Σ over the taps of the input (zero where `inside` fails: padding) times the weight. */
export function convSum(t: Taps, inside: ICond, xAt: VExpr, wAt: VExpr): VExpr {
  const xv = vselect(vtest(inside), xAt, vconst(0, "f32"));
  return vreduce("sum", [t.kh, t.kw, t.ci], vbinary("mul", xv, wAt));
}

export const conv2d = defineOp({
  name: "conv2d",
  category: "out-elementwise-fusable",
  arity: 2,
  attrs: conv2dAttrs,
  infer: ([x, w], a) => inferConv2d(x!, w!, a),
  evaluate([xt, wt], a): Tensor {
    const out = inferConv2d(xt!, wt!, a).shape as [number, number, number, number];
    const [N, C, H, W] = xt!.shape as [number, number, number, number];
    const [O, Cg, KH, KW] = wt!.shape as [number, number, number, number];
    const [, , HO, WO] = out;
    const [sh, sw] = a.stride;
    const [ph, pw] = a.pad;
    const [dh, dw] = a.dilation;
    const Og = O / a.groups;
    const x = xt!.data as Float32Array;
    const w = wt!.data as Float32Array;
    const y = new Float32Array(numel(out));
    let yi = 0;
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const g = Math.floor(o / Og);
        for (let oh = 0; oh < HO; oh++) {
          for (let ow = 0; ow < WO; ow++) {
            let acc = 0;
            for (let cg = 0; cg < Cg; cg++) {
              const c = g * Cg + cg;
              for (let ki = 0; ki < KH; ki++) {
                const ih = oh * sh - ph + ki * dh;
                if (ih < 0 || ih >= H) continue;
                for (let kj = 0; kj < KW; kj++) {
                  const iw = ow * sw - pw + kj * dw;
                  if (iw < 0 || iw >= W) continue;
                  acc +=
                    x[((n * C + c) * H + ih) * W + iw]! * w[((o * Cg + cg) * KH + ki) * KW + kj]!;
                }
              }
            }
            y[yi++] = acc;
          }
        }
      }
    }
    return { dtype: "f32", shape: out, data: y };
  },
  lower([x, w], a, out, ctx) {
    // Direct convolution: a sum over (input channel of the group, kh, kw), zero padding as a bounds select.
    const [, , H, W] = x!.type.shape as [number, number, number, number];
    const [, Cg, KH, KW] = w!.type.shape as [number, number, number, number];
    const Og = out.shape[1]! / a.groups;
    return ([n, o, oh, ow]) => {
      const { ci, kh, kw, c } = convTaps(ctx, o!, [Og, Cg, KH, KW], a.groups);
      const ih = iadd(isub(imul(oh!, a.stride[0]), a.pad[0]), imul(kh, a.dilation[0]));
      const iw = iadd(isub(imul(ow!, a.stride[1]), a.pad[1]), imul(kw, a.dilation[1]));
      const inside = cand(inBounds(ih, H), inBounds(iw, W));
      return convSum({ ci, kh, kw }, inside, x!.at([n!, c, ih, iw]), w!.at([o!, ci, kh, kw]));
    };
  },
  flops: ([, w], out) => {
    const [, cg, kh, kw] = w!.shape as [number, number, number, number];
    return 2 * numel(out.shape) * cg * kh * kw;
  },
  // dx: the transposed convolution of the cotangent with the same weight
  // (output_padding restores the rows the stride dropped); dw: convWeightGrad.
  vjp(g, node, cot) {
    const [x, w] = node.inputs as [number, number];
    const xs = g.type(x).shape;
    const ws = g.type(w).shape;
    const cs = g.type(cot).shape;
    const a = node.attrs;
    const outputPadding = [0, 1].map(
      (i) =>
        xs[2 + i]! -
        ((cs[2 + i]! - 1) * a.stride[i]! - 2 * a.pad[i]! + a.dilation[i]! * (ws[2 + i]! - 1) + 1),
    );
    const dx = g.emit("conv_transpose2d", [cot, w], {
      stride: a.stride,
      pad: a.pad,
      dilation: a.dilation,
      groups: a.groups,
      output_padding: outputPadding,
    });
    return [dx, convWeightGrad(g, x, cot, a, [ws[2]!, ws[3]!])];
  },
});
