// The emitted WGSL on a real adapter: every kernel of several models and
// layers compiles, and whole plans run and match the CPU reference — tiled
// contractions over aligned and ragged shapes, every elementwise op and
// dtype, movement ops as index maps, and a grid folded into y. Skipped when
// this machine has no WebGPU adapter (see test/global-setup.ts).

import fc from "fast-check";
import { afterAll, describe, expect, inject, it } from "vitest";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { type LowerOptions, lowerGraph } from "../../compiler/kernels/lower.js";
import { windowOutSize } from "../../compiler/ops/window-geometry.js";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { expectClose, fusableGraph, randomBindings } from "./helpers.js";

const gpu = inject("gpu");

/** Runs `g` on the GPU through lowering + WGSL and compares every output with runGraph. */
async function checkOnGpu(g: Graph, options: LowerOptions = {}, seed = 1, intRange = 5) {
  const { inputs, params } = randomBindings(g, seed, intRange);
  const want = runGraph(g, inputs, params);
  const plan = emitPlan(lowerGraph(g, options));
  const p = await GpuPlan.create(plan);
  try {
    p.uploadParams(params);
    const got = await p.run(inputs);
    for (const [name, t] of want) expectClose(got.get(name)!, t, name, 2e-4);
  } finally {
    p.dispose();
  }
  return plan;
}

function layer(entry: string, shape: number[], args: Record<string, string | number> = {}): Graph {
  const m = compile({ stdlib: "nn" }, { entry, args });
  return m.elaborate({ input: { shape } }).graph;
}

