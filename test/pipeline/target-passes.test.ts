// The passes read the target: conv-weight-layout relays out to HWIO only
// where the target reads that layout best, and the scan cost model weighs
// the target's dispatch cost and parallel units.

import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { persistentChoice } from "../../compiler/passes/scan-schedule.js";
import { namedTarget, type TargetName } from "../../compiler/target/target.js";

function optimized(target: TargetName) {
  const m = compile({ file: "examples/resnet_small.nn" }, { target });
  const g = m.optimized({ input: { shape: [1, 3, 16, 16] } });
  return { g, log: m.passLog({ input: { shape: [1, 3, 16, 16] } }) };
}

describe("conv-weight-layout asks the target", () => {
  it("lavapipe: HWIO copies in prep; gpu: the graph as folding left it", () => {
    const lavapipe = optimized("lavapipe");
    const gpu = optimized("gpu");
    expect(lavapipe.g.params.some((p) => p.name.endsWith("~hwio"))).toBe(true);
    expect(gpu.g.params.some((p) => p.name.endsWith("~hwio"))).toBe(false);
    const layout = gpu.log.find((l) => l.pass === "conv-weight-layout")!;
    expect(layout.after.nodes).toBe(layout.before.nodes);
  });
});

describe("the scan cost model reads the target", () => {
  it("a GPU's per-step dispatch is estimated from its own dispatch cost", () => {
    const m = compile({ stdlib: "rnn" }, { entry: "lstm", args: { hidden: "64" } });
    const g = m.optimized({ input: { shape: [1, 16, 32] } });
    const scan = g.nodes.find((n) => n.op === "scan")!;
    const body = scan.attrs.body as Graph;
    const perStep = (t: TargetName) => {
      const why = persistentChoice(body, 2, 16, namedTarget(t)).why!;
      return Number(/per-step dispatch ≈ ([\d.]+) µs/.exec(why)![1]);
    };
    // Lavapipe's 60 µs a dispatch bounds its estimate from below; the GPU's is a few µs.
    expect(perStep("lavapipe")).toBeGreaterThan(60);
    expect(perStep("gpu")).toBeLessThan(perStep("lavapipe") / 2);
  });
});
