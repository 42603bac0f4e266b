// Reading a Graph IR node while lowering it: its attributes parsed by its
// op's schema (once per node), its ops' errors as diagnostics at its span,
// and its value through its op's lowering.

import { formatLocation, NncError } from "../core/diagnostics.js";
import type { TensorType } from "../core/types.js";
import type { GraphNode } from "../graph/graph.js";
import { getOp } from "../ops/index.js";
import { type LowerContext, type LowerOperand, OpError } from "../ops/op.js";
import type { IExpr, VExpr } from "./expr.js";
import type { KernelSource } from "./ir.js";

/** The graph node a kernel computes, as its provenance (`nnc inspect`, error traces). */
export function sourceOf(node: GraphNode): KernelSource {
  return {
    node: node.id,
    op: node.op,
    ...(node.span ? { at: formatLocation(node.span) } : {}),
    ...(node.scope ? { scope: node.scope } : {}),
  };
}

const attrsCache = new WeakMap<GraphNode, Record<string, unknown>>();

export function attrsOf(node: GraphNode): Record<string, unknown> {
  let a = attrsCache.get(node);
  if (!a) {
    a = getOp(node.op).attrs.parse(node.attrs) as Record<string, unknown>;
    attrsCache.set(node, a);
  }
  return a;
}

/** Rethrows an op's lowering error as a diagnostic at the node's span. */
export function atNode<T>(node: GraphNode, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpError) {
      throw new NncError({
        code: e.code,
        severity: "error",
        message: `%${node.id} ${node.op}: ${e.message}`,
        ...(node.span ? { span: node.span } : {}),
      });
    }
    throw e;
  }
}

/**
 * The value of `node` at `at` through its op's lowering, its inputs read by
 * `operandAt` (the caller decides which are inlined and which are loads).
 */
export function lowerNode(
  node: GraphNode,
  typeOf: (input: number) => TensorType,
  operandAt: (input: number, at: IExpr[]) => VExpr,
  at: IExpr[],
  fresh: LowerContext["fresh"],
): VExpr {
  const op = getOp(node.op);
  if (!op.lower) {
    throw new NncError({
      code: "NN9001",
      severity: "error",
      message: `%${node.id} ${node.op} has no kernel lowering yet`,
      ...(node.span ? { span: node.span } : {}),
    });
  }
  const operands: LowerOperand[] = node.inputs.map((input) => ({
    type: typeOf(input),
    at: (i) => operandAt(input, i),
  }));
  const lower = op.lower;
  const element = atNode(node, () => lower(operands, attrsOf(node), node.type, { fresh }));
  return atNode(node, () => element(at));
}
