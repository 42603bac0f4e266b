// Fusion: which Graph IR nodes share a kernel, decided from each primitive's
// fusion category alone (TVM's scheme). One forward walk over the graph; each
// compute node starts a group and absorbs the groups of its producers when
// every use of the producer's value is inside the merged group (it
// post-dominates them) and the merged group is still one efficient kernel:
//
//   light        elementwise/broadcast only: chains, and prologues read
//                inside a consumer's loads (movement ops are index maps);
//   contraction  one conv/matmul with light prologues and its elementwise
//                epilogue (bias, folded batchnorm, activation, residual add),
//                its value read once per output element: tiled as before;
//   reduce       reductions each read once per output element (global
//                average pooling with its prologue, a mean's division);
//   rows         reductions over one set of axes broadcast back over them
//                (softmax, log_softmax, layernorm): each row's reductions
//                computed once per row (schedule.ts's rows schedule).
//
// Concats whose inputs all get kernels of their own become views: each
// input's kernel writes straight into its slice of the concat's buffer
// (DenseNet's dense blocks without copies). Binding limits are kept by
// never merging past them; grouping.ts splits what is still too wide.

import type { Graph } from "../graph/graph.js";
import { type FusionCategory, getOp } from "../ops/index.js";
import { limitDefaults } from "../target/limits.js";
import {
  type FusionPlan,
  GraphIndex,
  type Grouping,
  type GroupView,
  groupReads,
  isBufferSource,
  isInlinable,
  limitBindings,
} from "./grouping.js";
import type { KernelPass } from "./kernel-state.js";

/** Most compute nodes a light group may bring into a contraction's inner loop. */
export const MAX_PROLOGUE_NODES = 4;

/** Most compute nodes of an elementwise group recomputed in each of several consumers. */
export const MAX_DUPLICATED_NODES = 3;

export type GroupKind = "light" | "contraction" | "reduce" | "rows";

interface Use {
  node: number;
  /** Read as an input of `node` itself, not through a movement op. */
  direct: boolean;
}

interface Group {
  root: number;
  nodes: Set<number>;
}

export const fusePass: KernelPass = {
  name: "fuse",
  stage: "kernels",
  what: "kernels of several ops: elementwise chains, conv/matmul epilogues, softmax/layernorm rows, concat slices",
  after: [],
  run: (s, cx) =>
    s.withGrouping(
      fuseGraph(
        s.graph,
        cx.target.limits.maxStorageBuffersPerShaderStage,
        cx.target.limits.maxStorageBufferBindingSize,
      ),
    ),
};

/** The fusion pass's grouping, for lowerGrouped (lower.ts). */
export function fuseGraph(
  graph: Graph,
  maxBindings: number,
  /** A concat's buffer must fit one binding. */
  maxBindingBytes: number = limitDefaults.maxStorageBufferBindingSize,
): Grouping {
  const g = new GraphIndex(graph);
  const first = new Fuser(g, [], maxBindings).run();
  let views = concatViews(g, first, maxBindingBytes);
  while (views.length > 0) {
    const grouping = limitBindings(g, new Fuser(g, views, maxBindings).run(), maxBindings);
    const bad = aliasedHomes(g, grouping);
    if (bad.size === 0) return grouping;
    // A kernel may not read the buffer it writes: those concats stay index maps.
    const homes = homeOf(views);
    views = views.filter((v) => !bad.has(homes.get(v.node)!));
  }
  return limitBindings(g, first, maxBindings);
}

const categoryOf = (op: string): FusionCategory => getOp(op).category;
const isHeavy = (c: FusionCategory) => c === "reduction" || c === "out-elementwise-fusable";
const isEw = (c: FusionCategory) => c === "elementwise" || c === "broadcast";

class Fuser {
  /** Nodes that get a kernel unless fused: compute nodes and graph outputs. */
  readonly compute = new Set<number>();
  /** Values that must be materialised: graph outputs and views. */
  readonly pinned = new Set<number>();
  /** Nodes with a buffer and no kernel of their own: views and concat homes. */
  readonly placed = new Set<number>();
  readonly consumers = new Map<number, number[]>();
  private readonly useCache = new Map<number, Use[]>();
  private readonly depths = new Map<number, number>();
  /** How many graph nodes, in order, `depths` covers. */
  private depthsFilled = 0;
  readonly groupOf = new Map<number, Group>();

