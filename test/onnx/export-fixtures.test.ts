// Every fixture case (test/fixture-cases.ts) exported to ONNX and run by ONNX
// Runtime on the CPU: the file must reproduce PyTorch's outputs within the
// fixture's tolerance (SPEC.md §7), which checks the export independently of
// nnc's own backends.

import { describe, expect, it } from "vitest";
import { caseTables, caseTitle } from "../fixture-cases.js";
import { compareOutput, loadFixture } from "../fixture-compare.js";
import { exportCase, runOrt } from "./ort-harness.js";

const cases = Object.values(caseTables).flat();

describe("ONNX export, run by ONNX Runtime, matches the fixtures", () => {
  for (const c of cases) {
    it(caseTitle(c), async () => {
      const fx = loadFixture(c.fixture);
      const { bytes, inputs } = exportCase(c, fx);
      const outputs = await runOrt(bytes, inputs);
      expect([...outputs.keys()].sort()).toEqual(fx.outputs.map((o) => o.name).sort());
      for (const o of fx.outputs) {
        const got = outputs.get(o.name)!;
        const bad = compareOutput(fx, o, got.data, got.shape);
        expect({ mismatches: bad.length, first: bad.slice(0, 5) }, o.name).toEqual({
          mismatches: 0,
          first: [],
        });
      }
    }, 60_000);
  }
});
