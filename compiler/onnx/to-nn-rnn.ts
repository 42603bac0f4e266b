// ONNX LSTM, GRU and RNN nodes written as the stdlib's `lstm`, `gru` and `rnn`
// layers (rnn.nn, PyTorch's batch-first modules): the weights re-cut into
// PyTorch's gate order and state_dict names, the input and outputs permuted
// between ONNX's time-major layout and the layers' batch-first one.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { Attrs } from "./import-util.js";
import type { NodeProto } from "./proto.js";

/** ONNX gate blocks in PyTorch's order: LSTM i,o,f,c → i,f,g(c),o; GRU z,r,h → r,z,n. */
const torchOrder: Record<string, number[]> = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2], RNN: [0] };
const layerOf: Record<string, string> = { LSTM: "lstm", GRU: "gru", RNN: "rnn" };

export interface RecurrentWriter {
  ref(name: string, where: string): string;
  shape(name: string): number[];
  initializer(name: string, where: string): Tensor;
  fresh(hint: string): string;
  bind(onnxName: string, expr: string): void;
  line(text: string): void;
  weights: Map<string, Tensor>;
}

function unsupported(where: string, why: string): NncError {
  return new NncError(
    diagnostic("NN8202", `${where}: cannot be written as .nn yet (${why})`, undefined, {
      hint: "`nnc run MODEL.onnx` runs it directly",
    }),
  );
}

/** Rows `d` of a [dirs, G·H, …] tensor, its G gate blocks reordered as `order`. */
function cut(t: Tensor, d: number, order: number[], from = 0, rows?: number): Tensor {
  const inner = t.shape.slice(2).reduce((p, x) => p * x, 1);
  const total = rows ?? t.shape[1]!;
  const block = total / order.length;
  const src = t.data as Float32Array;
  const out = new Float32Array(total * inner);
  const base = d * t.shape[1]! * inner + from * inner;
  order.forEach((g, k) => {
    out.set(
      src.subarray(base + g * block * inner, base + (g + 1) * block * inner),
      k * block * inner,
    );
  });
  return {
    dtype: "f32",
    shape: t.shape.length > 2 ? [total, ...t.shape.slice(2)] : [total],
    data: out,
  };
}

export function writeRecurrent(w: RecurrentWriter, n: NodeProto, where: string): void {
  const at = new Attrs(n);
  const H = at.int("hidden_size") ?? 0;
  const direction = at.str("direction", "forward");
  if (direction === "reverse")
    throw unsupported(where, "a reverse-only recurrence has no stdlib layer");
  if (at.int("layout", 0) !== 0) throw unsupported(where, "layout=1");
  if (at.has("clip") || at.has("activations"))
    throw unsupported(where, "clip or non-default activations");
  if (n.op_type === "GRU" && at.int("linear_before_reset", 0) !== 1)
    throw unsupported(where, "GRU with linear_before_reset=0 (PyTorch's GRU is the =1 form)");
  if (n.input[4]) throw unsupported(where, "sequence_lens");
  const dirs = direction === "bidirectional" ? 2 : 1;
  const order = torchOrder[n.op_type]!;
  const W = w.initializer(n.input[1]!, where);
  const R = w.initializer(n.input[2]!, where);
  const B = n.input[3] ? w.initializer(n.input[3], where) : undefined;
  const label = w.fresh(n.name || layerOf[n.op_type]!);
  const GH = order.length * H;
  for (let d = 0; d < dirs; d++) {
    const sfx = d === 1 ? "_reverse" : "";
    w.weights.set(`${label}.weight_ih_l0${sfx}`, cut(W, d, order));
    w.weights.set(`${label}.weight_hh_l0${sfx}`, cut(R, d, order));
    const zero = { dtype: "f32" as const, shape: [GH], data: new Float32Array(GH) };
    w.weights.set(`${label}.bias_ih_l0${sfx}`, B ? cut(B, d, order, 0, GH) : zero);
    w.weights.set(`${label}.bias_hh_l0${sfx}`, B ? cut(B, d, order, GH, GH) : zero);
  }
  const args = [`${w.ref(n.input[0]!, where)}.permute([1, 0, 2])`];
  if (n.input[5]) args.push(w.ref(n.input[5], where));
  if (n.op_type === "LSTM" && n.input[6]) {
    if (!n.input[5])
      throw unsupported(where, "an initial cell state without an initial hidden state");
    args.push(w.ref(n.input[6], where));
  }
  if (n.op_type === "LSTM" && n.input[7]) throw unsupported(where, "peepholes");
  const opts = dirs === 2 ? ", bidirectional=true" : "";
  w.line(`  let ${label} = ${label}: ${layerOf[n.op_type]}(${H}${opts})(${args.join(", ")})`);
  // Y is [T, dirs, B, H]; the layer's output is [B, T, dirs·H].
  const [y, yh, yc] = n.output;
  const [T, batch] = w.shape(n.input[0]!);
  if (y)
    w.bind(y, `${label}.output.reshape([${batch}, ${T}, ${dirs}, ${H}]).permute([1, 2, 0, 3])`);
  if (yh) w.bind(yh, `${label}.h_n`);
  if (yc) w.bind(yc, `${label}.c_n`);
}
