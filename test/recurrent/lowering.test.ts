// Recurrences on a kernel backend, checked without a GPU: a scan lowers to a
// loop (its body's kernels once, dispatched per step), the Kernel IR
// interpreter agrees with the CPU reference at every optimization setting,
// and the recurrence passes (scan-hoist, scan-fuse, scan-persistent) do what
// inspect says they did.

import { describe, expect, it } from "vitest";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import { STEP_SLOT_BYTES } from "../../compiler/codegen/wgsl/wgsl-step.js";
import { compile } from "../../compiler/compile.js";
import type { Graph, GraphNode } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { printCond } from "../../compiler/kernels/expr.js";
import { interpretProgram } from "../../compiler/kernels/interpret.js";
import { type KernelProgram, programFromJson, programToJson } from "../../compiler/kernels/ir.js";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import { loadedParams, withDerived } from "../../compiler/passes/prep.js";
import { persistentChoice } from "../../compiler/passes/scan-schedule.js";
import { type OptimizeOptions, passNames } from "../../compiler/pipeline/index.js";
import { namedTarget } from "../../compiler/target/target.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import {
  compileCase,
  expectAllClose,
  label,
  optimizedGraph,
  type RnnCase,
  seededInputs,
  specs,
  withState,
} from "./helpers.js";

const cases: RnnCase[] = [
  { entry: "rnn", args: { hidden: "6", nonlinearity: "relu" }, shapes: { input: [2, 4, 3] } },
  {
    entry: "lstm",
    args: { hidden: "8", layers: "2", bidirectional: "true" },
    shapes: { input: [2, 5, 4] },
  },
  { entry: "gru", args: { hidden: "12", layers: "2" }, shapes: { input: [3, 4, 5] } },
  { entry: "lstm", args: { hidden: "6" }, shapes: { input: [1, 3, 2] } },
];

const settings: [string, OptimizeOptions][] = [
  ["-O1", {}],
  ["-O0", { level: 0 }],
  ["scan-persistent off", { disable: ["scan-persistent"] }],
  ["scan-fuse off", { disable: ["scan-fuse"] }],
  ["scan-hoist off", { disable: ["scan-hoist"] }],
];

/** The Kernel IR interpreter's outputs (the program round-tripped through JSON) and the reference's. */
function bothWays(g: Graph, inputs: ReturnType<typeof seededInputs>) {
  const params = withDerived(g, seededParams(loadedParams(g)));
  const program = programFromJson(programToJson(lowerGraph(g)));
  return {
    program,
    got: interpretProgram(program, inputs, params),
    want: runGraph(g, inputs, params),
  };
}

const loopKernels = (p: KernelProgram) => p.kernels.filter((k) => k.loop !== undefined);
const scansOf = (g: Graph) => g.nodes.filter((n) => n.op === "scan");
const scheduleOf = (n: GraphNode) =>
  n.attrs.schedule as { fused: boolean; persistent: boolean; why: string } | undefined;

