// Memory planning, the last step of plan emission: each computed buffer is
// live from the first dispatch that binds it to the last (outputs until the
// readback after the last), and buffers whose lifetimes do not overlap share
// one device allocation (a slot). Greedy by size: the largest buffers pick
// slots first, each taking the first slot free over its whole lifetime, so a
// slot is as large as its first buffer.

import type { PassDef } from "../core/pass.js";
import type { PassContext } from "../target/target.js";
import type { ExecutablePlan, MemoryReport } from "./plan.js";

export const planMemoryPass: PassDef<ExecutablePlan, PassContext> = {
  name: "plan-memory",
  stage: "plan",
  what: "intermediate buffers share memory when their lifetimes do not overlap",
  after: [],
  run: (plan) => planMemory(plan),
};

interface Interval {
  id: number;
  bytes: number;
  start: number;
  end: number;
}

/** The plan with `slot` set on its computed buffers, and its memory report. */
export function planMemory(plan: ExecutablePlan): ExecutablePlan {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  plan.dispatches.forEach((d, i) => {
    for (const b of d.buffers) {
      if (!first.has(b)) first.set(b, i);
      last.set(b, i);
    }
  });
  const outputs = new Set(plan.outputs.map((o) => o.buffer));
  const live: Interval[] = [];
  for (const b of plan.buffers) {
    if (b.source.kind !== "computed") continue;
    const start = first.get(b.id) ?? 0;
    const end = outputs.has(b.id) ? Number.POSITIVE_INFINITY : (last.get(b.id) ?? start);
    live.push({ id: b.id, bytes: b.bytes, start, end });
  }
  live.sort((a, b) => b.bytes - a.bytes || a.start - b.start || a.id - b.id);
  const slots: { bytes: number; taken: Interval[] }[] = [];
  const slotOf = new Map<number, number>();
  for (const x of live) {
    let s = slots.findIndex((slot) => slot.taken.every((y) => x.end < y.start || y.end < x.start));
    if (s < 0) {
      s = slots.length;
      slots.push({ bytes: x.bytes, taken: [] });
    }
    slots[s]!.taken.push(x);
    slotOf.set(x.id, s);
  }
  const memory: MemoryReport = {
    activationBytes: live.reduce((a, x) => a + x.bytes, 0),
    peakActivationBytes: slots.reduce((a, s) => a + s.bytes, 0),
    slots: slots.length,
  };
  const buffers = plan.buffers.map((b) => {
    const slot = slotOf.get(b.id);
    return slot === undefined ? b : { ...b, slot };
  });
  return { ...plan, buffers, memory };
}

/** Activation bytes of a plan: planned when it was, else every computed buffer on its own. */
export function memoryReport(plan: ExecutablePlan): MemoryReport {
  if (plan.memory) return plan.memory;
  const bytes = plan.buffers
    .filter((b) => b.source.kind === "computed")
    .reduce((a, b) => a + b.bytes, 0);
  const slots = plan.buffers.filter((b) => b.source.kind === "computed").length;
  return { activationBytes: bytes, peakActivationBytes: bytes, slots };
}
