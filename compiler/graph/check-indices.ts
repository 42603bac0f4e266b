// The host-side half of "an out-of-range index is an error on every backend":
// before WebGPU runs a graph, the gather indices that are graph inputs (or
// constants), directly or through reshapes, are checked as the CPU backend
// checks them, because a kernel's load clamps where the CPU raises NN7001.

import type { Tensor } from "../core/tensor.js";
import { checkGatherIndices } from "../ops/gather.js";
import type { Graph, GraphNode } from "./graph.js";

/** Throws the CPU backend's NN7001 (as an OpError) for the first out-of-range index the host can see. */
export function checkInputIndices(graph: Graph, inputs: Map<string, Tensor>): void {
  for (const n of graph.nodes) {
    if (n.op !== "gather") continue;
    const data = graph.nodes[n.inputs[0]!]!;
    const values = hostValues(graph, graph.nodes[n.inputs[1]!]!, inputs);
    if (values) checkGatherIndices(data.type, values, n.attrs.axis as number);
  }
}

/** The index tensor's values when the host has them: an input or constant, seen through reshapes. */
function hostValues(graph: Graph, n: GraphNode, inputs: Map<string, Tensor>): Tensor | undefined {
  let at = n;
  // A reshape keeps every value in order, so its input's values are the indices, reshaped.
  while (at.op === "reshape") at = graph.nodes[at.inputs[0]!]!;
  if (at.op === "input") {
    const t = inputs.get(at.attrs.name as string);
    return t && { ...t, shape: n.type.shape };
  }
  if (at.op === "const") {
    const v = at.attrs.value as number[];
    return { dtype: "i32", shape: v.length === 1 ? [1] : n.type.shape, data: Int32Array.from(v) };
  }
  return undefined;
}
