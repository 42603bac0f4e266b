// Unrolling a scan into its T steps: each step reads its slice of each
// sequence, runs a copy of the body on the carried state, and writes a row of
// the [T, total] result; the row concat keeps the scan node's id, so its
// consumers are untouched. Scans are lowered to loops (scan-lower.ts); this is
// only the fallback for a scan nested inside another scan's body (the outer
// body is unrolled before it is lowered once) — no stdlib model has one.

import { numel, type TensorType } from "../core/types.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { getOp, inferOp } from "../ops/index.js";
import { type ScanAttrs, seqAxis } from "../ops/scan.js";

/** The graph with every scan (nested ones included) replaced by its unrolled steps. */
export function unrollScans(graph: Graph): Graph {
  if (!graph.nodes.some((n) => n.op === "scan")) return graph;
  let nextId = Math.max(...graph.nodes.map((n) => n.id)) + 1;
  const types = new Map<number, TensorType>(graph.nodes.map((n) => [n.id, n.type]));
  const nodes: GraphNode[] = [];
  const add = (op: string, inputs: number[], attrs: Record<string, unknown>, base: GraphNode) => {
    const { type } = inferOp(
      op,
      inputs.map((i) => types.get(i)!),
      attrs,
    );
    const id = nextId++;
    types.set(id, type);
    nodes.push({
      id,
      op,
      inputs,
      attrs,
      type,
      ...(base.span ? { span: base.span } : {}),
      ...(base.trace ? { trace: base.trace } : {}),
      ...(base.scope !== undefined ? { scope: base.scope } : {}),
    });
    return id;
  };

  for (const node of graph.nodes) {
    if (node.op !== "scan") {
      nodes.push(node);
      continue;
    }
    const a = getOp("scan").attrs.parse(node.attrs) as unknown as ScanAttrs;
    const body = unrollScans(a.body);
    const seqs = node.inputs.slice(0, a.nSeq);
    let state = node.inputs.slice(a.nSeq, a.nSeq + a.nState);
    const captured = node.inputs.slice(a.nSeq + a.nState);
    const T = types.get(seqs[0]!)!.shape[seqAxis(a, 0)]!;
    const rows: number[] = new Array(T);
    for (let step = 0; step < T; step++) {
      const t = a.reverse ? T - 1 - step : step;
      const xs = seqs.map((s, i) => {
        const shape = types.get(s)!.shape;
        const axis = seqAxis(a, i);
        const starts = shape.map((_, d) => (d === axis ? t : 0));
        const ends = shape.map((dim, d) => (d === axis ? t + 1 : dim));
        const row = add("slice", [s], { starts, ends }, node);
        return add("reshape", [row], { shape: shape.filter((_, d) => d !== axis) }, node);
      });
      const outer = new Map<number, number>();
      const args = [...xs, ...state, ...captured];
      body.inputs.forEach((bi, i) => {
        outer.set(bi.node, args[i]!);
      });
      for (const bn of body.nodes) {
        if (bn.op === "input") continue;
        if (bn.op === "param") throw new Error(`scan %${node.id}: body params are not supported`);
        outer.set(
          bn.id,
          add(
            bn.op,
            bn.inputs.map((i) => outer.get(i)!),
            bn.attrs,
            bn,
          ),
        );
      }
      const results = body.outputs.map((o) => outer.get(o.node)!);
      state = results.slice(0, a.nState);
      const flat = results.map((r) =>
        add("reshape", [r], { shape: [1, numel(types.get(r)!.shape)] }, node),
      );
      rows[t] = flat.length === 1 ? flat[0]! : add("concat", flat, { axis: 1 }, node);
    }
    nodes.push({ ...node, op: "concat", inputs: rows, attrs: { axis: 0 } });
  }
  return { ...graph, nodes };
}
