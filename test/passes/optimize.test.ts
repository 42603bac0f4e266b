// The optimizer against the CPU oracle: every model gives the same outputs
// with and without the passes (within the fixtures' tolerances), batchnorm
// disappears into the convolutions, and each pass can be switched off.

import { describe, expect, it } from "vitest";
import type { Tensor } from "../../compiler/core/tensor.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { compile } from "../../compiler/index.js";
import { loadedParams, withDerived } from "../../compiler/passes/prep.js";
import { formatPassLog, optimize, passNames } from "../../compiler/pipeline/index.js";
import { seededInput, seededParams } from "../../runtime/weights/seeded.js";

interface Model {
  name: string;
  source: Parameters<typeof compile>[0];
  entry?: string;
  args?: Record<string, string>;
  inputs: Record<string, { shape: number[]; tokens?: number }>;
}

const models: Model[] = [
  {
    name: "lenet5",
    source: { file: "examples/lenet5.nn" },
    inputs: { input: { shape: [2, 1, 32, 32] } },
  },
  {
    name: "resnet_small",
    source: { file: "examples/resnet_small.nn" },
    inputs: { input: { shape: [1, 3, 16, 16] } },
  },
  {
    name: "resnet18",
    source: { stdlib: "resnet" },
    entry: "resnet18",
    args: { classes: "10" },
    inputs: { input: { shape: [1, 3, 32, 32] } },
  },
  {
    name: "mobilenet_v2",
    source: { stdlib: "mobilenet" },
    entry: "mobilenet_v2",
    args: { classes: "10" },
    inputs: { input: { shape: [1, 3, 32, 32] } },
  },
  {
    name: "mobilenet_v3_small",
    source: { stdlib: "mobilenet" },
    entry: "mobilenet_v3_small",
    args: { classes: "10" },
    inputs: { input: { shape: [1, 3, 32, 32] } },
  },
  {
    name: "convnext_tiny",
    source: { stdlib: "convnext" },
    entry: "convnext_tiny",
    args: { classes: "10" },
    inputs: { input: { shape: [1, 3, 32, 32] } },
  },
  {
    name: "unet",
    source: { stdlib: "unet" },
    entry: "unet",
    args: { in_channels: "1", classes: "2", base: "8", depth: "2" },
    inputs: { input: { shape: [1, 1, 32, 32] } },
  },
  {
    name: "lstm bidirectional 2 layers",
    source: { stdlib: "rnn" },
    entry: "lstm",
    args: { hidden: "16", layers: "2", bidirectional: "true" },
    inputs: { input: { shape: [2, 5, 8] } },
  },
  {
    name: "local-p attention",
    source: { stdlib: "attention" },
    entry: "luong_local",
    args: { mode: "p", D: "2" },
    inputs: { decoder_state: { shape: [2, 16] }, encoder_states: { shape: [2, 9, 16] } },
  },
  {
    name: "seq2seq",
    source: { stdlib: "seq2seq" },
    entry: "seq2seq",
    inputs: {
      src_tokens: { shape: [2, 9], tokens: 50 },
      tgt_tokens: { shape: [2, 5], tokens: 50 },
    },
  },
];

function inputsOf(m: Model): Map<string, Tensor> {
  return new Map(
    Object.entries(m.inputs).map(([k, v]) => [
      k,
      seededInput(
        k,
        v.shape,
        v.tokens ? { kind: "tokens", vocab: v.tokens } : { kind: "uniform", scale: 1 },
      ),
    ]),
  );
}

function runOptimized(g: Graph, inputs: Map<string, Tensor>): Map<string, Tensor> {
  const loaded = seededParams(loadedParams(g));
  return runGraph(g, inputs, withDerived(g, loaded));
}

/** Nodes that compute something (not inputs, params or constants). */
function work(g: Graph): number {
  return g.nodes.filter((n) => !["input", "param", "const"].includes(n.op)).length;
}

function maxRelErr(a: Tensor, b: Tensor): number {
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = Number(a.data[i]);
    const y = Number(b.data[i]);
    worst = Math.max(worst, Math.abs(x - y) / (1e-4 + Math.abs(y)));
  }
  return worst;
}

describe("the optimizer keeps every model's numbers", () => {
  for (const m of models) {
    it(m.name, () => {
      const model = compile(m.source, { entry: m.entry, args: m.args });
      const inputs = inputsOf(m);
      const raw = model.elaborate(
        Object.fromEntries([...inputs].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }])),
      ).graph;
      const opt = optimize(raw).graph;
      const want = runGraph(raw, inputs, seededParams(raw.params));
      const got = runOptimized(opt, inputs);
      for (const [k, t] of want) {
        expect(got.get(k)!.shape).toEqual(t.shape);
        expect(maxRelErr(got.get(k)!, t), k).toBeLessThan(1e-3);
      }
      // Sources aside: conv-weight-layout adds a derived param per conv weight.
      expect(work(opt)).toBeLessThanOrEqual(work(raw));
    });
  }
});