describe.skipIf(!gpu.ok)(`WGSL on ${gpu.detail}`, () => {
  afterAll(async () => {
    await closeGpu();
  });

  it("runs the example models", async () => {
    const models: [string, Record<string, { shape: number[] }>][] = [
      ["examples/lenet5.nn", { input: { shape: [2, 1, 32, 32] } }],
      ["examples/mlp.nn", { input: { shape: [3, 784] } }],
      ["examples/resnet_small.nn", { input: { shape: [1, 3, 16, 16] } }],
    ];
    for (const [file, shapes] of models) {
      const g = compile({ file }).elaborate(shapes).graph;
      const plan = await checkOnGpu(g);
      expect(plan.kernels.some((k) => k.wgsl.includes("acc_0_0"))).toBe(true);
    }
  });

  it("runs the nn layers", async () => {
    const cases: [string, number[], Record<string, string | number>][] = [
      ["softmax", [2, 7, 9], {}],
      ["log_softmax", [3, 10], {}],
      ["layernorm", [2, 5, 12], {}],
      ["layernorm2d", [1, 6, 3, 5], {}],
      ["gelu", [4, 33], {}],
      ["gelu", [4, 33], { approximate: "tanh" }],
      ["hardswish", [2, 3, 4], {}],
      ["batchnorm", [2, 4, 3, 3], {}],
      ["maxpool", [1, 3, 9, 9], { k: 3, stride: 2, pad: 1 }],
      ["avgpool", [1, 3, 9, 9], { k: 3, stride: 2, pad: 1, count_include_pad: "false" }],
      ["global_avgpool", [2, 8, 5, 5], {}],
      ["conv", [1, 8, 9, 9], { out: 12, k: 3, stride: 2, pad: 1, groups: 4 }],
      ["conv", [1, 8, 9, 9], { out: 8, k: 3, pad: 2, dilation: 2, groups: 8 }],
      ["conv", [2, 16, 8, 8], { out: 32, k: 1 }],
      ["conv_transpose", [1, 4, 5, 5], { out: 4, k: 3, stride: 2, pad: 1, output_padding: 1 }],
      ["linear", [5, 3, 20], { out: 24 }],
    ];
    for (const [entry, shape, args] of cases) await checkOnGpu(layer(entry, shape, args));
    const emb = compile({ stdlib: "nn" }, { entry: "embedding", args: { num: 11, dim: 6 } });
    await checkOnGpu(emb.elaborate({ input: { shape: [2, 5], dtype: "i32" } }).graph, {}, 3, 11);
    const lstm = compile({ stdlib: "rnn" }, { entry: "lstm", args: { hidden: 4 } });
    await checkOnGpu(lstm.elaborate({ input: { shape: [1, 2, 3] } }).graph);
  });

  it("computes every elementwise op and dtype", async () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [3, 7]);
    const y = b.input("y", "f32", [7]);
    const n = b.input("n", "i32", [3, 7]);
    const m = b.input("m", "bool", [3, 1]);
    for (const op of [
      "neg",
      "abs",
      "relu",
      "exp",
      "log",
      "sqrt",
      "rsqrt",
      "tanh",
      "sigmoid",
      "erf",
      "floor",
      "ceil",
    ]) {
      b.output(
        op,
        b.op(op, [b.op("mul", [x, b.op("const", [], { dtype: "f32", shape: [], value: [3] })])]),
      );
    }
    for (const op of ["add", "sub", "mul", "div", "pow", "max", "min"])
      b.output(op, b.op(op, [x, y]));
    for (const op of ["neg", "abs", "relu"]) b.output(`i_${op}`, b.op(op, [n]));
    for (const op of ["add", "sub", "mul", "max", "min"]) b.output(`i_${op}`, b.op(op, [n, n]));
    const lt = b.op("cmp", [x, y], { op: "lt" });
    b.output("cmp", lt);
    b.output("and", b.op("and", [lt, m]));
    b.output("or", b.op("or", [b.op("not", [lt]), m]));
    b.output("where", b.op("where", [m, x, y]));
    b.output(
      "to_i",
      b.op("cast", [b.op("mul", [x, b.op("const", [], { dtype: "f32", shape: [], value: [5] })])], {
        to: "i32",
      }),
    );
    b.output("to_f", b.op("cast", [n], { to: "f32" }));
    b.output("b_to_f", b.op("cast", [m], { to: "f32" }));
    b.output("to_b", b.op("cast", [n], { to: "bool" }));
    const iota = b.op("iota", [], { shape: [3, 7], axis: 1, dtype: "i32" });
    b.output("iota_lt", b.op("cmp", [iota, n], { op: "le" }));
    b.output("sum_i", b.op("reduce_sum", [n], { axes: [1] }));
    b.output("max_i", b.op("reduce_max", [n], { axes: [0], keepdims: true }));
    const p = b.op("pad", [x], {
      pads: [
        [1, 0],
        [2, 1],
      ],
      value: Number.NEGATIVE_INFINITY,
    });
    b.output("pad", p);
    b.output("padmax", b.op("reduce_max", [p], { axes: [1] }));
    b.output("cat", b.op("concat", [x, b.op("broadcast", [y], { shape: [2, 7] }), x], { axis: 0 }));
    const idx = b.op("const", [], { dtype: "i32", shape: [2, 2], value: [6, 0, 3, 3] });
    b.output("gather", b.op("gather", [x, idx], { axis: 1 }));
    await checkOnGpu(b.graph, {}, 7);
  });

  it("tiles matmul over aligned and ragged shapes", async () => {
    const size = fc.integer({ min: 1, max: 21 });
    await fc.assert(
      fc.asyncProperty(
        size,
        size,
        fc.constantFrom(1, 3, 4, 8, 13, 16),
        fc.constantFrom("nn", "nt", "batched", "bcast"),
        fc.nat(100),
        async (m, n, k, layout, seed) => {
          const b = new GraphBuilder();
          let out: number;
          if (layout === "nt") {
            const w = b.input("w", "f32", [n, k]);
            out = b.op("matmul", [
              b.input("x", "f32", [m, k]),
              b.op("permute", [w], { perm: [1, 0] }),
            ]);
          } else if (layout === "batched") {
            out = b.op("matmul", [b.input("x", "f32", [2, m, k]), b.input("w", "f32", [2, k, n])]);
          } else if (layout === "bcast") {
            out = b.op("matmul", [
              b.input("x", "f32", [3, 1, m, k]),
              b.input("w", "f32", [2, k, n]),
            ]);
          } else {
            out = b.op("matmul", [b.input("x", "f32", [m, k]), b.input("w", "f32", [k, n])]);
          }
          b.output("y", b.op("add", [out, b.input("bias", "f32", [n])]));
          b.output("raw", out);
          await checkOnGpu(b.graph, {}, seed);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("tiles conv2d over strides, padding, dilation and groups", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          groups: fc.constantFrom(1, 1, 2),
          cg: fc.constantFrom(1, 3, 4, 8),
          og: fc.constantFrom(1, 4, 5),
          hw: fc.integer({ min: 3, max: 11 }),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          pad: fc.integer({ min: 0, max: 1 }),
          dilation: fc.integer({ min: 1, max: 2 }),
        }),
        fc.nat(100),
        async (c, seed) => {
          fc.pre(windowOutSize(c.hw, c.k, c.stride, c.pad, c.dilation) > 0);
          const b = new GraphBuilder();
          const x = b.input("x", "f32", [2, c.groups * c.cg, c.hw, c.hw + 1]);
          const w = b.input("w", "f32", [c.groups * c.og, c.cg, c.k, c.k]);
          const attrs = {
            stride: [c.stride, c.stride],
            pad: [c.pad, c.pad],
            dilation: [c.dilation, c.dilation],
            groups: c.groups,
          };
          b.output("y", b.op("conv2d", [x, w], attrs));
          await checkOnGpu(b.graph, {}, seed);
        },
      ),
      { numRuns: 6 },
    );
    // Six fresh kernels, each compiled cold by LLVM (lavapipe): seconds apiece on a busy machine.
  }, 240_000);

  it("runs fused groups: tiled epilogues and nested reductions", async () => {
    const { graph, groups } = fusableGraph();
    const plan = await checkOnGpu(graph, { grouping: { groups } });
    expect(plan.kernels).toHaveLength(3);
  });

  it("folds a grid past 65535 workgroups into y", async () => {
    const b = new GraphBuilder();
    b.output("y", b.op("neg", [b.input("x", "f32", [4200000])]));
    const plan = await checkOnGpu(b.graph);
    expect(plan.dispatches[0]!.grid[1]).toBeGreaterThan(1);
  });
});