describe("a scan lowers to a loop over one copy of its body", () => {
  for (const [name, opt] of [
    ["-O0", { level: 0 }],
    ["-O1", {}],
  ] as const) {
    it(`the kernel count does not grow with the sequence (${name})`, () => {
      const c: RnnCase = {
        entry: "lstm",
        args: { hidden: "5", layers: "2", bidirectional: "true" },
        shapes: { input: [2, 3, 4] },
      };
      const short = lowerGraph(optimizedGraph(c, opt));
      const long = lowerGraph(optimizedGraph({ ...c, shapes: { input: [2, 17, 4] } }, opt));
      expect(long.kernels.length).toBe(short.kernels.length);
      expect(loopKernels(long).length).toBeGreaterThan(0);
      for (const k of loopKernels(long)) expect(k.loop!.steps).toBe(17);
      // Four scans (2 layers × 2 directions), one loop each.
      expect(new Set(loopKernels(long).map((k) => k.loop!.id)).size).toBe(4);
    });
  }

  it("dispatches each loop's kernels once per step, the step from a uniform slot", () => {
    const c: RnnCase = { entry: "gru", args: { hidden: "8" }, shapes: { input: [2, 6, 3] } };
    const program = lowerGraph(optimizedGraph(c, { level: 0 }));
    const plan = emitPlan(program);
    const body = loopKernels(program);
    const others = program.kernels.length - body.length;
    expect(plan.dispatches.length).toBe(others + 6 * body.length);
    const steps = plan.buffers.find((b) => b.name === "scan steps")!;
    expect(steps.bytes).toBe(6 * STEP_SLOT_BYTES);
    const offsets = plan.dispatches
      .filter((d) => d.dynamicOffsets)
      .map((d) => d.dynamicOffsets![0]! / STEP_SLOT_BYTES);
    expect(offsets.filter((s) => s === 5)).toHaveLength(body.length);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    const k = plan.kernels[plan.dispatches.find((d) => d.dynamicOffsets)!.kernel]!;
    expect(k.bindings.at(-1)).toMatchObject({ access: "uniform", dynamicOffset: true, size: 16 });
    expect(k.wgsl).toContain("let step = nnc_step.s;");
  });

  it("gives a persistent recurrence one dispatch and no step uniform", () => {
    const c: RnnCase = { entry: "lstm", args: { hidden: "8" }, shapes: { input: [1, 9, 3] } };
    const program = lowerGraph(optimizedGraph(c));
    const [k, ...rest] = loopKernels(program);
    expect(rest).toEqual([]);
    expect(k!.loop!.persistent).toBe(true);
    expect(k!.grid).toEqual([1, 1, 1]);
    const plan = emitPlan(program);
    expect(plan.dispatches.filter((d) => d.kernel === program.kernels.indexOf(k!))).toHaveLength(1);
    expect(plan.buffers.some((b) => b.name === "scan steps")).toBe(false);
    // The state (h and c of 1 × 8) double-buffered in workgroup memory, one barrier a step.
    expect(k!.loop!.state).toBe(16);
    const wgsl = plan.kernels[program.kernels.indexOf(k!)]!.wgsl;
    expect(wgsl).toContain("var<workgroup> nnc_state: array<f32, 32>;");
    expect(wgsl).toContain("workgroupBarrier()");
  });
});

describe("the Kernel IR of a recurrence agrees with the CPU reference", () => {
  for (const base of cases) {
    for (const c of [base, withState(base)]) {
      for (const [name, opt] of settings) {
        it(`${label(c)} ${name}`, () => {
          const g = optimizedGraph(c, opt);
          const { got, want } = bothWays(g, seededInputs(c.shapes));
          expectAllClose(got, want);
        });
      }
    }
  }
});

describe("a scan's FLOPs", () => {
  it("are its body's contractions once per step (the peers' LSTM count)", () => {
    const c: RnnCase = { entry: "lstm", args: { hidden: "512" }, shapes: { input: [1, 64, 256] } };
    // 2 · 4H · (I + H) · T, hoisted projection and recurrence alike.
    for (const opt of [{}, { level: 0 as const }])
      expect(compileCase(c, opt).summary(specs(c.shapes)).flops).toBe(2 * 2048 * (256 + 512) * 64);
  });
});

describe("scan-hoist", () => {
  const c: RnnCase = { entry: "lstm", args: { hidden: "8" }, shapes: { input: [2, 7, 3] } };

  it("computes the input projection for all steps at once, outside the scan", () => {
    const g = optimizedGraph(c);
    const [scan] = scansOf(g);
    const outer = g.nodes.find((n) => n.op === "matmul")!;
    expect(outer.type.shape).toEqual([7, 2, 32]);
    const seq = g.nodes[scan!.inputs[0]!]!;
    // The projection with both biases (pre-added: one derived weight) is the scan's sequence.
    expect(seq.op).toBe("add");
    expect(seq.inputs).toContain(outer.id);
    expect(scan!.attrs.seqAxes).toEqual([0]);
    const body = scan!.attrs.body as Graph;
    expect(body.nodes.filter((n) => n.op === "matmul")).toHaveLength(1);
    // W_hhᵀ and b_ih + b_hh are folded when the weights are bound.
    expect(g.prep!.nodes.map((n) => n.op)).toEqual(
      expect.arrayContaining(["permute", "permute", "add"]),
    );
  });

  it("drops an output that repeats the state (LSTM's h), its readers re-pointed", () => {
    const raw = compileCase(c, { level: 0 }).optimized(specs(c.shapes));
    const opt = optimizedGraph(c);
    const outputsOf = (g: Graph) => (scansOf(g)[0]!.attrs.body as Graph).outputs.map((o) => o.name);
    expect(outputsOf(raw)).toEqual(["state.h", "state.c", "out"]);
    expect(outputsOf(opt)).toEqual(["state.h", "state.c"]);
  });

  it("is off at -O0 and by name", () => {
    for (const opt of [{ level: 0 as const }, { disable: ["scan-hoist"] }]) {
      const g = optimizedGraph(c, opt);
      expect(g.nodes.some((n) => n.op === "matmul")).toBe(false);
    }
  });
});

