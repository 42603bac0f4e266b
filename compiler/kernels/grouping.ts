// Which Graph IR nodes each kernel evaluates: the one decision fusion makes.
// The default grouping gives every compute node a kernel of its own and
// inlines movement ops (and small constants) into every kernel that reads
// them, so they become index expressions instead of copies. A fusion pass
// only rewrites this structure; lower.ts builds kernels from any grouping.

import { NncError } from "../core/diagnostics.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { getOp } from "../ops/index.js";

export interface KernelGroup {
  /** The node whose value the kernel writes; its value gets a buffer. */
  root: number;
  /** Every node evaluated inside the kernel, in graph order, root last. Inputs outside the list are read from buffers. */
  nodes: number[];
  /** Set when a concat root is written piecewise: the kernel copies only this input into its slice. */
  part?: number;
}

/**
 * A value that lives inside another value's buffer instead of one of its own:
 * a concat input written straight into its slice (DenseNet's dense blocks).
 * `into` is the concat; the value occupies [offset, offset + its extent) of `axis`.
 */
export interface GroupView {
  node: number;
  into: number;
  axis: number;
  offset: number;
}

export interface Grouping {
  /** In dispatch order (producers before consumers). */
  groups: KernelGroup[];
  /** Values kept in a slice of a concat's buffer; the concat itself gets no kernel. */
  views?: GroupView[];
}

/** Constants with at most this many values are inlined as literals; larger ones get a buffer. */
export const INLINE_CONST_VALUES = 4;

/** Nodes a kernel can always recompute from their inputs' buffers: index maps, iota, small constants. */
export function isInlinable(node: GraphNode): boolean {
  if (node.op === "const") return (node.attrs.value as unknown[]).length <= INLINE_CONST_VALUES;
  return getOp(node.op).category === "injective";
}

/** Source nodes that live in a buffer of their own (inputs, params, large constants). */
export function isBufferSource(node: GraphNode): boolean {
  return node.op === "input" || node.op === "param" || (node.op === "const" && !isInlinable(node));
}

export class GraphIndex {
  readonly byId = new Map<number, GraphNode>();
  readonly order = new Map<number, number>();
  constructor(readonly graph: Graph) {
    graph.nodes.forEach((n, i) => {
      this.byId.set(n.id, n);
      this.order.set(n.id, i);
    });
  }
  node(id: number): GraphNode {
    const n = this.byId.get(id);
    if (!n) throw new Error(`lowering: no node %${id}`);
    return n;
  }
  sorted(ids: Iterable<number>): number[] {
    return [...new Set(ids)].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }
}

/**
 * Completes a grouping that names only compute nodes: every group also gets
 * the inlinable nodes (movement ops, small constants) its nodes read that no
 * kernel writes, so a fusion pass need not list them.
 */
export function withInlined(graph: Graph, grouping: Grouping): Grouping {
  const g = new GraphIndex(graph);
  const materialized = new Set<number>(grouping.groups.map((grp) => grp.root));
  for (const n of graph.nodes) if (isBufferSource(n)) materialized.add(n.id);
  for (const v of grouping.views ?? []) materialized.add(v.node).add(v.into);
  const groups = grouping.groups.map((grp) => {
    const nodes = new Set(grp.nodes);
    for (const id of grp.nodes) {
      if (grp.part !== undefined && id === grp.root) continue;
      for (const x of closure(g, id, materialized)) nodes.add(x);
    }
    return { ...grp, nodes: g.sorted(nodes) };
  });
  return grouping.views ? { groups, views: grouping.views } : { groups };
}

/**
 * `root` plus the nodes it reaches without passing a materialised value:
 * inlinable ones, and the compute nodes fused into it (`members`).
 */
function closure(
  g: GraphIndex,
  root: number,
  materialized: ReadonlySet<number>,
  members?: ReadonlySet<number>,
): number[] {
  const seen = new Set<number>([root]);
  const visit = (id: number) => {
    for (const input of g.node(id).inputs) {
      if (seen.has(input) || materialized.has(input)) continue;
      if (!isInlinable(g.node(input)) && !members?.has(input)) continue;
      seen.add(input);
      visit(input);
    }
  };
  visit(root);
  return g.sorted(seen);
}

