// The conv-weight-layout pass (compiler/passes/conv-weight-layout.ts): which
// conv weights it relays out to HWIO in prep, and what the conv kernel then
// reads (vec4s of 4 output channels). The numbers on WebGPU against the CPU
// are test/crossbackend's "conv layers at -O1" property.

import { describe, expect, it } from "vitest";
import type { ExecutablePlan } from "../../compiler/codegen/plan.js";
import { type ArgInput, compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { loadedParams, withDerived } from "../../compiler/passes/prep.js";
import { optimize } from "../../compiler/pipeline/index.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { expectClose, randomTensor } from "../kernels/helpers.js";

const source = `model convs(out: int = 8, k: int = 3, groups: int = 1, bn: bool = true)(input: f32[N, C, H, W]) {
  let y = input -> c: conv(out, k, pad=1, groups=groups)
  if bn then y -> b: batchnorm -> relu else y
}`;
const shapes = { input: { shape: [1, 6, 9, 11] } };

function model(args: Record<string, ArgInput> = {}, disable: string[] = []) {
  return compile(source, { file: "convs.nn", args, optimize: { disable } });
}

const relaid = (g: Graph) => g.params.filter((p) => p.name.endsWith("~hwio"));

/** The WGSL of the kernel reading param `name`, and the binding it reads it through. */
function weightIn(plan: ExecutablePlan, name: string) {
  const buffer = plan.buffers.find((b) => b.name === name)!;
  const d = plan.dispatches.find((x) => x.buffers.includes(buffer.id))!;
  return { wgsl: plan.kernels[d.kernel]!.wgsl, binding: `in${d.buffers.indexOf(buffer.id)}` };
}

describe("conv-weight-layout", () => {
  it("relays out a batchnorm-folded weight: prep computes it as HWIO, the conv reads it through a permute", () => {
    const g = model().optimized(shapes);
    const [hwio] = relaid(g);
    expect(hwio?.name).toBe("b.~fold0~hwio");
    expect(hwio?.derived).toBe(true);
    expect(hwio?.type.shape).toEqual([3, 3, 6, 8]);
    const conv = g.nodes.find((n) => n.op === "conv2d")!;
    const view = g.nodes[conv.inputs[1]!]!;
    expect(view.op).toBe("permute");
    expect(view.attrs.perm).toEqual([3, 2, 0, 1]);
    expect(g.nodes[view.inputs[0]!]!.attrs.name).toBe(hwio!.name);
    expect(g.prep!.outputs.map((o) => o.name)).toContain(hwio!.name);
  });

  it("relays out a loaded weight (no batchnorm) and 1×1 convs", () => {
    expect(relaid(model({ bn: false }).optimized(shapes)).map((p) => p.name)).toEqual([
      "c.weight~hwio",
    ]);
    expect(relaid(model({ bn: false, k: 1 }).optimized(shapes))[0]?.type.shape).toEqual([
      1, 1, 6, 8,
    ]);
  });

  it("leaves grouped convs and output channels that do not fill vec4s in OIHW", () => {
    expect(relaid(model({ groups: 2 }).optimized(shapes))).toEqual([]);
    expect(relaid(model({ out: 6 }).optimized(shapes))).toEqual([]);
  });

  it("is off at -O0 and with --disable-pass conv-weight-layout", () => {
    const off = compile(source, { file: "convs.nn", optimize: { level: 0 } });
    expect(relaid(off.optimized(shapes))).toEqual([]);
    expect(relaid(model({}, ["conv-weight-layout"]).optimized(shapes))).toEqual([]);
  });

  it("the conv kernel loads its weight as vec4s of output channels, 8 rows per tile", () => {
    const { wgsl, binding } = weightIn(model().plan(shapes), "b.~fold0~hwio");
    expect(wgsl).toContain(`var<storage, read> ${binding}: array<vec4<f32>>;`);
    // Output channel c_0 (c_4) and its next three: one aligned load each.
    expect(wgsl).toMatch(new RegExp(`${binding}\\[\\(.*\\+ c_0\\) / 4\\]`));
    expect(wgsl).toMatch(new RegExp(`${binding}\\[\\(.*\\+ c_4\\) / 4\\]`));
    expect(wgsl).not.toMatch(new RegExp(`${binding}\\[[^\\]]*c_1`));
    const oihw = weightIn(model({}, ["conv-weight-layout"]).plan(shapes), "b.~fold0");
    expect(oihw.wgsl).toContain(`var<storage, read> ${oihw.binding}: array<f32>;`);
  });

  it("keeps the model's numbers (CPU, against the unoptimized graph)", () => {
    const cases: Record<string, ArgInput>[] = [
      {},
      { bn: false },
      { k: 1 },
      { groups: 2 },
      { out: 6 },
    ];
    for (const args of cases) {
      const m = model(args);
      const inputs = new Map([["input", randomTensor("f32", shapes.input.shape, 3)]]);
      const raw = m.elaborate(shapes).graph;
      const want = runGraph(raw, inputs, seededParams(raw.params));
      const opt = m.optimized(shapes);
      const got = runGraph(opt, inputs, withDerived(opt, seededParams(loadedParams(opt))));
      for (const [name, t] of want) expectClose(got.get(name)!, t, JSON.stringify(args), 1e-4);
    }
  });

  it("relays out a weight shared by two convs once", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [1, 3, 6, 6]);
    const w = b.param("w", "f32", [4, 3, 3, 3]);
    const y1 = b.op("conv2d", [x, w], { pad: [1, 1] });
    const y2 = b.op("conv2d", [x, w], { stride: [2, 2] });
    b.output("y1", y1);
    b.output("y2", y2);
    const g = optimize(b.graph).graph;
    expect(relaid(g).map((p) => p.name)).toEqual(["w~hwio"]);
    const views = new Set(g.nodes.filter((n) => n.op === "conv2d").map((n) => n.inputs[1]));
    expect(views.size).toBe(1);
    const inputs = new Map([["x", randomTensor("f32", [1, 3, 6, 6], 5)]]);
    const params = seededParams(b.graph.params);
    const want = runGraph(b.graph, inputs, params);
    const got = runGraph(g, inputs, withDerived(g, params));
    for (const [name, t] of want) expectClose(got.get(name)!, t, name, 1e-5);
  });
});
