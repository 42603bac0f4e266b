// `nnc import`: nnc's own ONNX exports of fixture models written back as .nn
// source and weights; the source compiles, runs with those weights to
// PyTorch's numbers (SPEC tolerance), and reads as stdlib layers.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { compile, type Source } from "../../compiler/compile.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { exportOnnx } from "../../compiler/onnx/export.js";
import { importModel } from "../../compiler/onnx/import.js";
import { decodeModel } from "../../compiler/onnx/proto.js";
import { writeNn } from "../../compiler/onnx/to-nn.js";
import { loadWeights } from "../../compiler/run.js";
import { seededInput } from "../../runtime/weights/seeded.js";
import { caseTables } from "../fixture-cases.js";
import { compareOutput, loadFixture } from "../fixture-compare.js";
import { encodeTestModel, f32, type TestModel } from "./onnx-builder.js";
import { exportCase, runOrt } from "./ort-harness.js";

const cases = Object.values(caseTables).flat();

const readable = [...new Set(cases.map((c) => c.fixture))];

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

describe("ONNX LSTM / GRU / RNN → the stdlib's lstm, gru, rnn layers", () => {
  const weights = (G: number, dirs: number, H: number, I: number) => {
    const s = 1 / Math.sqrt(H);
    return {
      W: f32("W", [dirs, G * H, I], s),
      R: f32("R", [dirs, G * H, H], s),
      B: f32("B", [dirs, 2 * G * H], s),
    };
  };
  const models: Record<string, TestModel> = {
    "LSTM bidirectional with initial states": {
      nodes: [
        {
          op: "LSTM",
          inputs: ["x", "W", "R", "B", "", "h0", "c0"],
          outputs: ["y", "yh", "yc"],
          attrs: { hidden_size: 4, direction: "bidirectional" },
        },
      ],
      inputs: { x: f32("x", [5, 2, 3]), h0: f32("h0", [2, 2, 4]), c0: f32("c0", [2, 2, 4]) },
      inits: weights(4, 2, 4, 3),
      outputs: ["y", "yh", "yc"],
    },
    "GRU (linear_before_reset=1, PyTorch's)": {
      nodes: [
        {
          op: "GRU",
          inputs: ["x", "W", "R", "B"],
          outputs: ["y", "yh"],
          attrs: { hidden_size: 4, linear_before_reset: 1 },
        },
      ],
      inputs: { x: f32("x", [5, 2, 3]) },
      inits: weights(3, 1, 4, 3),
      outputs: ["y", "yh"],
    },
    RNN: {
      nodes: [
        {
          op: "RNN",
          inputs: ["x", "W", "R", "B"],
          outputs: ["y", "yh"],
          attrs: { hidden_size: 4 },
        },
      ],
      inputs: { x: f32("x", [5, 2, 3]) },
      inits: weights(1, 1, 4, 3),
      outputs: ["y", "yh"],
    },
  };
  for (const [title, m] of Object.entries(models)) {
    it(title, async () => {
      const bytes = encodeTestModel(m);
      const inputs = new Map(Object.entries(m.inputs));
      const want = await runOrt(bytes, inputs);
      const decoded = decodeModel(bytes, "rnn.onnx");
      const nn = writeNn(decoded, importModel(decoded, "rnn.onnx"), "rnn_test");
      expect(nn.source).toMatch(/: (lstm|gru|rnn)\(4/);
      const res = await compile(nn.source, { file: "rnn_test.nn" }).run(inputs, {
        weights: nn.weights,
        backend: "cpu",
      });
      for (const name of m.outputs) {
        const w = want.get(name)!;
        const g = res.outputs.get(name)!;
        expect(g.shape, name).toEqual(w.shape);
        for (let i = 0; i < w.data.length; i++)
          expect(Math.abs(Number(g.data[i]) - Number(w.data[i]))).toBeLessThan(1e-5);
      }
    });
  }
});

describe("models without a fixture here: export, ONNX Runtime and the .nn round trip agree with nnc", () => {
  const models: {
    title: string;
    source: Source;
    entry?: string;
    args: Record<string, string>;
    input: Tensor;
    reads: string;
  }[] = [
    {
      title: "densenet121",
      source: { stdlib: "densenet" },
      entry: "densenet121",
      args: { classes: "10" },
      input: seededInput("input", [1, 3, 32, 32], { kind: "uniform", scale: 1 }),
      reads: "features_denseblock1_denselayer1_conv1: conv(128, 1, bias=false)",
    },
    {
      title: "examples/classify.nn",
      source: { file: "examples/classify.nn" },
      args: {},
      input: seededInput("tokens", [2, 24], { kind: "tokens", vocab: 1000 }),
      reads: ": lstm(512)",
    },
  ];
  for (const m of models) {
    it(m.title, async () => {
      const model = compile(m.source, { ...(m.entry ? { entry: m.entry } : {}), args: m.args });
      const name = m.input.dtype === "i32" ? "tokens" : "input";
      const inputs = new Map([[name, m.input]]);
      const graph = model.elaborate({
        [name]: { shape: m.input.shape, dtype: m.input.dtype },
      }).graph;
      const bytes = exportOnnx(graph, loadWeights(graph, "seeded"), model.entryName);
      const [outName, want] = [...(await model.run(inputs)).outputs][0]!;
      const decoded = decodeModel(bytes, `${m.title}.onnx`);
      const nn = writeNn(decoded, importModel(decoded, `${m.title}.onnx`), model.entryName);
      expect(nn.source).toContain(m.reads);
      const viaNn = await compile(nn.source, { file: "imported.nn" }).run(inputs, {
        weights: nn.weights,
      });
      const viaOrt = await runOrt(bytes, inputs);
      const worst = (got: ArrayLike<number>) => {
        let e = 0;
        const w = want.data as Float32Array;
        for (let i = 0; i < w.length; i++)
          e = Math.max(e, Math.abs(Number(got[i]) - w[i]!) - 1e-3 * Math.abs(w[i]!));
        return e;
      };
      expect(worst(viaNn.outputs.get(outName)!.data as Float32Array)).toBeLessThan(1e-5);
      expect(worst(viaOrt.get(outName)!.data)).toBeLessThan(1e-5);
    }, 180_000);
  }
});
