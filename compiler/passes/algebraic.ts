// Algebraic simplification: transpose∘transpose, reshape chains, −(−x), and a
// canonical order for commutative ops (parameter-only operand on the right) so
// the other rules need to look one way only.

import type { Rule } from "./rewrite.js";

const commutative = new Set(["add", "mul", "max", "min"]);

export const algebraicRules: Rule[] = [
  // c ⊕ x → x ⊕ c when c depends on parameters only and x does not.
  (ctx, op, [a, b], attrs) => {
    if (b === undefined || !commutative.has(op)) return null;
    return ctx.paramOnly(a!) && !ctx.paramOnly(b) ? ctx.make(op, [b, a!], attrs) : null;
  },
  (ctx, op, [x]) => {
    if (op !== "neg" || x === undefined) return null;
    const n = ctx.node(x);
    return n.op === "neg" ? n.inputs[0]! : null;
  },
  // permute(permute(x, p), q) = permute(x, p∘q)
  (ctx, op, [x], attrs) => {
    if (op !== "permute" || x === undefined) return null;
    const inner = ctx.node(x);
    if (inner.op !== "permute") return null;
    const p = inner.attrs.perm as number[];
    const q = attrs.perm as number[];
    return ctx.make("permute", [inner.inputs[0]!], { perm: q.map((i) => p[i]!) });
  },
  // reshape(reshape(x)) = reshape(x)
  (ctx, op, [x], attrs) => {
    if (op !== "reshape" || x === undefined) return null;
    const inner = ctx.node(x);
    return inner.op === "reshape" ? ctx.make("reshape", [inner.inputs[0]!], attrs) : null;
  },
];
