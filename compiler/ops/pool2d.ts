// pool2d: PyTorch's MaxPool2d / AvgPool2d in floor mode. Max pads with −inf;
// avg divides by kh·kw when count_include_pad (PyTorch's default), else by the
// number of in-bounds elements of the window.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { numel, type TensorType } from "../core/types.js";
import {
  cand,
  iadd,
  imax,
  imin,
  imul,
  inBounds,
  isub,
  vbinary,
  vconst,
  vindex,
  vreduce,
  vselect,
  vtest,
} from "../kernels/expr.js";
import { nonNegInt, pair, posInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { expectDTypes } from "./shape-utils.js";
import { slice } from "./slice.js";
import { expectNCHW, formatHW, formatPad, windowOutSize } from "./window-geometry.js";

const pool2dAttrs = z.strictObject({
  kind: z.enum(["max", "avg"]),
  kernel: pair(posInt),
  stride: pair(posInt),
  pad: pair(nonNegInt).default([0, 0]),
  count_include_pad: z.boolean().default(true),
});

type Pool2dAttrs = z.output<typeof pool2dAttrs>;

function inferPool(x: TensorType, a: Pool2dAttrs): TensorType {
  expectDTypes("pool2d", [x], ["f32"]);
  const [n, c, h, w] = expectNCHW("pool2d", x, "a 4-D input [N, C, H, W]");
  [0, 1].forEach((i) => {
    const p = a.pad[i]!;
    const k = a.kernel[i]!;
    if (2 * p > k) {
      throw new OpError(
        "NN4006",
        `pool2d: padding ${p} must be at most half the kernel size ${k}`,
        "PyTorch rejects windows that could lie entirely in the padding",
      );
    }
  });
  const ho = windowOutSize(h, a.kernel[0], a.stride[0], a.pad[0]);
  const wo = windowOutSize(w, a.kernel[1], a.stride[1], a.pad[1]);
  if (ho <= 0 || wo <= 0) {
    throw new OpError(
      "NN4002",
      `pool2d: output would be ${formatHW(ho, wo)}: input ${formatHW(h, w)} is smaller than the kernel ${formatHW(a.kernel[0], a.kernel[1])} with padding ${formatPad(a.pad)}`,
    );
  }
  return { dtype: "f32", shape: [n, c, ho, wo] };
}

export const pool2d = defineOp({
  name: "pool2d",
  category: "reduction",
  arity: 1,
  attrs: pool2dAttrs,
  infer: ([x], a) => inferPool(x!, a),
  evaluate([xt], a): Tensor {
    const out = inferPool(xt!, a).shape as [number, number, number, number];
    const [N, C, H, W] = xt!.shape as [number, number, number, number];
    const [, , HO, WO] = out;
    const [KH, KW] = a.kernel;
    const [sh, sw] = a.stride;
    const [ph, pw] = a.pad;
    const x = xt!.data as Float32Array;
    const y = new Float32Array(numel(out));
    let yi = 0;
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < HO; oh++) {
        for (let ow = 0; ow < WO; ow++) {
          let acc = a.kind === "max" ? Number.NEGATIVE_INFINITY : 0;
          let inBounds = 0;
          for (let ki = 0; ki < KH; ki++) {
            const ih = oh * sh - ph + ki;
            if (ih < 0 || ih >= H) continue;
            for (let kj = 0; kj < KW; kj++) {
              const iw = ow * sw - pw + kj;
              if (iw < 0 || iw >= W) continue;
              const v = x[(nc * H + ih) * W + iw]!;
              inBounds++;
              if (a.kind === "avg") acc += v;
              else if (v > acc || Number.isNaN(v)) acc = v;
            }
          }
          if (a.kind === "avg") acc /= a.count_include_pad ? KH * KW : inBounds;
          y[yi++] = acc;
        }
      }
    }
    return { dtype: "f32", shape: out, data: y };
  },
  lower([x], a, _out, ctx) {
    const [, , H, W] = x!.type.shape as [number, number, number, number];
    const [KH, KW] = a.kernel;
    const outside = vconst(a.kind === "max" ? Number.NEGATIVE_INFINITY : 0, "f32");
    return ([n, c, oh, ow]) => {
      const kh = ctx.fresh("kh", KH);
      const kw = ctx.fresh("kw", KW);
      const h0 = isub(imul(oh!, a.stride[0]), a.pad[0]);
      const w0 = isub(imul(ow!, a.stride[1]), a.pad[1]);
      const ih = iadd(h0, kh);
      const iw = iadd(w0, kw);
      const xv = vselect(
        vtest(cand(inBounds(ih, H), inBounds(iw, W))),
        x!.at([n!, c!, ih, iw]),
        outside,
      );
      if (a.kind === "max") return vreduce("max", [kh, kw], xv);
      const sum = vreduce("sum", [kh, kw], xv);
      if (a.count_include_pad) return vbinary("div", sum, vconst(KH * KW, "f32"));
      // the in-bounds part of the window: [max(h0, 0), min(h0 + KH, H))
      const rows = isub(imin(iadd(h0, KH), H), imax(h0, 0));
      const cols = isub(imin(iadd(w0, KW), W), imax(w0, 0));
      return vbinary("div", sum, vindex(imul(rows, cols), "f32"));
    };
  },
  // One strided view of the padded input per kernel offset: max sends each
  // window's cotangent to its first maximum in row-major window order (torch's
  // tie rule), avg spreads it over the window; each view's share is scattered
  // back through slice's own gradient and the padding cut off.
  vjp(g, node, cot) {
    const x = node.inputs[0]!;
    const a = node.attrs;
    const [N, C, H, W] = g.type(x).shape as [number, number, number, number];
    const [, , Ho, Wo] = g.type(node.output).shape as [number, number, number, number];
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.stride;
    const [ph, pw] = a.pad;
    const pads: [number, number][] = [
      [0, 0],
      [0, 0],
      [ph, ph],
      [pw, pw],
    ];
    const padded =
      ph + pw === 0
        ? x
        : g.emit("pad", [x], { pads, value: a.kind === "max" ? Number.NEGATIVE_INFINITY : 0 });
    const view = (src: number, i: number, j: number) => {
      const s = g.type(src).shape;
      return {
        starts: [0, 0, i, j],
        ends: [s[0]!, s[1]!, i + (Ho - 1) * sh + 1, j + (Wo - 1) * sw + 1],
        steps: [1, 1, sh, sw],
      };
    };
    let share: number | undefined;
    if (a.kind === "avg") {
      if (a.count_include_pad) share = g.emit("div", [cot, g.scalar(kh * kw)]);
      else {
        // The divisor of each window: how many of its positions are inside the input.
        const ones = g.emit("broadcast", [g.scalar(1)], { shape: [1, 1, H, W] });
        const onesPadded = ph + pw === 0 ? ones : g.emit("pad", [ones], { pads, value: 0 });
        let count: number | undefined;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const v = g.emit("slice", [onesPadded], view(onesPadded, i, j));
            count = count === undefined ? v : g.emit("add", [count, v]);
          }
        share = g.emit("div", [cot, count!]);
      }
    }
    const zero = g.scalar(0);
    let taken: number | undefined;
    let dPadded: number | undefined;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const attrs = view(padded, i, j);
        let part = share!;
        if (a.kind === "max") {
          const v = g.emit("slice", [padded], attrs);
          let hit = g.emit("cmp", [v, node.output], { op: "eq" });
          if (taken !== undefined) hit = g.emit("and", [hit, g.emit("not", [taken])]);
          taken = taken === undefined ? hit : g.emit("or", [taken, hit]);
          part = g.emit("where", [hit, cot, zero]);
        }
        const [back] = slice.vjp!(g, { inputs: [padded], output: -1, attrs }, part);
        dPadded = dPadded === undefined ? back! : g.emit("add", [dPadded, back!]);
      }
    }
    const dx =
      ph + pw === 0
        ? dPadded!
        : g.emit("slice", [dPadded!], { starts: [0, 0, ph, pw], ends: [N, C, ph + H, pw + W] });
    return [dx];
  },
});
