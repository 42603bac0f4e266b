// The ONNX ops the importer knows, each as a rule composing nnc primitives:
// elementwise math, activations, comparisons and reductions here; movement and
// shape ops in import-shape.ts; convolutions, pools, norms and Scan in import-nn.ts. Opset differences
// (attributes that became inputs) are handled in the rule that has them.

import type { GraphImporter, Val } from "./import.js";
import { nnRules } from "./import-nn.js";
import { shapeRules } from "./import-shape.js";
import {
  Attrs,
  axesOf,
  axisOf,
  bin,
  fail,
  i32,
  need,
  type Rule,
  reshape,
  scalar,
} from "./import-util.js";
import { fromTensorProto, nnDType } from "./tensors.js";

const x0 = (inputs: (Val | undefined)[]) => need(inputs[0], "input 0");

const unaryRule =
  (op: string): Rule =>
  (b, inputs) => [b.op(op, [x0(inputs)])];

/** Opset < 7 broadcasting: `broadcast=1` with `axis` aligns B's dims at that axis of A. */
function legacyB(b: GraphImporter, a: Val, y: Val, n: Parameters<Rule>[2]): Val {
  const at = new Attrs(n);
  if (b.opset >= 7 || !at.int("broadcast", 0) || !at.has("axis")) return y;
  const axis = axisOf(at.int("axis", 0), a.type.shape.length);
  const trailing = a.type.shape.length - axis - y.type.shape.length;
  return trailing > 0
    ? reshape(b, y, [...y.type.shape, ...new Array<number>(trailing).fill(1)])
    : y;
}

const binaryRule =
  (op: string): Rule =>
  (b, inputs, n) => {
    const a = x0(inputs);
    return [b.op(op, [a, legacyB(b, a, need(inputs[1], "input 1"), n)])];
  };

/** Max, Min, Sum, Mean: variadic, folded pairwise. */
const variadic =
  (op: string, mean = false): Rule =>
  (b, inputs) => {
    const xs = inputs.filter((v): v is Val => v !== undefined);
    let acc = xs[0]!;
    for (const x of xs.slice(1)) acc = bin(b, op, acc, x);
    return [mean ? bin(b, "div", acc, scalar(b, xs.length)) : acc];
  };

const cmpRule =
  (op: string): Rule =>
  (b, inputs) => [b.op("cmp", [x0(inputs), need(inputs[1], "input 1")], { op })];

function whereGt0(b: GraphImporter, x: Val, pos: Val, neg: Val): Val {
  return b.op("where", [b.op("cmp", [x, scalar(b, 0)], { op: "gt" }), pos, neg]);
}

/** alpha·(exp(x) − 1) for x ≤ 0, the negative branch of Elu and Selu. */
function expm1Branch(b: GraphImporter, x: Val, alpha: number): Val {
  return bin(b, "mul", scalar(b, alpha), bin(b, "sub", b.op("exp", [x]), scalar(b, 1)));
}

function clamp(b: GraphImporter, x: Val, lo: Val | undefined, hi: Val | undefined): Val {
  let y = x;
  if (lo) y = bin(b, "max", y, lo);
  if (hi) y = bin(b, "min", y, hi);
  return y;
}

function hardSigmoid(b: GraphImporter, x: Val, alpha: number, beta: number): Val {
  const lin = bin(b, "add", bin(b, "mul", x, scalar(b, alpha)), scalar(b, beta));
  return clamp(b, lin, scalar(b, 0), scalar(b, 1));
}

const reduceRule =
  (op: "reduce_sum" | "reduce_max" | "reduce_mean" | "reduce_min"): Rule =>
  (b, inputs, n) => {
    const x = x0(inputs);
    const rank = x.type.shape.length;
    const at = new Attrs(n);
    let axes = axesOf(inputs, n, rank);
    if (axes === undefined || axes.length === 0) {
      if (at.int("noop_with_empty_axes", 0)) return [x];
      axes = x.type.shape.map((_, i) => i);
    }
    const keepdims = at.int("keepdims", 1) === 1;
    if (op === "reduce_min") {
      const neg = b.op("neg", [x]);
      return [b.op("neg", [b.op("reduce_max", [neg], { axes, keepdims })])];
    }
    return [b.op(op, [x], { axes, keepdims })];
  };

function castRule(b: GraphImporter, inputs: (Val | undefined)[], n: Parameters<Rule>[2]): Val[] {
  const x = x0(inputs);
  const to = nnDType(new Attrs(n).int("to", 1), "Cast");
  return [to === x.type.dtype ? x : b.op("cast", [x], { to })];
}

function constantRule(
  b: GraphImporter,
  _inputs: (Val | undefined)[],
  n: Parameters<Rule>[2],
): Val[] {
  const at = new Attrs(n);
  const t = at.tensor("value");
  if (t) return [b.constant(fromTensorProto(t, "Constant value"))];
  const f = at.floats("value_floats");
  if (f) return [b.constant({ dtype: "f32", shape: [f.length], data: Float32Array.from(f) })];
  const is = at.ints("value_ints");
  if (is) return [i32(b, is)];
  if (at.has("value_float")) return [scalar(b, at.float("value_float", 0))];
  if (at.has("value_int")) return [scalar(b, at.int("value_int", 0), "i32")];
  fail("Constant without a tensor, float or int value");
}

