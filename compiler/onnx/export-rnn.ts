// A call of the stdlib's `lstm`, `gru` or `rnn` layer (rnn.nn: PyTorch's
// batch-first modules) written as ONNX LSTM / GRU / RNN nodes, one per layer.
// The initializers stay the state_dict tensors; Slice/Concat nodes re-cut their
// gate blocks into ONNX's order (LSTM i,o,f,c; GRU z,r,h), which ONNX Runtime
// folds once. A call that does not have the expected shape stays primitive.

import type { Graph, GraphNode } from "../graph/graph.js";
import type { EmitContext } from "./export-ops.js";
import { attrs, int64Proto } from "./proto.js";

export type Cell = "lstm" | "gru" | "rnn";

export interface RecurrentCall {
  cell: Cell;
  layers: number;
  dirs: number;
  hidden: number;
  /** Graph IR ids: the input, and h0/c0 where given. */
  x: number;
  h0?: number;
  c0?: number;
  /** Param node ids by state_dict leaf (`weight_ih_l0_reverse`). */
  params: Map<string, number>;
  /** The call's results read outside it: output [N, T, D·H], h_n, c_n [L·D, N, H]. */
  output?: number;
  hN?: number;
  cN?: number;
}

/** ONNX gate blocks taken from PyTorch's: LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,n. */
const onnxOrder: Record<Cell, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };
const opType: Record<Cell, string> = { lstm: "LSTM", gru: "GRU", rnn: "RNN" };

/**
 * The call's shape from its parts, or undefined when it is not a plain stdlib
 * call (external inputs or results that do not fit).
 */
export function recurrentCall(
  graph: Graph,
  cell: Cell,
  params: Map<string, number>,
  external: GraphNode[],
  leaving: GraphNode[],
): RecurrentCall | undefined {
  const ih0 = params.get("weight_ih_l0");
  if (ih0 === undefined) return undefined;
  const G = cell === "lstm" ? 4 : cell === "gru" ? 3 : 1;
  const hidden = graph.nodes[ih0]!.type.shape[0]! / G;
  let layers = 0;
  while (params.has(`weight_ih_l${layers}`)) layers++;
  const dirs = params.has("weight_ih_l0_reverse") ? 2 : 1;
  if (params.size !== 4 * layers * dirs) return undefined;
  const [x, ...states] = external;
  if (x?.type.shape.length !== 3 || states.length > (cell === "lstm" ? 2 : 1)) return undefined;
  const [N, T] = x.type.shape as [number, number];
  const stateShape = [layers * dirs, N, hidden].join();
  if (states.some((s) => s.type.shape.join() !== stateShape)) return undefined;
  const outShape = [N, T, dirs * hidden].join();
  const outs = leaving.filter((n) => n.type.shape.join() === outShape);
  const finals = leaving.filter((n) => n.type.shape.join() === stateShape);
  if (outs.length > 1 || outs.length + finals.length !== leaving.length) return undefined;
  // An LSTM's h_n and c_n have one shape: told apart only when both are read (h_n is made first).
  if (cell === "lstm" && finals.length === 1) return undefined;
  return {
    cell,
    layers,
    dirs,
    hidden,
    x: x.id,
    ...(states[0] ? { h0: states[0].id } : {}),
    ...(states[1] ? { c0: states[1].id } : {}),
    params,
    ...(outs[0] ? { output: outs[0].id } : {}),
    ...(finals[0] ? { hN: finals[0].id } : {}),
    ...(finals[1] ? { cN: finals[1].id } : {}),
  };
}

