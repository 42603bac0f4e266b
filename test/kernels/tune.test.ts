// The tune pass (compiler/kernels/tune.ts): which register tile each
// contraction gets. Its speed is `nnc bench`'s business; here, the choices.

import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import type { Kernel } from "../../compiler/kernels/ir.js";
import type { OptimizeOptions } from "../../compiler/pipeline/index.js";

const at224 = { input: { shape: [1, 3, 224, 224] } };

const tileOf = (k: Kernel) =>
  k.schedule.kind === "tiled" ? `${k.schedule.tm}x${k.schedule.tn}` : k.schedule.kind;

function resnet18(optimize?: OptimizeOptions) {
  const kernels = compile(
    { stdlib: "resnet" },
    { entry: "resnet18", ...(optimize ? { optimize } : {}) },
  ).kernels(at224).kernels;
  return (scope: string) =>
    kernels.find((k) => k.sources.some((s) => s.op === "conv2d" && s.scope === scope))!;
}

const resnet18Params = () =>
  compile({ stdlib: "resnet" }, { entry: "resnet18" }).optimized(at224).params;

describe("tune: register tiles by the cost model", () => {
  const conv = resnet18();

  it("convs reading HWIO weights get 8 rows (two vec4 loads), 16 where no sliding window shares the columns", () => {
    expect(tileOf(conv("layer1.0.bn1"))).toBe("8x8"); // 3×3, stride 1: a sliding window
    expect(tileOf(conv("layer4.1.bn2"))).toBe("8x8"); // 7×7 maps: 8 columns idle no more than 4 do
    expect(tileOf(conv("bn1"))).toBe("16x8"); // the 7×7 stem, stride 2
    expect(tileOf(conv("layer2.0.bn1"))).toBe("16x8"); // 3×3, stride 2
    expect(tileOf(conv("layer2.0.downsample.1"))).toBe("16x8"); // 1×1, stride 2
  });

  it("without the layout: 4×8, and 4×4 where a wider tile costs 4 scalar loads per column (strided 1×1) or n < 8", () => {
    const oihw = resnet18({ disable: ["conv-weight-layout"] });
    expect(tileOf(oihw("layer1.0.bn1"))).toBe("4x8");
    expect(tileOf(oihw("layer3.1.bn2"))).toBe("4x8");
    expect(tileOf(oihw("bn1"))).toBe("4x8");
    expect(tileOf(oihw("layer2.0.downsample.1"))).toBe("4x4");
    expect(tileOf(oihw("layer4.1.bn2"))).toBe("4x4"); // 7×7 maps
  });

  it("for a GPU: OIHW weights, 4×4 tiles, fewer rows where the grid would have under 16384 invocations", () => {
    const model = compile({ stdlib: "resnet" }, { entry: "resnet18", target: "gpu" });
    const kernels = model.kernels(at224).kernels;
    expect(model.optimized(at224).params.some((p) => p.name.endsWith("~hwio"))).toBe(false);
    expect(resnet18Params().some((p) => p.name.endsWith("~hwio"))).toBe(true);
    const gpu = (scope: string) =>
      kernels.find((k) => k.sources.some((s) => s.op === "conv2d" && s.scope === scope))!;
    expect(tileOf(gpu("bn1"))).toBe("4x4"); // the stem: 64 × 112 × 112 outputs
    expect(tileOf(gpu("layer1.0.bn1"))).toBe("2x4"); // 64 × 56 × 56
    expect(tileOf(gpu("layer4.1.bn2"))).toBe("1x4"); // 512 × 7 × 7
    for (const k of kernels.filter((k) => k.schedule.kind === "tiled" && k.schedule.tm > 1))
      expect(k.threads).toBeGreaterThanOrEqual(16384);
  });

  it("is off at -O0 and with --disable-pass tune", () => {
    for (const optimize of [{ level: 0 as const }, { disable: ["tune"] }]) {
      const ks = compile({ stdlib: "resnet" }, { entry: "resnet18", optimize }).kernels(at224);
      const tiles = new Set(ks.kernels.filter((k) => k.schedule.kind === "tiled").map(tileOf));
      expect([...tiles].every((t) => t.endsWith("x4"))).toBe(true);
    }
  });
});
