// The scalar semantics of every elementwise function, in one table that all
// backends read: the CPU reference ops (unary.ts, binary.ts), constant folding
// in the Kernel IR (kernels/value-expr.ts), the Kernel IR interpreter and the
// WGSL emitter (codegen/wgsl/wgsl-expr.ts), and `.nn`'s builtins on numbers.
// A new unary function is one row of `unaryTable` (and its test).

import type { DType } from "../core/types.js";
import { erf } from "./erf.js";
import type { GradBuilder } from "./op.js";

/** The types kernels compute in (the Kernel IR's VType); bool is 0/1. */
export type ScalarType = "f32" | "i32" | "bool";

/**
 * How close WGSL's result must be to the exact one (the spec's accuracy
 * table, §Floating Point Accuracy), for a finite f32 result: at most `ulp`
 * units in the last place of the exact result, or `abs` absolute, whichever
 * is larger; 1 ulp is correctly rounded (WGSL may round either way), 0 exact,
 * Infinity an indeterminate value (the spec promises nothing).
 */
export interface Accuracy {
  ulp: number;
  abs?: number;
}

/** A WGSL function an expression calls, and the emitter's helpers it calls in turn. */
export interface ScalarHelper {
  name: string;
  source: string;
  uses?: readonly string[];
}

export interface UnaryRow {
  dtypes: readonly ScalarType[];
  /** The exact function in float64; `evalUnary` rounds it to the dtype. */
  f: (x: number) => number;
  /** The WGSL expression of an operand `x` (WGSL text) of type `t`. */
  wgsl: (x: string, t: ScalarType) => string;
  /** A WGSL helper function the expression calls. */
  helper?: ScalarHelper;
  /** The `.nn` builtin of the same name: a function, or also a tensor method (`x.exp()`). */
  builtin?: "function" | "method";
  /** WGSL's accuracy for an f32 input x (the emitted expression's, composed where it is a helper). */
  accuracy: (x: number) => Accuracy;
  /**
   * The gradient rule: d out/d x times the cotangent, as graph ops, from x, out
   * and the cotangent. None where the derivative is zero almost everywhere
   * (floor, ceil) or the op is not on floats (not).
   */
  grad?: UnaryGrad;
}

/** A unary op's vector–Jacobian product (autodiff reads it through the op, ops/unary.ts). */
export type UnaryGrad = (b: GradBuilder, x: number, out: number, cot: number) => number;
/** A binary op's: the cotangents of a and b before un-broadcasting. */
export type BinaryGrad = (
  g: GradBuilder,
  a: number,
  b: number,
  out: number,
  cot: number,
) => [number, number];

/** x > 0 (or < 0): where the cotangent passes. */
const passWhere = (b: GradBuilder, x: number, op: "gt" | "lt", c: number) =>
  b.emit("where", [b.emit("cmp", [x, b.scalar(0)], { op }), c, b.scalar(0)]);

/** max/min: the cotangent goes to the larger (smaller) operand, split evenly on a tie as torch does. */
function selectGrad(op: "gt" | "lt"): BinaryGrad {
  return (g, a, b, _o, c) => {
    const zero = g.scalar(0);
    const half = g.emit("mul", [c, g.scalar(0.5)]);
    const tie = g.emit("where", [g.emit("cmp", [a, b], { op: "eq" }), half, zero]);
    return [
      g.emit("where", [g.emit("cmp", [a, b], { op }), c, tie]),
      g.emit("where", [g.emit("cmp", [b, a], { op }), c, tie]),
    ];
  };
}

const exact: Accuracy = { ulp: 0 };
/** Correctly rounded: either neighbour of the exact result. */
const rounded: Accuracy = { ulp: 1 };