  constructor(
    readonly g: GraphIndex,
    readonly views: GroupView[],
    readonly maxBindings: number,
  ) {
    const graph = g.graph;
    for (const v of views) {
      this.placed.add(v.into);
      this.pinned.add(v.node);
    }
    for (const n of graph.nodes) {
      if (n.op === "input" || n.op === "param" || n.op === "const" || isInlinable(n)) continue;
      this.compute.add(n.id);
    }
    for (const o of graph.outputs) {
      this.pinned.add(o.node);
      if (!this.placed.has(o.node)) this.compute.add(o.node);
    }
    for (const n of graph.nodes) {
      for (const i of new Set(n.inputs)) {
        const list = this.consumers.get(i);
        if (list) list.push(n.id);
        else this.consumers.set(i, [n.id]);
      }
    }
  }

  category(id: number): FusionCategory {
    const n = this.g.node(id);
    return isInlinable(n) ? "injective" : categoryOf(n.op);
  }

  /** The compute nodes that read `id`'s value, directly or through inlined movement ops. */
  uses(id: number): Use[] {
    const hit = this.useCache.get(id);
    if (hit) return hit;
    const out: Use[] = [];
    for (const c of this.consumers.get(id) ?? []) {
      if (this.compute.has(c)) out.push({ node: c, direct: true });
      else if (!this.placed.has(c))
        for (const u of this.uses(c)) out.push({ node: u.node, direct: false });
    }
    this.useCache.set(id, out);
    return out;
  }

  /** The compute nodes whose values `id` reads, through inlined movement ops. */
  producers(id: number, out = new Set<number>()): Set<number> {
    for (const i of this.g.node(id).inputs) {
      const n = this.g.node(i);
      if (this.compute.has(i)) out.add(i);
      else if (!this.placed.has(i) && !isBufferSource(n) && isInlinable(n)) this.producers(i, out);
    }
    return out;
  }

  run(): FusionPlan {
    for (const n of this.g.graph.nodes) {
      if (!this.compute.has(n.id)) continue;
      const group: Group = { root: n.id, nodes: new Set([n.id]) };
      this.groupOf.set(n.id, group);
      const c = this.category(n.id);
      if (!isEw(c) && c !== "reduction" && c !== "out-elementwise-fusable") continue;
      for (let changed = true; changed; ) {
        changed = false;
        for (const p of this.candidates(group)) {
          if (this.tryMerge(group, this.groupOf.get(p)!)) changed = true;
        }
      }
    }
    const groups = this.duplicateCheap([...new Set(this.groupOf.values())]);
    const roots = new Set<number>();
    const members = new Map<number, Set<number>>();
    for (const grp of groups) {
      roots.add(grp.root);
      if (grp.nodes.size > 1) members.set(grp.root, new Set(grp.nodes));
    }
    return { roots, members, views: this.views };
  }

  /**
   * Cheap elementwise groups read by several kernels are evaluated inside
   * each of them instead of being materialised (recomputing a few ops costs
   * less than a dispatch and a round trip through memory); consumers first,
   * so a chain of such groups dissolves from its end.
   */
  private duplicateCheap(groups: Group[]): Group[] {
    const alive = new Set(groups);
    const byRoot = [...groups].sort(
      (a, b) => this.g.order.get(b.root)! - this.g.order.get(a.root)!,
    );
    for (const grp of byRoot) {
      const r = grp.root;
      if (this.pinned.has(r) || grp.nodes.size > MAX_DUPLICATED_NODES) continue;
      if (![...grp.nodes].every((id) => isEw(this.category(id)))) continue;
      const users = new Set(this.uses(r).map((u) => u.node));
      const into = [...alive].filter(
        (other) => other !== grp && [...users].some((u) => other.nodes.has(u)),
      );
      if (into.length < 2) continue;
      const ok = into.every((other) => {
        const merged = new Set([...other.nodes, ...grp.nodes]);
        const kind = this.classify(merged, other.root);
        if (kind === undefined) return false;
        if (kind === "contraction" && grp.nodes.size > MAX_PROLOGUE_NODES) return false;
        return this.reads(merged, other.root) + 1 <= this.maxBindings;
      });
      if (!ok) continue;
      for (const other of into) for (const id of grp.nodes) other.nodes.add(id);
      alive.delete(grp);
    }
    return groups.filter((grp) => alive.has(grp));
  }

