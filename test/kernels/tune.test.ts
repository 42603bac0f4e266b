// The tune pass (compiler/kernels/tune.ts): which register tile each
// contraction gets. Its speed is `nnc bench`'s business; here, the choices.

import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import type { Kernel } from "../../compiler/kernels/ir.js";

const at224 = { input: { shape: [1, 3, 224, 224] } };

const tileOf = (k: Kernel) =>
  k.schedule.kind === "tiled" ? `${k.schedule.tm}x${k.schedule.tn}` : k.schedule.kind;

describe("tune: register tiles by the cost model", () => {
  const kernels = compile({ stdlib: "resnet" }, { entry: "resnet18" }).kernels(at224).kernels;
  const conv = (scope: string) =>
    kernels.find((k) => k.sources.some((s) => s.op === "conv2d" && s.scope === scope))!;

  it("3×3 convs and the 7×7 stem get 4×8 tiles", () => {
    expect(tileOf(conv("layer1.0.bn1"))).toBe("4x8");
    expect(tileOf(conv("layer3.1.bn2"))).toBe("4x8");
    expect(tileOf(conv("bn1"))).toBe("4x8");
  });

  it("keeps 4×4 where a wider tile costs 4 scalar loads per column (strided 1×1) or n < 8", () => {
    expect(tileOf(conv("layer2.0.downsample.1"))).toBe("4x4");
    expect(tileOf(conv("layer4.1.bn2"))).toBe("4x4"); // 7×7 maps
  });

  it("is off at -O0 and with --disable-pass tune", () => {
    for (const optimize of [{ level: 0 as const }, { disable: ["tune"] }]) {
      const ks = compile({ stdlib: "resnet" }, { entry: "resnet18", optimize }).kernels(at224);
      const tiles = new Set(ks.kernels.filter((k) => k.schedule.kind === "tiled").map(tileOf));
      expect([...tiles].every((t) => t.endsWith("x4"))).toBe(true);
    }
  });
});