describe("batchnorm folding", () => {
  it("leaves resnet18 with convolutions and biases only: no rsqrt in the main graph", () => {
    const raw = compile(
      { stdlib: "resnet" },
      { entry: "resnet18", inputs: { input: { shape: [1, 3, 64, 64] } } },
    ).graph;
    const opt = optimize(raw).graph;
    const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;
    expect(count(raw, "rsqrt")).toBe(20);
    expect(count(opt, "rsqrt")).toBe(0);
    expect(count(opt, "conv2d")).toBe(count(raw, "conv2d"));
    // Each conv is followed by one bias add at most: the BN arithmetic is gone.
    expect(count(opt, "mul")).toBe(0);
    expect(opt.prep!.outputs.length).toBeGreaterThan(0);
    expect(opt.params.filter((p) => !p.derived).map((p) => p.name)).toEqual(
      raw.params.map((p) => p.name),
    );
  });

  it("keeps batchnorm when the pass is off", () => {
    const raw = compile(
      { stdlib: "resnet" },
      { entry: "resnet18", inputs: { input: { shape: [1, 3, 64, 64] } } },
    ).graph;
    const opt = optimize(raw, { disable: ["fold-batchnorm"] }).graph;
    expect(opt.nodes.some((n) => n.op === "mul")).toBe(true);
  });
});

describe("passes by name", () => {
  it("the log names every pass, graph, kernel and plan; each can be disabled, and -O0 runs none", () => {
    const raw = compile({ file: "examples/resnet_small.nn" }).graph;
    expect(optimize(raw, { level: 0 }).graph).toBe(raw);
    expect(optimize(raw, { level: 0, through: "plan" }).log).toEqual([]);
    const ran = new Set(optimize(raw, { through: "plan" }).log.map((l) => l.pass));
    expect([...ran].sort()).toEqual([...passNames].sort());
    for (const name of passNames) {
      const { log } = optimize(raw, { disable: [name], through: "plan" });
      const names = new Set(log.map((l) => l.pass));
      expect(names.has(name), name).toBe(false);
      expect(names.size, `only ${name} is off`).toBe(passNames.length - 1);
    }
  });

  it("logs what the kernel and plan passes changed: kernels, invocations, bytes", () => {
    const raw = compile({ file: "examples/resnet_small.nn" }).graph;
    const { log, program, plan } = optimize(raw, { through: "plan" });
    const entry = (name: string) => log.find((l) => l.pass === name)!;
    const fuse = entry("fuse");
    expect(fuse.stage).toBe("kernels");
    expect(fuse.after.groups).toBeLessThan(fuse.before.groups!);
    expect(fuse.after.kernels).toBe(program!.kernels.length);
    // The lavapipe tiles are taller and wider than lowering's 4 × 4: fewer invocations.
    const tune = entry("tune");
    expect(tune.after.kernels).toBe(tune.before.kernels);
    expect(tune.after.invocations).toBeLessThan(tune.before.invocations!);
    const memory = entry("plan-memory");
    expect(memory.stage).toBe("plan");
    expect(memory.after.bytes).toBeLessThan(memory.before.bytes!);
    expect(memory.after.dispatches).toBe(plan!.dispatches.length);
    expect(formatPassLog(log)).toMatch(
      /^tune +kernels +groups \d+, kernels \d+, .*invocations \d+ → \d+$/m,
    );
  });

  it("--disable-pass tune keeps lowering's tiles (at most 4 × 4)", () => {
    const raw = compile({ file: "examples/resnet_small.nn" }).graph;
    const tiles = (disable: string[]) =>
      optimize(raw, { disable, through: "kernels" })
        .program!.kernels.map((k) => k.schedule)
        .filter((s) => s.kind === "tiled");
    expect(tiles(["tune"]).every((s) => s.tm <= 4 && s.tn === 4)).toBe(true);
    expect(tiles([]).some((s) => s.tm > 4 || s.tn > 4)).toBe(true);
  });

  it("CSE merges identical nodes and DCE drops unread ones", () => {
    const src =
      "model m()(x: f32[2, 3]) {\n  let unused = exp(x)\n  let a = x * 2.0 + 1.0\n  let b = x * 2.0 + 1.0\n  a * b\n}";
    const raw = compile(src, { file: "m.nn" }).graph;
    const opt = optimize(raw).graph;
    expect(raw.nodes.filter((n) => n.op === "mul").length).toBe(3);
    expect(opt.nodes.filter((n) => n.op === "mul").length).toBe(2);
    expect(opt.nodes.some((n) => n.op === "exp")).toBe(false);
  });

  it("removes x + 0, x * 1 and transpose of a transpose", () => {
    const src = "model m()(x: f32[2, 3]) { (x + 0.0) * 1.0 + x.T.T }";
    const opt = optimize(compile(src, { file: "m.nn" }).graph).graph;
    expect(opt.nodes.map((n) => n.op)).toEqual(["input", "add"]);
  });
});
