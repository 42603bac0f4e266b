// The host-side half of "an out-of-range index is an error on every backend":
// before WebGPU runs a graph, each gather's indices that the host can compute
// cheaply (from graph inputs and constants alone: token ids, shifted, sliced or
// joined with a constant) are evaluated and checked as the CPU backend checks
// them, because a kernel's load clamps where the CPU raises NN7001.

import type { Tensor } from "../core/tensor.js";
import { numel } from "../core/types.js";
import { checkGatherIndices } from "../ops/gather.js";
import type { Graph, GraphNode } from "./graph.js";
import { runGraph } from "./interpret.js";

/** Elements the host evaluates for one gather's indices, at most; beyond it the kernel's clamp stands. */
const HOST_ELEMENTS = 1 << 20;

/** Throws the CPU backend's NN7001 (as an OpError) for the first out-of-range index the host can see. */
export function checkInputIndices(graph: Graph, inputs: Map<string, Tensor>): void {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const n of graph.nodes) {
    if (n.op !== "gather") continue;
    const data = byId.get(n.inputs[0]!)!;
    const values = hostValues(graph, byId, n.inputs[1]!, inputs);
    if (values) checkGatherIndices(data.type, values, n.attrs.axis as number);
  }
}

/**
 * The values of node `id` when they depend on no parameter and take little
 * work: the node's cone of the graph, evaluated by the CPU interpreter.
 */
function hostValues(
  graph: Graph,
  byId: Map<number, GraphNode>,
  id: number,
  inputs: Map<string, Tensor>,
): Tensor | undefined {
  const cone = new Set<number>();
  const stack = [id];
  let work = 0;
  while (stack.length > 0) {
    const n = byId.get(stack.pop()!)!;
    if (cone.has(n.id)) continue;
    if (n.op === "param") return undefined;
    work += numel(n.type.shape);
    if (work > HOST_ELEMENTS) return undefined;
    cone.add(n.id);
    stack.push(...n.inputs);
  }
  const sub: Graph = {
    nodes: graph.nodes.filter((n) => cone.has(n.id)),
    inputs: graph.inputs.filter((i) => cone.has(i.node)),
    params: [],
    outputs: [{ name: "indices", node: id }],
  };
  return runGraph(sub, inputs, new Map()).get("indices");
}
