// How each primitive op of the Graph IR is written as ONNX (opset 17) nodes:
// one rule per op name, called by export.ts with the ONNX names of the node's
// inputs and of its output. An op without a rule is an NN8205 error there.

import { numel } from "../core/types.js";
import type { GraphNode } from "../graph/graph.js";
import { getOp } from "../ops/index.js";
import {
  attrs,
  int64Proto,
  type NodeProto,
  onnxDType,
  type TensorProto,
  tensorProto,
} from "./proto.js";

/** What a rule may ask of the graph being written. */
export interface EmitContext {
  /** Adds a node; returns its first output. */
  node(opType: string, inputs: string[], output: string, a?: NodeProto["attribute"]): string;
  /** Adds a node with several outputs. */
  nodeMulti(opType: string, inputs: string[], outputs: string[], a?: NodeProto["attribute"]): void;
  /** A fresh value name derived from `hint`. */
  fresh(hint: string): string;
  /** A Constant node holding `t`; returns its output name. */
  constant(t: TensorProto): string;
  /** The node being written (its type, attrs and the types of its inputs). */
  readonly graphNode: GraphNode;
  inputType(i: number): GraphNode["type"];
}

type Rule = (ctx: EmitContext, inputs: string[], out: string) => void;

const unaryOnnx: Record<string, string> = {
  neg: "Neg",
  abs: "Abs",
  relu: "Relu",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  tanh: "Tanh",
  sigmoid: "Sigmoid",
  erf: "Erf",
  floor: "Floor",
  ceil: "Ceil",
  not: "Not",
};

const binaryOnnx: Record<string, string> = {
  add: "Add",
  sub: "Sub",
  mul: "Mul",
  div: "Div",
  pow: "Pow",
  max: "Max",
  min: "Min",
  and: "And",
  or: "Or",
};

const cmpOnnx: Record<string, string> = {
  eq: "Equal",
  lt: "Less",
  le: "LessOrEqual",
  gt: "Greater",
  ge: "GreaterOrEqual",
};

const pair = (v: unknown) => v as [number, number];
const ints = (v: unknown) => v as number[];

/** [top, left, bottom, right]: ONNX lists every begin, then every end. */
const pads2d = (p: [number, number]) => [p[0], p[1], p[0], p[1]];

/** Conv and ConvTranspose: the same window attributes (ConvTranspose adds output_padding). */
function convRule(op: "Conv" | "ConvTranspose"): Rule {
  return (ctx, [x, w], out) => {
    const a = ctx.graphNode.attrs;
    ctx.node(
      op,
      [x!, w!],
      out,
      attrs({
        kernel_shape: ctx.inputType(1).shape.slice(2),
        strides: ints(a.stride),
        pads: pads2d(pair(a.pad)),
        ...(op === "ConvTranspose" ? { output_padding: ints(a.output_padding) } : {}),
        dilations: ints(a.dilation),
        group: a.groups as number,
      }),
    );
  };
}

function reduceRule(opType: string): Rule {
  return (ctx, [x], out) => {
    const a = ctx.graphNode.attrs as { axes: number[]; keepdims: boolean };
    // An empty axes list is the identity here; ONNX would read it as "every axis".
    if (a.axes.length === 0) {
      ctx.node("Identity", [x!], out);
      return;
    }
    const keepdims = a.keepdims ? 1 : 0;
    // Opset 17: ReduceSum takes its axes as an input, ReduceMax/Mean still as an attribute.
    if (opType === "ReduceSum") {
      const axes = ctx.constant(int64Proto(ctx.fresh("axes"), a.axes));
      ctx.node(opType, [x!, axes], out, attrs({ keepdims }));
    } else {
      ctx.node(opType, [x!], out, attrs({ axes: a.axes, keepdims }));
    }
  };
}

