// The fused step of a scan: the whole body as one kernel. Every body node is
// evaluated in place (its op's lowering), so each output element is one
// expression over the step's inputs — for an LSTM
//   h'[b, j] = σ(g_o) · tanh(σ(g_f) · c[b, j] + σ(g_i) · tanh(g_g)),
//   g_x = xp[t, b, x·H + j] + b_ih + b_hh + Σ_k h[b, k] · W_hhᵀ[k, x·H + j],
// and one invocation stores every output at its element (h', c', out: one
// primary store and `stores`). The state-side products are the kernel's
// reductions; wgsl-scan.ts gives them a matrix-vector schedule (a vec4 of
// columns per invocation, batch rows sharing each weight load, one loop over
// k for all of them). A persistent kernel is the same kernel looping over the
// steps in one workgroup.

import { stepWorkgroupSize } from "../target/target.js";
import type { ICond, IExpr, VExpr } from "./expr.js";
import { delinearize, linearize } from "./index-maps.js";
import type { Kernel, KernelStore, Schedule } from "./ir.js";
import {
  evaluate,
  KernelScope,
  type Level,
  remapC,
  remapI,
  remapV,
  type ScanContext,
  type ScanLowerOptions,
  spaceNames,
} from "./scan-lower.js";
import type { Placement } from "./scan-place.js";
import { gridFor, reducesOf, threadCount, varsOf } from "./schedule.js";

/**
 * Multiply-adds per step below which a step is small: its run time is a few
 * microseconds, so its kernel is built for compile time (lavapipe compiles
 * every memory access of straight-line code as a loop over SIMD lanes): one
 * row per invocation, and no copy of the reduction loops for the first step.
 */
export const SMALL_STEP_MACS = 1 << 19;

/** Multiply-adds of a step's reductions over its whole element space. */
export function stepMacs(space: { extent: number }[], values: VExpr[]): number {
  const elems = space.reduce((a, v) => a * v.extent, 1);
  const seen = new Set<string>();
  let macs = 0;
  for (const v of values) {
    for (const r of reducesOf(v)) {
      const key = reduceKey(r);
      if (seen.has(key)) continue;
      seen.add(key);
      macs += elems * r.vars.reduce((a, x) => a * x.extent, 1);
    }
  }
  return macs;
}

/** Vec4 accumulators one invocation keeps at most (more spill on a CPU adapter). */
const MAX_ACCUMULATORS = 8;
/** Rows of a batch one invocation takes at most. */
const MAX_ROWS = 4;

/** The scan as one kernel per step (or one persistent kernel); undefined when the body does not fit one. */
export function planFusedStep(cx: ScanContext, opts: ScanLowerOptions): Kernel[] | undefined {
  const sizes = cx.slots.map((s) => s.shape.reduce((a, d) => a * d, 1));
  if (sizes.some((n) => n !== sizes[0])) return undefined;
  // Store the groups that only move the scan's results too (within the binding budget).
  const slots = cx.slots.map((s, k) => ({ offset: s.offset, size: sizes[k]! }));
  const placements = opts.placements?.candidates(cx.scan, slots, cx.T) ?? [];
  const kernels =
    fusedStep(cx, opts, placements) ??
    (placements.length > 0 ? fusedStep(cx, opts, []) : undefined);
  return kernels;
}

