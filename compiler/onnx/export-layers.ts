// High-level ONNX ops for whole stdlib layers: the nodes one call of `conv`,
// `conv_transpose`, `linear`, `batchnorm`, `layernorm`, `softmax` or `log_softmax` elaborated to
// (found through their expansion trace) become one Conv, ConvTranspose, Gemm,
// BatchNormalization, LayerNormalization, Softmax or LogSoftmax node. A group
// is replaced only when its nodes are exactly the layer's primitive sequence
// and nothing outside reads its intermediate values; otherwise it stays primitive.

import type { Graph, GraphNode } from "../graph/graph.js";
import { type Cell, type RecurrentCall, recurrentCall } from "./export-rnn.js";
import { attrs, type NodeProto } from "./proto.js";

const recurrentCells = ["lstm", "gru", "rnn"] as const;

/** A layer call to write as one ONNX node at its output node. */
export interface LayerMatch {
  op: string;
  /** Graph IR node ids of the ONNX node's inputs, in ONNX order. */
  inputs: number[];
  attribute: NodeProto["attribute"];
}

interface Group {
  layer: string;
  ids: number[];
}

/** The calls of each matchable layer: nodes grouped by that layer's innermost frame in their trace. */
function groups(graph: Graph, entry: string | undefined): Group[] {
  const out = new Map<string, Group>();
  for (const n of graph.nodes) {
    for (const layer of [...Object.keys(matchers), ...recurrentCells]) {
      const f = n.trace?.find((t) => t.name === layer);
      if (!f && entry !== layer) continue;
      const key = f ? `${layer}|${f.span.file}:${f.span.start}|${n.scope ?? ""}` : `${layer}|entry`;
      const g = out.get(key) ?? { layer, ids: [] };
      out.set(key, g);
      g.ids.push(n.id);
    }
  }
  return [...out.values()];
}

interface Parts {
  ops: GraphNode[];
  /** Params by leaf name (`weight`, `running_var`). */
  params: Map<string, number>;
  input: number;
  output: GraphNode;
}

type Matcher = (p: Parts, graph: Graph) => LayerMatch | undefined;

const seq = (p: Parts) => p.ops.map((n) => n.op).join(" ");

/** The scalar a `const` input of `n` holds (the elaborator shares scalar consts between layers). */
function constInput(graph: Graph, n: GraphNode | undefined): number | undefined {
  for (const i of n?.inputs ?? []) {
    const c = graph.nodes[i]!;
    const v = (c.attrs as { value?: number[] }).value;
    if (c.op === "const" && v?.length === 1) return v[0];
  }
  return undefined;
}

const matchers: Record<string, Matcher> = {
  conv: (p) => {
    const s = seq(p);
    if (s !== "conv2d" && s !== "conv2d reshape add") return undefined;
    const c = p.ops[0]!;
    const a = c.attrs as Record<string, number[] | number>;
    const [ph, pw] = a.pad as number[];
    const w = p.params.get("weight");
    const b = p.params.get("bias");
    if (w === undefined || (s !== "conv2d") !== (b !== undefined)) return undefined;
    return {
      op: "Conv",
      inputs: b === undefined ? [p.input, w] : [p.input, w, b],
      attribute: attrs({
        strides: a.stride as number[],
        pads: [ph!, pw!, ph!, pw!],
        dilations: a.dilation as number[],
        group: a.groups as number,
      }),
    };
  },
  conv_transpose: (p) => {
    if (seq(p) !== "conv_transpose2d reshape add") return undefined;
    const a = p.ops[0]!.attrs as Record<string, number[] | number>;
    const [ph, pw] = a.pad as number[];
    const w = p.params.get("weight");
    const b = p.params.get("bias");
    if (w === undefined || b === undefined) return undefined;
    return {
      op: "ConvTranspose",
      inputs: [p.input, w, b],
      attribute: attrs({
        strides: a.stride as number[],
        pads: [ph!, pw!, ph!, pw!],
        output_padding: a.output_padding as number[],
        dilations: a.dilation as number[],
        group: a.groups as number,
      }),
    };
  },
  linear: (p, graph) => {
    const s = seq(p);
    if (s !== "permute matmul" && s !== "permute matmul add") return undefined;
    if (graph.nodes[p.input]!.type.shape.length !== 2) return undefined;
    const w = p.params.get("weight");
    const b = p.params.get("bias");
    if (w === undefined || (s === "permute matmul add") !== (b !== undefined)) return undefined;
    return {
      op: "Gemm",
      inputs: b === undefined ? [p.input, w] : [p.input, w, b],
      attribute: attrs({ transB: 1 }),
    };
  },
  batchnorm: (p, graph) => {
    if (seq(p) !== "reshape sub reshape add rsqrt mul reshape mul reshape add") return undefined;
    const names = ["weight", "bias", "running_mean", "running_var"];
    const ids = names.map((k) => p.params.get(k));
    const eps = constInput(graph, p.ops[3]);
    if (ids.some((i) => i === undefined) || eps === undefined) return undefined;
    return {
      op: "BatchNormalization",
      inputs: [p.input, ...(ids as number[])],
      attribute: attrs({ epsilon: { float: eps } }),
    };
  },
  layernorm: (p, graph) => {
    if (seq(p) !== "reduce_mean sub mul reduce_mean add rsqrt mul mul add") return undefined;
    const w = p.params.get("weight");
    const b = p.params.get("bias");
    const eps = constInput(graph, p.ops[4]);
    if (w === undefined || b === undefined || eps === undefined) return undefined;
    return {
      op: "LayerNormalization",
      inputs: [p.input, w, b],
      attribute: attrs({ axis: -1, epsilon: { float: eps } }),
    };
  },
  softmax: (p) => softmaxLike(p, "reduce_max sub exp reduce_sum div", "Softmax"),
  log_softmax: (p) => softmaxLike(p, "reduce_max sub exp reduce_sum log sub", "LogSoftmax"),
};