/** The materialised values a group reads (each one storage binding). */
export function groupReads(g: GraphIndex, group: KernelGroup): number[] {
  const inside = new Set(group.nodes);
  const reads = new Set<number>();
  const visit = (id: number) => {
    if (!inside.has(id) || isBufferSource(g.node(id))) {
      reads.add(id);
      return;
    }
    for (const input of g.node(id).inputs) visit(input);
  };
  visit(group.part === undefined ? group.root : g.node(group.root).inputs[group.part]!);
  return [...reads];
}

/**
 * One kernel per compute node, movement ops inlined; graph outputs that are
 * movement ops or sources get a copy kernel. Then every kernel is kept
 * within `maxBindings` storage buffers by materialising inlined nodes.
 */
export function defaultGrouping(graph: Graph, maxBindings: number): Grouping {
  const g = new GraphIndex(graph);
  const roots = new Set<number>();
  for (const n of graph.nodes) {
    if (n.op === "input" || n.op === "param" || n.op === "const" || isInlinable(n)) continue;
    roots.add(n.id);
  }
  // Outputs that no compute kernel writes get a copy kernel.
  for (const o of graph.outputs) if (!roots.has(o.node)) roots.add(o.node);
  return limitBindings(g, { roots, members: new Map(), views: [] }, maxBindings);
}

/**
 * What fusion decides: the materialised values (roots, one kernel each), the
 * compute nodes evaluated inside each root's kernel, and the values kept in a
 * slice of a concat's buffer.
 */
export interface FusionPlan {
  roots: Set<number>;
  members: Map<number, Set<number>>;
  views: GroupView[];
}

/**
 * Groups in dispatch order from a fusion plan, every kernel kept within
 * `maxBindings` storage buffers by materialising the inlined or fused node
 * whose own kernel would take the most reads (or splitting a concat into
 * per-input copies).
 */
export function limitBindings(g: GraphIndex, plan: FusionPlan, maxBindings: number): Grouping {
  const { roots, members, views } = plan;
  const sources = new Set<number>();
  for (const n of g.graph.nodes) if (isBufferSource(n)) sources.add(n.id);
  for (const v of views) sources.add(v.node).add(v.into);
  const split = new Set<number>();
  for (;;) {
    const materialized = new Set([...sources, ...roots]);
    const groups: KernelGroup[] = [];
    for (const root of g.sorted(roots)) {
      if (!split.has(root)) {
        groups.push({ root, nodes: closure(g, root, materialized, members.get(root)) });
        continue;
      }
      g.node(root).inputs.forEach((input, part) => {
        const inner =
          materialized.has(input) || !isInlinable(g.node(input))
            ? []
            : closure(g, input, materialized);
        groups.push({ root, nodes: g.sorted([...inner, root]), part });
      });
    }
    // A scan is no kernel of its own: scan-lower.ts makes its step kernels, each kept within the limit there.
    const over = groups.find(
      (grp) => g.node(grp.root).op !== "scan" && groupReads(g, grp).length + 1 > maxBindings,
    );
    if (!over) return views.length > 0 ? { groups, views } : { groups };
    const fix = widestInlined(g, over);
    if (fix === undefined) {
      const node = g.node(over.root);
      if (node.op === "concat" && !split.has(node.id)) {
        split.add(node.id);
        continue;
      }
      throw new NncError({
        code: "NN5006",
        severity: "error",
        message: `kernel for %${node.id} ${node.op} needs ${groupReads(g, over).length + 1} storage buffers, more than the limit of ${maxBindings}`,
        ...(node.span ? { span: node.span } : {}),
        hint: "request a device with a higher maxStorageBuffersPerShaderStage",
      });
    }
    roots.add(fix);
    // A fused node that becomes a root takes along the members upstream of it.
    const fused = members.get(over.root);
    if (fused?.has(fix)) members.set(fix, new Set(fused));
  }
}

/** The inlined node of a group whose materialisation removes the most bindings. */
function widestInlined(g: GraphIndex, group: KernelGroup): number | undefined {
  let best: number | undefined;
  let bestReads = 1;
  for (const id of group.nodes) {
    if (id === group.root) continue;
    const reads = groupReads(g, { root: id, nodes: group.nodes });
    if (reads.length > bestReads) {
      best = id;
      bestReads = reads.length;
    }
  }
  return best;
}
