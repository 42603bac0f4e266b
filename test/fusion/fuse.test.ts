// The fusion pass (compiler/kernels/fuse.ts): what shares a kernel in the
// stdlib models (dispatch counts are structural, so they are asserted here;
// timings only ever go in `nnc bench`), and that fused programs compute what
// the Graph IR interpreter computes (the Kernel IR interpreter, no GPU).

import { describe, expect, it } from "vitest";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import { type CompileOptions, compile, type Source } from "../../compiler/compile.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import type { VExpr } from "../../compiler/kernels/expr.js";
import { fuseGraph } from "../../compiler/kernels/fuse.js";
import { interpretProgram } from "../../compiler/kernels/interpret.js";
import type { Kernel, KernelProgram } from "../../compiler/kernels/ir.js";
import { programFromJson, programToJson } from "../../compiler/kernels/ir.js";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import { withDerived } from "../../compiler/passes/prep.js";
import { loadWeights } from "../../compiler/run.js";
import { pipelineKey } from "../../runtime/webgpu/pipeline-key.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { checkLowering, expectClose, lowerFused, randomBindings } from "../kernels/helpers.js";

const at224 = { input: { shape: [1, 3, 224, 224] } };

function kernelsOf(source: Source, options: CompileOptions, shape: number[]): KernelProgram {
  return compile(source, options).kernels({ input: { shape } });
}

/** A kernel that only moves data: its value is a load, or a select between such. */
function copyOnly(e: VExpr): boolean {
  if (e.op === "load" || e.op === "const") return true;
  if (e.op === "select") return copyOnly(e.a) && copyOnly(e.b);
  return false;
}

const computeOps = (k: Kernel) =>
  k.sources.filter((s) => !["reshape", "permute", "const", "broadcast", "slice"].includes(s.op));

