// A graph built from nothing, node by node: the bodies of backward scans.
// Every node goes through its op's shape rule, as GraphEditor's do.

import type { TensorType } from "../core/types.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { inferOp, type SubgraphBuilder } from "../ops/index.js";

export class Subgraph implements SubgraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: Graph["inputs"] = [];

  input(name: string, type: TensorType): number {
    const id = this.push("input", [], { name, dtype: type.dtype, shape: [...type.shape] }, type);
    this.inputs.push({ name, node: id, type });
    return id;
  }

  emit(op: string, inputs: number[], attrs: Record<string, unknown> = {}): number {
    const { attrs: parsed, type } = inferOp(
      op,
      inputs.map((i) => this.type(i)),
      attrs,
    );
    return this.push(op, inputs, parsed, type);
  }

  type(id: number): TensorType {
    return this.nodes[id]!.type;
  }

  call(graph: Graph, inputs: number[]): number[] {
    const map = new Map<number, number>();
    graph.inputs.forEach((gi, k) => {
      map.set(gi.node, inputs[k]!);
    });
    for (const n of graph.nodes) {
      if (map.has(n.id)) continue;
      if (n.op === "input" || n.op === "param")
        throw new Error(`Subgraph.call: ${n.op} %${n.id} of the called graph is not bound`);
      const id = this.nodes.length;
      this.nodes.push({ ...n, id, inputs: n.inputs.map((i) => map.get(i)!) });
      map.set(n.id, id);
    }
    return graph.outputs.map((o) => map.get(o.node)!);
  }

  finish(outputs: number[]): Graph {
    return {
      nodes: this.nodes,
      inputs: this.inputs,
      params: [],
      outputs: outputs.map((node, k) => ({ name: `out${k}`, node })),
    };
  }

  private push(op: string, inputs: number[], attrs: Record<string, unknown>, type: TensorType) {
    const id = this.nodes.length;
    this.nodes.push({ id, op, inputs, attrs, type });
    return id;
  }
}