  /**
   * Roots of other groups the group reads, the deepest first (then the latest):
   * where an epilogue can take only one of several contractions (a residual
   * add of a block's last conv and its shortcut's conv), it joins the one at
   * the end of the longer chain: the block's main path. The shortcut's conv
   * then runs first as a plain conv, and the main path's last conv gets the
   * same kernel as in the blocks without a shortcut conv (one pipeline to
   * compile, not two); the residual read also lands in the kernel with the
   * most arithmetic per element instead of a memory-bound 1×1 conv.
   */
  private candidates(group: Group): number[] {
    const out = new Set<number>();
    for (const id of group.nodes)
      for (const p of this.producers(id)) {
        const pg = this.groupOf.get(p);
        if (pg && pg !== group && pg.root === p) out.add(p);
      }
    const later = this.g.sorted(out).reverse();
    return later.sort((a, b) => this.depth(b) - this.depth(a));
  }

  /** Contractions and reductions on the longest path from the graph's sources to `id`. */
  private depth(id: number): number {
    const hit = this.depths.get(id);
    if (hit !== undefined) return hit;
    // Graph order is topological: fill the table up to `id`, resuming where the
    // last fill stopped (rescanning from the start made fusion quadratic).
    const nodes = this.g.graph.nodes;
    for (; this.depthsFilled < nodes.length; this.depthsFilled++) {
      const n = nodes[this.depthsFilled]!;
      let below = 0;
      for (const i of n.inputs) below = Math.max(below, this.depths.get(i) ?? 0);
      const heavy = this.compute.has(n.id) && isHeavy(this.category(n.id)) ? 1 : 0;
      this.depths.set(n.id, below + heavy);
      if (n.id === id) {
        this.depthsFilled++;
        break;
      }
    }
    return this.depths.get(id)!;
  }

  private tryMerge(group: Group, producer: Group): boolean {
    const p = producer.root;
    if (producer === group || this.pinned.has(p)) return false;
    const pc = this.category(p);
    if (!isEw(pc) && !isHeavy(pc)) return false;
    if (!this.uses(p).every((u) => group.nodes.has(u.node))) return false;
    const merged = new Set([...group.nodes, ...producer.nodes]);
    const kind = this.classify(merged, group.root);
    if (kind === undefined) return false;
    if (kind === "contraction" && this.classify(producer.nodes, p) === "light") {
      if (producer.nodes.size > MAX_PROLOGUE_NODES) return false;
    }
    if (this.reads(merged, group.root) + 1 > this.maxBindings) return false;
    for (const id of producer.nodes) {
      group.nodes.add(id);
      this.groupOf.set(id, group);
    }
    return true;
  }

  /** What kind of kernel a set of nodes makes, or undefined when it is not one efficient kernel. */
  classify(nodes: Set<number>, root: number): GroupKind | undefined {
    const heavy = [...nodes].filter((id) => isHeavy(this.category(id)));
    if (heavy.length === 0) return "light";
    const memo = new Map<number, boolean>();
    const pointwise = (id: number): boolean => {
      if (id === root) return true;
      const hit = memo.get(id);
      if (hit !== undefined) return hit;
      memo.set(id, false);
      const shape = this.g.node(id).type.shape;
      const ok = this.uses(id).every(
        (u) =>
          u.direct &&
          nodes.has(u.node) &&
          isEw(this.category(u.node)) &&
          sameShape(this.g.node(u.node).type.shape, shape) &&
          pointwise(u.node),
      );
      memo.set(id, ok);
      return ok;
    };
    const contractions = heavy.filter((id) => this.category(id) === "out-elementwise-fusable");
    if (contractions.length > 0) {
      return heavy.length === 1 && pointwise(heavy[0]!) ? "contraction" : undefined;
    }
    if (heavy.every(pointwise)) return "reduce";
    return this.rowsCompatible(nodes, root, heavy) ? "rows" : undefined;
  }