describe("dispatches per forward in the stdlib CNNs at 224", () => {
  // One kernel per conv (bias, folded batchnorm, activation and residual add in
  // its epilogue), per pooling, and one for the classifier.
  const cases: [string, string, Record<string, number>, number][] = [
    ["resnet", "resnet18", {}, 23],
    ["resnet", "resnet50", {}, 56],
    ["mobilenet", "mobilenet_v2", {}, 54],
    ["densenet", "densenet121", {}, 126],
    ["unet", "unet", { in_channels: 3, classes: 2 }, 27],
  ];
  for (const [module, entry, args, most] of cases) {
    it(`${entry}: at most ${most}, and no kernel only copies`, () => {
      const m = compile({ stdlib: module }, { entry, args });
      const plan = m.plan(at224);
      expect(plan.dispatches.length).toBeLessThanOrEqual(most);
      const program = m.kernels(at224);
      expect(program.kernels.filter((k) => copyOnly(k.body)).map((k) => k.name)).toEqual([]);
      // Unfused (-O0) there are many more.
      const o0 = compile({ stdlib: module }, { entry, args, optimize: { level: 0 } }).plan(at224);
      expect(o0.dispatches.length).toBeGreaterThan(2 * plan.dispatches.length);
    });
  }

  // Every other CNN of the stdlib: no kernel only copies data.
  const others: [string, string[]][] = [
    ["resnet", ["resnet34", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d"]],
    ["densenet", ["densenet169", "densenet201"]],
    ["mobilenet", ["mobilenet_v1", "mobilenet_v3_small", "mobilenet_v3_large"]],
    ["convnext", ["convnext_tiny", "convnext_small", "convnext_base"]],
  ];
  for (const [module, entries] of others) {
    it(`${entries.join(", ")}: no kernel only copies`, () => {
      for (const entry of entries) {
        const program = compile({ stdlib: module }, { entry }).kernels(at224);
        expect(
          program.kernels.filter((k) => copyOnly(k.body)).map((k) => k.name),
          entry,
        ).toEqual([]);
      }
    }, 60_000);
  }

  it("rnn, lstm, gru (1 and 2 layers, bidirectional) and highway: no kernel only copies", () => {
    // The step kernels store `output`, `h_n` and `c_n` in place (scan-place.ts),
    // whether the scan has several slots (lstm: h, c) or one (rnn, gru: h).
    const cases: [string, Record<string, string>, number[]][] = [
      ["rnn", { hidden: "64" }, [2, 16, 32]],
      ["rnn", { hidden: "64", layers: "2", bidirectional: "true" }, [2, 16, 32]],
      ["lstm", { hidden: "512", layers: "2", bidirectional: "true" }, [4, 64, 256]],
      ["gru", { hidden: "512" }, [1, 64, 256]],
      ["gru", { hidden: "512", layers: "2", bidirectional: "true" }, [4, 64, 256]],
      ["highway", { layers: "2" }, [2, 16]],
    ];
    for (const [entry, args, shape] of cases) {
      const program = compile({ stdlib: "rnn" }, { entry, args }).kernels({ input: { shape } });
      const copies = program.kernels.filter((k) => copyOnly(k.body)).map((k) => k.name);
      expect(copies, `${entry} ${JSON.stringify(args)}`).toEqual([]);
    }
  });

  it("lenet5: conv+bias+sigmoid, pool, conv, pool, three linears", () => {
    const p = kernelsOf({ stdlib: "lenet" }, { entry: "lenet5" }, [1, 1, 32, 32]);
    expect(p.kernels.map((k) => computeOps(k).map((s) => s.op))).toEqual([
      ["conv2d", "add", "sigmoid"],
      ["pool2d"],
      ["conv2d", "add", "sigmoid"],
      ["pool2d"],
      ["matmul", "add", "sigmoid"],
      ["matmul", "add", "sigmoid"],
      ["matmul", "add"],
    ]);
    expect(p.kernels.map((k) => k.schedule.kind)).toEqual([
      "tiled",
      "naive",
      "tiled",
      "naive",
      "tiled",
      "tiled",
      "tiled",
    ]);
  });

  it("resnet18: each residual add and its relu are in the second conv's epilogue", () => {
    const p = kernelsOf({ stdlib: "resnet" }, { entry: "resnet18" }, [1, 3, 64, 64]);
    const block = p.kernels.find((k) => k.sources.some((s) => s.scope === "layer1.0.bn2"))!;
    expect(computeOps(block).map((s) => s.op)).toEqual(["conv2d", "add", "add", "relu"]);
    expect(block.schedule.kind).toBe("tiled");
  });

  it("resnet18: a block with a shortcut conv adds the residual in its main path's conv, not the shortcut's", () => {
    const p = kernelsOf({ stdlib: "resnet" }, { entry: "resnet18" }, [1, 3, 64, 64]);
    for (const layer of ["layer2", "layer3", "layer4"]) {
      const main = p.kernels.find((k) => k.sources.some((s) => s.scope === `${layer}.0.bn2`))!;
      expect(
        computeOps(main).map((s) => s.op),
        layer,
      ).toEqual(["conv2d", "add", "add", "relu"]);
      const shortcut = p.kernels.find((k) =>
        k.sources.some((s) => s.scope === `${layer}.0.downsample.1`),
      )!;
      expect(
        computeOps(shortcut).map((s) => s.op),
        layer,
      ).toEqual(["conv2d", "add"]);
      // The shortcut runs first: its value is what the main path's conv adds.
      expect(p.kernels.indexOf(shortcut)).toBeLessThan(p.kernels.indexOf(main));
    }
  });

  it("resnet18 at 224: 23 dispatches of 18 distinct pipelines (each block's second conv shares one)", () => {
    const plan = compile({ stdlib: "resnet" }, { entry: "resnet18" }).plan(at224);
    expect(plan.dispatches).toHaveLength(23);
    expect(new Set(plan.kernels.map(pipelineKey)).size).toBeLessThanOrEqual(18);
  });

  it("is off at -O0 and with --disable-pass fuse", () => {
    for (const optimize of [{ level: 0 as const }, { disable: ["fuse"] }]) {
      const p = kernelsOf({ stdlib: "lenet" }, { entry: "lenet5", optimize }, [1, 1, 32, 32]);
      expect(p.kernels.every((k) => computeOps(k).length === 1)).toBe(true);
    }
  });
});

describe("producers with several consumers", () => {
  it("a cheap elementwise one is recomputed in each consumer's kernel", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [4, 6]);
    const t = b.op("tanh", [x]);
    b.output("m", b.op("matmul", [t, b.input("w", "f32", [6, 5])]));
    b.output("s", b.op("reduce_sum", [t], { axes: [1] }));
    const p = lowerFused(b.graph);
    expect(p.kernels.map((k) => k.sources.map((s) => s.op))).toEqual([
      ["tanh", "matmul"],
      ["tanh", "reduce_sum"],
    ]);
    checkLowering(b.graph, { fuse: true });
  });

  it("a conv's is materialised, never computed twice", () => {
    const b = new GraphBuilder();
    const c = b.op("conv2d", [
      b.input("x", "f32", [1, 2, 5, 5]),
      b.input("w", "f32", [3, 2, 3, 3]),
    ]);
    b.output("a", b.op("relu", [c]));
    b.output("b", b.op("sigmoid", [c]));
    const p = lowerFused(b.graph);
    expect(p.kernels.filter((k) => k.sources.some((s) => s.op === "conv2d"))).toHaveLength(1);
    checkLowering(b.graph, { fuse: true });
  });
});

