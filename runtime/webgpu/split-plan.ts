// Splitting an executable plan into consecutive parts, each run on a device of
// its own. A software adapter (lavapipe) compiles a pipeline with LLVM at its
// first dispatch, on the one thread that executes its device's queue, so a
// model's cold start is all its pipelines compiled one after the other; a
// second device has a thread of its own. The parts are balanced by how much
// pipeline code each must compile, and cut where few bytes are live: a value
// computed in one part and read in a later one is read back and uploaded
// again, as an output of the first and an input of the second.

import type { BufferSpec, ExecutablePlan } from "../../compiler/codegen/plan.js";

/** How the plan input or output that carries buffer `id` across a cut is named. */
export const cutName = (id: number): string => `#cut ${id}`;

/** Whether a plan input or output name is a cut's (never a model's: `#` starts no identifier). */
export const isCutName = (name: string): boolean => name.startsWith("#cut ");

/** What one cut costs and what it splits. */
interface Cut {
  /** The first dispatch of the later part. */
  at: number;
  /** Bytes read back and uploaded again per run. */
  bytes: number;
}

/**
 * The dispatch positions where the plan can be cut: every buffer touched on
 * both sides is only written before the cut and only read after it (so a
 * recurrence, which rewrites its state every step, is never cut), or is an
 * input, a weight or a constant (each part gets its own copy).
 */
export function validCuts(plan: ExecutablePlan): Cut[] {
  const byId = new Map(plan.buffers.map((b) => [b.id, b]));
  const n = plan.dispatches.length;
  const firstWrite = new Map<number, number>();
  const lastWrite = new Map<number, number>();
  const firstRead = new Map<number, number>();
  const lastUse = new Map<number, number>();
  plan.dispatches.forEach((d, i) => {
    const k = plan.kernels[d.kernel]!;
    k.bindings.forEach((b, j) => {
      const id = d.buffers[j]!;
      lastUse.set(id, i);
      if (b.access === "read_write") {
        if (!firstWrite.has(id)) firstWrite.set(id, i);
        lastWrite.set(id, i);
      } else if (!firstRead.has(id)) firstRead.set(id, i);
    });
  });
  const shared = (b: BufferSpec) => b.source.kind !== "computed";
  const cuts: Cut[] = [];
  for (let at = 1; at < n; at++) {
    let bytes = 0;
    let ok = true;
    for (const [id, last] of lastUse) {
      const b = byId.get(id)!;
      if (shared(b)) {
        // An input or weight a kernel writes would have to be carried across: not here.
        if (firstWrite.has(id) && last >= at && firstWrite.get(id)! < at) ok = false;
        continue;
      }
      const written = firstWrite.get(id);
      if (written === undefined || written >= at || last < at) continue;
      // Live across the cut: written before it, read after it, never written after it.
      if (lastWrite.get(id)! >= at || (firstRead.get(id) ?? at) < written) {
        ok = false;
        break;
      }
      bytes += b.bytes;
    }
    if (ok) cuts.push({ at, bytes });
  }
  return cuts;
}

/** What compiling a kernel is estimated to cost: its code's length (comments aside), plus a constant. */
export type KernelCost = (kernelIndex: number) => number;

/**
 * Where to cut the plan into `parts` parts: each part's cost (its distinct
 * kernels, `cost` once per distinct key) as even as it can be, and among cuts
 * within 5 % of the most even, the one that carries the fewest bytes.
 * Fewer parts come back when the plan has fewer valid cuts.
 */
export function chooseCuts(
  plan: ExecutablePlan,
  parts: number,
  cost: KernelCost,
  keyOf: (kernelIndex: number) => string,
): number[] {
  const cuts = validCuts(plan);
  const partCost = (from: number, to: number) => {
    const seen = new Map<string, number>();
    for (let i = from; i < to; i++) {
      const k = plan.dispatches[i]!.kernel;
      seen.set(keyOf(k), cost(k));
    }
    let sum = 0;
    for (const c of seen.values()) sum += c;
    return sum;
  };
  // Recursive bisection: parts split as ⌊parts/2⌋ : ⌈parts/2⌉ by cost.
  const bisect = (from: number, to: number, n: number): number[] => {
    if (n < 2) return [];
    const left = Math.floor(n / 2);
    const options = cuts
      .filter((c) => c.at > from && c.at < to)
      .map((c) => {
        const a = partCost(from, c.at) / left;
        const b = partCost(c.at, to) / (n - left);
        return { ...c, worst: Math.max(a, b) };
      });
    if (options.length === 0) return [];
    const best = Math.min(...options.map((o) => o.worst));
    const near = options.filter((o) => o.worst <= best * 1.05);
    const pick = near.reduce((a, o) => (o.bytes < a.bytes ? o : a));
    return [...bisect(from, pick.at, left), pick.at, ...bisect(pick.at, to, n - left)];
  };
  return bisect(0, plan.dispatches.length, parts);
}

