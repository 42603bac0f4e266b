// The .nn form of each ONNX op `nnc import` writes: a stdlib layer call
// labelled from its weight's name where the node is one, an operator, a
// builtin or a method otherwise.

import { Attrs } from "./import-util.js";
import type { NodeProto } from "./proto.js";
import { ident, kwargs, list, num, pairText, unsupported, type Writer } from "./to-nn-writer.js";

/** The label of a layer whose weight is `P.weight` (or `P`): P as an identifier. */
const labelOf = (weight: string) => ident(weight.replace(/\.weight$|\.scale$/, ""));

type Expr = (w: Writer, n: NodeProto, where: string) => string;

const call =
  (fn: string): Expr =>
  (w, n, where) =>
    `${fn}(${w.ref(n.input[0]!, where)})`;
const infix =
  (op: string): Expr =>
  (w, n, where) =>
    `${w.ref(n.input[0]!, where)} ${op} ${w.ref(n.input[1]!, where)}`;

function window(w: Writer, n: NodeProto, where: string) {
  const at = new Attrs(n);
  const pads = at.ints("pads") ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3])
    throw unsupported(where, "not a 2-D window with symmetric pads");
  void w;
  return {
    stride: at.ints("strides") ?? [1, 1],
    pad: [pads[0]!, pads[1]!],
    dilation: at.ints("dilations") ?? [1, 1],
  };
}

