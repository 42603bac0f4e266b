// The lowering pass as a whole: what gets a kernel and a buffer, device
// limits (storage buffers per kernel, binding size, grid folding), the text
// and JSON forms, and the compile()/CLI entry points.

import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import { compile } from "../../compiler/compile.js";
import { NncError } from "../../compiler/core/diagnostics.js";
import { programFromJson, programToJson } from "../../compiler/kernels/ir.js";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import { printKernels } from "../../compiler/kernels/print.js";
import { gridFor, MAX_WORKGROUPS_PER_DIM } from "../../compiler/kernels/schedule.js";
import { ops } from "../../compiler/ops/index.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { checkLowering, fusableGraph } from "./helpers.js";

// The unoptimized graph: these tests check lowering one primitive per kernel, not the optimizer.
const lenet = () => compile({ file: "examples/lenet5.nn" }, { optimize: { level: 0 } });

describe("lowering a model", () => {
  it("gives every compute node one kernel and inlines movement ops", () => {
    const g = lenet().graph;
    const program = lowerGraph(g);
    const compute = g.nodes.filter(
      (n) => !["input", "param", "const", "reshape", "permute"].includes(n.op),
    );
    expect(program.kernels.map((k) => k.root)).toEqual(compute.map((n) => n.id));
    expect(program.buffers.filter((b) => b.source.kind === "computed")).toHaveLength(
      compute.length,
    );
  });

  it("prints kernels with their source ops", () => {
    const text = lenet().inspect("kernels");
    expect(text).toContain(
      "kernel k0_conv2d  wg=(64,1,1) grid=(7,1,1) tiled(m=c×4, n=w×4)  from %3 conv2d @ stdlib/nn.nn:26:11 (conv1)\n" +
        "  in0 = b0 input, in1 = b2 conv1.weight, out = b1\n" +
        "  out[n, c, h, w] = sum[kh<5, kw<5](in0[n, 0, h + kh, w + kw] * in1[c, 0, kh, kw])",
    );
    expect(text).toContain(
      "from %19 matmul @ stdlib/nn.nn:13:11 (fc1) + %15 reshape, %18 permute\n" +
        "  in0 = b12 %14 pool2d, in1 = b14 fc1.weight, out = b13\n" +
        "  out[i, j] = sum[k<400](in0[0, k / 25, k / 5 % 5, k % 5] * in1[j, k])",
    );
    expect(text).toContain(
      "out[n, c, h, w] = sum[kh<2, kw<2](in0[n, c, h * 2 + kh, w * 2 + kw]) / 4",
    );
  });

  it("round-trips through JSON and its schema, infinities included", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [1, 2, 5, 5]);
    const p = b.op("pad", [x], {
      pads: [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      value: Number.NEGATIVE_INFINITY,
    });
    b.output("y", b.op("pool2d", [p], { kind: "max", kernel: [3, 3], stride: [2, 2] }));
    for (const program of [lowerGraph(b.graph), lowerGraph(lenet().graph)]) {
      const back = programFromJson(programToJson(program));
      expect(printKernels(back)).toBe(printKernels(program));
    }
    checkLowering(b.graph);
  });

  it("does not upload i64 buffers no kernel reads", () => {
    const m = compile("model bn()(x: f32[1, 3, 4, 4]) { x -> batchnorm }", { file: "bn.nn" });
    const program = lowerGraph(m.graph);
    expect(m.graph.params.map((p) => p.name)).toContain("num_batches_tracked");
    expect(program.params.map((p) => p.name).sort()).toEqual([
      "bias",
      "running_mean",
      "running_var",
      "weight",
    ]);
    expect(program.buffers.some((buf) => buf.dtype === "i64")).toBe(false);
  });

  it("copies an output that is an input or a movement op", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [2, 3]);
    b.output("same", x);
    b.output("t", b.op("permute", [x], { perm: [1, 0] }));
    const program = lowerGraph(b.graph);
    expect(program.kernels).toHaveLength(2);
    expect(program.outputs[0]!.buffer).not.toBe(program.inputs[0]!.buffer);
    checkLowering(b.graph);
  });
});

describe("fused groups", () => {
  it("hold a contraction with its epilogue and chains of reductions", () => {
    const { graph, groups } = fusableGraph();
    const program = lowerGraph(graph, { grouping: { groups } });
    expect(program.kernels).toHaveLength(3);
    const text = printKernels(program);
    expect(text).toContain(
      "out[n, c, h, w] = relu(sum[kh<3, kw<3, ci<3](where(h + kh >= 1 && h + kh < 8 && w + kw >= 1 && w + kw < 10, in0[n, ci, h + kh - 1, w + kw - 1], 0) * in1[c, ci, kh, kw]) + in2[c])",
    );
    expect(program.kernels.map((k) => k.schedule.kind)).toEqual(["tiled", "tiled", "rows"]);
    checkLowering(graph, { grouping: { groups } });
  });
});

