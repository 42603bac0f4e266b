// Where a fused scan step also stores its outputs. After a scan, elaboration
// slices its stacked rows back into the layer's results, and a graph output
// (LSTM's `output` = permute(reshape(slice(rows))), `h_n` = the last row's
// slice, or a bidirectional concat of two such chains) would be a copy kernel
// reading the scan's buffer. Instead, the step kernel stores each element
// there too: the element's scan coordinates (row t, column of its slot) are
// mapped forward through the chain of movement ops — slice (a row range
// becomes a condition on t), reshape, permute, concat — to the group's own
// coordinates. The copy kernel is skipped once every scan it reads has placed
// its part (a scan that did not fuse leaves it, redundant but correct). A
// scan of one slot (rnn, gru: h alone) is read whole, with no slice first.

import type { GraphNode } from "../graph/graph.js";
import { getOp } from "../ops/index.js";
import { cand, ctrue, type ICond, type IExpr, iadd, ic, icmp, isub } from "./expr.js";
import { type GraphIndex, groupReads, type KernelGroup } from "./grouping.js";
import { delinearize, linearize } from "./index-maps.js";

/** One chain from a scan into a group's value. */
export interface Placement {
  /** The group taken over (its root's buffer is written by the scan). */
  root: number;
  /** The scan's slot the chain reads. */
  slot: number;
  /** Root coordinates of slot element `e` (the slot's flat index) at row `t`, and where it is stored. */
  map(t: IExpr, e: IExpr): { at: IExpr[]; when: ICond };
}

interface Slots {
  offset: number;
  size: number;
}

/**
 * The groups whose every element is a scan result moved by index maps, with
 * which scans have placed their part so far.
 */
export class ScanPlacements {
  private readonly needs = new Map<number, Set<number>>();
  private readonly placed = new Map<number, Set<number>>();

  constructor(
    readonly g: GraphIndex,
    readonly groups: readonly KernelGroup[],
  ) {
    for (const grp of groups) {
      if (grp.part !== undefined) continue;
      const reads = groupReads(g, grp);
      if (reads.length === 0 || !reads.every((id) => g.node(id).op === "scan")) continue;
      if (!grp.nodes.every((id) => id === grp.root || movement(g.node(id)))) continue;
      if (!movement(g.node(grp.root))) continue;
      this.needs.set(grp.root, new Set(reads));
    }
  }

  /** Placements of scan `scan`'s slots into the groups that only move its elements. */
  candidates(scan: GraphNode, slots: readonly Slots[], T: number): Placement[] {
    const out: Placement[] = [];
    for (const grp of this.groups) {
      const needs = this.needs.get(grp.root);
      if (!needs?.has(scan.id)) continue;
      const paths = pathsTo(this.g, grp, scan.id);
      const ps = paths.map((p) => placement(this.g, grp.root, p, slots, T));
      if (ps.length === 0 || ps.some((p) => p === undefined)) continue;
      out.push(...(ps as Placement[]));
    }
    return out;
  }

  /** Scan `scan` stores these groups' elements (all its chains into each). */
  record(scan: number, roots: Iterable<number>): void {
    for (const r of roots) {
      const s = this.placed.get(r) ?? new Set<number>();
      s.add(scan);
      this.placed.set(r, s);
    }
  }

  /** Whether the scans have written this group's whole value (its kernel is not needed). */
  covers(group: KernelGroup): boolean {
    const needs = this.needs.get(group.root);
    if (!needs || group.part !== undefined) return false;
    const placed = this.placed.get(group.root);
    return placed !== undefined && [...needs].every((s) => placed.has(s));
  }
}

function movement(n: GraphNode): boolean {
  return ["slice", "reshape", "permute", "concat"].includes(n.op);
}

/** Every path from the group's root down to the scan: the (node, input position) edges, root first. */
function pathsTo(g: GraphIndex, grp: KernelGroup, scan: number): [number, number][][] {
  const inside = new Set(grp.nodes);
  const out: [number, number][][] = [];
  const walk = (id: number, path: [number, number][]) => {
    g.node(id).inputs.forEach((input, k) => {
      const edge: [number, number][] = [...path, [id, k]];
      if (input === scan) out.push(edge);
      else if (inside.has(input)) walk(input, edge);
    });
  };
  walk(grp.root, []);
  return out;
}

/**
 * The forward map of one path: a scan element (row, column) through the
 * path's ops up to the root. Undefined when an op is not a supported index
 * map, or the path's first slice does not stay inside one slot.
 */
function placement(
  g: GraphIndex,
  root: number,
  path: [number, number][],
  slots: readonly Slots[],
  T: number,
): Placement | undefined {
  const ops = [...path].reverse(); // from the scan up
  const first = g.node(ops[0]![0]);
  // A scan of one slot (an RNN's or GRU's h) is read whole, with no slice first.
  let rest = ops;
  let [r0, c0, r1, c1] = [0, 0, T, g.node(first.inputs[ops[0]![1]]!).type.shape[1]!];
  if (first.op === "slice") {
    const a = first.attrs as { starts: number[]; ends: number[]; steps?: number[] };
    if (a.steps?.some((s) => s !== 1)) return undefined;
    [r0, c0] = a.starts as [number, number];
    [r1, c1] = a.ends as [number, number];
    rest = ops.slice(1);
  }
  const slot = slots.findIndex((s) => s.offset <= c0 && c1 <= s.offset + s.size);
  if (slot < 0) return undefined;
  const s = slots[slot]!;
  for (const [id, k] of rest) {
    const n = g.node(id);
    if (
      !movement(n) ||
      (n.op === "slice" && (n.attrs.steps as number[] | undefined)?.some((x) => x !== 1))
    )
      return undefined;
    if (n.op !== "concat" && k !== 0) return undefined;
  }
  return {
    root,
    slot,
    map(t, e) {
      const c = iadd(ic(s.offset), e);
      let at: IExpr[] = [isub(t, r0), isub(c, c0)];
      let when: ICond = ctrue;
      if (r0 > 0 || r1 < T) when = cand(icmp("ge", t, r0), icmp("lt", t, r1));
      if (c0 > s.offset || c1 < s.offset + s.size)
        when = cand(when, cand(icmp("ge", c, c0), icmp("lt", c, c1)));
      let shape = [r1 - r0, c1 - c0];
      for (const [id, k] of rest) {
        const n = g.node(id);
        const attrs = getOp(n.op).attrs.parse(n.attrs) as Record<string, unknown>;
        switch (n.op) {
          case "slice": {
            const starts = attrs.starts as number[];
            const ends = attrs.ends as number[];
            at.forEach((x, d) => {
              if (starts[d]! > 0 || ends[d]! < shape[d]!)
                when = cand(when, cand(icmp("ge", x, starts[d]!), icmp("lt", x, ends[d]!)));
            });
            at = at.map((x, d) => isub(x, starts[d]!));
            break;
          }
          case "reshape":
            at = delinearize(linearize(at, shape), n.type.shape);
            break;
          case "permute": {
            const perm = attrs.perm as number[];
            at = perm.map((p) => at[p]!);
            break;
          }
          case "concat": {
            const axis = attrs.axis as number;
            const offset = n.inputs
              .slice(0, k)
              .reduce((sum, i) => sum + g.node(i).type.shape[axis]!, 0);
            at = at.map((x, d) => (d === axis ? iadd(x, offset) : x));
            break;
          }
        }
        shape = [...n.type.shape];
      }
      return { at, when };
    },
  };
}
