// `nnc import`: an ONNX model written as .nn source meant for people, plus its
// weights. Each ONNX node becomes one `let`: a stdlib layer where the node is
// one (Conv → conv, BatchNormalization → batchnorm, Gemm → linear, Gather on
// a table → embedding, LSTM → lstm, …), labelled from its weight's name, or an operator
// or primitive otherwise. Shapes are the ones the importer folded, so
// Shape/Gather/Concat chains feeding a Reshape are already constants here.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { formatType } from "../core/types.js";
import type { ImportedModel, Val } from "./import.js";
import { Attrs } from "./import-util.js";
import type { ModelProto, NodeProto } from "./proto.js";
import { writeRecurrent } from "./to-nn-rnn.js";

const recurrentOps = { LSTM: true, GRU: true, RNN: true };

export interface NnSource {
  source: string;
  /** The params of `source` by their .nn names. */
  weights: Map<string, Tensor>;
}

/** An identifier from any ONNX name: `layer1.0.conv1` → `layer1_0_conv1`. */
export function ident(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+|_+$/g, "");
  return /^[A-Za-z]/.test(s) ? s : `v${s}`;
}

/** The shortest decimal that reads back as the same float32 (1e-5, not 0.000009999999747378752). */
function num(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "(-inf)";
  if (Number.isNaN(x)) throw unsupported("a constant", "NaN has no .nn literal");
  if (Number.isInteger(x)) return `${x}.0`;
  for (let p = 1; p < 10; p++) {
    const s = String(Number(x.toPrecision(p)));
    if (Math.fround(Number(s)) === Math.fround(x)) return s;
  }
  return String(x);
}
const list = (xs: readonly number[]) => `[${xs.join(", ")}]`;
/** A window size: an int when both dims agree. */
const pairText = (xs: readonly number[]) =>
  xs.length === 2 && xs[0] === xs[1] ? String(xs[0]) : list(xs);

/** Keyword arguments, leaving out those at the layer's default. */
function kwargs(pairs: [string, readonly number[] | number | boolean, string][]): string {
  return pairs
    .map(([k, v, dflt]) => {
      const text = typeof v === "object" ? pairText(v) : String(v);
      return text === dflt ? "" : `, ${k}=${text}`;
    })
    .join("");
}

class Writer {
  readonly lines: string[] = [];
  readonly names = new Map<string, string>();
  readonly weights = new Map<string, Tensor>();
  private readonly used = new Set<string>();

  constructor(readonly m: ImportedModel) {}

  fresh(hint: string): string {
    let name = ident(hint);
    for (let k = 2; this.used.has(name); k++) name = `${ident(hint)}_${k}`;
    this.used.add(name);
    return name;
  }

  val(name: string): Val {
    return this.m.values.get(name)!;
  }

  /** Values written only where first read: work on weights alone. */
  readonly pending = new Map<string, () => void>();
  /** Ranks of the `tensorR` helper layers the source needs. */
  readonly tensorRanks = new Set<number>();
  /** A tensor any helper layer may be applied to (the model's first input). */
  anchor = "";

  /** An operand: a named value, a weight, or a scalar constant as a literal. */
  ref(name: string, where: string): string {
    const bound = this.names.get(name);
    if (bound) return bound;
    const pending = this.pending.get(name);
    if (pending) {
      this.pending.delete(name);
      pending();
      return this.ref(name, where);
    }
    const v = this.val(name);
    if (v?.param !== undefined && v.value) return this.tensorParam(name, v.value);
    if (v?.value && v.value.data.length === 1 && v.value.dtype === "f32")
      return num(Number(v.value.data[0]));
    if (v?.value && v.value.dtype !== "i64") return this.constTensor(name, v.value);
    throw unsupported(where, `operand \`${name}\` is a constant tensor of a type .nn cannot hold`);
  }

  /**
   * A constant tensor (a mask, an index table): .nn has no literal for one, so it is
   * stored with the weights, as f32, under `constants.NAME.value`, and cast back.
   */
  private constTensor(name: string, t: Tensor): string {
    const label = this.fresh(`const_${name}`);
    const f32: Tensor = {
      dtype: "f32",
      shape: [...t.shape],
      data: Float32Array.from(t.data as ArrayLike<number>),
    };
    this.weights.set(`${label}.value`, f32);
    this.tensorRanks.add(t.shape.length);
    const dims = t.shape.map((d) => `, ${d}`).join("");
    const decl = `${this.anchor} -> ${label}: tensor${t.shape.length}("value"${dims})`;
    const expr =
      t.dtype === "bool" ? `(${decl}) > 0.5` : t.dtype === "i32" ? `cast(${decl}, i32)` : decl;
    this.lines.push(`  let ${label} = ${expr}`);
    this.names.set(name, label);
    return label;
  }

  /** An initializer read by an operator: a `tensorR` layer call labelled from its name. */
  private tensorParam(name: string, t: Tensor): string {
    const dot = name.lastIndexOf(".");
    const leaf = dot > 0 ? ident(name.slice(dot + 1)) : "value";
    const label = this.fresh(dot > 0 ? name.slice(0, dot) : name);
    this.weights.set(`${label}.${leaf}`, t);
    this.tensorRanks.add(t.shape.length);
    const dims = t.shape.map((d) => `, ${d}`).join("");
    this.lines.push(
      `  let ${label} = ${this.anchor} -> ${label}: tensor${t.shape.length}("${leaf}"${dims})`,
    );
    this.names.set(name, label);
    return label;
  }