  /**
   * Reductions that one invocation per row can compute once each: keepdims
   * reductions over the same axes, every node of the group of the root's
   * rank, read by each other directly (so a reduction read inside another's
   * loop is read at index 0 of the reduced axes: invariant).
   */
  private rowsCompatible(nodes: Set<number>, root: number, heavy: number[]): boolean {
    const rank = this.g.node(root).type.shape.length;
    let axes: string | undefined;
    for (const id of heavy) {
      const n = this.g.node(id);
      if (!n.op.startsWith("reduce_")) return false;
      const a = n.attrs as { axes?: number[]; keepdims?: boolean };
      if (!a.keepdims) return false;
      const key = JSON.stringify([...(a.axes ?? [])].sort());
      if (axes !== undefined && key !== axes) return false;
      axes = key;
    }
    for (const id of nodes) {
      if (this.g.node(id).type.shape.length !== rank) return false;
      if (id === root) continue;
      if (!this.uses(id).every((u) => u.direct)) return false;
    }
    return true;
  }

  /** Storage buffers the merged group reads. */
  private reads(nodes: Set<number>, root: number): number {
    const seen = new Set<number>();
    const reads = new Set<number>();
    const visit = (id: number) => {
      for (const i of this.g.node(id).inputs) {
        if (seen.has(i)) continue;
        seen.add(i);
        const n = this.g.node(i);
        if (nodes.has(i)) visit(i);
        else if (isBufferSource(n) || this.compute.has(i) || this.placed.has(i)) reads.add(i);
        else if (isInlinable(n)) visit(i);
        else reads.add(i);
      }
    };
    visit(root);
    return reads.size;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Concats every input of which has a kernel of its own (and is no graph
 * output, nor a slice of another concat already) and whose buffer fits one
 * storage binding: the inputs are written
 * into slices of the concat's buffer, in graph order so that a concat of
 * concats nests.
 */
function concatViews(g: GraphIndex, plan: FusionPlan, maxBytes: number): GroupView[] {
  const outputs = new Set(g.graph.outputs.map((o) => o.node));
  const viewed = new Set<number>();
  const homes = new Set<number>();
  const views: GroupView[] = [];
  for (const n of g.graph.nodes) {
    if (n.op !== "concat") continue;
    const ins = n.inputs;
    const kernelled = (i: number) =>
      (plan.roots.has(i) && !isInlinable(g.node(i)) && !isBufferSource(g.node(i))) || homes.has(i);
    const bytes = 4 * n.type.shape.reduce((a, d) => a * d, 1);
    const ok =
      bytes <= maxBytes &&
      ins.length > 0 &&
      new Set(ins).size === ins.length &&
      ins.every((i) => kernelled(i) && !outputs.has(i) && !viewed.has(i));
    if (!ok) continue;
    const axis = (n.attrs as { axis: number }).axis;
    let offset = 0;
    for (const i of ins) {
      views.push({ node: i, into: n.id, axis, offset });
      viewed.add(i);
      offset += g.node(i).type.shape[axis]!;
    }
    homes.add(n.id);
  }
  return views;
}

/** Each view's outermost home. */
function homeOf(views: GroupView[]): Map<number, number> {
  const into = new Map(views.map((v) => [v.node, v.into]));
  const out = new Map<number, number>();
  for (const v of views) {
    let h = v.into;
    while (into.has(h)) h = into.get(h)!;
    out.set(v.node, h);
  }
  return out;
}

/** Homes some kernel both writes (a slice of) and reads. */
function aliasedHomes(g: GraphIndex, grouping: Grouping): Set<number> {
  const views = grouping.views ?? [];
  const homes = homeOf(views);
  const home = (id: number) => homes.get(id) ?? id;
  const bad = new Set<number>();
  for (const grp of grouping.groups) {
    const h = homes.get(grp.root);
    if (h === undefined) continue;
    if (groupReads(g, grp).some((r) => home(r) === h)) bad.add(h);
  }
  return bad;
}