/** sigmoid without overflow: exp is only taken of non-positive numbers. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const call = (fn: string) => (x: string) => `${fn}(${x})`;

/** fmix32 of x's 32 bits, as a signed i32 (Math.imul and >>> wrap like WGSL's u32). */
export function fmix32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const unaryRows = {
  // i32 results wrap (neg/abs of −2³¹ give −2³¹, two's complement, as WGSL defines them).
  neg: {
    dtypes: ["f32", "i32"],
    f: (x) => -x,
    wgsl: (x) => `(-${x})`,
    builtin: "function",
    accuracy: () => exact,
    grad: (b, _x, _o, c) => b.emit("neg", [c]),
  },
  abs: {
    dtypes: ["f32", "i32"],
    f: Math.abs,
    wgsl: call("abs"),
    builtin: "method",
    accuracy: () => exact,
    // sign(x)·c, 0 at x = 0 (torch's sgn).
    grad: (b, x, _o, c) =>
      b.emit("add", [passWhere(b, x, "gt", c), passWhere(b, x, "lt", b.emit("neg", [c]))]),
  },
  // NaN stays NaN here, like torch; WGSL's max may drop it (lavapipe: relu(NaN) = 0), which the
  // Finite Math Assumption allows. The same holds for max and min below.
  relu: {
    dtypes: ["f32", "i32"],
    f: (x) => (Number.isNaN(x) ? x : Math.max(0, x)),
    wgsl: (x, t) => (t === "i32" ? `max(${x}, 0i)` : `max(${x}, 0.0f)`),
    builtin: "function",
    accuracy: () => exact,
    grad: (b, x, _o, c) => passWhere(b, x, "gt", c),
  },
  exp: {
    dtypes: ["f32"],
    f: Math.exp,
    wgsl: call("exp"),
    builtin: "method",
    accuracy: (x) => ({ ulp: 3 + 2 * Math.abs(x) }),
    grad: (b, _x, o, c) => b.emit("mul", [c, o]),
  },
  log: {
    dtypes: ["f32"],
    f: Math.log,
    wgsl: call("log"),
    builtin: "method",
    accuracy: (x) => (x >= 0.5 && x <= 2 ? { ulp: 0, abs: 2 ** -21 } : { ulp: 3 }),
    grad: (b, x, _o, c) => b.emit("div", [c, x]),
  },
  sqrt: {
    dtypes: ["f32"],
    f: Math.sqrt,
    wgsl: call("sqrt"),
    builtin: "method",
    // Inherited from 1.0 / inverseSqrt(x): 2 ulp, then a 2.5 ulp division.
    accuracy: () => ({ ulp: 5 }),
    grad: (b, _x, o, c) => b.emit("div", [b.emit("mul", [c, b.scalar(0.5)]), o]),
  },
  rsqrt: {
    dtypes: ["f32"],
    f: (x) => 1 / Math.sqrt(x),
    wgsl: call("inverseSqrt"),
    builtin: "method",
    accuracy: () => ({ ulp: 2 }),
    grad: (b, _x, o, c) =>
      b.emit("mul", [
        b.emit("mul", [c, b.scalar(-0.5)]),
        b.emit("mul", [b.emit("mul", [o, o]), o]),
      ]),
  },
  tanh: {
    dtypes: ["f32"],
    f: Math.tanh,
    // tanh(±15) is ±1 in f32; the clamp keeps exp-based implementations away from inf/inf
    // (and makes tanh(NaN) −1 on lavapipe, whose clamp picks the bound).
    wgsl: (x) => `tanh(clamp(${x}, -15.0f, 15.0f))`,
    builtin: "function",
    // The worse of 1e-5 absolute and sinh(x) / cosh(x) (two exps, 3 + 2|x| ulp each, and a division).
    accuracy: (x) => ({ ulp: 9 + 4 * Math.min(Math.abs(x), 15), abs: 1e-5 }),
    grad: (b, _x, o, c) => b.emit("mul", [c, b.emit("sub", [b.scalar(1), b.emit("mul", [o, o])])]),
  },
  sigmoid: {
    dtypes: ["f32"],
    f: sigmoid,
    wgsl: call("nnc_sigmoid"),
    helper: {
      name: "nnc_sigmoid",
      source: `fn nnc_sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}`,
    },
    builtin: "function",
    // exp (3 + 2|x| ulp), a rounded add and a 2.5 ulp division; below −88.7
    // exp(−x) overflows, and an intermediate infinity is indeterminate (Finite Math Assumption).
    accuracy: (x) => ({ ulp: x < -88.72 ? Infinity : 7 + 2 * Math.abs(x) }),
    grad: (b, _x, o, c) => b.emit("mul", [c, b.emit("mul", [o, b.emit("sub", [b.scalar(1), o])])]),
  },
  // murmur3's fmix32 on the bits of an i32 (a bijection with full avalanche):
  // the counter-based RNG of train-mode dropout, bit-identical on every backend.
  hash32: {
    dtypes: ["i32"],
    f: fmix32,
    wgsl: call("nnc_hash32"),
    helper: {
      name: "nnc_hash32",
      source: `fn nnc_hash32(x: i32) -> i32 {
  var h = bitcast<u32>(x);
  h = (h ^ (h >> 16u)) * 0x85ebca6bu;
  h = (h ^ (h >> 13u)) * 0xc2b2ae35u;
  return bitcast<i32>(h ^ (h >> 16u));
}`,
    },
    builtin: "function",
    accuracy: () => exact,
  },
  erf: {
    dtypes: ["f32"],
    f: erf,
    wgsl: call("nnc_erf"),
    // Series near 0 (relative accuracy), Abramowitz–Stegun 7.1.26 beyond (|error| < 1.5e-7).
    helper: {
      name: "nnc_erf",
      source: `fn nnc_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let x2 = x * x;
    return 1.1283791671 * x * (1.0 + x2 * (-0.3333333333 + x2 * (0.1 + x2 * (-0.0238095238 + x2 * 0.0046296296))));
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - p * exp(-a * a);
  return select(-y, y, x >= 0.0);
}`,
    },
    builtin: "function",
    // The series stops at x⁹ (the next term is 7.4e-7 relative at 0.5) plus f32
    // rounding; A–S's 1.5e-7 plus rounding beyond, until a·a overflows (indeterminate).
    accuracy: (x) => {
      const a = Math.abs(x);
      if (a < 0.5) return { ulp: 12 };
      return { ulp: a > 1.8e19 ? Infinity : 8, abs: 5e-7 };
    },
    // 2/√π · exp(−x²)
    grad: (b, x, _o, c) => {
      const e = b.emit("exp", [b.emit("neg", [b.emit("mul", [x, x])])]);
      return b.emit("mul", [c, b.emit("mul", [e, b.scalar(2 / Math.sqrt(Math.PI))])]);
    },
  },
  floor: {
    dtypes: ["f32"],
    f: Math.floor,
    wgsl: call("floor"),
    builtin: "function",
    accuracy: () => exact,
  },
  ceil: {
    dtypes: ["f32"],
    f: Math.ceil,
    wgsl: call("ceil"),
    builtin: "function",
    accuracy: () => exact,
  },
  not: {
    dtypes: ["bool"],
    f: (x) => (x === 0 ? 1 : 0),
    wgsl: (x) => `(!${x})`,
    accuracy: () => exact,
  },
} satisfies Record<string, UnaryRow>;