/** Writes the call; `value` names a Graph IR node's ONNX value; returns the names of its results. */
export function emitRecurrent(
  ctx: EmitContext,
  call: RecurrentCall,
  value: (id: number) => string,
): Map<number, string> {
  const { cell, layers, dirs, hidden: H } = call;
  const order = onnxOrder[cell];
  const i64 = (hint: string, v: number[]) => ctx.constant(int64Proto(ctx.fresh(hint), v));
  /** Rows [from, from + G·H) of a param, its gate blocks in ONNX's order, with a leading unit axis. */
  const recut = (p: string, from = 0) => {
    const blocks = order.map((g) =>
      ctx.node(
        "Slice",
        [
          value(call.params.get(p)!),
          i64("s", [from + g * H]),
          i64("e", [from + (g + 1) * H]),
          i64("a", [0]),
        ],
        ctx.fresh(`${p}_gate${g}`),
      ),
    );
    const cat =
      blocks.length === 1
        ? blocks[0]!
        : ctx.node("Concat", blocks, ctx.fresh(`${p}_onnx`), attrs({ axis: 0 }));
    return ctx.node("Unsqueeze", [cat, i64("ax", [0])], ctx.fresh(`${p}_dir`));
  };
  const stack = (names: string[], hint: string) =>
    names.length === 1 ? names[0]! : ctx.node("Concat", names, ctx.fresh(hint), attrs({ axis: 0 }));
  const sfx = (d: number) => (d === 1 ? "_reverse" : "");
  const stateRows = (id: number | undefined, k: number) =>
    id === undefined
      ? ""
      : ctx.node(
          "Slice",
          [value(id), i64("s", [k * dirs]), i64("e", [(k + 1) * dirs]), i64("a", [0])],
          ctx.fresh(`state_l${k}`),
        );
  let x = ctx.node(
    "Transpose",
    [value(call.x)],
    ctx.fresh("time_major"),
    attrs({ perm: [1, 0, 2] }),
  );
  const hs: string[] = [];
  const cs: string[] = [];
  for (let k = 0; k < layers; k++) {
    const dirsOf = (f: (d: number) => string, hint: string) =>
      stack(
        Array.from({ length: dirs }, (_, d) => f(d)),
        hint,
      );
    const W = dirsOf((d) => recut(`weight_ih_l${k}${sfx(d)}`), `W_l${k}`);
    const R = dirsOf((d) => recut(`weight_hh_l${k}${sfx(d)}`), `R_l${k}`);
    const B = dirsOf((d) => {
      const wb = recut(`bias_ih_l${k}${sfx(d)}`);
      const rb = recut(`bias_hh_l${k}${sfx(d)}`);
      return ctx.node("Concat", [wb, rb], ctx.fresh(`B_l${k}_d${d}`), attrs({ axis: 1 }));
    }, `B_l${k}`);
    const inputs = [x, W, R, B, "", stateRows(call.h0, k)];
    if (cell === "lstm") inputs.push(stateRows(call.c0, k));
    while (inputs[inputs.length - 1] === "") inputs.pop();
    const Y = ctx.fresh(`Y_l${k}`);
    const Yh = ctx.fresh(`Y_h_l${k}`);
    const Yc = ctx.fresh(`Y_c_l${k}`);
    const a = attrs({
      hidden_size: H,
      ...(dirs === 2 ? { direction: "bidirectional" } : {}),
      ...(cell === "gru" ? { linear_before_reset: 1 } : {}),
    });
    ctx.nodeMulti(opType[cell], inputs, cell === "lstm" ? [Y, Yh, Yc] : [Y, Yh], a);
    hs.push(Yh);
    cs.push(Yc);
    // [T, D, N, H] → [T, N, D·H], the next layer's input.
    const t = ctx.node("Transpose", [Y], ctx.fresh(`Y_l${k}_tnd`), attrs({ perm: [0, 2, 1, 3] }));
    const shape = [0, 0, dirs * H]; // 0: keep that dim
    x = ctx.node("Reshape", [t, i64("shape", shape)], ctx.fresh(`out_l${k}`));
  }
  const names = new Map<number, string>();
  if (call.output !== undefined)
    names.set(
      call.output,
      ctx.node("Transpose", [x], ctx.fresh("output"), attrs({ perm: [1, 0, 2] })),
    );
  if (call.hN !== undefined) names.set(call.hN, stack(hs, "h_n"));
  if (call.cN !== undefined) names.set(call.cN, stack(cs, "c_n"));
  return names;
}
