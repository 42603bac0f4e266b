// The shape of the WGSL that decides lavapipe's first-dispatch JIT time: the
// driver fully unrolls short constant loops, and LLVM's time grows with the
// loads and stores an unrolled body holds (seconds per kernel for a 4×4 tile's
// unrolled epilogue). These check the code generator keeps such code rolled;
// the timings themselves belong to `nnc bench` (cold), not to tests.

import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";

const at224 = { input: { shape: [1, 3, 224, 224] } };

describe("WGSL kept small for the driver's compiler", () => {
  const plan = compile({ stdlib: "resnet" }, { entry: "resnet18" }).plan(at224);

  it("a tiled kernel's epilogue is one loop over its tile: at most 4 writes to out", () => {
    // Tiles of more than one vec4 (the classifier's single row has one).
    const tiled = plan.kernels.filter((k) => k.wgsl.includes("var acc_1_0"));
    expect(tiled.length).toBeGreaterThanOrEqual(20);
    for (const k of tiled) {
      const writes = k.wgsl.match(/\bout\[/g) ?? [];
      expect(writes.length, k.name).toBeLessThanOrEqual(4);
      expect(k.wgsl, k.name).toMatch(/for \(var t: i32 = 0; t < select\(\d+, 0, arrayLength/);
    }
  });

  it("a tiled kernel's reduction loops have opaque bounds (mobilenet's depthwise 3×3)", () => {
    const m = compile({ stdlib: "mobilenet" }, { entry: "mobilenet_v2" }).plan(at224);
    const depthwise = m.kernels.filter(
      (k) => k.wgsl.includes("var acc_1_0") && k.wgsl.includes("kw"),
    );
    expect(depthwise.length).toBeGreaterThan(0);
    for (const k of depthwise) {
      expect(k.wgsl, k.name).toContain("kh < select(3, 0, arrayLength(&out) == 0u)");
      expect(k.wgsl, k.name).toContain("kw < select(3, 0, arrayLength(&out) == 0u)");
    }
  });

  it("a naive reduction nest of more than 16 iterations has an opaque outer bound", () => {
    const gap = plan.kernels.find((k) => k.name.includes("reduce_mean"))!;
    expect(gap.wgsl).toContain("r < select(7, 0, arrayLength(&out) == 0u)");
    // 3×3 max pooling stays unrolled: 9 loads are cheap to compile and faster to run.
    const pool = plan.kernels.find((k) => k.name.includes("pool2d"))!;
    expect(pool.wgsl).toContain("kh < 3;");
  });
});
