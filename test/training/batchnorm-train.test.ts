// batchnorm2d_train (SPEC.md §12.2): `nnc grad --mode train` on stdlib
// batchnorm — batch statistics in the output, gradients through them, and the
// running buffers after the call — on the CPU and WebGPU at -O1 and -O0. Eval
// mode stays the inference function: no buffer outputs, running statistics used.

import { describe, expect, inject, it, vi } from "vitest";
import { compile } from "../../compiler/compile.js";
import { BUFFER_OUTPUT } from "../../compiler/graph/graph.js";
import { optLevels, runFlags } from "../fixture-suite.js";
import { checkGradCase } from "./grad-fixture.js";

vi.mock("../../runtime/webgpu/probe.js", async (original) => {
  const { inject } = await import("vitest");
  return {
    ...(await original<typeof import("../../runtime/webgpu/probe.js")>()),
    probeAdapterAsync: async () => inject("gpu"),
  };
});

const trainCase = { fixture: "batchnorm2d_train", source: "nn:batchnorm" };

describe("batchnorm2d_train through nnc grad --mode train", () => {
  for (const backend of ["cpu", "webgpu"] as const) {
    describe.skipIf(backend === "webgpu" && !inject("gpu").ok)(`on ${backend}`, () => {
      for (const opt of optLevels) {
        it(
          `-O${opt}`,
          async () => {
            const bad = await checkGradCase(trainCase, [
              ...runFlags(backend, opt),
              "--mode",
              "train",
            ]);
            expect({ mismatches: bad.length, first: bad.slice(0, 5) }).toEqual({
              mismatches: 0,
              first: [],
            });
          },
          backend === "webgpu" ? 300_000 : 120_000,
        );
      }
    });
  }
});

describe("train and eval mode", () => {
  const shapes = { input: { shape: [2, 8, 5, 5] } };
  it("eval mode has no buffer outputs and reads no batch statistics", () => {
    const g = compile({ stdlib: "nn" }, { entry: "batchnorm", inputs: shapes }).elaborate().graph;
    expect(g.outputs.map((o) => o.name)).toEqual(["output"]);
    expect(g.nodes.some((n) => n.op === "reduce_mean")).toBe(false);
  });
  it("train mode returns the updated running statistics, named by state_dict path", () => {
    const m = compile({ stdlib: "nn" }, { entry: "batchnorm", inputs: shapes, mode: "train" });
    const names = m.elaborate().graph.outputs.map((o) => o.name);
    expect(names).toEqual([
      "output",
      `${BUFFER_OUTPUT}running_mean`,
      `${BUFFER_OUTPUT}running_var`,
    ]);
  });
  it("`training` is a compile-time bool and `update` needs a declared buffer", () => {
    const src = (body: string) => `layer l()(x: f32[2, 3]) {\n  param w: [3]\n  ${body}\n}`;
    const run = (body: string, mode: "eval" | "train") =>
      compile(src(body), { mode }).elaborate().graph;
    expect(run("if training then x * 2.0 else x", "train").nodes.some((n) => n.op === "mul")).toBe(
      true,
    );
    expect(run("if training then x * 2.0 else x", "eval").nodes.some((n) => n.op === "mul")).toBe(
      false,
    );
    expect(() => run("update self.w = self.w\n  x", "train")).toThrow(/NN2013/);
    expect(() => run("update self.nope = self.w\n  x", "train")).toThrow(/NN2013/);
    expect(() => run("update self.w = self.w\n  x", "eval")).toThrow(/NN2013/);
    const buf = "buffer b: [3] init zeros\n  update self.b = self.b + x[0]\n  x";
    expect(run(buf, "train").outputs.map((o) => o.name)).toEqual(["output", "buffer:b"]);
    // Eval mode skips `update` without evaluating it.
    expect(run(buf, "eval").outputs.map((o) => o.name)).toEqual(["output"]);
    expect(() => run("buffer b: [3] init zeros\n  update self.b = x\n  x", "train")).toThrow(
      /NN2013/,
    );
  });
});
