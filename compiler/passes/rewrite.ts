// The rewrite engine behind the table-driven passes (tinygrad's style): the
// graph is rebuilt node by node and each new node is offered to a table of
// rules; a rule returns the id of a replacement built with `make` (whose nodes
// are offered to the rules in turn) or null to leave the node as it is.

import type { Graph, GraphNode } from "../graph/graph.js";
import { GraphEditor, sameType, useCounts } from "./editor.js";

export interface RewriteCtx {
  /** Builds a node, itself simplified by the rules; returns its id. */
  make(op: string, inputs: number[], attrs?: Record<string, unknown>): number;
  node(id: number): GraphNode;
  /** True when the node's value depends on parameters and constants only. */
  paramOnly(id: number): boolean;
  /** How many readers the node has (a rewrite may only absorb a node read once). */
  uses(id: number): number;
}

/** A rule sees a node about to be built: its op, its (new) inputs and attrs. */
export type Rule = (
  ctx: RewriteCtx,
  op: string,
  inputs: number[],
  attrs: Record<string, unknown>,
) => number | null;

const SOURCES = new Set(["param", "const"]);

export function rewrite(graph: Graph, rules: readonly Rule[]): Graph {
  const ed = new GraphEditor(graph);
  const oldUses = useCounts(graph);
  // Readers per new node. Rewired inputs trade an old (now dead) reader for a new one,
  // so counts stay close; an over-count only makes a rule decline, never duplicate work.
  const uses: number[] = [];
  const paramOnly: boolean[] = [];
  let origin: GraphNode | undefined;
  let depth = 0;

  const added = (id: number, readers: number): number => {
    uses[id] = (uses[id] ?? 0) + readers;
    if (paramOnly[id] === undefined) {
      const n = ed.node(id);
      paramOnly[id] =
        SOURCES.has(n.op) ||
        (n.op !== "input" &&
          n.op !== "scan" &&
          n.inputs.length > 0 &&
          n.inputs.every((i) => paramOnly[i]));
    }
    return id;
  };

  const build = (
    op: string,
    inputs: number[],
    attrs: Record<string, unknown>,
    readers: number,
  ): number => {
    if (depth < 32) {
      depth++;
      try {
        for (const rule of rules) {
          const id = rule(ctx, op, inputs, attrs);
          if (id !== null) return added(id, readers);
        }
      } finally {
        depth--;
      }
    }
    return added(ed.emit(op, inputs, attrs, origin), readers);
  };

  const ctx: RewriteCtx = {
    make: (op, inputs, attrs = {}) => build(op, inputs, attrs, 1),
    node: (id) => ed.node(id),
    paramOnly: (id) => paramOnly[id] ?? false,
    uses: (id) => uses[id] ?? 0,
  };

  for (const old of graph.nodes) {
    origin = old;
    const inputs = old.inputs.map((i) => ed.map.get(i)!);
    let id: number;
    if (old.op === "input" || old.op === "param" || old.op === "scan") {
      id = added(ed.copy(old, inputs), oldUses[old.id]!);
    } else {
      id = build(old.op, inputs, old.attrs, oldUses[old.id]!);
      // A rule must keep the node's type; anything else is a bug in the rule.
      if (!sameType(ed.type(id), old.type)) {
        throw new Error(
          `rewrite changed %${old.id} ${old.op} from ${JSON.stringify(old.type)} to ${JSON.stringify(ed.type(id))}`,
        );
      }
    }
    ed.map.set(old.id, id);
  }
  return ed.finish();
}