describe("recurrences", () => {
  it("every primitive but scan has a kernel lowering; scan lowers to a loop (scan-lower.ts)", () => {
    const missing = [...ops.values()]
      .filter((op) => op.category !== "source" && op.lower === undefined)
      .map((op) => op.name);
    expect(missing).toEqual(["scan"]);
  });

  it("lowers scans to loops the Kernel IR interpreter runs step by step", () => {
    const cases: [string, Record<string, string | number>, number[]][] = [
      ["lstm", { hidden: 5, layers: 2, bidirectional: "true" }, [2, 3, 4]],
      ["gru", { hidden: 3 }, [1, 4, 2]],
    ];
    for (const [entry, args, shape] of cases) {
      const m = compile({ stdlib: "rnn" }, { entry, args });
      const g = m.elaborate({ input: { shape } }).graph;
      expect(g.nodes.some((n) => n.op === "scan")).toBe(true);
      checkLowering(g);
    }
  });
});

describe("device limits", () => {
  /** concat of `n` inputs, then relu: the relu kernel would read every input. */
  function wideConcat(n: number) {
    const b = new GraphBuilder();
    const parts = Array.from({ length: n }, (_, i) => b.input(`x${i}`, "f32", [2, i + 1, 3]));
    const cat = b.op("concat", parts, { axis: 1 });
    b.output("y", b.op("relu", [b.op("neg", [cat])]));
    return b.graph;
  }

  it("keeps every kernel within the storage buffer limit", () => {
    for (const limit of [8, 4, 2]) {
      const g = wideConcat(11);
      const program = lowerGraph(g, { maxStorageBuffers: limit });
      for (const k of program.kernels) expect(k.bindings.length).toBeLessThanOrEqual(limit);
      checkLowering(g, { maxStorageBuffers: limit });
    }
    const plan = emitPlan(lowerGraph(wideConcat(11), { maxStorageBuffers: 16 }), {
      maxStorageBuffers: 16,
    });
    expect(plan.requiredLimits.maxStorageBuffersPerShaderStage).toBe(12);
  });

  it("refuses a tensor larger than a storage binding may be", () => {
    const b = new GraphBuilder();
    b.output("y", b.op("neg", [b.input("x", "f32", [1, 64, 1024, 1024])]));
    const program = lowerGraph(b.graph);
    let error: unknown;
    try {
      emitPlan(program);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NncError);
    expect((error as NncError).code).toBe("NN5007");
    expect((error as NncError).message).toMatch(
      /^NN5007: x f32\[1, 64, 1024, 1024\] is 256\.0 MiB, more than the largest storage binding the device allows \(128\.0 MiB\)/,
    );
    expect(() => emitPlan(program, { maxStorageBufferBindingSize: 1 << 30 })).not.toThrow();
  });

  it("folds grids past 65535 workgroups into y and z", () => {
    for (const threads of [1, 64 * 65535, 64 * 65535 + 1, 64 * 65535 * 3 + 17, 2 ** 31 - 1]) {
      const [x, y, z] = gridFor(threads);
      expect(Math.max(x, y, z)).toBeLessThanOrEqual(MAX_WORKGROUPS_PER_DIM);
      expect(x * y * z * 64).toBeGreaterThanOrEqual(threads);
      expect((x * y * z - Math.max(x, 1)) * 64).toBeLessThan(threads + x * 64);
    }
    const b = new GraphBuilder();
    b.output("y", b.op("neg", [b.input("x", "f32", [4200000])]));
    const plan = emitPlan(lowerGraph(b.graph));
    expect(plan.dispatches[0]!.grid[1]).toBe(2);
    expect(plan.kernels[0]!.wgsl).toContain("let gid = i32((wid.y * 32813u + wid.x) * 64u + lid);");
    expect(plan.kernels[0]!.wgsl).toContain("if (gid >= 4200000) { return; }");
  });
});

describe("compile() and the CLI", () => {
  it("gives the executable plan, cached per input shape", () => {
    const m = lenet();
    const plan = m.plan();
    expect(m.plan()).toBe(plan);
    expect(plan.kernels).toHaveLength(16);
    expect(plan.dispatches.map((d) => d.kernel)).toEqual(plan.kernels.map((_, i) => i));
    expect(plan.inputs).toEqual([{ name: "input", buffer: 0 }]);
    expect(plan.params.map((p) => p.name)).toContain("fc3.bias");
    const batch4 = m.plan({ input: { shape: [4, 1, 32, 32] } });
    expect(batch4).not.toBe(plan);
    expect(batch4.buffers[0]!.shape).toEqual([4, 1, 32, 32]);
  });

  it("inspects the kernels and the WGSL stages", async () => {
    for (const stage of ["kernels", "wgsl"]) {
      let out = "";
      let err = "";
      const code = await main(
        ["inspect", "examples/lenet5.nn", "--stage", stage, "--shape", "input=2x1x32x32"],
        {
          out: (t) => (out += t),
          err: (t) => (err += t),
        },
      );
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(out).toContain(
        // Fused (the default): conv+bias+sigmoid, pool, …, the last linear's matmul+bias.
        stage === "wgsl" ? "@compute @workgroup_size(64, 1, 1)" : "kernel k6_add",
      );
    }
  });
});
