// A small tool for writing Graph IR passes: a new graph is built node by node
// while the old one is walked in order; every node goes through its op's shape
// rule again, so a rewrite that would change a type is caught here.

import { sameShape, type TensorType } from "../core/types.js";
import type { Graph, GraphNode, GraphParam } from "../graph/graph.js";
import { getOp } from "../ops/index.js";

export class GraphEditor {
  readonly nodes: GraphNode[] = [];
  /** Old node id → new node id. */
  readonly map = new Map<number, number>();
  readonly params: GraphParam[] = [];

  constructor(readonly old: Graph) {}

  /** Adds a node; its type comes from the op's shape rule. `origin` lends span, trace and scope. */
  emit(op: string, inputs: number[], attrs: Record<string, unknown>, origin?: GraphNode): number {
    const def = getOp(op);
    const parsed = def.attrs.parse(attrs) as Record<string, unknown>;
    const type = def.infer(
      inputs.map((i) => this.nodes[i]!.type),
      parsed,
    );
    const node: GraphNode = { id: this.nodes.length, op, inputs, attrs: parsed, type };
    if (origin?.span) node.span = origin.span;
    if (origin?.trace) node.trace = origin.trace;
    if (origin?.scope) node.scope = origin.scope;
    this.nodes.push(node);
    return node.id;
  }

  /** Copies an old node with its inputs remapped, keeping its attrs and type. */
  copy(old: GraphNode, inputs = old.inputs.map((i) => this.map.get(i)!)): number {
    const node: GraphNode = { ...old, id: this.nodes.length, inputs };
    this.nodes.push(node);
    return node.id;
  }

  node(id: number): GraphNode {
    return this.nodes[id]!;
  }

  type(id: number): TensorType {
    return this.nodes[id]!.type;
  }

  /** The finished graph: inputs, params and outputs remapped. */
  finish(): Graph {
    const g: Graph = {
      nodes: this.nodes,
      inputs: this.old.inputs.map((i) => ({ ...i, node: this.map.get(i.node)! })),
      params: [
        ...this.old.params.map((p) => ({ ...p, node: this.map.get(p.node)! })),
        ...this.params,
      ],
      outputs: this.old.outputs.map((o) => ({ ...o, node: this.map.get(o.node)! })),
    };
    if (this.old.prep) g.prep = this.old.prep;
    return g;
  }
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

/** How many nodes read each node (outputs count as readers). */
export function useCounts(g: Graph): number[] {
  const uses = new Array<number>(g.nodes.length).fill(0);
  for (const n of g.nodes) for (const i of n.inputs) uses[i]!++;
  for (const o of g.outputs) uses[o.node]!++;
  return uses;
}
