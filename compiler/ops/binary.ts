// Binary ops with NumPy broadcasting, one table row each: accepted dtypes
// (both operands must share one), the result dtype and the scalar function in
// float64. Comparisons (cmp) and the boolean connectives are rows too.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { type DType, sameShape, type TensorType } from "../core/types.js";
import { type IExpr, vbinary, vcmp } from "../kernels/expr.js";
import { broadcastIndex } from "../kernels/index-maps.js";
import type { BinaryFn } from "../kernels/scalar.js";
import { defineOp, type GradBuilder, type LowerOperand, type OpDef, OpError } from "./op.js";
import {
  broadcastIndexMap,
  broadcastShapes,
  expectDTypes,
  expectSameDType,
  formatTypeList,
} from "./shape-utils.js";
import { readAt, tensorFrom } from "./tensor-data.js";

const F32: DType[] = ["f32"];
const F32_I32: DType[] = ["f32", "i32"];
const BOOL: DType[] = ["bool"];

/** The broadcast result type of same-dtype operands (NN4003 / NN4001 otherwise). */
export function inferBroadcast(
  op: string,
  inputs: TensorType[],
  dtypes: readonly DType[],
): number[] {
  expectDTypes(op, inputs, dtypes);
  expectSameDType(op, inputs);
  const shape = broadcastShapes(inputs.map((t) => t.shape));
  if (shape === undefined) {
    throw new OpError("NN4001", `${op}: shapes ${formatTypeList(inputs)} do not broadcast`);
  }
  return shape;
}

/** For each output element, a reader of the broadcast input element. */
export function broadcastReaders(inputs: Tensor[], shape: number[]): ((i: number) => number)[] {
  return inputs.map((t) => {
    if (sameShape(t.shape, shape)) return (i: number) => readAt(t, i);
    const map = broadcastIndexMap(t.shape, shape);
    return (i: number) => readAt(t, map[i]!);
  });
}

/** Reads each operand at the broadcast of the output index. */
export function broadcastOperands(inputs: LowerOperand[], index: IExpr[]) {
  return inputs.map((x) => x.at(broadcastIndex(index, x.type.shape)));
}

interface BinaryRow {
  name: BinaryFn;
  dtypes: DType[];
  /** The result dtype; the operands' dtype when absent. */
  result?: DType;
  f: (a: number, b: number, dtype: DType) => number;
}

const rows: BinaryRow[] = [
  // i32 results wrap when stored; mul uses imul because a double product can exceed 2^53.
  { name: "add", dtypes: F32_I32, f: (a, b) => a + b },
  { name: "sub", dtypes: F32_I32, f: (a, b) => a - b },
  { name: "mul", dtypes: F32_I32, f: (a, b, t) => (t === "i32" ? Math.imul(a, b) : a * b) },
  { name: "div", dtypes: F32, f: (a, b) => a / b },
  { name: "pow", dtypes: F32, f: (a, b) => a ** b },
  // Math.max/min propagate NaN, like torch.maximum/minimum.
  { name: "max", dtypes: F32_I32, f: (a, b) => Math.max(a, b) },
  { name: "min", dtypes: F32_I32, f: (a, b) => Math.min(a, b) },
  { name: "and", dtypes: BOOL, f: (a, b) => (a !== 0 && b !== 0 ? 1 : 0) },
  { name: "or", dtypes: BOOL, f: (a, b) => (a !== 0 || b !== 0 ? 1 : 0) },
];

function binaryOp(row: BinaryRow): OpDef {
  return defineOp({
    name: row.name,
    category: "broadcast",
    arity: 2,
    attrs: z.strictObject({}),
    infer(inputs) {
      const shape = inferBroadcast(row.name, inputs, row.dtypes);
      return { dtype: row.result ?? inputs[0]!.dtype, shape };
    },
    evaluate(inputs) {
      const dtype = inputs[0]!.dtype;
      const shape = broadcastShapes(inputs.map((t) => t.shape))!;
      const [a, b] = broadcastReaders(inputs, shape);
      return tensorFrom(row.result ?? dtype, shape, (i) => row.f(a!(i), b!(i), dtype));
    },
    lower: (inputs) => (index) => {
      const [a, b] = broadcastOperands(inputs, index);
      return vbinary(row.name, a!, b!);
    },
    ...(binaryGrads[row.name] ? { vjp: binaryVjp(binaryGrads[row.name]!) } : {}),
  });
}