describe("reductions with their neighbours: one kernel each", () => {
  const layer = (entry: string, shape: number[], args: Record<string, number> = {}) =>
    kernelsOf({ stdlib: "nn" }, { entry, args }, shape);

  it("softmax, log_softmax and layernorm over the last axis: rows schedules", () => {
    for (const entry of ["softmax", "log_softmax", "layernorm"]) {
      const p = layer(entry, [2, 5, 16]);
      expect(p.kernels, entry).toHaveLength(1);
      expect(p.kernels[0]!.schedule, entry).toEqual({ kind: "rows", rows: [2] });
      expect(p.kernels[0]!.threads, entry).toBe(10);
    }
  });

  it("softmax over the channels of NCHW loops over the channels", () => {
    const p = layer("softmax", [2, 8, 3, 3], { axis: 1 });
    expect(p.kernels).toHaveLength(1);
    expect(p.kernels[0]!.schedule).toEqual({ kind: "rows", rows: [1] });
  });

  it("global average pooling with a prologue", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [2, 6, 5, 5]);
    const y = b.op("reduce_mean", [b.op("relu", [x])], { axes: [2, 3], keepdims: true });
    b.output("y", y);
    const p = lowerFused(b.graph);
    expect(p.kernels).toHaveLength(1);
    checkLowering(b.graph, { fuse: true });
  });

  it("compute what the Graph IR does", () => {
    for (const entry of ["softmax", "log_softmax", "layernorm"]) {
      const m = compile({ stdlib: "nn" }, { entry });
      checkLowering(m.optimized({ input: { shape: [3, 4, 9] } }), { fuse: true });
    }
    const ln2d = compile({ stdlib: "nn" }, { entry: "layernorm2d" });
    checkLowering(ln2d.optimized({ input: { shape: [2, 8, 3, 3] } }), { fuse: true });
  });
});

