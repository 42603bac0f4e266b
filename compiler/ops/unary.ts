// Unary elementwise ops, one table row each: the dtypes an op accepts (the
// output has the input's dtype) and its scalar function in float64. A new
// unary op is one row.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/types.js";
import { vcast, vunary } from "../kernels/expr.js";
import { computeType } from "../kernels/index-maps.js";
import type { UnaryFn } from "../kernels/scalar.js";
import { dtypeAttr } from "./attrs.js";
import { erf } from "./erf.js";
import { defineOp, type GradBuilder, type OpDef } from "./op.js";
import { expectDTypes } from "./shape-utils.js";
import { readAt, tensorFrom } from "./tensor-data.js";

interface UnaryRow {
  name: UnaryFn;
  dtypes: DType[];
  f: (x: number) => number;
}

const F32: DType[] = ["f32"];
const F32_I32: DType[] = ["f32", "i32"];

/** sigmoid without overflow: exp is only taken of non-positive numbers. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const rows: UnaryRow[] = [
  // i32 results wrap when stored (neg/abs of −2³¹ give −2³¹, like two's complement).
  { name: "neg", dtypes: F32_I32, f: (x) => -x },
  { name: "abs", dtypes: F32_I32, f: Math.abs },
  { name: "relu", dtypes: F32_I32, f: (x) => (Number.isNaN(x) ? x : Math.max(0, x)) },
  { name: "exp", dtypes: F32, f: Math.exp },
  { name: "log", dtypes: F32, f: Math.log },
  { name: "sqrt", dtypes: F32, f: Math.sqrt },
  { name: "rsqrt", dtypes: F32, f: (x) => 1 / Math.sqrt(x) },
  { name: "tanh", dtypes: F32, f: Math.tanh },
  { name: "sigmoid", dtypes: F32, f: sigmoid },
  { name: "erf", dtypes: F32, f: erf },
  { name: "floor", dtypes: F32, f: Math.floor },
  { name: "ceil", dtypes: F32, f: Math.ceil },
  { name: "not", dtypes: ["bool"], f: (x) => (x === 0 ? 1 : 0) },
];

function unaryOp(row: UnaryRow): OpDef {
  return defineOp({
    name: row.name,
    category: "elementwise",
    arity: 1,
    attrs: z.strictObject({}),
    infer([x]) {
      expectDTypes(row.name, [x!], row.dtypes);
      return { dtype: x!.dtype, shape: [...x!.shape] };
    },
    evaluate([x]) {
      return tensorFrom(x!.dtype, [...x!.shape], (i) => row.f(readAt(x!, i)));
    },
    lower:
      ([x]) =>
      (index) =>
        vunary(row.name, x!.at(index)),
    ...(unaryGrads[row.name] ? { vjp: unaryVjp(unaryGrads[row.name]!) } : {}),
  });
}

/** d out / d x times the cotangent, from x, out and cot (floor, ceil: zero almost everywhere, so none). */
type UnaryGrad = (b: GradBuilder, x: number, out: number, cot: number) => number;

const unaryGrads: Partial<Record<UnaryFn, UnaryGrad>> = {
  neg: (b, _x, _o, c) => b.emit("neg", [c]),
  abs: (b, x, _o, c) => {
    // sign(x)·c, and 0 at x = 0 as torch's sgn.
    const zero = b.scalar(0);
    const pos = b.emit("where", [b.emit("cmp", [x, zero], { op: "gt" }), c, zero]);
    return b.emit("where", [b.emit("cmp", [x, zero], { op: "lt" }), b.emit("neg", [c]), pos]);
  },
  relu: (b, x, _o, c) => {
    const zero = b.scalar(0);
    return b.emit("where", [b.emit("cmp", [x, zero], { op: "gt" }), c, zero]);
  },
  exp: (b, _x, o, c) => b.emit("mul", [c, o]),
  log: (b, x, _o, c) => b.emit("div", [c, x]),
  sqrt: (b, _x, o, c) => b.emit("div", [b.emit("mul", [c, b.scalar(0.5)]), o]),
  rsqrt: (b, _x, o, c) => {
    const o3 = b.emit("mul", [b.emit("mul", [o, o]), o]);
    return b.emit("mul", [b.emit("mul", [c, b.scalar(-0.5)]), o3]);
  },
  tanh: (b, _x, o, c) => b.emit("mul", [c, b.emit("sub", [b.scalar(1), b.emit("mul", [o, o])])]),
  sigmoid: (b, _x, o, c) => b.emit("mul", [c, b.emit("mul", [o, b.emit("sub", [b.scalar(1), o])])]),
  erf: (b, x, _o, c) => {
    // 2/√π · exp(−x²)
    const e = b.emit("exp", [b.emit("neg", [b.emit("mul", [x, x])])]);
    return b.emit("mul", [c, b.emit("mul", [e, b.scalar(2 / Math.sqrt(Math.PI))])]);
  },
};

function unaryVjp(grad: UnaryGrad): NonNullable<OpDef["vjp"]> {
  return (b, node, cot) => [grad(b, node.inputs[0]!, node.output, cot)];
}

export const unaryOps: OpDef[] = rows.map(unaryOp);

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  // From f32 the saturation bounds are the extreme values representable in
  // both types, as WGSL defines its f32 → i32 conversion: 2^31 − 1 is not an
  // f32, so the top is 2^31 − 128.
  i32: [-2147483648, 2147483520],
  i64: [-(2 ** 63), 2 ** 63 - 2 ** 39], // the largest f32 inside the i64 range
};

/**
 * One element converted to `to`: float → int truncates toward zero and
 * saturates at the integer range (NaN → 0), as WGSL's conversion does;
 * bool → number is 0/1; anything → bool is != 0.
 */
function castValue(x: number, from: DType, to: DType): number {
  if (to === "bool") return x !== 0 ? 1 : 0;
  const range = INT_RANGE[to];
  if (range === undefined || from !== "f32") return x;
  if (Number.isNaN(x)) return 0;
  return Math.min(range[1], Math.max(range[0], Math.trunc(x)));
}

export const cast = defineOp({
  name: "cast",
  category: "elementwise",
  arity: 1,
  attrs: z.strictObject({ to: dtypeAttr }),
  infer: ([x], a) => ({ dtype: a.to, shape: [...x!.shape] }),
  evaluate([x], a): Tensor {
    return tensorFrom(a.to, [...x!.shape], (i) => castValue(readAt(x!, i), x!.dtype, a.to));
  },
  lower([x], a) {
    const to = computeType(a.to);
    return (index) => vcast(x!.at(index), to);
  },
  // Only a float → float cast carries a gradient (the identity); the rest are piecewise constant.
  vjp: (b, node, cot) => [
    b.type(node.inputs[0]!).dtype === "f32" && node.attrs.to === "f32" ? cot : undefined,
  ],
});
