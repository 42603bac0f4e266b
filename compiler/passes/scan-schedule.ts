// How a recurrence runs on a kernel backend, decided on the Graph IR and
// recorded in the scan's `schedule` attr (inspect --stage opt shows it;
// lowering follows it, kernels/scan-lower.ts).
//
// scan-fuse: the whole step in one kernel — every body output stored by one
// invocation per element, the state-side matrix-vector products (h·W_hhᵀ)
// accumulated in registers and the gates and the state update applied in
// place. Possible when the outputs share one element count, no contraction
// reads another (no barrier needed inside a step), and no contraction's
// elements are recomputed by several output elements.
//
// scan-persistent: all steps in one dispatch (one workgroup looping over
// time, a barrier between steps, the state in workgroup memory) instead of a
// dispatch per step. The cost model weighs the per-step dispatch against the
// parallelism a single workgroup gives up:
//   per step, dispatched:  D + W / (P·r)      persistent:  S + W / r₁
// with W the step's FLOPs, r one workgroup's rate in a per-step kernel, P the
// workgroups a step dispatch spreads over (at most the device's parallel
// units), D a dispatch with its barrier, S an in-kernel barrier, and r₁ the
// persistent workgroup's rate — measured on lavapipe at about half of r (its
// loop body runs under masks). Persistent also needs the carried state,
// double-buffered, to fit in workgroup memory (the target's limit). The
// constants are the target's (Target.scanCost): lavapipe's were calibrated on
// LSTM steps (batch 1, 64 steps): persistent is ~10× faster at hidden 32,
// 2.6× at 64, even at 128, 0.9× at 256 and 0.33× at 512.

import { numel } from "../core/types.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { getOp } from "../ops/index.js";
import { stepWorkgroupSize, type Target } from "../target/target.js";

interface Schedule {
  fused: boolean;
  persistent: boolean;
  why?: string;
}

/**
 * Contractions and reductions: the ops whose fusion category says each
 * output element reads many input elements (conv, matmul, pooling, reduce_*).
 */
function heavy(op: string): boolean {
  const c = getOp(op).category;
  return c === "out-elementwise-fusable" || c === "reduction";
}

function scanAttrs(n: GraphNode) {
  return getOp("scan").attrs.parse(n.attrs) as {
    body: Graph;
    nSeq: number;
    nState: number;
    schedule?: Schedule;
  };
}

function withSchedule(g: Graph, decide: (n: GraphNode) => Schedule | undefined): Graph {
  let changed = false;
  const nodes = g.nodes.map((n) => {
    if (n.op !== "scan") return n;
    const s = decide(n);
    if (s === undefined) return n;
    changed = true;
    return { ...n, attrs: { ...n.attrs, schedule: s } };
  });
  return changed ? { ...g, nodes } : g;
}

/** Why the body cannot run as one kernel per step, or undefined when it can. */
export function fuseBlocker(body: Graph): string | undefined {
  const byId = new Map(body.nodes.map((n) => [n.id, n]));
  const outs = body.outputs.map((o) => byId.get(o.node)!);
  const size = numel(outs[0]!.type.shape);
  if (outs.some((o) => numel(o.type.shape) !== size))
    return "its outputs differ in size (one kernel stores all of them element by element)";
  if (body.nodes.some((n) => n.op === "scan")) return "it contains a scan";
  // Contractions and reductions reachable from each node.
  const above = new Map<number, boolean>();
  for (const n of body.nodes) {
    const isHeavy = heavy(n.op);
    const fed = n.inputs.some((i) => above.get(i));
    if (isHeavy && fed) return `%${n.id} ${n.op} reads another contraction of the same step`;
    if (isHeavy && numel(n.type.shape) < size)
      return `%${n.id} ${n.op} has fewer elements than the step's outputs (each would recompute it)`;
    above.set(n.id, isHeavy || fed);
  }
  return undefined;
}

export function scanFuse(g: Graph): Graph {
  return withSchedule(g, (n) => {
    const a = scanAttrs(n);
    const blocker = fuseBlocker(a.body);
    if (blocker) return { fused: false, persistent: false, why: `not fused: ${blocker}` };
    return { fused: true, persistent: false, why: "the step fused into one kernel" };
  });
}

/** FLOPs of one step of a body: its contractions (2 per multiply-add) and one per other element. */
export function stepFlops(body: Graph): number {
  let f = 0;
  for (const n of body.nodes) {
    if (n.op === "input" || n.op === "const") continue;
    const op = getOp(n.op);
    const c = op.flops?.(
      n.inputs.map((i) => body.nodes.find((x) => x.id === i)!.type),
      n.type,
      n.attrs,
    );
    f += c && c > 0 ? c : numel(n.type.shape);
  }
  return f;
}

/** The persistent-kernel decision for a fused scan, with its reason. */
export function persistentChoice(
  body: Graph,
  nState: number,
  steps: number,
  target: Target,
): Schedule {
  const cost = target.scanCost;
  const workgroupBytes = target.limits.maxComputeWorkgroupStorageSize;
  const stateBytes = body.outputs
    .slice(0, nState)
    .reduce((s, o) => s + 4 * numel(body.nodes.find((n) => n.id === o.node)!.type.shape), 0);
  const W = stepFlops(body);
  const size = numel(body.nodes.find((n) => n.id === body.outputs[0]!.node)!.type.shape);
  const threads = Math.ceil(size / 4);
  const groups = Math.max(1, Math.ceil(threads / stepWorkgroupSize(target, threads)));
  const P = Math.min(groups, cost.parallelUnits);
  const us = (s: number) => `${(s * 1e6).toFixed(1)} µs`;
  const dispatched = cost.dispatchSeconds + W / (P * cost.workgroupFlops);
  const persistent = W / cost.persistentFlops + cost.barrierSeconds;
  const estimate = `${steps} steps of ${W.toLocaleString("en-US")} FLOP: per-step dispatch ≈ ${us(dispatched)}/step, one workgroup ≈ ${us(persistent)}/step`;
  if (stateBytes > workgroupBytes)
    return {
      fused: true,
      persistent: false,
      why: `fused step, dispatched per step: the state (${stateBytes} bytes) does not fit in workgroup memory (${workgroupBytes})`,
    };
  if (persistent < dispatched)
    return { fused: true, persistent: true, why: `persistent: ${estimate}` };
  return { fused: true, persistent: false, why: `fused step, dispatched per step: ${estimate}` };
}

export function scanPersistent(g: Graph, target: Target): Graph {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  return withSchedule(g, (n) => {
    const a = scanAttrs(n);
    if (!a.schedule?.fused) return undefined;
    const T = byId.get(n.inputs[0]!)!.type.shape;
    const seqAxes = (n.attrs.seqAxes as number[] | undefined) ?? [n.attrs.axis as number];
    return persistentChoice(a.body, a.nState, T[seqAxes[0]!]!, target);
  });
}
