// The importer's op rules one by one: small ONNX models (test/onnx/onnx-builder.ts)
// run by ONNX Runtime, the oracle, and by nnc after import on the CPU backend
// (and on WebGPU where there is an adapter). Covers the ops the ONNX project's
// PyTorch cases do not: the recurrent cells, the newer opsets' input forms,
// reflect/edge padding, DepthToSpace, LRN, shape chains folded at import.

import { describe, expect, inject, it } from "vitest";
import type { Tensor } from "../../compiler/core/tensor.js";
import { importOnnx } from "../../compiler/onnx/import.js";
import { runImported } from "../../compiler/onnx/run-onnx.js";
import type { Backend } from "../../compiler/run.js";
import { encodeTestModel, f32, i64, strings, type TestModel } from "./onnx-builder.js";
import { runOrt } from "./ort-harness.js";

const one = (
  op: string,
  m: Omit<TestModel, "nodes" | "outputs"> & {
    attrs?: TestModel["nodes"][0]["attrs"];
    raw?: TestModel["nodes"][0]["raw"];
    outputs?: string[];
  },
): TestModel => {
  const ins = [...Object.keys(m.inputs), ...Object.keys(m.inits ?? {})];
  const outputs = m.outputs ?? ["y"];
  return {
    ...m,
    nodes: [{ op, inputs: ins, outputs, attrs: m.attrs, raw: m.raw }],
    outputs,
  };
};

const X = (shape: number[], scale = 1) => ({ x: f32("x", shape, scale) });

function lstmWeights(G: number, dirs: number, H: number, I: number): Record<string, Tensor> {
  const s = 1 / Math.sqrt(H);
  return {
    W: f32("W", [dirs, G * H, I], s),
    R: f32("R", [dirs, G * H, H], s),
    B: f32("B", [dirs, 2 * G * H], s),
  };
}