export const exprs: Record<string, Expr> = {
  Relu: call("relu"),
  Sigmoid: call("sigmoid"),
  Tanh: call("tanh"),
  Exp: call("exp"),
  Log: call("log"),
  Sqrt: call("sqrt"),
  Erf: call("erf"),
  Abs: call("abs"),
  Identity: (w, n, where) => w.ref(n.input[0]!, where),
  Dropout: (w, n, where) => w.ref(n.input[0]!, where),
  Add: infix("+"),
  Sub: infix("-"),
  Mul: infix("*"),
  Div: infix("/"),
  MatMul: infix("@"),
  Pow: (w, n, where) => `pow(${w.ref(n.input[0]!, where)}, ${w.ref(n.input[1]!, where)})`,
  Equal: infix("=="),
  Less: infix("<"),
  LessOrEqual: infix("<="),
  Greater: infix(">"),
  GreaterOrEqual: infix(">="),
  And: infix("&&"),
  Or: infix("||"),
  Where: (w, n, where) => `where(${n.input.map((i) => w.ref(i, where)).join(", ")})`,
  Expand: (w, n, where) =>
    `expand(${w.ref(n.input[0]!, where)}, ${list(w.val(n.output[0]!).type.shape)})`,
  Max: (w, n, where) => `max(${w.ref(n.input[0]!, where)}, ${w.ref(n.input[1]!, where)})`,
  Min: (w, n, where) => `min(${w.ref(n.input[0]!, where)}, ${w.ref(n.input[1]!, where)})`,
  Clip: (w, n, where) => {
    let e = w.ref(n.input[0]!, where);
    if (n.input[1]) e = `max(${e}, ${w.ref(n.input[1], where)})`;
    if (n.input[2]) e = `min(${e}, ${w.ref(n.input[2], where)})`;
    return e;
  },
  Conv: (w, n, where) => {
    const W = w.weight(n.input[1]!, undefined, where);
    if (W.shape.length !== 4) throw unsupported(where, "a 1-D or 3-D Conv");
    const label = labelOf(n.input[1]!);
    w.weight(n.input[1]!, `${label}.weight`, where);
    if (n.input[2]) w.weight(n.input[2], `${label}.bias`, where);
    const { stride, pad, dilation } = window(w, n, where);
    const g = new Attrs(n).int("group", 1);
    const k = W.shape.slice(2);
    const opts = kwargs([
      ["stride", stride, "1"],
      ["pad", pad, "0"],
      ["dilation", dilation, "1"],
      ["groups", g, "1"],
      ["bias", !!n.input[2], "true"],
    ]);
    return `${w.ref(n.input[0]!, where)} -> ${label}: conv(${W.shape[0]}, ${pairText(k)}${opts})`;
  },
  ConvTranspose: (w, n, where) => {
    const W = w.weight(n.input[1]!, undefined, where);
    const label = labelOf(n.input[1]!);
    w.weight(n.input[1]!, `${label}.weight`, where);
    if (n.input[2]) w.weight(n.input[2], `${label}.bias`, where);
    const { stride, pad, dilation } = window(w, n, where);
    const at = new Attrs(n);
    const g = at.int("group", 1);
    const opts = kwargs([
      ["stride", stride, "1"],
      ["pad", pad, "0"],
      ["output_padding", at.ints("output_padding") ?? [0, 0], "0"],
      ["groups", g, "1"],
      ["bias", !!n.input[2], "true"],
      ["dilation", dilation, "1"],
    ]);
    return `${w.ref(n.input[0]!, where)} -> ${label}: conv_transpose(${W.shape[1]! * g}, ${pairText(W.shape.slice(2))}${opts})`;
  },
  BatchNormalization: (w, n, where) => {
    const label = labelOf(n.input[1]!);
    ["weight", "bias", "running_mean", "running_var"].forEach((p, i) => {
      w.weight(n.input[i + 1]!, `${label}.${p}`, where);
    });
    w.weights.set(`${label}.num_batches_tracked`, {
      dtype: "i64",
      shape: [],
      data: new BigInt64Array(1),
    });
    const eps = num(new Attrs(n).float("epsilon", 1e-5));
    return `${w.ref(n.input[0]!, where)} -> ${label}: batchnorm${eps === "0.00001" || eps === "1e-5" ? "" : `(eps=${eps})`}`;
  },
  LayerNormalization: (w, n, where) => {
    const x = w.val(n.input[0]!);
    const axis = new Attrs(n).int("axis", -1);
    if ((axis !== -1 && axis !== x.type.shape.length - 1) || !n.input[2])
      throw unsupported(
        where,
        "a LayerNormalization over more than the last axis, or without bias",
      );
    const label = labelOf(n.input[1]!);
    w.weight(n.input[1]!, `${label}.weight`, where);
    w.weight(n.input[2], `${label}.bias`, where);
    return `${w.ref(n.input[0]!, where)} -> ${label}: layernorm(eps=${num(new Attrs(n).float("epsilon", 1e-5))})`;
  },
  Gemm: (w, n, where) => {
    const at = new Attrs(n);
    if (
      at.int("transA", 0) ||
      !at.int("transB", 0) ||
      at.float("alpha", 1) !== 1 ||
      at.float("beta", 1) !== 1
    )
      throw unsupported(where, "a Gemm that is not a linear layer (transB=1, alpha=beta=1)");
    const W = w.weight(n.input[1]!, undefined, where);
    const label = labelOf(n.input[1]!);
    w.weight(n.input[1]!, `${label}.weight`, where);
    if (n.input[2]) w.weight(n.input[2], `${label}.bias`, where);
    return `${w.ref(n.input[0]!, where)} -> ${label}: linear(${W.shape[0]}${n.input[2] ? "" : ", bias=false"})`;
  },
  Gather: (w, n, where) => {
    const table = w.val(n.input[0]!);
    if (
      table.param === undefined ||
      new Attrs(n).int("axis", 0) !== 0 ||
      table.type.shape.length !== 2
    )
      throw unsupported(where, "a Gather that is not an embedding lookup");
    const label = labelOf(n.input[0]!);
    w.weight(n.input[0]!, `${label}.weight`, where);
    const [num, dim] = table.type.shape;
    return `${w.ref(n.input[1]!, where)} -> ${label}: embedding(${num}, ${dim})`;
  },
  MaxPool: (w, n, where) => {
    const { stride, pad } = window(w, n, where);
    const k = new Attrs(n).ints("kernel_shape")!;
    return `maxpool(${w.ref(n.input[0]!, where)}, ${pairText(k)}${kwargs([
      ["stride", stride, pairText(k)],
      ["pad", pad, "0"],
    ])})`;
  },
  AveragePool: (w, n, where) => {
    const { stride, pad } = window(w, n, where);
    const at = new Attrs(n);
    const inc = at.int("count_include_pad", 0) === 1;
    const k = at.ints("kernel_shape")!;
    const opts = kwargs([
      ["stride", stride, pairText(k)],
      ["pad", pad, "0"],
      ["count_include_pad", inc, "true"],
    ]);
    return `avgpool(${w.ref(n.input[0]!, where)}, ${pairText(k)}${opts})`;
  },
  GlobalAveragePool: call("global_avgpool"),
  ReduceMean: (w, n, where) => {
    const x = w.val(n.input[0]!);
    const at = new Attrs(n);
    const axes = (at.ints("axes") ?? x.type.shape.map((_, i) => i)).map((a) =>
      a < 0 ? a + x.type.shape.length : a,
    );
    return `mean(${w.ref(n.input[0]!, where)}, axis=${list(axes)}, keepdims=${at.int("keepdims", 1) === 1})`;
  },
  Softmax: (w, n, where) => softmaxLike(w, n, where, "softmax"),
  LogSoftmax: (w, n, where) => softmaxLike(w, n, where, "log_softmax"),
  Transpose: (w, n, where) =>
    `${w.ref(n.input[0]!, where)}.permute(${list(new Attrs(n).ints("perm")!)})`,
  Slice: (w, n, where) => {
    if (w.m.opset < 10) throw unsupported(where, "a Slice before opset 10");
    const values = (i: number) => {
      const v = n.input[i] ? w.val(n.input[i]) : undefined;
      return v?.value ? Array.from(v.value.data, Number) : undefined;
    };
    const starts = values(1);
    const ends = values(2);
    if (!starts || !ends) throw unsupported(where, "run-time slice bounds");
    const rank = w.val(n.input[0]!).type.shape.length;
    const axes = values(3) ?? starts.map((_, i) => i);
    const steps = values(4) ?? starts.map(() => 1);
    let e = w.ref(n.input[0]!, where);
    axes.forEach((a, i) => {
      const axis = a < 0 ? a + rank : a;
      e = `slice(${e}, axis=${axis}, start=${starts[i]}, end=${Math.min(ends[i]!, 2 ** 31 - 1)}, step=${steps[i]})`;
    });
    return e;
  },
  Concat: (w, n, where) => {
    const x = w.val(n.input[0]!);
    const a = new Attrs(n).int("axis", 0);
    const axis = a < 0 ? a + x.type.shape.length : a;
    return `concat(${n.input.map((i) => w.ref(i, where)).join(", ")}, axis=${axis})`;
  },
};

function softmaxLike(w: Writer, n: NodeProto, where: string, fn: string): string {
  const x = w.val(n.input[0]!);
  const r = x.type.shape.length;
  const a = new Attrs(n).int("axis", w.m.opset < 13 ? 1 : -1);
  const axis = a < 0 ? a + r : a;
  if (w.m.opset < 13 && axis !== r - 1)
    throw unsupported(where, "a pre-opset-13 softmax over several axes");
  return `${fn}(${w.ref(n.input[0]!, where)}, axis=${axis})`;
}
