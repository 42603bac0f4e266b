// Constant folding of parameter-only subexpressions. Work that depends on
// parameters alone (batchnorm scales folded into conv weights, transposed linear
// weights, biases summed) moves into the graph's `prep` graph, which runs once
// when the weights are bound; the main graph reads its results as derived
// params. Small subexpressions of constants alone are computed now.

import type { Tensor } from "../core/tensor.js";
import { toNumbers } from "../core/tensor.js";
import { numel } from "../core/types.js";
import type { Graph, GraphNode, GraphParam } from "../graph/graph.js";
import { cpuEvalContext } from "../graph/interpret.js";
import { getOp } from "../ops/index.js";
import { compact } from "./dce.js";

const SMALL_CONST = 1024;

export function foldConstants(g: Graph): Graph {
  if (g.prep) throw new Error("fold-constants runs once, on a graph without a prep graph");
  const n = g.nodes.length;
  const po = new Array<boolean>(n).fill(false);
  const hasParam = new Array<boolean>(n).fill(false);
  for (const node of g.nodes) {
    if (node.op === "param") po[node.id] = hasParam[node.id] = true;
    else if (node.op === "const") po[node.id] = true;
    else if (node.op !== "input" && node.op !== "scan") {
      po[node.id] = node.inputs.every((i) => po[i]);
      hasParam[node.id] = node.inputs.some((i) => hasParam[i]);
    }
  }
  // A frontier node is parameter-only work read by the rest of the graph (or an output).
  const frontier = new Array<boolean>(n).fill(false);
  // A reshape of a param is free as an index map: copying it into a derived param would only duplicate it.
  const foldable = (id: number) => {
    const node = g.nodes[id]!;
    if (!po[id] || node.op === "param" || node.op === "const") return false;
    return !(node.op === "reshape" && g.nodes[node.inputs[0]!]!.op === "param");
  };
  for (const node of g.nodes) {
    if (po[node.id]) continue;
    for (const i of node.inputs) if (foldable(i)) frontier[i] = true;
  }
  for (const o of g.outputs) if (foldable(o.node)) frontier[o.node] = true;

  const prepNodes: boolean[] = new Array<boolean>(n).fill(false);
  const markPrep = (id: number) => {
    const st = [id];
    while (st.length > 0) {
      const x = st.pop()!;
      if (prepNodes[x]) continue;
      prepNodes[x] = true;
      st.push(...g.nodes[x]!.inputs);
    }
  };

  const nodes: GraphNode[] = g.nodes.map((x) => ({ ...x }));
  const params: GraphParam[] = [...g.params];
  const prepOutputs: { name: string; node: number }[] = [];
  const values = new Map<number, Tensor>();
  let k = 0;
  for (const node of g.nodes) {
    if (!frontier[node.id]) continue;
    if (!hasParam[node.id]) {
      if (numel(node.type.shape) > SMALL_CONST) continue;
      // Constants only: compute it now.
      const t = evaluateConst(g, node.id, values);
      nodes[node.id] = {
        ...node,
        op: "const",
        inputs: [],
        attrs: { dtype: t.dtype, shape: t.shape, value: toNumbers(t) },
      };
      continue;
    }
    const name = `${node.scope ? `${node.scope}.` : ""}~fold${k++}`;
    markPrep(node.id);
    prepOutputs.push({ name, node: node.id });
    nodes[node.id] = {
      ...node,
      op: "param",
      inputs: [],
      attrs: { name, dtype: node.type.dtype, shape: node.type.shape },
    };
    params.push({
      name,
      node: node.id,
      kind: "parameter",
      init: "untouched",
      type: node.type,
      derived: true,
    });
  }
  const main: Graph = { nodes, inputs: g.inputs, params, outputs: g.outputs };
  if (prepOutputs.length > 0) {
    main.prep = compact(
      {
        nodes: g.nodes,
        inputs: [],
        params: g.params.filter((p) => prepNodes[p.node]),
        outputs: prepOutputs,
      },
      prepNodes,
    );
  }
  return main;
}

function evaluateConst(g: Graph, id: number, values: Map<number, Tensor>): Tensor {
  const hit = values.get(id);
  if (hit) return hit;
  const node = g.nodes[id]!;
  const inputs = node.inputs.map((i) => evaluateConst(g, i, values));
  const t = getOp(node.op).evaluate(inputs, node.attrs, cpuEvalContext);
  values.set(id, t);
  return t;
}
