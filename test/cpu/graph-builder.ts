// A tiny Graph IR builder for tests: nodes get ids in order and their types
// from the ops' own shape rules.

import type { DType, TensorType } from "../../compiler/core/types.js";
import type { Graph, GraphNode, InitRule } from "../../compiler/graph/graph.js";
import { inferOp } from "../../compiler/ops/index.js";

export class GraphBuilder {
  readonly graph: Graph = { nodes: [], inputs: [], params: [], outputs: [] };

  private add(
    op: string,
    inputs: number[],
    attrs: Record<string, unknown>,
    extra: Partial<GraphNode> = {},
  ): number {
    const types = inputs.map((i) => this.graph.nodes[i]!.type);
    const { type } = inferOp(op, types, attrs);
    const id = this.graph.nodes.length;
    this.graph.nodes.push({ id, op, inputs, attrs, type, ...extra });
    return id;
  }

  input(name: string, dtype: DType, shape: number[]): number {
    const id = this.add("input", [], { name, dtype, shape });
    this.graph.inputs.push({ name, node: id, type: { dtype, shape } });
    return id;
  }

  param(name: string, dtype: DType, shape: number[], init: InitRule = "uniform"): number {
    const id = this.add("param", [], { name, dtype, shape });
    const type: TensorType = { dtype, shape };
    this.graph.params.push({ name, node: id, kind: "parameter", init, type });
    return id;
  }

  op(
    op: string,
    inputs: number[],
    attrs: Record<string, unknown> = {},
    extra: Partial<GraphNode> = {},
  ): number {
    return this.add(op, inputs, attrs, extra);
  }

  output(name: string, node: number): void {
    this.graph.outputs.push({ name, node });
  }
}