/** The cotangents of a and b (before un-broadcasting) from a, b, out and cot. */
type BinaryGrad = (
  g: GradBuilder,
  a: number,
  b: number,
  out: number,
  cot: number,
) => [number, number];

/** max/min: the cotangent goes to the larger (smaller) operand, split evenly on a tie as torch does. */
function selectGrad(op: "gt" | "lt"): BinaryGrad {
  return (g, a, b, _o, c) => {
    const zero = g.scalar(0);
    const half = g.emit("mul", [c, g.scalar(0.5)]);
    const tie = g.emit("cmp", [a, b], { op: "eq" });
    const aWins = g.emit("cmp", [a, b], { op });
    const bWins = g.emit("cmp", [b, a], { op });
    return [
      g.emit("where", [aWins, c, g.emit("where", [tie, half, zero])]),
      g.emit("where", [bWins, c, g.emit("where", [tie, half, zero])]),
    ];
  };
}

const binaryGrads: Partial<Record<BinaryFn, BinaryGrad>> = {
  add: (_g, _a, _b, _o, c) => [c, c],
  sub: (g, _a, _b, _o, c) => [c, g.emit("neg", [c])],
  mul: (g, a, b, _o, c) => [g.emit("mul", [c, b]), g.emit("mul", [c, a])],
  div: (g, _a, b, o, c) => {
    const ca = g.emit("div", [c, b]);
    return [ca, g.emit("neg", [g.emit("mul", [ca, o])])];
  },
  pow: (g, a, b, o, c) => [
    // b·a^(b−1), and out·log(a) for the exponent (NaN for a < 0, as torch).
    g.emit("mul", [c, g.emit("mul", [b, g.emit("pow", [a, g.emit("sub", [b, g.scalar(1)])])])]),
    g.emit("mul", [c, g.emit("mul", [o, g.emit("log", [a])])]),
  ],
  max: selectGrad("gt"),
  min: selectGrad("lt"),
};

function binaryVjp(grad: BinaryGrad): NonNullable<OpDef["vjp"]> {
  return (g, node, cot) => {
    const [a, b] = node.inputs as [number, number];
    const [ca, cb] = grad(g, a, b, node.output, cot);
    return [g.unbroadcast(ca, g.type(a).shape), g.unbroadcast(cb, g.type(b).shape)];
  };
}

const comparisons = {
  eq: (a: number, b: number) => a === b,
  ne: (a: number, b: number) => a !== b,
  lt: (a: number, b: number) => a < b,
  le: (a: number, b: number) => a <= b,
  gt: (a: number, b: number) => a > b,
  ge: (a: number, b: number) => a >= b,
};

export const cmp = defineOp({
  name: "cmp",
  category: "broadcast",
  arity: 2,
  attrs: z.strictObject({ op: z.enum(["eq", "ne", "lt", "le", "gt", "ge"]) }),
  infer(inputs) {
    return { dtype: "bool", shape: inferBroadcast("cmp", inputs, ["f32", "i32", "bool"]) };
  },
  evaluate(inputs, attrs) {
    const shape = broadcastShapes(inputs.map((t) => t.shape))!;
    const [a, b] = broadcastReaders(inputs, shape);
    const test = comparisons[attrs.op];
    return tensorFrom("bool", shape, (i) => (test(a!(i), b!(i)) ? 1 : 0));
  },
  lower: (inputs, attrs) => (index) => {
    const [a, b] = broadcastOperands(inputs, index);
    return vcmp(attrs.op, a!, b!);
  },
});

export const binaryOps: OpDef[] = [...rows.map(binaryOp), cmp];
