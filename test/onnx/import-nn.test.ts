// `nnc import`: nnc's own ONNX exports of fixture models written back as .nn
// source and weights; the source compiles, runs with those weights to
// PyTorch's numbers (SPEC tolerance), and reads as stdlib layers.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { compile } from "../../compiler/compile.js";
import { importModel } from "../../compiler/onnx/import.js";
import { decodeModel } from "../../compiler/onnx/proto.js";
import { writeNn } from "../../compiler/onnx/to-nn.js";
import { caseTables } from "../fixture-cases.js";
import { compareOutput, loadFixture } from "../fixture-compare.js";
import { exportCase } from "./ort-harness.js";

/** The cases whose ops all have a .nn form today (scans and raw weight tensors do not yet). */
const readable = [
  "resnet18",
  "mobilenet_v2",
  "unet",
  "lenet5",
  "highway_3layer",
  "batchnorm2d_eval",
  "layernorm_channels_last",
  "conv2d_k3_s2_p1_d2_g4",
  "conv2d_k7_s2_p3_nobias",
  "convtranspose2d_k3_s2_p1_op1",
  "embedding",
  "maxpool2d_k3_s2_p1",
  "avgpool2d_k3_s2_p1",
  "gelu_tanh",
  "hardswish",
  "log_softmax",
];

const cases = Object.values(caseTables).flat();

function imported(fixture: string) {
  const c = cases.find((k) => k.fixture === fixture)!;
  const fx = loadFixture(fixture);
  const { bytes, inputs } = exportCase(c, fx);
  const decoded = decodeModel(bytes, `${fixture}.onnx`);
  return { fx, inputs, nn: writeNn(decoded, importModel(decoded, `${fixture}.onnx`), fixture) };
}

describe("ONNX → .nn: compiles and matches the fixture", () => {
  for (const fixture of readable) {
    it(fixture, async () => {
      const { fx, inputs, nn } = imported(fixture);
      const model = compile(nn.source, { file: `${fixture}.nn` });
      const res = await model.run(inputs, { weights: nn.weights, backend: "cpu" });
      for (const o of fx.outputs) {
        const got = res.outputs.get(o.name)!;
        const bad = compareOutput(fx, o, got.data as Float32Array, got.shape);
        expect({ mismatches: bad.length, first: bad.slice(0, 5) }, o.name).toEqual({
          mismatches: 0,
          first: [],
        });
      }
    }, 60_000);
  }

  it("resnet18 reads as conv, batchnorm and the residual add, labelled by state_dict path", () => {
    const { source } = imported("resnet18").nn;
    expect(source).toMatch(/-> conv1: conv\(64, 7, stride=2, pad=3, bias=false\)/);
    expect(source).toMatch(/-> layer1_0_bn1: batchnorm\n/);
    expect(source).toMatch(/let layer1_0 = layer1_0_bn2 \+ /);
    expect(source).toMatch(/-> fc: linear\(10\)/);
  });
});

describe("nnc import", () => {
  it("writes model.nn and model.safetensors that nnc run takes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-import-"));
    const onnx = join(dir, "lenet.onnx");
    const io = { out: (_: string) => {}, err: (_: string) => {} };
    let err = "";
    const exp = await main(
      ["export", "lenet:lenet5", "--shape", "input=1x1x32x32", "--onnx", onnx],
      io,
    );
    expect(exp).toBe(0);
    const imp = await main(["import", onnx, "--out", join(dir, "out")], {
      out: () => {},
      err: (t) => (err += t),
    });
    expect(imp, err).toBe(0);
    expect(readFileSync(join(dir, "out", "model.nn"), "utf8")).toContain("conv(6, 5)");
    let a = "";
    let b = "";
    const args = ["--input", "input=seeded:1x1x32x32", "--backend", "cpu", "--json"];
    expect(
      await main(["run", "lenet:lenet5", ...args], { out: (t) => (a += t), err: () => {} }),
    ).toBe(0);
    const w = join(dir, "out", "model.safetensors");
    const code = await main(["run", join(dir, "out", "model.nn"), "--weights", w, ...args], {
      out: (t) => (b += t),
      err: (t) => (err += t),
    });
    expect(code, err).toBe(0);
    const want = JSON.parse(a).outputs.logits.data as number[];
    const got = Object.values(JSON.parse(b).outputs as Record<string, { data: number[] }>)[0]!.data;
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 5);
    });
  });
});