function softmaxLike(p: Parts, want: string, op: string) {
  if (seq(p) !== want) return undefined;
  const axes = (p.ops[0]!.attrs as { axes: number[] }).axes;
  if (axes.length !== 1) return undefined;
  return { op, inputs: [p.input], attribute: attrs({ axis: axes[0]! }) };
}

/**
 * The layer calls of `graph` that can be written as one ONNX op, by their output
 * node, and the nodes that are then not written (the rest of each call, and the
 * scalar consts only they read).
 */
export function matchLayers(
  graph: Graph,
  entry: string | undefined,
): {
  matches: Map<number, LayerMatch>;
  /** Recurrent layer calls, by the first of their results the graph reads. */
  recurrent: Map<number, RecurrentCall>;
  skip: Set<number>;
} {
  const recurrent = new Map<number, RecurrentCall>();
  const consumers = new Map<number, number[]>();
  for (const n of graph.nodes)
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n.id]);
  const outputs = new Set(graph.outputs.map((o) => o.node));
  const paramName = new Map(graph.params.map((p) => [p.node, p.name]));
  const found = new Map<number, LayerMatch>();
  const skipped = new Set<number>();
  for (const g of groups(graph, entry)) {
    const ops = g.ids
      .map((i) => graph.nodes[i]!)
      .filter((n) => n.op !== "param" && n.op !== "input" && n.op !== "const");
    const inner = new Set(ops.map((n) => n.id));
    const params = new Map<string, number>();
    for (const i of g.ids) {
      const name = paramName.get(i);
      if (name !== undefined) params.set(name.slice(name.lastIndexOf(".") + 1), i);
    }
    const own = new Set(params.values());
    const isConst = (i: number) => graph.nodes[i]!.op === "const";
    // Exactly one value enters the group and one leaves it (its params and scalar consts aside).
    const external = new Set(
      ops.flatMap((n) => n.inputs).filter((i) => !inner.has(i) && !own.has(i) && !isConst(i)),
    );
    const leaving = ops.filter(
      (n) => outputs.has(n.id) || (consumers.get(n.id) ?? []).some((c) => !inner.has(c)),
    );
    if ((recurrentCells as readonly string[]).includes(g.layer)) {
      const firstUse = (id: number) =>
        Math.min(...(consumers.get(id) ?? []).filter((c) => inner.has(c)));
      // The sequence is what the first scan reads; h0 (then c0) by first use.
      const seq = [...external].find((id) =>
        ops.some((n) => n.op === "scan" && n.inputs[0] === id),
      );
      const states = [...external]
        .filter((id) => id !== seq)
        .sort((a, b) => firstUse(a) - firstUse(b));
      if (seq === undefined || leaving.length === 0) continue;
      const call = recurrentCall(
        graph,
        g.layer as Cell,
        params,
        [seq, ...states].map((i) => graph.nodes[i]!),
        leaving,
      );
      if (!call) continue;
      const trigger = leaving[0]!.id;
      recurrent.set(trigger, call);
      for (const n of ops) if (n.id !== trigger) skipped.add(n.id);
      continue;
    }
    if (external.size !== 1 || leaving.length !== 1) continue;
    const output = leaving[0]!;
    if (output !== ops[ops.length - 1]) continue;
    const m = matchers[g.layer]!({ ops, params, input: [...external][0]!, output }, graph);
    if (!m) continue;
    for (const n of ops) if (n !== output) skipped.add(n.id);
    found.set(output.id, m);
  }
  // Scalar consts only the replaced nodes read are not written either.
  for (const n of graph.nodes) {
    const readers = consumers.get(n.id) ?? [];
    if (n.op === "const" && readers.length > 0 && readers.every((c) => skipped.has(c)))
      skipped.add(n.id);
  }
  return { matches: found, recurrent, skip: skipped };
}