export type UnaryFn = keyof typeof unaryRows;
export const unaryTable: Readonly<Record<UnaryFn, UnaryRow>> = unaryRows;
/** The unary functions in table order; the Kernel IR's zod schema (kernels/ir.ts) reads it. */
export const unaryFnNames = Object.keys(unaryTable) as [UnaryFn, ...UnaryFn[]];

export interface BinaryRow {
  dtypes: readonly ScalarType[];
  /** The exact function in float64 (`t` the operands' type); `evalBinary` rounds it. */
  f: (a: number, b: number, t: ScalarType) => number;
  wgsl: (a: string, b: string) => string;
  helper?: ScalarHelper;
  accuracy: (a: number, b: number) => Accuracy;
  /** The gradient rule (none for the boolean connectives). */
  grad?: BinaryGrad;
}

const infix = (sym: string) => (a: string, b: string) => `(${a} ${sym} ${b})`;

const binaryRows = {
  add: {
    dtypes: ["f32", "i32"],
    f: (a, b) => a + b,
    wgsl: infix("+"),
    accuracy: () => rounded,
    grad: (_g, _a, _b, _o, c) => [c, c],
  },
  sub: {
    dtypes: ["f32", "i32"],
    f: (a, b) => a - b,
    wgsl: infix("-"),
    accuracy: () => rounded,
    grad: (g, _a, _b, _o, c) => [c, g.emit("neg", [c])],
  },
  // imul: a double product of two i32s can exceed 2^53 and lose the low bits that wrap.
  mul: {
    dtypes: ["f32", "i32"],
    f: (a, b, t) => (t === "i32" ? Math.imul(a, b) : a * b),
    wgsl: infix("*"),
    accuracy: () => rounded,
    grad: (g, a, b, _o, c) => [g.emit("mul", [c, b]), g.emit("mul", [c, a])],
  },
  // 2.5 ulp for |b| in [2^-126, 2^126]; outside it WGSL promises nothing (Infinity).
  div: {
    dtypes: ["f32"],
    f: (a, b) => a / b,
    wgsl: infix("/"),
    accuracy: (_a, b) => ({
      ulp: Math.abs(b) >= 2 ** -126 && Math.abs(b) <= 2 ** 126 ? 2.5 : Infinity,
    }),
    grad: (g, _a, b, o, c) => {
      const ca = g.emit("div", [c, b]);
      return [ca, g.emit("neg", [g.emit("mul", [ca, o])])];
    },
  },
  // torch.pow's special cases (0^0 = 1, negative bases with whole exponents); WGSL's pow is exp2(b·log2(a)).
  pow: {
    dtypes: ["f32"],
    f: (a, b) => a ** b,
    wgsl: (a, b) => `nnc_pow(${a}, ${b})`,
    helper: {
      name: "nnc_pow",
      uses: ["nnc_bits"],
      source: `fn nnc_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a > 0.0) { return pow(a, b); }
  if (a == 0.0) { return select(0.0, nnc_bits(0x7f800000u), b < 0.0); }
  if (b != floor(b)) { return nnc_bits(0x7fc00000u); }
  let r = pow(-a, b);
  return select(r, -r, fract(b * 0.5) != 0.0);
}`,
    },
    // Inherited from exp2(b · log2|a|): log2's 2^-21 absolute error scaled by |b|, exp2's 3 + 2|t| ulp.
    accuracy: (a, b) => {
      if (a === 0 || b === 0) return exact; // the helper's own branches: 1, 0 or inf
      // A subnormal base passes the helper's a > 0 test, and pow may flush it: log2(0) = −inf,
      // an intermediate infinity, makes the result indeterminate.
      if (Math.abs(a) < 2 ** -126) return { ulp: Infinity };
      // log2 outside [0.5, 2] adds 3 ulp of t (≈ 2|t| ulp of the result), inside 2^-21·|b| (≈ 2.8|b| ulp).
      const t = Math.abs(b * Math.log2(Math.abs(a)));
      return { ulp: 4 + 5 * t + 3 * Math.abs(b) };
    },
    // b·a^(b−1), and out·log(a) for the exponent (NaN for a < 0, as torch).
    grad: (g, a, b, o, c) => [
      g.emit("mul", [c, g.emit("mul", [b, g.emit("pow", [a, g.emit("sub", [b, g.scalar(1)])])])]),
      g.emit("mul", [c, g.emit("mul", [o, g.emit("log", [a])])]),
    ],
  },
  // Math.max/min propagate NaN, like torch.maximum/minimum; WGSL may not (see relu).
  max: {
    dtypes: ["f32", "i32"],
    f: (a, b) => Math.max(a, b),
    wgsl: (a, b) => `max(${a}, ${b})`,
    accuracy: () => exact,
    grad: selectGrad("gt"),
  },
  min: {
    dtypes: ["f32", "i32"],
    f: (a, b) => Math.min(a, b),
    wgsl: (a, b) => `min(${a}, ${b})`,
    accuracy: () => exact,
    grad: selectGrad("lt"),
  },
  and: {
    dtypes: ["bool"],
    f: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
    wgsl: infix("&"),
    accuracy: () => exact,
  },
  or: {
    dtypes: ["bool"],
    f: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
    wgsl: infix("|"),
    accuracy: () => exact,
  },
} satisfies Record<string, BinaryRow>;

