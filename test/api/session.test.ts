// The library API's session: weights read and uploaded once however many
// runs, dispose(), the default backend ("auto", with the adapter probe
// injected), notes returned rather than printed, and WebGPU's outputs against
// the CPU backend's. Uploads and weight reads are counted by spies on the
// runtime, not by the session's own counters.

import { afterAll, afterEach, describe, expect, inject, it, vi } from "vitest";
import type { Tensor } from "../../compiler/core/tensor.js";
import { closeGpu, compile, NncError } from "../../compiler/index.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { seededInput, seededParams } from "../../runtime/weights/seeded.js";
import { nncError } from "../nnc-error.js";

// Counts how often the seeded initializer runs: once per session, not per run.
vi.mock("../../runtime/weights/seeded.js", async (original) => {
  const m = await original<typeof import("../../runtime/weights/seeded.js")>();
  return { ...m, seededParams: vi.fn(m.seededParams) };
});

const gpu = inject("gpu");
const noAdapter = async () => ({ ok: false, detail: "test: no adapter here" });
const hasAdapter = async () => ({ ok: true, detail: "test: an adapter" });

const mlp = () => compile({ file: "examples/mlp.nn" }, { args: { hidden: 32 } });
const input = (n: number) =>
  new Map([["input", seededInput("input", [n, 784], { kind: "uniform", scale: 1 })]]);

/** SPEC.md §7's whole-model tolerance: |Δ| ≤ max(1e-5, 1e-4·max|cpu|) + 1e-3·|cpu|. */
function expectClose(got: Tensor, want: Tensor): void {
  expect(got.shape).toEqual(want.shape);
  const ref = want.data as Float32Array;
  const maxRef = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  const atol = Math.max(1e-5, 1e-4 * maxRef);
  const bad = [...(got.data as Float32Array)].filter(
    (v, i) => !(Math.abs(v - ref[i]!) <= atol + 1e-3 * Math.abs(ref[i]!)),
  );
  expect(bad).toEqual([]);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.mocked(seededParams).mockClear();
});
afterAll(() => closeGpu());

describe("a CPU session", () => {
  it("reads the weights once for any number of runs", async () => {
    const s = await mlp().session({ backend: "cpu", inputs: { input: { shape: [2, 784] } } });
    const first = await s.run(input(2));
    const second = await s.run(input(2));
    expect(vi.mocked(seededParams)).toHaveBeenCalledTimes(1);
    expect(second.get("output")!.data).toEqual(first.get("output")!.data);
    expect(s.stats).toEqual({ weightLoads: 1, uploads: 0, runs: 2 });
    s.dispose();
  });

  it("cannot run once disposed (NN7004)", async () => {
    const s = await mlp().session({ backend: "cpu", inputs: { input: { shape: [1, 784] } } });
    s.dispose();
    const e = await nncError(s.run(input(1)));
    expect(e.diagnostics[0]!.code).toBe("NN7004");
  });

  it("takes only the shapes it was opened for (NN6009, naming them)", async () => {
    const s = await mlp().session({ backend: "cpu", inputs: { input: { shape: [1, 784] } } });
    const e = await nncError(s.run(input(3)));
    expect(e.diagnostics[0]!.code).toBe("NN6009");
    expect(e.diagnostics[0]!.message).toMatch(/compiled for f32\[1, 784\]/);
  });
});

describe("the default backend", () => {
  it("is the CPU without an adapter, with one note returned, not printed", async () => {
    const notes: string[] = [];
    const stderr = vi.spyOn(process.stderr, "write");
    const s = await mlp().session({
      inputs: { input: { shape: [1, 784] } },
      weights: "seeded",
      probe: noAdapter,
      onNote: (t) => notes.push(t),
    });
    expect(s.backend).toBe("cpu");
    expect(notes).toEqual([
      expect.stringMatching(
        /^no WebGPU adapter \(test: no adapter here\); running on the CPU backend\. .*install-vulkan\.sh/,
      ),
    ]);
    expect(s.notes).toEqual(notes);
    expect(stderr).not.toHaveBeenCalled();
  });

  it("asks the probe only when it is to choose", async () => {
    const probe = vi.fn(noAdapter);
    const cpu = await mlp().session({ backend: "cpu", weights: "seeded", probe });
    expect(cpu.backend).toBe("cpu");
    expect(probe).not.toHaveBeenCalled();
  });

  it("says when the weights are seeded because none were given", async () => {
    const r = await mlp().run(input(1), { backend: "cpu" });
    expect(r.notes).toEqual([expect.stringMatching(/no weights given: using seeded weights/)]);
    const given = await mlp().run(input(1), { backend: "cpu", weights: "seeded" });
    expect(given.notes).toEqual([]);
  });

  it.skipIf(!gpu.ok)("is WebGPU where there is an adapter", async () => {
    const s = await mlp().session({
      inputs: { input: { shape: [1, 784] } },
      weights: "seeded",
      probe: hasAdapter,
    });
    expect(s.backend).toBe("webgpu");
    expect(s.notes).toEqual([]);
    s.dispose();
  });
});

