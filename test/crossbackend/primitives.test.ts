// Every primitive op, on random shapes and attributes, gives the same results
// on WebGPU as on the CPU interpreter (the oracle): exactly for movement,
// integer, comparison and selection ops, within f32 rounding for arithmetic
// and sums. All plans share one device. Skipped without an adapter.

import { afterAll, describe, inject, it } from "vitest";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { contractionProperties } from "./contractions.js";
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
  describe("contractions, tuned tiles", () => itAgrees(contractionProperties.map(tuned)));
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