export type BinaryFn = keyof typeof binaryRows;
export const binaryTable: Readonly<Record<BinaryFn, BinaryRow>> = binaryRows;
export const binaryFnNames = Object.keys(binaryTable) as [BinaryFn, ...BinaryFn[]];

/** Comparisons: a bool from two operands of one type; the WGSL operator. */
export const cmpTable = {
  eq: { f: (a: number, b: number) => a === b, wgsl: "==" },
  ne: { f: (a: number, b: number) => a !== b, wgsl: "!=" },
  lt: { f: (a: number, b: number) => a < b, wgsl: "<" },
  le: { f: (a: number, b: number) => a <= b, wgsl: "<=" },
  gt: { f: (a: number, b: number) => a > b, wgsl: ">" },
  ge: { f: (a: number, b: number) => a >= b, wgsl: ">=" },
} as const;

export type CmpFn = keyof typeof cmpTable;
export const cmpFnNames = Object.keys(cmpTable) as [CmpFn, ...CmpFn[]];

/** A JS number as a value of `t`: f32 rounded, i32 wrapped, bool 0/1. */
export function roundTo(x: number, t: ScalarType): number {
  if (t === "f32") return Math.fround(x);
  if (t === "i32") return x | 0;
  return x !== 0 ? 1 : 0;
}

