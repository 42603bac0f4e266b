// Export then import: every fixture case written as ONNX by nnc, read back by
// nnc's importer and run on the CPU backend, still matches PyTorch's outputs
// within the fixture's tolerance (the import side of the bridge, Scan included).

import { describe, expect, it } from "vitest";
import { importOnnx } from "../../compiler/onnx/import.js";
import { runImported } from "../../compiler/onnx/run-onnx.js";
import { caseTables, caseTitle } from "../fixture-cases.js";
import { compareOutput, loadFixture } from "../fixture-compare.js";
import { exportCase } from "./ort-harness.js";

const cases = Object.values(caseTables).flat();

describe("ONNX export → import → CPU backend matches the fixtures", () => {
  for (const c of cases) {
    it(caseTitle(c), async () => {
      const fx = loadFixture(c.fixture);
      const { bytes, inputs } = exportCase(c, fx);
      const model = importOnnx(bytes, `${c.fixture}.onnx`);
      // Initializers keep their state_dict names through the round trip.
      const stateDict = new Set(fx.params.map((p) => p.name));
      expect([...model.weights.keys()].filter((k) => !stateDict.has(k))).toEqual([]);
      const outputs = await runImported(model, inputs, "cpu");
      expect([...outputs.keys()].sort()).toEqual(fx.outputs.map((o) => o.name).sort());
      for (const o of fx.outputs) {
        const got = outputs.get(o.name)!;
        const bad = compareOutput(fx, o, got.data as Float32Array, got.shape);
        expect({ mismatches: bad.length, first: bad.slice(0, 5) }, o.name).toEqual({
          mismatches: 0,
          first: [],
        });
      }
    }, 60_000);
  }
});
