// The CPU reference interpreter of the Graph IR: the correctness oracle the
// WebGPU backend and the optimization passes are checked against. It walks
// the nodes in their (topological) array order and calls each op's
// `evaluate`; values are freed after their last use.

import type { Tensor } from "../core/tensor.js";
import { formatType, numel, sameShape, type TensorType } from "../core/types.js";
import { getOp } from "../ops/index.js";
import { type EvalContext, OpError } from "../ops/op.js";
import type { Graph, GraphNode } from "./graph.js";

/**
 * Node attrs parsed by their op's schema (defaults filled), cached per node so
 * a scan body run at every time step parses once; a pass that replaces a
 * node's attrs object invalidates its entry.
 */
const parsedAttrs = new WeakMap<GraphNode, { raw: object; parsed: Record<string, unknown> }>();

function attrsOf(node: GraphNode): Record<string, unknown> {
  const cached = parsedAttrs.get(node);
  if (cached !== undefined && cached.raw === node.attrs) return cached.parsed;
  const parsed = getOp(node.op).attrs.parse(node.attrs);
  parsedAttrs.set(node, { raw: node.attrs, parsed });
  return parsed;
}

function sameType(t: Tensor, type: TensorType): boolean {
  return t.dtype === type.dtype && sameShape(t.shape, type.shape);
}

function bind(
  what: "input" | "param",
  name: string,
  type: TensorType,
  supplied: Map<string, Tensor>,
): Tensor {
  const t = supplied.get(name);
  if (t === undefined) throw new Error(`runGraph: ${what} \`${name}\` was not supplied`);
  if (!sameType(t, type)) {
    throw new Error(
      `runGraph: ${what} \`${name}\` is ${formatType(t)} but the graph expects ${formatType(type)}`,
    );
  }
  if (t.data.length !== numel(type.shape)) {
    throw new Error(
      `runGraph: ${what} \`${name}\` holds ${t.data.length} values for ${formatType(type)}`,
    );
  }
  return t;
}

/** Index after which each node's value is no longer read (outputs live to the end). */
function lastUses(graph: Graph): Map<number, number> {
  const last = new Map<number, number>();
  graph.nodes.forEach((node, i) => {
    for (const id of node.inputs) last.set(id, i);
  });
  for (const out of graph.outputs) last.set(out.node, Number.POSITIVE_INFINITY);
  return last;
}

/** Evaluates `graph` on host tensors; returns its outputs by name. */
export function runGraph(
  graph: Graph,
  inputs: Map<string, Tensor>,
  params: Map<string, Tensor>,
): Map<string, Tensor> {
  const bound = new Map<number, Tensor>();
  for (const i of graph.inputs) bound.set(i.node, bind("input", i.name, i.type, inputs));
  for (const p of graph.params) bound.set(p.node, bind("param", p.name, p.type, params));

  const values = new Map<number, Tensor>();
  const last = lastUses(graph);
  graph.nodes.forEach((node, i) => {
    let value = bound.get(node.id);
    if (value === undefined) {
      if (node.op === "input" || node.op === "param") {
        throw new Error(
          `runGraph: %${node.id} (${node.op}) is not listed in the graph's ${node.op}s`,
        );
      }
      const args = node.inputs.map((id) => {
        const v = values.get(id);
        if (v === undefined)
          throw new Error(`runGraph: %${node.id} reads %${id}, which has no value`);
        return v;
      });
      try {
        value = getOp(node.op).evaluate(args, attrsOf(node), cpuEvalContext);
      } catch (e) {
        // A run-time error (an out-of-range token id) points at the node's source.
        if (e instanceof OpError) {
          e.span ??= node.span;
          e.trace ??= node.trace;
        }
        throw e;
      }
      if (!sameType(value, node.type)) {
        throw new Error(
          `runGraph: %${node.id} (${node.op}) evaluated to ${formatType(value)} but is typed ${formatType(node.type)}`,
        );
      }
    }
    values.set(node.id, value);
    for (const id of node.inputs) if (last.get(id) === i) values.delete(id);
    if (!last.has(node.id)) values.delete(node.id);
  });

  const outputs = new Map<string, Tensor>();
  for (const out of graph.outputs) {
    const v = values.get(out.node);
    if (v === undefined)
      throw new Error(`runGraph: output \`${out.name}\` reads %${out.node}, which has no value`);
    outputs.set(out.name, v);
  }
  return outputs;
}

/** What ops see of the interpreter: body graphs (scan) run positionally, in the graph's input/param/output order. */
export const cpuEvalContext: EvalContext = {
  runGraph(graph: Graph, inputs: Tensor[], params: Tensor[]): Tensor[] {
    if (inputs.length !== graph.inputs.length || params.length !== graph.params.length) {
      throw new Error(
        `runGraph: the graph takes ${graph.inputs.length} inputs and ${graph.params.length} params, got ${inputs.length} and ${params.length}`,
      );
    }
    const named = (list: { name: string }[], ts: Tensor[]) =>
      new Map(list.map((entry, i) => [entry.name, ts[i]!]));
    const out = runGraph(graph, named(graph.inputs, inputs), named(graph.params, params));
    return graph.outputs.map((o) => out.get(o.name)!);
  },
};