const cases: Record<string, TestModel> = {
  "LSTM forward": one("LSTM", {
    inputs: X([5, 2, 3]),
    inits: lstmWeights(4, 1, 4, 3),
    attrs: { hidden_size: 4 },
    outputs: ["y", "yh", "yc"],
  }),
  "LSTM bidirectional with initial states": {
    nodes: [
      {
        op: "LSTM",
        inputs: ["x", "W", "R", "B", "", "h0", "c0"],
        outputs: ["y", "yh", "yc"],
        attrs: { hidden_size: 4, direction: "bidirectional" },
      },
    ],
    inputs: { ...X([5, 2, 3]), h0: f32("h0", [2, 2, 4]), c0: f32("c0", [2, 2, 4]) },
    inits: lstmWeights(4, 2, 4, 3),
    outputs: ["y", "yh", "yc"],
  },
  "LSTM reverse, default activations spelled out": one("LSTM", {
    inputs: X([5, 2, 3]),
    inits: lstmWeights(4, 1, 4, 3),
    attrs: { hidden_size: 4, direction: "reverse" },
    raw: [strings("activations", ["Sigmoid", "Tanh", "Tanh"])],
    outputs: ["y", "yh", "yc"],
  }),
  "GRU, linear_before_reset=1 (PyTorch's form)": one("GRU", {
    inputs: X([5, 2, 3]),
    inits: lstmWeights(3, 1, 4, 3),
    attrs: { hidden_size: 4, linear_before_reset: 1 },
    outputs: ["y", "yh"],
  }),
  "GRU bidirectional, linear_before_reset=0": one("GRU", {
    inputs: X([5, 2, 3]),
    inits: lstmWeights(3, 2, 4, 3),
    attrs: { hidden_size: 4, direction: "bidirectional" },
    outputs: ["y", "yh"],
  }),
  "RNN tanh": one("RNN", {
    inputs: X([5, 2, 3]),
    inits: lstmWeights(1, 1, 4, 3),
    attrs: { hidden_size: 4 },
    outputs: ["y", "yh"],
  }),
  LayerNormalization: one("LayerNormalization", {
    inputs: X([2, 3, 8]),
    inits: { s: f32("s", [8]), b: f32("b", [8]) },
    attrs: { epsilon: { float: 1e-5 } },
  }),
  InstanceNormalization: one("InstanceNormalization", {
    inputs: X([2, 3, 4, 5]),
    inits: { s: f32("s", [3]), b: f32("b", [3]) },
  }),
  HardSwish: one("HardSwish", { inputs: X([2, 16], 5) }),
  HardSigmoid: one("HardSigmoid", { inputs: X([2, 16], 5), attrs: { alpha: { float: 0.25 } } }),
  Gelu: { ...one("Gelu", { inputs: X([2, 16], 4) }), opset: 20 },
  "Gelu tanh": {
    ...one("Gelu", { inputs: X([2, 16], 4), attrs: { approximate: "tanh" } }),
    opset: 20,
  },
  Softplus: one("Softplus", { inputs: X([2, 16], 4) }),
  Elu: one("Elu", { inputs: X([2, 16], 4), attrs: { alpha: { float: 0.7 } } }),
  Erf: one("Erf", { inputs: X([2, 16], 3) }),
  Reciprocal: one("Reciprocal", { inputs: X([2, 16], 3) }),
  "Clip (opset 13, bounds as inputs)": one("Clip", {
    inputs: X([2, 16], 3),
    inits: { lo: f32("lo", [], 0.5), hi: { dtype: "f32", shape: [], data: Float32Array.of(1.5) } },
  }),
  "Pad reflect": one("Pad", {
    inputs: X([1, 2, 4, 5]),
    inits: { p: i64([0, 0, 2, 1, 0, 0, 1, 3]) },
    attrs: { mode: "reflect" },
  }),
  "Pad edge": one("Pad", {
    inputs: X([1, 2, 4, 5]),
    inits: { p: i64([0, 0, 2, 1, 0, 0, 1, 3]) },
    attrs: { mode: "edge" },
  }),
  "Pad constant with a negative pad": one("Pad", {
    inputs: X([1, 2, 4, 5]),
    inits: { p: i64([0, 0, -1, 2, 0, 0, 1, -2]), v: f32("v", [], 1) },
  }),
  "DepthToSpace DCR": one("DepthToSpace", { inputs: X([1, 8, 2, 3]), attrs: { blocksize: 2 } }),
  "DepthToSpace CRD": one("DepthToSpace", {
    inputs: X([1, 8, 2, 3]),
    attrs: { blocksize: 2, mode: "CRD" },
  }),
  LRN: one("LRN", {
    inputs: X([1, 6, 3, 3]),
    attrs: { size: 3, alpha: { float: 0.001 }, beta: { float: 0.75 }, bias: { float: 2 } },
  }),
  "Split (opset 13, sizes as input)": one("Split", {
    inputs: X([2, 7]),
    inits: { s: i64([3, 4]) },
    attrs: { axis: 1 },
    outputs: ["a", "b"],
  }),
  "Slice, negative starts and steps of 2": one("Slice", {
    inputs: X([4, 9]),
    inits: { st: i64([-7]), en: i64([1000]), ax: i64([1]), sp: i64([2]) },
  }),
  Tile: one("Tile", { inputs: X([2, 3]), inits: { r: i64([2, 3]) } }),
  "Expand (bidirectional)": one("Expand", { inputs: X([3, 1]), inits: { s: i64([2, 1, 4]) } }),
  "Flatten axis 2": one("Flatten", { inputs: X([2, 3, 4, 5]), attrs: { axis: 2 } }),
  "ReduceMin keepdims=0": one("ReduceMin", {
    inputs: X([2, 3, 4]),
    attrs: { axes: [0, 2], keepdims: 0 },
  }),
  "ReduceSum (opset 13, axes as input)": one("ReduceSum", {
    inputs: X([2, 3, 4]),
    inits: { a: i64([-1]) },
  }),
  "Softmax opset 11 (2-D coercion)": {
    ...one("Softmax", { inputs: X([2, 3, 4], 3), attrs: { axis: 1 } }),
    opset: 11,
  },
  "LogSoftmax opset 13 (one axis)": one("LogSoftmax", {
    inputs: X([2, 3, 4], 3),
    attrs: { axis: 1 },
  }),
  "Gemm transA, alpha, beta": one("Gemm", {
    inputs: { a: f32("a", [3, 2]) },
    inits: { b: f32("b", [3, 4]), c: f32("c", [4]) },
    attrs: { transA: 1, alpha: { float: 0.5 }, beta: { float: 2 } },
  }),
  "Conv 1-D dilated and grouped, asymmetric pads": one("Conv", {
    inputs: X([1, 4, 11]),
    inits: { w: f32("w", [6, 2, 3]), b: f32("b", [6]) },
    attrs: { group: 2, dilations: [2], pads: [1, 2], strides: [2] },
  }),
  "ConvTranspose grouped": one("ConvTranspose", {
    inputs: X([1, 4, 5, 5]),
    inits: { w: f32("w", [4, 3, 3, 3]) },
    attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
  }),
  "MaxPool, padding wider than half the window": one("MaxPool", {
    inputs: X([1, 2, 6, 6]),
    attrs: { kernel_shape: [2, 2], pads: [1, 1, 1, 1], strides: [2, 2] },
  }),
  "AveragePool count_include_pad=0": one("AveragePool", {
    inputs: X([1, 2, 6, 6]),
    attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] },
  }),
  "Shape → Gather → Unsqueeze → Concat → Reshape, folded at import": {
    nodes: [
      { op: "Shape", inputs: ["x"], outputs: ["s"] },
      { op: "Gather", inputs: ["s", "zero"], outputs: ["n"], attrs: { axis: 0 } },
      { op: "Unsqueeze", inputs: ["n", "ax"], outputs: ["n1"] },
      { op: "Concat", inputs: ["n1", "minus1"], outputs: ["shape"], attrs: { axis: 0 } },
      { op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] },
    ],
    inputs: X([2, 3, 4]),
    inits: { zero: i64([0], []), ax: i64([0]), minus1: i64([-1]) },
    outputs: ["y"],
  },
  "Where, Equal, Cast": {
    nodes: [
      { op: "Greater", inputs: ["x", "zero"], outputs: ["m"] },
      { op: "Cast", inputs: ["m"], outputs: ["mf"], attrs: { to: 1 } },
      { op: "Where", inputs: ["m", "x", "mf"], outputs: ["y"] },
    ],
    inputs: X([3, 4]),
    inits: { zero: f32("zero", [], 0) },
    outputs: ["y"],
  },
};

const gpu = inject("gpu");
const backends: Backend[] = gpu.ok ? ["cpu", "webgpu"] : ["cpu"];

describe("ONNX import, op by op, against ONNX Runtime", () => {
  for (const [title, m] of Object.entries(cases)) {
    for (const backend of backends) {
      it(`${title} on ${backend}`, async () => {
        const bytes = encodeTestModel(m);
        const inputs = new Map(Object.entries(m.inputs));
        const want = await runOrt(bytes, inputs);
        const got = await runImported(importOnnx(bytes, `${title}.onnx`), inputs, backend);
        for (const name of m.outputs) {
          const w = want.get(name)!;
          const g = got.get(name)!;
          expect(g.shape, name).toEqual(w.shape);
          let bad = "";
          for (let i = 0; i < w.data.length && !bad; i++) {
            const a = Number(g.data[i]);
            const b = Number(w.data[i]);
            if (!(Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b)))
              bad = `${name}[${i}]: ${a} vs ${b}`;
          }
          expect(bad).toBe("");
        }
      });
    }
  }
});
