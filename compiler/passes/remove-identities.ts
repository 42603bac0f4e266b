// Removes operations that do nothing: x + 0, x - 0, x * 1, x / 1, reshapes and
// broadcasts to the same shape, identity permutations, whole slices, zero pads,
// casts to the same dtype. (Dropout never reaches the graph: it is the
// identity in eval mode already in the prelude.)

import { sameShape } from "../core/types.js";
import { constScalar } from "./patterns.js";
import type { Rule } from "./rewrite.js";

const keepsShape = (outer: number[], x: number[]) => sameShape(outer, x);

/** `x op c` is `x` when c is the operation's identity and broadcasting does not grow x. */
function neutral(op: string, value: number, side: 0 | 1): boolean {
  if (op === "add") return value === 0;
  if (op === "sub") return value === 0 && side === 1;
  if (op === "mul") return value === 1;
  if (op === "div") return value === 1 && side === 1;
  return false;
}

export const removeIdentityRules: Rule[] = [
  (ctx, op, [a, b]) => {
    if (b === undefined || !["add", "sub", "mul", "div"].includes(op)) return null;
    for (const [side, x, c] of [
      [1, a!, b],
      [0, b, a!],
    ] as const) {
      const v = constScalar(ctx, c);
      const xt = ctx.node(x).type;
      const ct = ctx.node(c).type;
      if (
        v !== null &&
        neutral(op, v, side) &&
        ct.dtype === xt.dtype &&
        ct.shape.length <= xt.shape.length
      ) {
        const out = ct.shape.every(
          (d, i) => d === 1 || d === xt.shape[xt.shape.length - ct.shape.length + i],
        );
        if (out) return x;
      }
    }
    return null;
  },
  (ctx, op, [x], attrs) => {
    if (x === undefined) return null;
    const t = ctx.node(x).type;
    switch (op) {
      case "reshape":
      case "broadcast":
        return keepsShape(attrs.shape as number[], t.shape) ? x : null;
      case "permute":
        return (attrs.perm as number[]).every((p, i) => p === i) ? x : null;
      case "slice": {
        const { starts, ends, steps } = attrs as {
          starts: number[];
          ends: number[];
          steps?: number[];
        };
        return starts.every((s, i) => s === 0 && ends[i] === t.shape[i] && (steps?.[i] ?? 1) === 1)
          ? x
          : null;
      }
      case "pad":
        return (attrs.pads as [number, number][]).every(([p, q]) => p === 0 && q === 0) ? x : null;
      case "cast":
        return attrs.to === t.dtype ? x : null;
      default:
        return null;
    }
  },
];
