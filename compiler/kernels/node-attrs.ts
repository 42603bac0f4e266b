// Reading a Graph IR node while lowering it: its attributes parsed by its
// op's schema (once per node), and its ops' errors as diagnostics at its span.

import { NncError } from "../diagnostics.js";
import type { GraphNode } from "../graph.js";
import { getOp } from "../ops/index.js";
import { OpError } from "../ops/op.js";

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