describe("concat as writes into slices", () => {
  const tinyDensenet = `import densenet
model tiny()(input: f32[1, 3, 32, 32]) {
  {logits: densenet(4, [2, 2, 2, 2], 8, bn_size=2, classes=5)(input)}
}`;

  it("DenseNet's dense blocks: each layer's conv writes its slice of the block's buffer", () => {
    const m = compile(tinyDensenet, { file: "tiny.nn" });
    const g = m.optimized();
    const grouping = fuseGraph(g, 8);
    const concats = g.nodes.filter((n) => n.op === "concat");
    expect(concats.length).toBeGreaterThan(0);
    // Every concat is a view: no kernel writes a concat by copying.
    expect(new Set(grouping.views!.map((v) => v.into))).toEqual(new Set(concats.map((c) => c.id)));
    const p = lowerFused(g);
    expect(p.kernels.some((k) => k.root === concats[0]!.id)).toBe(false);
    const conv2 = p.kernels.find((k) => k.sources.some((s) => s.scope?.endsWith("layer2.conv2")))!;
    expect(conv2.store.map((e) => e.op)).toContain("add");
    const params = withDerived(g, loadWeights(g, "seeded"));
    const { inputs } = randomBindings(g);
    const want = runGraph(g, inputs, params);
    const got = interpretProgram(programFromJson(programToJson(p)), inputs, params);
    for (const [name, t] of want) expectClose(got.get(name)!, t, name, 1e-4);
  });

  it("a concat some input of which has no kernel stays an index map", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [2, 3, 4]);
    const y = b.op("exp", [b.input("y", "f32", [2, 3, 4])]);
    const c = b.op("concat", [x, y], { axis: 1 });
    b.output("z", b.op("relu", [c]));
    expect(fuseGraph(b.graph, 8).views ?? []).toEqual([]);
    const p = lowerFused(b.graph);
    expect(p.kernels).toHaveLength(1);
    checkLowering(b.graph, { fuse: true });
  });

  it("a kernel never reads the buffer it writes", () => {
    // z writes its slice of c's buffer and reads x, which lives in c too: z copies after all.
    const b = new GraphBuilder();
    const a = b.input("a", "f32", [1, 2, 3]);
    const x = b.op("reduce_sum", [a], { axes: [1], keepdims: true });
    const z = b.op("reduce_max", [b.op("concat", [x, a], { axis: 1 })], {
      axes: [1],
      keepdims: true,
    });
    const c = b.op("concat", [x, z], { axis: 1 });
    b.output("c", c);
    expect(fuseGraph(b.graph, 8).views ?? []).toEqual([]);
    checkLowering(b.graph, { fuse: true });
  });
});

describe("fused programs agree with the Graph IR interpreter", () => {
  const models: [string, string, Record<string, number>, number[]][] = [
    ["lenet", "lenet5", {}, [2, 1, 32, 32]],
    ["mobilenet", "mobilenet_v2", { classes: 10 }, [1, 3, 32, 32]],
    ["unet", "unet", { in_channels: 1, classes: 2, base: 4, depth: 2 }, [1, 1, 16, 16]],
    ["mobilenet", "mobilenet_v3_small", { classes: 10 }, [1, 3, 32, 32]],
  ];
  for (const [module, entry, args, shape] of models) {
    it(entry, () => {
      const g = compile({ stdlib: module }, { entry, args }).optimized({ input: { shape } });
      const params = withDerived(g, loadWeights(g, "seeded"));
      const { inputs } = randomBindings(g);
      const want = runGraph(g, inputs, params);
      const program = lowerFused(g);
      expect(program.kernels.length).toBeLessThan(lowerGraph(g).kernels.length);
      const got = interpretProgram(programFromJson(programToJson(program)), inputs, params);
      for (const [name, t] of want) expectClose(got.get(name)!, t, name, 1e-4);
    });
  }

  it("the resnet example, and within 4 storage buffers per kernel", () => {
    const g = compile({ file: "examples/resnet_small.nn" }).optimized();
    checkLowering(g, { fuse: true });
    const program = lowerFused(g, { maxStorageBuffers: 4 });
    expect(Math.max(...program.kernels.map((k) => k.bindings.length))).toBeLessThanOrEqual(4);
    emitPlan(program, { maxStorageBuffers: 4 });
    checkLowering(g, { fuse: true, maxStorageBuffers: 4 });
  });

  it("recurrences (scan) stay kernels of their own", () => {
    const m = compile({ stdlib: "rnn" }, { entry: "gru", args: { hidden: 3 } });
    checkLowering(m.optimized({ input: { shape: [1, 4, 2] } }), { fuse: true });
  });
});
