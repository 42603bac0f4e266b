// The scalar semantics of the Kernel IR's value expressions, in float64 like
// the CPU reference ops: constant folding and the Kernel IR interpreter use
// these; the WGSL emitter renders the same names as shader code.

import { erf } from "../ops/erf.js";

/** The functions of value expressions; the Kernel IR's zod schema (ir.ts) reads these lists. */
export const unaryFnNames = [
  "neg",
  "abs",
  "relu",
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "tanh",
  "sigmoid",
  "erf",
  "floor",
  "ceil",
  "not",
] as const;
export const binaryFnNames = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "max",
  "min",
  "and",
  "or",
] as const;
export const cmpFnNames = ["eq", "ne", "lt", "le", "gt", "ge"] as const;

export type UnaryFn = (typeof unaryFnNames)[number];
export type BinaryFn = (typeof binaryFnNames)[number];
export type CmpFn = (typeof cmpFnNames)[number];

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export const unaryFns: Record<UnaryFn, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  relu: (x) => (Number.isNaN(x) ? x : Math.max(0, x)),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  sigmoid,
  erf,
  floor: Math.floor,
  ceil: Math.ceil,
  not: (x) => (x === 0 ? 1 : 0),
};

/** i32 results wrap (stored through an Int32Array by the callers). */
export const binaryFns: Record<BinaryFn, (a: number, b: number, dtype: string) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b, t) => (t === "i32" ? Math.imul(a, b) : a * b),
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
  and: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

export const cmpFns: Record<CmpFn, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
};

/**
 * A value converted to `to`, like the cast op: to bool is != 0; f32 → i32
 * truncates toward zero and saturates (NaN → 0); i32 wraps.
 */
export function castScalar(x: number, to: string, from = "f32"): number {
  if (to === "bool") return x !== 0 ? 1 : 0;
  if (to === "i32") {
    if (from !== "f32") return x | 0;
    if (Number.isNaN(x)) return 0;
    return Math.min(2147483647, Math.max(-2147483648, Math.trunc(x)));
  }
  return x;
}
