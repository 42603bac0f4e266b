// Binding weights to an optimized graph: the loaded (state_dict) tensors plus
// the derived params its prep graph computes from them, once.

import type { Tensor } from "../core/tensor.js";
import type { Graph } from "../graph/graph.js";
import { runGraph } from "../graph/interpret.js";

export function withDerived(graph: Graph, loaded: Map<string, Tensor>): Map<string, Tensor> {
  if (!graph.prep) return loaded;
  const all = new Map(loaded);
  for (const [name, t] of runGraph(graph.prep, new Map(), loaded)) all.set(name, t);
  return all;
}

/** The params a weight file or the seeded initializer must supply: all but the derived ones. */
export function loadedParams(graph: Graph) {
  return graph.params.filter((p) => !p.derived);
}
