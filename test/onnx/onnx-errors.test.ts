// Bad .onnx input through the CLI: a malformed or truncated file, an
// unsupported op, a missing initializer, an opset too old. Each is exit 1
// with a coded diagnostic naming the file or the node, never a crash or a skip.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { encodeTestModel, f32, type TestModel } from "./onnx-builder.js";

const dir = mkdtempSync(join(tmpdir(), "nnc-onnx-err-"));

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function nnc(argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const relu: TestModel = {
  nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
  inputs: { x: f32("x", [2, 3]) },
  outputs: ["y"],
};

describe("bad ONNX files", () => {
  it("a file that is not protobuf: NN8201 naming the file", async () => {
    const path = file("garbage.onnx", new TextEncoder().encode("this is not an onnx model at all"));
    const r = await nnc(["check", path]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8201");
    expect(r.err).toContain("garbage.onnx");
  });

  it("a truncated model: NN8201", async () => {
    const bytes = encodeTestModel({ ...relu, inits: { w: f32("w", [64, 64]) } });
    const path = file("truncated.onnx", bytes.slice(0, bytes.length - 100));
    const r = await nnc(["run", path, "--backend", "cpu"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8201");
  });

  it("an unsupported op: NN8202 naming the op and the node", async () => {
    const m: TestModel = {
      ...relu,
      nodes: [{ op: "NonMaxSuppression", inputs: ["x"], outputs: ["y"] }],
    };
    const r = await nnc(["check", file("nms.onnx", encodeTestModel(m))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8202");
    expect(r.err).toContain("NonMaxSuppression");
    expect(r.err).toContain("NonMaxSuppression_0");
  });

  it("a missing initializer: NN8203 naming the node and the value", async () => {
    const m: TestModel = {
      ...relu,
      nodes: [{ op: "MatMul", inputs: ["x", "weight"], outputs: ["y"] }],
    };
    const r = await nnc(["check", file("missing.onnx", encodeTestModel(m))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8203");
    expect(r.err).toContain("MatMul_0");
    expect(r.err).toContain("`weight`");
  });

  it("an opset too old: NN8204", async () => {
    const r = await nnc(["check", file("old.onnx", encodeTestModel({ ...relu, opset: 3 }))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8204");
    expect(r.err).toContain("opset 3");
  });

  it("a shape error inside a node: its code, naming the node", async () => {
    const m: TestModel = {
      ...relu,
      nodes: [{ op: "MatMul", inputs: ["x", "w"], outputs: ["y"] }],
      inits: { w: f32("w", [4, 5]) },
    };
    const r = await nnc(["check", file("shape.onnx", encodeTestModel(m))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN4002");
    expect(r.err).toContain("MatMul_0");
  });

  it("a missing file: NN8201", async () => {
    const r = await nnc(["check", join(dir, "nope.onnx")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8201");
  });

  it("check lists the nodes; run gives the outputs", async () => {
    const path = file("relu.onnx", encodeTestModel(relu));
    const c = await nnc(["check", path]);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toContain("Relu_0");
    const r = await nnc(["run", path, "--backend", "cpu", "--input", "x=seeded:2x3", "--json"]);
    expect(r.code, r.err).toBe(0);
    const y = JSON.parse(r.out).outputs.y.data as number[];
    expect(y.every((v) => v >= 0)).toBe(true);
  });
});

describe("flags that do not fit a .onnx", () => {
  it("--entry and --arg are usage errors, not ignored", async () => {
    const path = file("relu2.onnx", encodeTestModel(relu));
    expect((await nnc(["check", path, "--arg", "k=1"])).code).toBe(2);
    expect((await nnc(["run", path, "--entry", "x", "--backend", "cpu"])).code).toBe(2);
    expect((await nnc(["run", path, "--weights", "seeded", "--backend", "cpu"])).code).toBe(2);
  });
});
