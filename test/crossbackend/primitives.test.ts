// Every primitive op, on random shapes and attributes, gives the same results
// on WebGPU as on the CPU interpreter (the oracle): exactly for movement,
// integer, comparison and selection ops, within f32 rounding for arithmetic
// and sums. All plans share one device. Skipped without an adapter.

import { afterAll, describe, expect, inject, it } from "vitest";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import {
  type ConvLayer,
  compiledContractionProperties,
  contractionProperties,
  convLayerCase,
  convLayerModel,
} from "./contractions.js";
import { elementwiseProperties } from "./elementwise.js";
import { crossCheck, exact, itAgrees, tuned } from "./harness.js";
import { movementProperties } from "./movement.js";
import { reductionProperties } from "./reductions.js";
import { scanProperties } from "./scan.js";

describe.skipIf(!inject("gpu").ok)("WebGPU agrees with the CPU", () => {
  afterAll(async () => {
    await closeGpu();
  });

  describe("elementwise", () => itAgrees(elementwiseProperties));
  describe("contractions", () => itAgrees(contractionProperties));
  describe("contractions, tuned tiles", () => itAgrees(contractionProperties.map((p) => tuned(p))));
  describe("contractions, tuned tiles for a GPU", () =>
    itAgrees(contractionProperties.map((p) => tuned(p, "gpu"))));
  describe("contractions compiled at -O1", () => {
    itAgrees(compiledContractionProperties);
    // The tiles conv-weight-layout and tune make, each at least once.
    const base: ConvLayer = {
      n: 1,
      og: 16,
      cg: 5,
      groups: 1,
      h: 9,
      w: 11,
      k: 3,
      stride: 1,
      pad: 1,
      dilation: 1,
      bn: true,
    };
    const layer = (c: Partial<ConvLayer>): ConvLayer => ({ ...base, ...c });
    const cases: [string, ConvLayer][] = [
      ["3×3 stride 1: 8×8, sliding window, ragged n", layer({})],
      ["3×3 stride 2: 16×8", layer({ stride: 2, n: 2 })],
      ["dilation 2, no padding, a 7-wide map: 16×8", layer({ dilation: 2, pad: 0 })],
      [
        "1×1 stride 2, a loaded weight: 16×8",
        layer({ og: 32, k: 1, pad: 0, stride: 2, bn: false }),
      ],
      ["12 output channels: 4×8, rows in vec4s", layer({ og: 12 })],
      ["6 output channels: OIHW", layer({ og: 6 })],
      ["grouped: OIHW", layer({ og: 8, groups: 2 })],
    ];
    for (const [name, c] of cases) it(name, () => crossCheck(convLayerCase(c), 1), 60_000);
    // --target gpu: 4 × 4 tiles where the map fills the grid, fewer rows where it does not.
    const gpuCases: [string, ConvLayer, number][] = [
      ["GPU target, a 128² map: 4×4", layer({ cg: 3, h: 128, w: 128 }), 4],
      ["GPU target, a 96² map: 2×4", layer({ cg: 3, h: 96, w: 96 }), 2],
      ["GPU target, a small map: 1×4", layer({ stride: 2 }), 1],
    ];
    for (const [name, c, rows] of gpuCases) {
      it(name, async () => {
        const { model, shapes } = convLayerModel(c, "gpu");
        const [conv] = model.kernels(shapes).kernels;
        expect(conv?.schedule).toMatchObject({ kind: "tiled", tm: rows, tn: 4 });
        await crossCheck(convLayerCase(c, "gpu"), 1);
      }, 120_000);
    }
  });
  describe("reductions and pooling", () => itAgrees(reductionProperties));
  describe("movement", () => itAgrees(movementProperties));
  describe("scan", () => itAgrees(scanProperties));

  describe("edge values", () => {
    // WGSL clamps f32 → i32 to [-2^31, 2^31 − 128] (the largest f32 below 2^31);
    // the CPU's cast follows the same rule.
    it("cast f32 → i32 above 2^31 saturates at 2147483520 on both", async () => {
      const b = new GraphBuilder();
      b.output("y", b.op("cast", [b.input("x", "f32", [2])], { to: "i32" }));
      await crossCheck(
        { graph: b.graph, domains: { x: { values: [2147483648, 3e9] } }, tolerance: exact },
        0,
      );
    });
  });
});