/** A unary function applied to a value of type `t`, the result rounded to `t` as a kernel computes it. */
export function evalUnary(fn: UnaryFn, x: number, t: ScalarType): number {
  return roundTo(unaryTable[fn].f(x), t);
}

export function evalBinary(fn: BinaryFn, a: number, b: number, t: ScalarType): number {
  return roundTo(binaryTable[fn].f(a, b, t), t);
}

export function evalCmp(fn: CmpFn, a: number, b: number): number {
  return cmpTable[fn].f(a, b) ? 1 : 0;
}

/**
 * The saturation bounds of float → integer conversion. WGSL (§Floating Point
 * Conversion, "scalar floating point to integral conversion") gives "the value
 * in T closest to truncate(X) and also exactly representable in the original
 * floating point type": 2^31 − 1 is not an f32, so f32 → i32 tops out at
 * 2^31 − 128 = 2147483520 (the spec's own example: 1e20f → 2147483520i) and
 * bottoms out at −2^31. i64 (CPU storage only) follows the same rule.
 */
const SATURATE: Partial<Record<DType, [number, number]>> = {
  i32: [-2147483648, 2147483520],
  i64: [-(2 ** 63), 2 ** 63 - 2 ** 39],
};

/**
 * One value converted from `from` to `to`, like the cast op: anything → bool
 * is != 0; float → int truncates toward zero and saturates as WGSL does; int
 * → i32 wraps; → f32 rounds to nearest. NaN → int is 0 here, a choice: WGSL
 * leaves it an indeterminate value (lavapipe gives −2^31), as it does any
 * result computed from NaN or ±Inf at run time (the Finite Math Assumption).
 */
export function castScalar(x: number, from: DType, to: DType): number {
  if (to === "bool") return x !== 0 ? 1 : 0;
  if (to === "f32") return Math.fround(x);
  if (from === "f32") {
    const range = SATURATE[to];
    if (range === undefined) return x;
    if (Number.isNaN(x)) return 0;
    // + 0: an integer has no −0 (trunc(−0.5) is −0).
    return Math.min(range[1], Math.max(range[0], Math.trunc(x))) + 0;
  }
  return to === "i32" ? x | 0 : x;
}

/** The WGSL of a cast of `x` (WGSL text) from `from` to `to` (different types). */
export function castWgsl(x: string, from: ScalarType, to: ScalarType): string {
  if (to === "bool") return `(${x} != ${{ f32: "0.0f", i32: "0i", bool: "false" }[from]})`;
  return `${to}(${x})`;
}