export const importRules: Record<string, Rule> = {
  Identity: (_b, inputs) => [x0(inputs)],
  Dropout: (_b, inputs, n) => {
    if (n.output.length > 1 && n.output[1])
      fail("Dropout's mask output is not supported (inference only)");
    return [x0(inputs)];
  },
  Neg: unaryRule("neg"),
  Abs: unaryRule("abs"),
  Relu: unaryRule("relu"),
  Exp: unaryRule("exp"),
  Log: unaryRule("log"),
  Sqrt: unaryRule("sqrt"),
  Tanh: unaryRule("tanh"),
  Sigmoid: unaryRule("sigmoid"),
  Erf: unaryRule("erf"),
  Floor: unaryRule("floor"),
  Ceil: unaryRule("ceil"),
  Not: unaryRule("not"),
  Reciprocal: (b, inputs) => [bin(b, "div", scalar(b, 1), x0(inputs))],
  Add: binaryRule("add"),
  Sub: binaryRule("sub"),
  Mul: binaryRule("mul"),
  Div: binaryRule("div"),
  Pow: binaryRule("pow"),
  And: binaryRule("and"),
  Or: binaryRule("or"),
  Max: variadic("max"),
  Min: variadic("min"),
  Sum: variadic("add"),
  Mean: variadic("add", true),
  Equal: cmpRule("eq"),
  Less: cmpRule("lt"),
  LessOrEqual: cmpRule("le"),
  Greater: cmpRule("gt"),
  GreaterOrEqual: cmpRule("ge"),
  Where: (b, inputs) => [b.op("where", [x0(inputs), need(inputs[1], "X"), need(inputs[2], "Y")])],
  Cast: castRule,
  LeakyRelu: (b, inputs, n) => {
    const x = x0(inputs);
    return [whereGt0(b, x, x, bin(b, "mul", x, scalar(b, new Attrs(n).float("alpha", 0.01))))];
  },
  PRelu: (b, inputs) => {
    const x = x0(inputs);
    let slope = need(inputs[1], "slope");
    // PyTorch's exporter writes a per-channel slope as [C]; it applies along axis 1.
    const r = x.type.shape.length;
    if (
      slope.type.shape.length === 1 &&
      r > 2 &&
      slope.type.shape[0] === x.type.shape[1] &&
      slope.type.shape[0] !== 1
    )
      slope = reshape(b, slope, [slope.type.shape[0]!, ...new Array<number>(r - 2).fill(1)]);
    return [whereGt0(b, x, x, bin(b, "mul", x, slope))];
  },
  Elu: (b, inputs, n) => {
    const x = x0(inputs);
    return [whereGt0(b, x, x, expm1Branch(b, x, new Attrs(n).float("alpha", 1)))];
  },
  Selu: (b, inputs, n) => {
    const x = x0(inputs);
    const at = new Attrs(n);
    const alpha = at.float("alpha", 1.6732631921768188);
    const gamma = at.float("gamma", 1.0507010221481323);
    return [bin(b, "mul", scalar(b, gamma), whereGt0(b, x, x, expm1Branch(b, x, alpha)))];
  },
  Softplus: (b, inputs) => [b.op("log", [bin(b, "add", b.op("exp", [x0(inputs)]), scalar(b, 1))])],
  Softsign: (b, inputs) => {
    const x = x0(inputs);
    return [bin(b, "div", x, bin(b, "add", scalar(b, 1), b.op("abs", [x])))];
  },
  HardSigmoid: (b, inputs, n) => {
    const at = new Attrs(n);
    return [hardSigmoid(b, x0(inputs), at.float("alpha", 0.2), at.float("beta", 0.5))];
  },
  HardSwish: (b, inputs) => {
    const x = x0(inputs);
    return [bin(b, "mul", x, hardSigmoid(b, x, 1 / 6, 0.5))];
  },
  Gelu: (b, inputs, n) => {
    const x = x0(inputs);
    const half = bin(b, "mul", scalar(b, 0.5), x);
    if (new Attrs(n).str("approximate", "none") === "tanh") {
      const cube = bin(b, "mul", bin(b, "mul", x, x), x);
      const inner = bin(
        b,
        "mul",
        scalar(b, 0.7978845608028654),
        bin(b, "add", x, bin(b, "mul", scalar(b, 0.044715), cube)),
      );
      return [bin(b, "mul", half, bin(b, "add", scalar(b, 1), b.op("tanh", [inner])))];
    }
    const e = b.op("erf", [bin(b, "mul", x, scalar(b, Math.SQRT1_2))]);
    return [bin(b, "mul", half, bin(b, "add", scalar(b, 1), e))];
  },
  Clip: (b, inputs, n) => {
    const x = x0(inputs);
    if (b.opset < 11) {
      const at = new Attrs(n);
      const lo = at.has("min") ? scalar(b, at.float("min", 0)) : undefined;
      const hi = at.has("max") ? scalar(b, at.float("max", 0)) : undefined;
      return [clamp(b, x, lo, hi)];
    }
    return [clamp(b, x, inputs[1], inputs[2])];
  },
  ReduceSum: reduceRule("reduce_sum"),
  ReduceMax: reduceRule("reduce_max"),
  ReduceMin: reduceRule("reduce_min"),
  ReduceMean: reduceRule("reduce_mean"),
  Constant: constantRule,
  ...shapeRules,
  ...nnRules,
};
