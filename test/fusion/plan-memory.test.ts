// Memory planning (compiler/codegen/plan-memory.ts): computed buffers whose
// lifetimes over the dispatches do not overlap share a slot; the report gives
// the peak against the unplanned sum.

import { describe, expect, it } from "vitest";
import type { ExecutablePlan } from "../../compiler/codegen/plan.js";
import { memoryReport, planMemory } from "../../compiler/codegen/plan-memory.js";
import { compile } from "../../compiler/compile.js";

/** Every planned buffer's [first, last] dispatch; outputs live to the end. */
function lifetimes(plan: ExecutablePlan): Map<number, [number, number]> {
  const live = new Map<number, [number, number]>();
  plan.dispatches.forEach((d, i) => {
    for (const b of d.buffers) live.set(b, [live.get(b)?.[0] ?? i, i]);
  });
  for (const o of plan.outputs) live.set(o.buffer, [live.get(o.buffer)![0], Infinity]);
  return live;
}

function expectSound(plan: ExecutablePlan): void {
  const live = lifetimes(plan);
  const bySlot = new Map<number, number[]>();
  for (const b of plan.buffers) {
    if (b.slot === undefined) continue;
    expect(b.source.kind).toBe("computed");
    bySlot.set(b.slot, [...(bySlot.get(b.slot) ?? []), b.id]);
  }
  for (const ids of bySlot.values()) {
    for (const a of ids)
      for (const b of ids) {
        if (a >= b) continue;
        const [s1, e1] = live.get(a)!;
        const [s2, e2] = live.get(b)!;
        expect(e1 < s2 || e2 < s1, `buffers ${a} and ${b} overlap`).toBe(true);
      }
  }
}

describe("memory planning", () => {
  it("resnet50 at 224 needs at most 40% of its activations at once", () => {
    const plan = compile({ stdlib: "resnet" }, { entry: "resnet50" }).plan({
      input: { shape: [1, 3, 224, 224] },
    });
    const m = plan.memory!;
    expect(m.peakActivationBytes).toBeLessThanOrEqual(0.4 * m.activationBytes);
    expect(m.activationBytes).toBe(
      plan.buffers.filter((b) => b.source.kind === "computed").reduce((a, b) => a + b.bytes, 0),
    );
    expectSound(plan);
  });

  it("shares slots soundly in fused and unfused plans, concat views included", () => {
    for (const [module, entry, optimize] of [
      ["densenet", "densenet121", {}],
      ["mobilenet", "mobilenet_v2", { disable: ["fuse"] }],
      ["unet", "unet", {}],
    ] as const) {
      const args: Record<string, number> =
        module === "unet" ? { in_channels: 1, classes: 2, base: 8 } : {};
      const plan = compile({ stdlib: module }, { entry, args, optimize }).plan({
        input: { shape: [1, module === "unet" ? 1 : 3, 64, 64] },
      });
      expect(plan.memory!.peakActivationBytes).toBeLessThan(plan.memory!.activationBytes);
      expectSound(plan);
    }
  });

  it("is off at -O0 and with --disable-pass plan-memory", () => {
    for (const optimize of [{ level: 0 as const }, { disable: ["plan-memory"] }]) {
      const plan = compile({ file: "examples/lenet5.nn" }, { optimize }).plan();
      expect(plan.memory).toBeUndefined();
      expect(plan.buffers.every((b) => b.slot === undefined)).toBe(true);
      const r = memoryReport(plan);
      expect(r.peakActivationBytes).toBe(r.activationBytes);
      // Planning the same plan later gives a report with the same sum.
      expect(planMemory(plan).memory!.activationBytes).toBe(r.activationBytes);
    }
  });
});
