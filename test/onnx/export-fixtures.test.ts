// Every fixture case (test/fixture-cases.ts) exported to ONNX and run by ONNX
// Runtime on the CPU: the file must reproduce PyTorch's outputs within the
// fixture's tolerance (SPEC.md §7), which checks the export independently of
// nnc's own backends.

import { describe, expect, it } from "vitest";
import { decodeModel } from "../../compiler/onnx/proto.js";
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

describe("ONNX export writes stdlib layers as ONNX's own ops", () => {
  const opsOf = (fixture: string) => {
    const c = cases.find((k) => k.fixture === fixture)!;
    const model = decodeModel(exportCase(c, loadFixture(fixture)).bytes, fixture);
    const counts: Record<string, number> = {};
    for (const n of model.graph!.node) counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
    return { counts, model };
  };

  it("resnet18: Conv, BatchNormalization, Relu, the residual Add, Gemm; weights by state_dict name", () => {
    const { counts, model } = opsOf("resnet18");
    expect(counts).toMatchObject({ Conv: 20, BatchNormalization: 20, Add: 8, Gemm: 1, MaxPool: 1 });
    expect(counts.Sub ?? 0).toBe(0); // no batchnorm left spelled out in primitives
    const bn = model.graph!.node.find((n) => n.op_type === "BatchNormalization")!;
    expect(bn.input.slice(1)).toEqual([
      "bn1.weight",
      "bn1.bias",
      "bn1.running_mean",
      "bn1.running_var",
    ]);
  });

  it("one layer entry is one node: batchnorm, layernorm, softmax, conv_transpose", () => {
    expect(opsOf("batchnorm2d_eval").counts).toEqual({ BatchNormalization: 1, Identity: 1 });
    expect(opsOf("layernorm_channels_last").counts).toEqual({ LayerNormalization: 1, Identity: 1 });
    expect(opsOf("softmax").counts).toEqual({ Softmax: 1, Identity: 1 });
    expect(opsOf("convtranspose2d_k2_s2").counts).toEqual({ ConvTranspose: 1, Identity: 1 });
  });
});