  /** A tensor computed from initializers alone (an RNN's re-cut gates): its value. */
  weightValue(name: string, where: string): Tensor {
    const v = this.val(name);
    if (!v?.value) throw unsupported(where, `\`${name}\` is not computed from initializers alone`);
    return v.value;
  }

  /** The initializer `name` (a weight); stored under the layer's param name when `param` is given. */
  weight(name: string, param: string | undefined, where: string): Tensor {
    const v = this.val(name);
    if (!v?.value || v.param === undefined)
      throw unsupported(where, `\`${name}\` is not an initializer`);
    if (param !== undefined) this.weights.set(param, v.value);
    return v.value;
  }
}

function unsupported(where: string, why: string): NncError {
  return new NncError(
    diagnostic("NN8002", `${where}: cannot be written as .nn yet (${why})`, undefined, {
      hint: "`nnc run MODEL.onnx` runs it directly",
    }),
  );
}

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

const exprs: Record<string, Expr> = {
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

/** Movement ops whose result shape is all that matters: one reshape to the folded shape. */
const reshapes = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze"]);

/** The .nn source of an imported model; `name` names the model. */
export function writeNn(model: ModelProto, imported: ImportedModel, name: string): NnSource {
  const w = new Writer(imported);
  const g = model.graph!;
  const inputs = imported.graph.inputs.map((i) => {
    const id = w.fresh(i.name);
    w.names.set(i.name, id);
    return `${id}: ${formatType(i.type)}`;
  });
  w.anchor = w.names.get(imported.graph.inputs[0]?.name ?? "") ?? "";
  g.node.forEach((n, index) => {
    const where = `node ${index}${n.name ? ` \`${n.name}\`` : ""} (${n.op_type})`;
    const v = w.val(n.output[0]!);
    // Folded at import (constants, shape arithmetic): nothing to write.
    if (v?.value && v.param === undefined && !v.derived) return;
    // Work on weights alone (a transpose, an RNN's gate re-cut) is written where an
    // operator reads it; a stdlib layer below may take its value as its weight instead.
    if (v?.derived && !(n.op_type in recurrentOps)) {
      for (const o of n.output) if (o) w.pending.set(o, () => writeNode(w, n, where));
      return;
    }
    writeNode(w, n, where);
  });
  const outs = g.output.map((o) => `${ident(o.name)}: ${w.ref(o.name, `output \`${o.name}\``)}`);
  const helpers = [...w.tensorRanks].sort().map(tensorLayer);
  const source = [
    `// Imported from ONNX by \`nnc import\` (opset ${imported.opset}); weights in the .safetensors beside it.`,
    "",
    ...(g.node.some((n) => n.op_type in recurrentOps) ? ["import rnn", ""] : []),
    ...helpers,
    // Suffixed so the model never shadows the stdlib layer it may be named after (`embedding`).
    `model ${ident(name)}_onnx()(${inputs.join(", ")}) {`,
    ...w.lines,
    `  {${outs.join(", ")}}`,
    "}",
    "",
  ].join("\n");
  return { source, weights: w.weights };
}

/** A weight an operator reads (not a stdlib layer): a layer holding one param of rank r. */
function tensorLayer(r: number): string {
  const dims = Array.from({ length: r }, (_, i) => `d${i}`);
  const sig = ["leaf: string", ...dims.map((d) => `${d}: int`)].join(", ");
  return [
    `// A weight read by an operator; its state_dict name is \`label.leaf\`.`,
    `layer tensor${r}(${sig})(anchor) {`,
    `  let w = param "{leaf}": [${dims.join(", ")}]`,
    "  w",
    "}",
    "",
  ].join("\n");
}

function writeNode(w: Writer, n: NodeProto, where: string): void {
  const out = n.output[0]!;
  const v = w.val(out);
  if (n.op_type in recurrentOps) {
    writeRecurrent(
      {
        ref: (name, at) => w.ref(name, at),
        shape: (name) => w.val(name).type.shape,
        initializer: (name, at) => w.weightValue(name, at),
        fresh: (hint) => w.fresh(hint),
        bind: (name, expr) => w.names.set(name, expr),
        line: (text) => w.lines.push(text),
        weights: w.weights,
      },
      n,
      where,
    );
    return;
  }
  if (n.output.filter((o) => o !== "").length > 1) throw unsupported(where, "more than one output");
  let e: string;
  if (reshapes.has(n.op_type)) e = `${w.ref(n.input[0]!, where)}.reshape(${list(v!.type.shape)})`;
  else {
    const rule = exprs[n.op_type];
    if (!rule) throw unsupported(where, `no .nn form for ${n.op_type}`);
    e = rule(w, n, where);
  }
  if (n.op_type === "Identity" || n.op_type === "Dropout") {
    w.names.set(out, e);
    return;
  }
  const label = /-> (\w+): /.exec(e)?.[1];
  const id = w.fresh(
    label ?? (n.name ? n.name.replace(/\/[A-Za-z]+$/, "") || n.op_type.toLowerCase() : out),
  );
  w.names.set(out, id);
  w.lines.push(`  let ${id} = ${e}`);
}
