// Symbolic dims for ONNX export. nnc compiles for static shapes, so a dim can
// be left symbolic only where the exported graph does not depend on it: the
// model is exported again with that one input dim one larger, and if every
// node (attributes and constants included) comes out the same, the dim and
// the output dims that moved with it are written as dim_param.

import type { Tensor } from "../core/tensor.js";
import type { Graph } from "../graph/graph.js";
import { exportModel } from "./export.js";
import type { ModelProto, ValueInfoProto } from "./proto.js";

/** Elaborates the model for these input shapes (CompiledModel.elaborate, say). */
export type Elaborate = (shapes: Record<string, number[]>) => Graph;

const nodesKey = (m: ModelProto) =>
  JSON.stringify(m.graph!.node, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));

function dims(vi: ValueInfoProto): { dim_value?: unknown; dim_param?: string }[] {
  return vi.type!.tensor_type!.shape!.dim;
}

/**
 * `graph` exported with every input dim that the graph does not depend on made
 * symbolic (`input_dim2`), and the output dims that follow it.
 */
export function exportWithSymbolicDims(
  graph: Graph,
  params: Map<string, Tensor>,
  name: string,
  elaborate: Elaborate,
): ModelProto {
  const base = exportModel(graph, params, name);
  const key = nodesKey(base);
  const shapes = Object.fromEntries(graph.inputs.map((i) => [i.name, [...i.type.shape]]));
  graph.inputs.forEach((input, k) => {
    input.type.shape.forEach((_size, d) => {
      const bigger = {
        ...shapes,
        [input.name]: shapes[input.name]!.map((s, i) => (i === d ? s + 1 : s)),
      };
      let other: ModelProto;
      try {
        const g = elaborate(bigger);
        // A param sized by the dim (a linear layer's in_features) pins it.
        const same = g.params.every(
          (p, i) => p.type.shape.join() === graph.params[i]?.type.shape.join(),
        );
        if (!same || g.params.length !== graph.params.length) return;
        other = exportModel(g, params, name);
      } catch {
        return; // the model does not take that size: the dim stays fixed
      }
      if (nodesKey(other) !== key) return;
      const param = `${input.name}_dim${d}`;
      dims(base.graph!.input[k]!)[d] = { dim_param: param };
      base.graph!.output.forEach((o, j) => {
        const before = dims(o);
        const after = dims(other.graph!.output[j]!);
        before.forEach((dim, i) => {
          if (dim.dim_value !== undefined && after[i]!.dim_value !== dim.dim_value)
            before[i] = { dim_param: `${o.name}_dim${i}` };
        });
      });
    });
  });
  return base;
}
