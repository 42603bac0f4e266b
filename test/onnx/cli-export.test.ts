// `nnc export`: the file it writes runs in ONNX Runtime and agrees with nnc's
// CPU backend on the same seeded weights; bad flags are usage errors (exit 2)
// and nothing is written.

import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { compile } from "../../compiler/compile.js";
import { decodeModel } from "../../compiler/onnx/proto.js";
import { seededInput } from "../../runtime/weights/seeded.js";
import { runOrt } from "./ort-harness.js";

async function nnc(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe("nnc export", () => {
  it("writes an .onnx that ONNX Runtime runs to nnc's CPU result", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "nnc-onnx-")), "highway.onnx");
    const argv = ["export", "rnn:highway", "--arg", "layers=2", "--shape", "input=3x32"];
    const r = await nnc([...argv, "--onnx", file]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("wrote");
    const input = seededInput("input", [3, 32], { kind: "uniform", scale: 1 });
    const ortOut = await runOrt(readFileSync(file), new Map([["input", input]]));
    const ref = await compile({ stdlib: "rnn" }, { entry: "highway", args: { layers: "2" } }).run(
      new Map([["input", input]]),
    );
    for (const [name, t] of ref.outputs) {
      const got = ortOut.get(name)!;
      expect(got.shape).toEqual(t.shape);
      const want = t.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(got.data[i]!).toBeCloseTo(want[i]!, 5);
    }
  });

  it("without --onnx is a usage error and writes nothing", async () => {
    const r = await nnc(["export", "nn:relu", "--shape", "input=2x3"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--onnx");
  });

  it("rejects a flag of another command", async () => {
    const r = await nnc(["export", "nn:relu", "--input", "input=seeded:2x3", "--onnx", "x.onnx"]);
    expect(r.code).toBe(2);
    expect(existsSync("x.onnx")).toBe(false);
  });

  it("an input without a shape is a located error (exit 1), nothing written", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "nnc-onnx-")), "conv.onnx");
    const r = await nnc(["export", "nn:conv", "--arg", "out=4", "--arg", "k=3", "--onnx", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN6009");
    expect(existsSync(file)).toBe(false);
  });
});

describe("nnc export: symbolic dims", () => {
  it("keeps resnet18's batch, H and W symbolic (the graph does not depend on them)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "nnc-onnx-")), "r18.onnx");
    const argv = ["export", "resnet:resnet18", "--arg", "classes=10", "--shape", "input=1x3x32x32"];
    const r = await nnc([...argv, "--onnx", file]);
    expect(r.code, r.err).toBe(0);
    const bytes = readFileSync(file);
    const dims = decodeModel(bytes, file).graph!.input[0]!.type!.tensor_type!.shape!.dim;
    expect(dims.map((d) => d.dim_param || Number(d.dim_value))).toEqual([
      "input_dim0",
      3,
      "input_dim2",
      "input_dim3",
    ]);
    // ONNX Runtime runs the file at another size, and agrees with nnc compiled for that size.
    const input = seededInput("input", [2, 3, 40, 48], { kind: "uniform", scale: 1 });
    const ortOut = await runOrt(bytes, new Map([["input", input]]));
    const ref = await compile(
      { stdlib: "resnet" },
      { entry: "resnet18", args: { classes: "10" } },
    ).run(new Map([["input", input]]));
    const want = ref.outputs.get("logits")!.data as Float32Array;
    const got = ortOut.get("logits")!;
    expect(got.shape).toEqual([2, 10]);
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(got.data[i]! - want[i]!)).toBeLessThan(1e-4);
  }, 120_000);
});