describe.skipIf(!gpu.ok)(`a WebGPU session on ${gpu.detail}`, () => {
  it("allocates and uploads once, and runs as the CPU backend does", async () => {
    const allocate = vi.spyOn(GpuPlan, "allocate");
    const upload = vi.spyOn(GpuPlan.prototype, "uploadParams");
    const model = mlp();
    const shapes = { input: { shape: [4, 784] } };
    const s = await model.session({ backend: "webgpu", weights: "seeded", inputs: shapes });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await s.run(input(4)));
    expect(allocate).toHaveBeenCalledTimes(1);
    expect(upload).toHaveBeenCalledTimes(1);
    expect(vi.mocked(seededParams)).toHaveBeenCalledTimes(1);
    expect(s.stats).toEqual({ weightLoads: 1, uploads: 1, runs: 3 });
    // The plan is the model's own, cached per shape: the one plan() gives.
    expect(s.plan).toBe(model.plan(shapes));
    const cpu = await model.session({ backend: "cpu", weights: "seeded", inputs: shapes });
    const want = (await cpu.run(input(4))).get("output")!;
    for (const r of runs) expectClose(r.get("output")!, want);
    s.dispose();
  });

  it("frees its buffers on dispose(), once; run() on the model disposes its own", async () => {
    const dispose = vi.spyOn(GpuPlan.prototype, "dispose");
    const s = await mlp().session({ backend: "webgpu", weights: "seeded" });
    s.dispose();
    s.dispose();
    expect(dispose).toHaveBeenCalledTimes(1);
    expect((await nncError(s.run(input(1)))).diagnostics[0]!.code).toBe("NN7004");
    const r = await mlp().run(input(1), { backend: "webgpu", weights: "seeded" });
    expect(r.backend).toBe("webgpu");
    expect(dispose).toHaveBeenCalledTimes(2);
  });
});

describe("compile() reports source errors itself", () => {
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof NncError) return e.diagnostics[0]!.code;
      throw e;
    }
    return "returned";
  };

  it("a parse error, an unknown name, an unknown entry", () => {
    expect(codeOf(() => compile("model m()(x: f32[2]) {\n  x ->\n", { file: "m.nn" }))).toBe(
      "NN1001",
    );
    expect(
      codeOf(() => compile("model m()(x: f32[2]) {\n  x -> relu -> nosuch\n}\n", { file: "m.nn" })),
    ).toBe("NN2001");
    expect(
      codeOf(() =>
        compile("model m()(x: f32[2]) {\n  x -> relu\n}\n", { entry: "n", file: "m.nn" }),
      ),
    ).toBe("NN2006");
  });

  it("a shape error only at shapes the caller chose, not at unbound dims set to 1", async () => {
    const src = "model m()(x: f32[N, C, H, W]) {\n  x -> c: conv(4, 3)\n}\n";
    expect(codeOf(() => compile(src, { file: "m.nn" }))).toBe("returned");
    expect(
      codeOf(() => compile(src, { file: "m.nn", inputs: { x: { shape: [1, 3, 1, 1] } } })),
    ).toBe("NN4002");
    const x = seededInput("x", [1, 3, 8, 8], { kind: "uniform", scale: 1 });
    const r = await compile(src, { file: "m.nn" }).run(new Map([["x", x]]), {
      backend: "cpu",
      weights: "seeded",
    });
    expect(r.outputs.get("output")!.shape).toEqual([1, 4, 6, 6]);
  });
});