describe("scan-fuse and scan-persistent", () => {
  it("are registered passes, off at -O0", () => {
    expect(passNames).toEqual(
      expect.arrayContaining(["scan-hoist", "scan-fuse", "scan-persistent"]),
    );
    const c: RnnCase = { entry: "gru", args: { hidden: "8" }, shapes: { input: [2, 4, 3] } };
    expect(scheduleOf(scansOf(optimizedGraph(c, { level: 0 }))[0]!)).toBeUndefined();
    const fused = lowerGraph(optimizedGraph(c, { disable: ["scan-persistent"] }));
    expect(loopKernels(fused)).toHaveLength(1);
    // The one step kernel also stores straight into the model's outputs: the
    // sequence [N, T, H] every step, h_n [layers, N, H] at the last (T = 4).
    const step = loopKernels(fused)[0]!;
    const output = (name: string) => fused.outputs.find((o) => o.name === name)!.buffer;
    expect(
      step.stores!.map((s) => {
        const b = step.bindings[s.binding]!;
        return [b.buffer, b.shape, s.when && printCond(s.when)];
      }),
    ).toEqual([
      [output("output"), [2, 4, 8], undefined],
      [output("h_n"), [1, 2, 8], "step >= 3"],
    ]);
    const perNode = lowerGraph(optimizedGraph(c, { disable: ["scan-fuse"] }));
    expect(loopKernels(perNode).length).toBeGreaterThan(3);
  });

  it("does not fuse a step whose contractions feed each other, and says why", () => {
    const src = `
def cell(w1, w2)(x, h) { prim.tanh(prim.tanh(h @ w1) @ w2 + x) }
layer deep(hidden: int = 8)(input) {
  let w1 = param "w1": [hidden, hidden]
  let w2 = param "w2": [hidden, hidden]
  scan(cell(w1=w1, w2=w2), input, init=zeros([input.shape[0], hidden]), axis=1).out
}`;
    const m = compile(src, { file: "deep.nn", entry: "deep" });
    const shapes = { input: [2, 5, 8] };
    const g = m.optimized(specs(shapes));
    const s = scheduleOf(scansOf(g)[0]!)!;
    expect(s.fused).toBe(false);
    expect(s.why).toMatch(/reads another contraction/);
    expect(m.inspect("opt", specs(shapes))).toContain("not fused: %");
    const { got, want } = bothWays(g, seededInputs(shapes));
    expectAllClose(got, want);
  });

  it("chooses the persistent kernel by the cost model, and inspect shows why", () => {
    const small: RnnCase = {
      entry: "lstm",
      args: { hidden: "32" },
      shapes: { input: [2, 64, 16] },
    };
    const large: RnnCase = {
      entry: "lstm",
      args: { hidden: "512" },
      shapes: { input: [1, 64, 16] },
    };
    const s = scheduleOf(scansOf(optimizedGraph(small))[0]!)!;
    expect(s).toMatchObject({ fused: true, persistent: true });
    expect(s.why).toMatch(/^persistent: 64 steps of [\d,]+ FLOP/);
    const l = scheduleOf(scansOf(optimizedGraph(large))[0]!)!;
    expect(l).toMatchObject({ fused: true, persistent: false });
    expect(l.why).toMatch(/dispatched per step/);
    const text = compileCase(small).inspect("kernels", specs(small.shapes));
    expect(text).toMatch(/recurrence loop 0, persistent: all 64 steps in this one dispatch/);
    const text2 = compileCase(large).inspect("kernels", specs(large.shapes));
    expect(text2).toMatch(
      /recurrence loop 0, dispatched once per step, 64 steps .* — fused step, dispatched per step: 64 steps of/,
    );
    expect(compileCase(large).inspect("opt", specs(large.shapes))).toMatch(
      /schedule=\{fused=true, persistent=false, why="fused step, dispatched per step/,
    );
  });

  it("keeps a state larger than workgroup memory out of a persistent kernel", () => {
    const c: RnnCase = { entry: "gru", args: { hidden: "16" }, shapes: { input: [512, 3, 4] } };
    const g = optimizedGraph(c);
    const body = scansOf(g)[0]!.attrs.body as Graph;
    const lavapipe = namedTarget("lavapipe");
    const choice = persistentChoice(body, 1, 3, lavapipe);
    expect(16 * 512 * 4).toBeGreaterThan(lavapipe.limits.maxComputeWorkgroupStorageSize);
    expect(choice.persistent).toBe(false);
    expect(choice.why).toMatch(/does not fit in workgroup memory/);
  });
});
