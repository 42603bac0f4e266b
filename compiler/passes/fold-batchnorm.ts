// Folds batchnorm (and any per-channel affine map of parameters) into the conv
// or linear before it. The prelude's batchnorm is plain arithmetic,
// (x − mean)·rsqrt(var + eps)·w + b, so the fold is a handful of affine
// rewrites that push parameter-only scales and shifts towards the contraction:
//   x − c → x + (−c);  (x + c1) + c2 → x + (c1 + c2);  (x · c1) · c2 → x · (c1 · c2);
//   (x + c1) · c2 → x · c2 + c1 · c2;  conv(x, W) · c → conv(x, W · c);  (x @ W) · c → x @ (W · c)
// leaving conv(x, W′) + b′ with W′, b′ parameter-only: fold-constants computes
// them once when the weights are bound.

import { aligned, fitsInto, isF32 } from "./patterns.js";
import type { Rule } from "./rewrite.js";

/** x ⊕ c with x computed from inputs and c from parameters, c not growing x. */
function affine(ctx: Parameters<Rule>[0], a: number, b: number): boolean {
  return (
    isF32(ctx, a) &&
    !ctx.paramOnly(a) &&
    ctx.paramOnly(b) &&
    fitsInto(ctx.node(b).type.shape, ctx.node(a).type.shape)
  );
}

export const foldBatchnormRules: Rule[] = [
  (ctx, op, [x, c]) =>
    op === "sub" && c !== undefined && affine(ctx, x!, c)
      ? ctx.make("add", [x!, ctx.make("neg", [c])])
      : null,
  (ctx, op, [a, c2]) => {
    if ((op !== "add" && op !== "mul") || c2 === undefined || !affine(ctx, a!, c2)) return null;
    const inner = ctx.node(a!);
    const [x, c1] = inner.inputs;
    if (inner.inputs.length !== 2 || ctx.uses(a!) !== 1 || !affine(ctx, x!, c1!)) return null;
    if (inner.op === op) return ctx.make(op, [x!, ctx.make(op, [c1!, c2])]);
    if (inner.op === "add" && op === "mul") {
      return ctx.make("add", [ctx.make("mul", [x!, c2]), ctx.make("mul", [c1!, c2])]);
    }
    return null;
  },
  // conv2d(x, W) · c with c varying along output channels only: scale W's rows.
  (ctx, op, [y, c]) => {
    if (op !== "mul" || c === undefined || !affine(ctx, y!, c)) return null;
    const conv = ctx.node(y!);
    if (conv.op !== "conv2d" || ctx.uses(y!) !== 1 || !ctx.paramOnly(conv.inputs[1]!)) return null;
    const s = aligned(ctx.node(c).type.shape, 4);
    if (s[0] !== 1 || s[2] !== 1 || s[3] !== 1) return null;
    const scale = ctx.make("reshape", [c], { shape: [s[1]!, 1, 1, 1] });
    const w = ctx.make("mul", [conv.inputs[1]!, scale]);
    return ctx.make("conv2d", [conv.inputs[0]!, w], conv.attrs);
  },
  // (x @ W) · c with W a parameter matrix and c varying along the last axis only: scale W's columns.
  (ctx, op, [y, c]) => {
    if (op !== "mul" || c === undefined || !affine(ctx, y!, c)) return null;
    const mm = ctx.node(y!);
    if (mm.op !== "matmul" || ctx.uses(y!) !== 1) return null;
    const w = mm.inputs[1]!;
    const wt = ctx.node(w).type;
    if (!ctx.paramOnly(w) || wt.shape.length !== 2) return null;
    const s = aligned(ctx.node(c).type.shape, ctx.node(y!).type.shape.length);
    if (s.slice(0, -1).some((d) => d !== 1)) return null;
    const scale = ctx.make("reshape", [c], { shape: [1, s.at(-1)!] });
    return ctx.make("matmul", [mm.inputs[0]!, ctx.make("mul", [w, scale])]);
  },
];
