// Reverse-mode autodiff on the Graph IR: the training graph is the forward
// graph, then each node's gradient rule (its op module's `vjp`) in reverse
// order, seeded by one cotangent input per float output. The result is an
// ordinary graph — optimized, fused, planned and lowered like any other — so
// only the forward values the backward reads stay alive.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { TensorType } from "../core/types.js";
import { BUFFER_OUTPUT, type Graph, type GraphNode } from "../graph/graph.js";
import { type GradBuilder, getOp } from "../ops/index.js";
import { GraphEditor } from "../passes/editor.js";
import { Subgraph } from "./subgraph.js";

/** The prefix of the cotangent inputs and gradient outputs: `grad:logits`, `grad:conv1.weight`. */
export const GRAD_PREFIX = "grad:";

export interface GradGraph {
  graph: Graph;
  /** Output name → the name of its cotangent input (`grad:O`). */
  cotangents: Map<string, string>;
  /** Parameter or input name → the name of its gradient output (`grad:NAME`). */
  grads: Map<string, { output: string; wrt: "input" | "parameter" }>;
}

export interface GradOptions {
  /** Outputs with no cotangent input: they contribute nothing (e.g. a scalar loss is seeded with 1 instead). */
  seedOnes?: readonly string[];
  /** Differentiate only these outputs (default: every float output). */
  only?: readonly string[];
}

class Builder implements GradBuilder {
  /** The node whose gradient is being built: lends span, trace and scope to what its rule emits. */
  origin: GraphNode | undefined;
  constructor(readonly ed: GraphEditor) {}
  emit(op: string, inputs: number[], attrs: Record<string, unknown> = {}): number {
    return this.ed.emit(op, inputs, attrs, this.origin);
  }
  type(id: number): TensorType {
    return this.ed.type(id);
  }
  gradOf(body: Graph): Graph {
    const { graph, grads } = gradGraph(body);
    const outputs = new Set([...grads.values()].map((x) => x.output));
    return { ...graph, outputs: graph.outputs.filter((o) => outputs.has(o.name)) };
  }
  subgraph(): Subgraph {
    return new Subgraph();
  }
  scalar(value: number, dtype: "f32" | "i32" = "f32"): number {
    return this.emit("const", [], { dtype, shape: [], value: [value] });
  }
  unbroadcast(grad: number, shape: readonly number[]): number {
    const from = this.type(grad).shape;
    if (from.length === shape.length && from.every((d, i) => d === shape[i])) return grad;
    const lead = from.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      if (i < lead) axes.push(i);
      else if (shape[i - lead] === 1 && from[i] !== 1) axes.push(i);
    }
    const summed =
      axes.length > 0 ? this.emit("reduce_sum", [grad], { axes, keepdims: true }) : grad;
    return this.emit("reshape", [summed], { shape: [...shape] });
  }
}

const isFloat = (t: TensorType) => t.dtype === "f32";

/**
 * The training graph of `g`: its inputs plus a cotangent input `grad:O` per
 * float output O (unless seeded with ones), its outputs plus `grad:X` for every
 * trainable parameter and float input X — the gradient of Σ_O ⟨O, grad:O⟩.
 */
export function gradGraph(g: Graph, opts: GradOptions = {}): GradGraph {
  const ed = new GraphEditor(g);
  for (const n of g.nodes) ed.map.set(n.id, ed.copy(n));
  const b = new Builder(ed);
  const adj = new Map<number, number>();
  const accumulate = (id: number, c: number) => {
    const prev = adj.get(id);
    adj.set(id, prev === undefined ? c : b.emit("add", [prev, c]));
  };

  const cotangents = new Map<string, string>();
  const extraInputs: { name: string; node: number; type: TensorType }[] = [];
  for (const o of g.outputs) {
    const node = ed.map.get(o.node)!;
    const type = ed.type(node);
    if (!isFloat(type) || o.name.startsWith(BUFFER_OUTPUT)) continue;
    if (opts.only && !opts.only.includes(o.name)) continue;
    if (opts.seedOnes?.includes(o.name)) {
      accumulate(node, b.emit("broadcast", [b.scalar(1)], { shape: [...type.shape] }));
      continue;
    }
    const name = `${GRAD_PREFIX}${o.name}`;
    const id = ed.emit("input", [], { name, dtype: type.dtype, shape: [...type.shape] });
    extraInputs.push({ name, node: id, type });
    cotangents.set(o.name, name);
    accumulate(node, id);
  }

  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const old = g.nodes[i]!;
    const id = ed.map.get(old.id)!;
    const cot = adj.get(id);
    if (cot === undefined) continue;
    const op = getOp(old.op);
    if (op.category === "source") continue;
    if (!op.vjp) {
      throw new NncError(
        diagnostic(
          "NN8101",
          `cannot differentiate through \`${old.op}\`: it has no gradient rule`,
          old.span,
          {
            ...(old.trace ? { trace: old.trace } : {}),
            hint: "every primitive on the path from a parameter to the loss needs one (compiler/ops)",
          },
        ),
      );
    }
    b.origin = old;
    const inputs = old.inputs.map((x) => ed.map.get(x)!);
    const contributions = op.vjp(b, { inputs, output: id, attrs: old.attrs }, cot);
    contributions.forEach((c, k) => {
      const input = inputs[k]!;
      if (c === undefined || !isFloat(ed.type(input))) return;
      accumulate(input, c);
    });
  }
  b.origin = undefined;

  const grads = new Map<string, { output: string; wrt: "input" | "parameter" }>();
  const extraOutputs: { name: string; node: number }[] = [];
  const gradOf = (node: number, type: TensorType): number =>
    adj.get(node) ?? ed.emit("broadcast", [b.scalar(0)], { shape: [...type.shape] });
  for (const inp of g.inputs) {
    if (!isFloat(inp.type)) continue;
    const name = `${GRAD_PREFIX}${inp.name}`;
    extraOutputs.push({ name, node: gradOf(ed.map.get(inp.node)!, inp.type) });
    grads.set(inp.name, { output: name, wrt: "input" });
  }
  for (const p of g.params) {
    if (p.kind !== "parameter" || p.derived || !isFloat(p.type)) continue;
    const name = `${GRAD_PREFIX}${p.name}`;
    extraOutputs.push({ name, node: gradOf(ed.map.get(p.node)!, p.type) });
    grads.set(p.name, { output: name, wrt: "parameter" });
  }

  const graph = ed.finish();
  graph.inputs.push(...extraInputs);
  graph.outputs.push(...extraOutputs);
  return { graph, cotangents, grads };
}
