// conv_transpose2d: PyTorch's ConvTranspose2d without bias, the adjoint of
// conv2d. Weight [Cin, Cout/groups, kh, kw] (in first). Each input element
// scatters its products into a float64 accumulator, rounded once at the end;
// output_padding only adds rows and columns at the bottom and right.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { numel, type TensorType } from "../core/types.js";
import {
  cand,
  type ICond,
  type IExpr,
  iadd,
  icmp,
  idiv,
  imod,
  imul,
  inBounds,
  isub,
} from "../kernels/expr.js";
import { nonNegInt, pair } from "./attrs.js";
import { convAttrFields, convSum, convTaps, convWeightGrad, expectConvOperands } from "./conv2d.js";
import { defineOp, OpError } from "./op.js";
import { formatHW } from "./window-geometry.js";

// conv2d's fields in conv2d's order, output_padding where PyTorch puts it: the
// parsed attributes (and so the printed graph) keep this order.
const { stride, pad, dilation, groups } = convAttrFields;
const convTransposeAttrs = z.strictObject({
  stride,
  pad,
  output_padding: pair(nonNegInt).default([0, 0]),
  dilation,
  groups,
});

type ConvTransposeAttrs = z.output<typeof convTransposeAttrs>;

/** (size − 1)·stride − 2·pad + dilation·(kernel − 1) + output_padding + 1 */
function transposedSize(size: number, k: number, s: number, p: number, d: number, op: number) {
  return (size - 1) * s - 2 * p + d * (k - 1) + op + 1;
}

function inferConvTranspose(x: TensorType, w: TensorType, a: ConvTransposeAttrs): TensorType {
  const name = "conv_transpose2d";
  const [[n, c, h, wd], [wc, og, kh, kw]] = expectConvOperands(
    name,
    x,
    w,
    ["a 4-D input [N, Cin, H, W]", "a 4-D weight [Cin, Cout/groups, kh, kw]"],
    a.groups,
  );
  const g = a.groups;
  if (c !== wc) {
    throw new OpError("NN4002", `${name}: input has ${c} channels but the weight expects ${wc}`);
  }
  ["height", "width"].forEach((dim, i) => {
    const op = a.output_padding[i]!;
    const s = a.stride[i]!;
    const d = a.dilation[i]!;
    if (op >= Math.max(s, d)) {
      throw new OpError(
        "NN4006",
        `${name}: output_padding ${op} (${dim}) must be smaller than the stride ${s} or the dilation ${d}`,
      );
    }
  });
  const ho = transposedSize(h, kh, a.stride[0], a.pad[0], a.dilation[0], a.output_padding[0]);
  const wo = transposedSize(wd, kw, a.stride[1], a.pad[1], a.dilation[1], a.output_padding[1]);
  if (ho <= 0 || wo <= 0) {
    throw new OpError(
      "NN4002",
      `${name}: output would be ${formatHW(ho, wo)}: padding ${formatHW(a.pad[0], a.pad[1])} removes more than the input ${formatHW(h, wd)} and kernel ${formatHW(kh, kw)} produce`,
    );
  }
  return { dtype: "f32", shape: [n, og * g, ho, wo] };
}

export const convTranspose2d = defineOp({
  name: "conv_transpose2d",
  category: "out-elementwise-fusable",
  arity: 2,
  attrs: convTransposeAttrs,
  infer: ([x, w], a) => inferConvTranspose(x!, w!, a),
  evaluate([xt, wt], a): Tensor {
    const out = inferConvTranspose(xt!, wt!, a).shape as [number, number, number, number];
    const [N, C, H, W] = xt!.shape as [number, number, number, number];
    const [, Og, KH, KW] = wt!.shape as [number, number, number, number];
    const [, O, HO, WO] = out;
    const [sh, sw] = a.stride;
    const [ph, pw] = a.pad;
    const [dh, dw] = a.dilation;
    const Cg = C / a.groups;
    const x = xt!.data as Float32Array;
    const w = wt!.data as Float32Array;
    const acc = new Float64Array(numel(out));
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const g = Math.floor(c / Cg);
        for (let ih = 0; ih < H; ih++) {
          for (let iw = 0; iw < W; iw++) {
            const v = x[((n * C + c) * H + ih) * W + iw]!;
            for (let og = 0; og < Og; og++) {
              const o = g * Og + og;
              for (let ki = 0; ki < KH; ki++) {
                const oh = ih * sh - ph + ki * dh;
                if (oh < 0 || oh >= HO) continue;
                for (let kj = 0; kj < KW; kj++) {
                  const ow = iw * sw - pw + kj * dw;
                  if (ow < 0 || ow >= WO) continue;
                  acc[((n * O + o) * HO + oh) * WO + ow]! +=
                    v * w[((c * Og + og) * KH + ki) * KW + kj]!;
                }
              }
            }
          }
        }
      }
    }
    return { dtype: "f32", shape: out, data: Float32Array.from(acc) };
  },
  lower([x, w], a, _out, ctx) {
    // The gather form: output (oh, ow) sums the input positions ih with
    // ih·stride − pad + kh·dilation = oh, i.e. where oh + pad − kh·dilation
    // divides by the stride and the quotient is inside the input.
    const [, C, H, W] = x!.type.shape as [number, number, number, number];
    const [, Og, KH, KW] = w!.type.shape as [number, number, number, number];
    const Cg = C / a.groups;
    const source = (o: IExpr, k: IExpr, axis: 0 | 1, size: number): [IExpr, ICond] => {
      const t = isub(iadd(o, a.pad[axis]), imul(k, a.dilation[axis]));
      const s = a.stride[axis];
      return [idiv(t, s), cand(icmp("eq", imod(t, s), 0), inBounds(idiv(t, s), size))];
    };
    return ([n, o, oh, ow]) => {
      const { ci, kh, kw, c } = convTaps(ctx, o!, [Og, Cg, KH, KW], a.groups);
      const [ih, hOk] = source(oh!, kh, 0, H);
      const [iw, wOk] = source(ow!, kw, 1, W);
      const xAt = x!.at([n!, c, ih, iw]);
      const wAt = w!.at([c, a.groups === 1 ? o! : imod(o!, Og), kh, kw]);
      return convSum({ ci, kh, kw }, cand(hOk, wOk), xAt, wAt);
    };
  },
  flops: ([x, w]) => {
    const [, og, kh, kw] = w!.shape as [number, number, number, number];
    return 2 * numel(x!.shape) * og * kh * kw;
  },
  // conv_transpose2d is conv2d's adjoint: dx is the convolution of the
  // cotangent with the same weight, dw conv2d's weight gradient with the roles
  // of input and cotangent exchanged.
  vjp(g, node, cot) {
    const [x, w] = node.inputs as [number, number];
    const ws = g.type(w).shape;
    const a = node.attrs;
    const conv = { stride: a.stride, pad: a.pad, dilation: a.dilation, groups: a.groups };
    const dx = g.emit("conv2d", [cot, w], conv);
    return [dx, convWeightGrad(g, cot, x, conv, [ws[2]!, ws[3]!])];
  },
});