export const rules: Record<string, Rule> = {
  ...Object.fromEntries(
    Object.entries(unaryOnnx).map(([op, t]): [string, Rule] => [
      op,
      (ctx, [x], out) => ctx.node(t, [x!], out),
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(binaryOnnx).map(([op, t]): [string, Rule] => [
      op,
      (ctx, [a, b], out) => ctx.node(t, [a!, b!], out),
    ]),
  ),
  rsqrt: (ctx, [x], out) =>
    ctx.node("Reciprocal", [ctx.node("Sqrt", [x!], ctx.fresh("sqrt"))], out),
  cast: (ctx, [x], out) => {
    const to = (ctx.graphNode.attrs as { to: keyof typeof onnxDType }).to;
    ctx.node("Cast", [x!], out, attrs({ to: onnxDType[to] }));
  },
  cmp: (ctx, [a, b], out) => {
    const op = (ctx.graphNode.attrs as { op: string }).op;
    if (op === "ne") ctx.node("Not", [ctx.node("Equal", [a!, b!], ctx.fresh("eq"))], out);
    else ctx.node(cmpOnnx[op]!, [a!, b!], out);
  },
  where: (ctx, [c, a, b], out) => ctx.node("Where", [c!, a!, b!], out),
  reduce_sum: reduceRule("ReduceSum"),
  reduce_max: reduceRule("ReduceMax"),
  reduce_mean: reduceRule("ReduceMean"),
  matmul: (ctx, [a, b], out) => ctx.node("MatMul", [a!, b!], out),
  conv2d: convRule("Conv"),
  conv_transpose2d: convRule("ConvTranspose"),

  pool2d: (ctx, [x], out) => {
    const a = ctx.graphNode.attrs as {
      kind: "max" | "avg";
      kernel: [number, number];
      stride: [number, number];
      pad: [number, number];
      count_include_pad: boolean;
    };
    const common = { kernel_shape: a.kernel, strides: a.stride, pads: pads2d(a.pad) };
    if (a.kind === "max") ctx.node("MaxPool", [x!], out, attrs(common));
    else
      ctx.node(
        "AveragePool",
        [x!],
        out,
        attrs({ ...common, count_include_pad: a.count_include_pad ? 1 : 0 }),
      );
  },
  reshape: (ctx, [x], out) => {
    const target = ints(ctx.graphNode.attrs.shape);
    const from = ctx.inputType(0).shape;
    // A dim kept at its index is written 0 (ONNX: copy it), so the file does not pin it
    // (a flatten keeps the batch dim free). A real 0-sized dim needs allowzero instead.
    const zeroSized = target.some((d, i) => d === 0 && from[i] !== 0);
    const shape = zeroSized
      ? target
      : target.map((d, i) => (i < from.length && d === from[i] ? 0 : d));
    const name = ctx.constant(int64Proto(ctx.fresh("shape"), shape));
    ctx.node("Reshape", [x!, name], out, zeroSized ? attrs({ allowzero: 1 }) : []);
  },
  permute: (ctx, [x], out) =>
    ctx.node("Transpose", [x!], out, attrs({ perm: ints(ctx.graphNode.attrs.perm) })),
  slice: (ctx, [x], out) => {
    const a = ctx.graphNode.attrs as { starts: number[]; ends: number[]; steps?: number[] };
    const rank = a.starts.length;
    const c = (hint: string, v: number[]) => ctx.constant(int64Proto(ctx.fresh(hint), v));
    const axes = Array.from({ length: rank }, (_, i) => i);
    const steps = a.steps ?? new Array<number>(rank).fill(1);
    ctx.node(
      "Slice",
      [x!, c("starts", a.starts), c("ends", a.ends), c("axes", axes), c("steps", steps)],
      out,
    );
  },
  pad: (ctx, [x], out) => {
    const a = ctx.graphNode.attrs as { pads: [number, number][]; value: number };
    const pads = ctx.constant(
      int64Proto(ctx.fresh("pads"), [...a.pads.map((p) => p[0]), ...a.pads.map((p) => p[1])]),
    );
    const dtype = ctx.inputType(0).dtype;
    const value = ctx.constant(tensorProto(ctx.fresh("pad_value"), scalar(dtype, a.value)));
    ctx.node("Pad", [x!, pads, value], out, attrs({ mode: "constant" }));
  },
  concat: (ctx, inputs, out) =>
    ctx.node("Concat", inputs, out, attrs({ axis: ctx.graphNode.attrs.axis as number })),
  broadcast: (ctx, [x], out) => {
    const shape = ctx.constant(int64Proto(ctx.fresh("shape"), ints(ctx.graphNode.attrs.shape)));
    ctx.node("Expand", [x!, shape], out);
  },
  gather: (ctx, [data, idx], out) =>
    ctx.node("Gather", [data!, idx!], out, attrs({ axis: ctx.graphNode.attrs.axis as number })),
  // A position grid: its value depends only on attrs, so it is written as the constant it is.
  iota: (ctx, _inputs, out) => {
    const n = ctx.graphNode;
    const t = getOp("iota").evaluate([], n.attrs, { runGraph: () => [] });
    ctx.node("Constant", [], out, attrs({ value: tensorProto(`${out}_value`, t) }));
  },
};

function scalar(dtype: GraphNode["type"]["dtype"], v: number) {
  const t = { dtype, shape: [] as number[] };
  switch (dtype) {
    case "f32":
      return { ...t, data: Float32Array.of(v) };
    case "i32":
      return { ...t, data: Int32Array.of(v) };
    case "bool":
      return { ...t, data: Uint8Array.of(v) };
    case "i64":
      return { ...t, data: BigInt64Array.of(BigInt(v)) };
  }
}

/** The number of elements a graph node's value holds (for the scan layout). */
export const sizeOf = (n: GraphNode): number => numel(n.type.shape);