/**
 * The plan as consecutive parts cut before the dispatches `at` (ascending):
 * each part holds its own dispatches, only the kernels they use, the buffers
 * they bind, the inputs and weights they read and the outputs they write; a
 * value live across a cut is an output of the part that computes it and an
 * input of each later part that reads it, both named `cutName(buffer id)`.
 */
export function splitPlan(plan: ExecutablePlan, at: number[]): ExecutablePlan[] {
  const bounds = [0, ...at, plan.dispatches.length];
  const producer = new Map<number, number>();
  plan.dispatches.forEach((d, i) => {
    const k = plan.kernels[d.kernel]!;
    k.bindings.forEach((b, j) => {
      if (b.access === "read_write" && !producer.has(d.buffers[j]!)) producer.set(d.buffers[j]!, i);
    });
  });
  const partOf = (dispatch: number) => bounds.findIndex((_, p) => dispatch < bounds[p + 1]!);
  const parts = bounds.slice(0, -1).map((from, p) => {
    const to = bounds[p + 1]!;
    const dispatches = plan.dispatches.slice(from, to);
    const kernelIds = [...new Set(dispatches.map((d) => d.kernel))].sort((a, b) => a - b);
    const kernelIndex = new Map(kernelIds.map((k, i) => [k, i]));
    const used = new Set(dispatches.flatMap((d) => d.buffers));
    return { from, to, dispatches, kernelIds, kernelIndex, used };
  });
  // Values computed in one part and bound in a later one.
  const carried = new Set<number>();
  for (const [p, part] of parts.entries())
    for (const id of part.used) {
      const made = producer.get(id);
      if (made !== undefined && partOf(made) < p) carried.add(id);
    }
  // A model output lives in the part that computes it (outputs no dispatch computes: the first).
  const outputPart = (id: number) => {
    const made = producer.get(id);
    return made === undefined ? 0 : partOf(made);
  };
  // Inputs and weights no dispatch binds (bookkeeping, or read only as an output) go with the first part.
  const bound = new Set(plan.dispatches.flatMap((d) => d.buffers));
  const unbound = [...plan.inputs, ...plan.params].filter((e) => !bound.has(e.buffer));
  return parts.map((part, p) => {
    const ids = new Set(part.used);
    const outputs = plan.outputs.filter((o) => outputPart(o.buffer) === p);
    for (const o of outputs) ids.add(o.buffer);
    if (p === 0) for (const e of unbound) ids.add(e.buffer);
    const cutOuts = [...carried].filter((id) => partOf(producer.get(id)!) === p);
    const cutIns = [...carried].filter((id) => part.used.has(id) && partOf(producer.get(id)!) < p);
    const buffers = plan.buffers
      .filter((b) => ids.has(b.id))
      .map((b): BufferSpec => {
        if (!cutIns.includes(b.id)) return b;
        return { ...b, source: { kind: "input", name: cutName(b.id) } };
      });
    const sourced = (list: { name: string; buffer: number }[]) =>
      list.filter((e) => ids.has(e.buffer));
    return {
      buffers,
      kernels: part.kernelIds.map((k) => plan.kernels[k]!),
      dispatches: part.dispatches.map((d) => ({ ...d, kernel: part.kernelIndex.get(d.kernel)! })),
      inputs: [...sourced(plan.inputs), ...cutIns.map((id) => ({ name: cutName(id), buffer: id }))],
      params: sourced(plan.params),
      outputs: [...outputs, ...cutOuts.map((id) => ({ name: cutName(id), buffer: id }))],
      requiredLimits: plan.requiredLimits,
    };
  });
}
