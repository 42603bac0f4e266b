// Small questions rules ask about nodes: is it a constant of one value, does a
// tensor broadcast into another's shape without growing it.

import type { RewriteCtx } from "./rewrite.js";

/** The single value of a constant node whose elements are all equal; null otherwise. */
export function constScalar(ctx: RewriteCtx, id: number): number | null {
  const n = ctx.node(id);
  if (n.op !== "const") return null;
  const values = n.attrs.value as number[];
  const v = values[0];
  return v !== undefined && values.every((x) => Object.is(x, v)) ? v : null;
}

/** True when `small` broadcasts into `big` without changing `big`'s shape. */
export function fitsInto(small: number[], big: number[]): boolean {
  if (small.length > big.length) return false;
  const off = big.length - small.length;
  return small.every((d, i) => d === 1 || d === big[off + i]);
}

/** `small` right-aligned to `rank` dims, padded with leading 1s. */
export function aligned(small: number[], rank: number): number[] {
  return [...new Array<number>(rank - small.length).fill(1), ...small];
}

export function isF32(ctx: RewriteCtx, id: number): boolean {
  return ctx.node(id).type.dtype === "f32";
}