function fusedStep(
  cx: ScanContext,
  opts: ScanLowerOptions,
  placements: Placement[],
): Kernel[] | undefined {
  const home = cx.home;
  const targets = new Map(placements.map((p) => [p.root, cx.host.computedBuffer(p.root)]));
  const scope = new KernelScope(cx.host.buffers, new Set([home, ...targets.values()]));
  const memo = new Map<string, VExpr>();
  const level: Level = {
    g: cx.bg,
    inline: (id) => !cx.inputIndex.has(id),
    read: (id, at) => cx.readInput(scope, cx.inputIndex.get(id)!, at),
  };
  const shape0 = cx.slots[0]!.shape;
  const space = spaceNames(shape0.length).map((name, d) => scope.fresh(name, shape0[d]!));
  const flat = linearize(space, shape0);
  const values = cx.slots.map((s) => {
    const at: IExpr[] =
      s.shape.length === shape0.length && s.shape.every((d, i) => d === shape0[i])
        ? space
        : delinearize(flat, s.shape);
    return { at, value: evaluate(level, scope, s.node, at, memo), k: cx.slots.indexOf(s) };
  });
  // A reduction inside another would be recomputed per element of the outer one.
  for (const v of values) {
    for (const r of reducesOf(v.value)) if (reducesOf(r.body).length > 1) return undefined;
  }
  // The placements' stores: slot element e of this step at its place in each group.
  const placed: { buffer: number; index: IExpr[]; value: VExpr; when?: ICond }[] = [];
  for (const p of placements) {
    const v = values[p.slot]!;
    const e = linearize(v.at, cx.slots[p.slot]!.shape);
    const { at, when } = p.map(cx.t, e);
    const { buffer, index } = cx.host.locate(p.root, at);
    scope.binding(buffer);
    placed.push({
      buffer,
      index,
      value: v.value,
      ...(when.op === "bool" && when.value ? {} : { when }),
    });
  }
  if (scope.bindings.length > opts.maxBindings) return undefined;
  const map = scope.finish(home);
  const bindingOf = (buffer: number) => scope.bindings.findIndex((b) => b.buffer === buffer);
  const stores: KernelStore[] = values.slice(1).map((v) => ({
    binding: scope.bindings.length - 1,
    index: cx.slotIndex(v.k, cx.t, v.at).index.map((e) => remapI(e, map)),
    value: remapV(v.value, map),
  }));
  for (const p of placed) {
    stores.push({
      binding: bindingOf(p.buffer),
      index: p.index.map((e) => remapI(e, map)),
      value: remapV(p.value, map),
      ...(p.when ? { when: remapC(p.when, map) } : {}),
    });
  }
  opts.placements?.record(cx.scan.id, new Set(placements.map((p) => p.root)));
  const body = remapV(values[0]!.value, map);
  const store = cx.slotIndex(0, cx.t, values[0]!.at).index.map((e) => remapI(e, map));
  const schedule = stepSchedule(space, [body, ...stores.map((s) => s.value)]);
  const threads = threadCount(space, schedule);
  const persistent = cx.a.schedule?.persistent === true;
  // The state in workgroup memory, double-buffered, where it fits the target's limit.
  const limits = opts.target.limits;
  const stateCols = cx.slots
    .slice(0, cx.a.nState)
    .reduce((n, s) => n + s.shape.reduce((a, d) => a * d, 1), 0);
  const inWorkgroup =
    persistent && stateCols > 0 && 2 * 4 * stateCols <= limits.maxComputeWorkgroupStorageSize;
  const why = cx.a.schedule?.why ?? (persistent ? "persistent" : "fused step");
  const wg = persistent
    ? Math.min(limits.maxComputeInvocationsPerWorkgroup, Math.max(32, Math.ceil(threads / 32) * 32))
    : stepWorkgroupSize(opts.target, threads);
  return [
    {
      name: `k${opts.index}_scan${cx.scan.id}_${persistent ? "persistent" : "step"}`,
      root: cx.scan.id,
      sources: cx.sources(
        cx.bg.graph.nodes.filter((n) => !cx.inputIndex.has(n.id)).map((n) => n.id),
      ),
      bindings: scope.bindings,
      space,
      store,
      body,
      schedule,
      workgroup: [wg, 1, 1],
      grid: persistent ? [1, 1, 1] : gridFor(threads, wg),
      threads,
      stores,
      loop: { ...cx.loop(why, persistent), ...(inWorkgroup ? { state: stateCols } : {}) },
    },
  ];
}

/**
 * The matrix-vector schedule: a vec4 of the innermost dim per invocation when
 * it divides by 4, and up to MAX_ROWS rows of the next dim sharing every load
 * that does not depend on it (a weight column serves every batch row).
 */
function stepSchedule(space: { name: string; extent: number }[], values: VExpr[]): Schedule {
  const n = space.length - 1;
  if (n < 0 || space[n]!.extent % 4 !== 0 || space[n]!.extent < 4) return { kind: "naive" };
  // Vector accumulators are f32.
  if (values.some((v) => reducesOf(v).some((r) => r.dtype !== "f32"))) return { kind: "naive" };
  const accs = Math.max(1, distinctReduces(values));
  let m: number | null = null;
  let tm = 1;
  if (space.length >= 2 && space[n - 1]!.extent > 1 && stepMacs(space, values) >= SMALL_STEP_MACS) {
    m = n - 1;
    tm = Math.max(1, Math.min(MAX_ROWS, space[m]!.extent, Math.floor(MAX_ACCUMULATORS / accs)));
    // Rows only pay when some factor does not depend on them.
    const mName = space[m]!.name;
    const shared = values.some((v) =>
      reducesOf(v).some(
        (r) => r.body.op === "binary" && [r.body.a, r.body.b].some((f) => !varsOf(f).has(mName)),
      ),
    );
    if (!shared) tm = 1;
  }
  return { kind: "tiled", m, n, tm, tn: 4 };
}

/** Reductions that differ other than by their variables' names. */
export function distinctReduces(values: VExpr[]): number {
  const keys = new Set<string>();
  for (const v of values) for (const r of reducesOf(v)) keys.add(reduceKey(r));
  return keys.size;
}

/** A reduction's identity up to the names of its variables. */
export function reduceKey(r: Extract<VExpr, { op: "reduce" }>): string {
  const names = new Map(r.vars.map((v, i) => [v.name, `%r${i}`]));
  const text = JSON.stringify(r.body, (k, v) =>
    k === "name" && typeof v === "string" && names.has(v) ? names.get(v) : v,
  );
  return `${r.kind}:${r.vars.map((v) => v.extent).join(",")}:${text}`;
}
