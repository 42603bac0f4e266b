// GpuPlan on hand-written plans: round trips, kernels with known results,
// dtype conversion on readback, and errors that name the kernel. Skipped
// when this machine has no WebGPU adapter (see test/global-setup.ts).

import { afterAll, describe, expect, inject, it } from "vitest";
import type { NncError } from "../../compiler/core/diagnostics.js";
import { type Tensor, tensorOf } from "../../compiler/core/tensor.js";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { nncError } from "../nnc-error.js";
import { addWgsl, buffer, compareWgsl, kernel, plan, sumWgsl } from "./plans.js";

const gpu = inject("gpu");

const f32 = (shape: number[], v: number[]) => tensorOf("f32", shape, v);
const ins = (o: Record<string, Tensor>) => new Map(Object.entries(o));

describe.skipIf(!gpu.ok)(`GpuPlan on ${gpu.detail}`, () => {
  afterAll(async () => {
    await closeGpu();
  });

  it("round-trips f32, i32 and bool buffers with no kernel", async () => {
    const p = await GpuPlan.create(
      plan(
        [
          buffer(0, "x", "f32", [3], { kind: "input", name: "x" }),
          buffer(1, "i", "i32", [2, 2], { kind: "input", name: "i" }),
          buffer(2, "m", "bool", [5], { kind: "input", name: "m" }),
        ],
        [],
        [],
        {
          outputs: [
            { name: "x", buffer: 0 },
            { name: "i", buffer: 1 },
            { name: "m", buffer: 2 },
          ],
        },
      ),
    );
    const out = await p.run(
      ins({
        x: f32([3], [1.5, -2, 3e-8]),
        i: tensorOf("i32", [2, 2], [-7, 0, 2147483647, -2147483648]),
        m: tensorOf("bool", [5], [1, 0, 0, 1, 1]),
      }),
    );
    expect([...out.get("x")!.data]).toEqual([...Float32Array.from([1.5, -2, 3e-8])]);
    expect(out.get("i")).toEqual(tensorOf("i32", [2, 2], [-7, 0, 2147483647, -2147483648]));
    expect(out.get("m")).toEqual(tensorOf("bool", [5], [1, 0, 0, 1, 1]));
    p.dispose();
  });
  it("runs add then a workgroup reduction, with the weight uploaded once", async () => {
    const n = 1000;
    const p = await GpuPlan.create(
      plan(
        [
          buffer(0, "x", "f32", [n], { kind: "input", name: "x" }),
          buffer(1, "w", "f32", [n], { kind: "param", name: "w" }),
          buffer(2, "%2 add", "f32", [n]),
          buffer(3, "%3 sum", "f32", []),
        ],
        [
          kernel("add", addWgsl(n), ["read", "read", "read_write"]),
          kernel("sum", sumWgsl(n), ["read", "read_write"]),
        ],
        [
          { kernel: 0, grid: [Math.ceil(n / 64), 1, 1], buffers: [0, 1, 2] },
          { kernel: 1, grid: [1, 1, 1], buffers: [2, 3] },
        ],
        {
          outputs: [
            { name: "y", buffer: 2 },
            { name: "total", buffer: 3 },
          ],
        },
      ),
    );
    const x = Array.from({ length: n }, (_, i) => i);
    p.uploadParams(ins({ w: f32([n], new Array(n).fill(0.5)) }));
    for (const scale of [1, 2]) {
      const out = await p.run(
        ins({
          x: f32(
            [n],
            x.map((v) => v * scale),
          ),
        }),
      );
      expect(out.get("y")!.data[999]).toBe(999 * scale + 0.5);
      expect(out.get("total")!.shape).toEqual([]);
      expect(out.get("total")!.data[0]).toBe((scale * n * (n - 1)) / 2 + n / 2);
    }
    p.dispose();
  });

  it("reads back bool (u32 on the device) and i32 results", async () => {
    const p = await GpuPlan.create(
      plan(
        [
          buffer(0, "x", "f32", [4], { kind: "input", name: "x" }),
          buffer(1, "%1 gt", "bool", [4]),
          buffer(2, "%2 mul", "i32", [4]),
        ],
        [kernel("cmp", compareWgsl(4, 1), ["read", "read_write", "read_write"])],
        [{ kernel: 0, grid: [1, 1, 1], buffers: [0, 1, 2] }],
        {
          outputs: [
            { name: "gt", buffer: 1 },
            { name: "k", buffer: 2 },
          ],
        },
      ),
    );
    const out = await p.run(ins({ x: f32([4], [0.5, 1.5, -3, 7]) }));
    expect(out.get("gt")).toEqual(tensorOf("bool", [4], [0, 1, 0, 1]));
    expect(out.get("k")).toEqual(tensorOf("i32", [4], [0, 3, -9, 21]));
    p.dispose();
  });

  it("uploads from SharedArrayBuffer-backed inputs", async () => {
    const p = await GpuPlan.create(
      plan([buffer(0, "x", "f32", [4], { kind: "input", name: "x" })], [], [], {
        outputs: [{ name: "x", buffer: 0 }],
      }),
    );
    const data = new Float32Array(new SharedArrayBuffer(32), 8, 4);
    data.set([1, 2, 3, 4]);
    const out = await p.run(ins({ x: { dtype: "f32", shape: [4], data } }));
    expect([...out.get("x")!.data]).toEqual([1, 2, 3, 4]);
    p.dispose();
  });

  it("shares one pipeline between kernels with the same WGSL", async () => {
    const k = kernel("add", addWgsl(4), ["read", "read", "read_write"]);
    const p = await GpuPlan.create(
      plan(
        [
          buffer(0, "x", "f32", [4], { kind: "input", name: "x" }),
          buffer(1, "a", "f32", [4]),
          buffer(2, "b", "f32", [4]),
        ],
        [k, { ...k, name: "add_again" }],
        [
          { kernel: 0, grid: [1, 1, 1], buffers: [0, 0, 1] },
          { kernel: 1, grid: [1, 1, 1], buffers: [1, 1, 2] },
        ],
        { outputs: [{ name: "b", buffer: 2 }] },
      ),
    );
    const before = p.gpu.pipelines.size;
    const out = await p.run(ins({ x: f32([4], [1, 2, 3, 4]) }));
    expect([...out.get("b")!.data]).toEqual([4, 8, 12, 16]);
    const again = await GpuPlan.create(p.plan);
    expect(p.gpu.pipelines.size).toBe(before);
    again.dispose();
    p.dispose();
  });

  it("shares one pipeline between kernels whose WGSL differs only in comments", async () => {
    const code = addWgsl(7);
    const a = kernel("add", `// add: %3 add @ model.nn:1:1 (block1)\n${code}`, [
      "read",
      "read",
      "read_write",
    ]);
    const b = kernel("add_too", `// add_too: %9 add @ model.nn:2:1 (block2)\n${code} /* same */`, [
      "read",
      "read",
      "read_write",
    ]);
    const before = (await GpuPlan.create(plan([buffer(0, "x", "f32", [1])], [], [], {}))).gpu
      .pipelines.size;
    const p = await GpuPlan.create(
      plan(
        [
          buffer(0, "x", "f32", [7], { kind: "input", name: "x" }),
          buffer(1, "a", "f32", [7]),
          buffer(2, "b", "f32", [7]),
        ],
        [a, b],
        [
          { kernel: 0, grid: [1, 1, 1], buffers: [0, 0, 1] },
          { kernel: 1, grid: [1, 1, 1], buffers: [1, 1, 2] },
        ],
        { outputs: [{ name: "b", buffer: 2 }] },
      ),
    );
    // One new pipeline for the two kernels.
    expect(p.gpu.pipelines.size).toBe(before + 1);
    const out = await p.run(ins({ x: f32([7], [1, 2, 3, 4, 5, 6, 7]) }));
    expect([...out.get("b")!.data]).toEqual([4, 8, 12, 16, 20, 24, 28]);
    p.dispose();
  });

  it("runs a plan split over three devices as it runs on one", async () => {
    // a = x + w, b = a + w, c = b + a, d = c + x: d = 3x + 3w, cut so that a
    // crosses two cuts and x and w are read on both sides of one.
    const n = 100;
    const k = kernel("add", addWgsl(n), ["read", "read", "read_write"]);
    const whole = plan(
      [
        buffer(0, "x", "f32", [n], { kind: "input", name: "x" }),
        buffer(1, "w", "f32", [n], { kind: "param", name: "w" }),
        buffer(2, "a", "f32", [n]),
        buffer(3, "b", "f32", [n]),
        buffer(4, "c", "f32", [n]),
        buffer(5, "d", "f32", [n]),
      ],
      [k],
      [
        { kernel: 0, grid: [2, 1, 1], buffers: [0, 1, 2] },
        { kernel: 0, grid: [2, 1, 1], buffers: [2, 1, 3] },
        { kernel: 0, grid: [2, 1, 1], buffers: [3, 2, 4] },
        { kernel: 0, grid: [2, 1, 1], buffers: [4, 0, 5] },
      ],
      {
        outputs: [
          { name: "d", buffer: 5 },
          { name: "a", buffer: 2 },
        ],
      },
    );
    const x = Array.from({ length: n }, (_, i) => i - 50);
    const w = Array.from({ length: n }, (_, i) => 0.5 * i);
    for (const parts of [1, 3]) {
      const p = await GpuPlan.create(whole, { parts });
      expect(p.devices).toBe(parts);
      p.uploadParams(new Map([["w", f32([n], w)]]));
      for (let run = 0; run < 2; run++) {
        const out = await p.run(ins({ x: f32([n], x) }));
        expect([...out.keys()].sort()).toEqual(["a", "d"]);
        expect([...out.get("d")!.data]).toEqual(x.map((v, i) => 3 * v + 3 * w[i]!));
        expect([...out.get("a")!.data]).toEqual(x.map((v, i) => v + w[i]!));
      }
      const ms = await p.profile(ins({ x: f32([n], x) }));
      if (ms) expect(ms).toHaveLength(4);
      p.dispose();
    }
  });

  it("names the kernel and its source when its WGSL does not compile", async () => {
    const bad = kernel("broken_relu", "@compute @workgroup_size(1) fn main() { let x = ; }", []);
    const e = await nncError(
      GpuPlan.create(
        plan(
          [buffer(0, "x", "f32", [1])],
          [bad],
          [{ kernel: 0, grid: [1, 1, 1], buffers: [] }],
          {},
        ),
      ),
    );
    expect(e.code).toBe("NN7003");
    expect(e.message).toMatch(
      /kernel 0 `broken_relu` \(%7 at test\.nn:11:1\) does not compile: WGSL 1:/,
    );
  });

  it("names the kernel when its WGSL and the plan's bindings disagree", async () => {
    // binding 2 is read_write in the shader but declared read-only in the plan
    const k = kernel("add", addWgsl(4), ["read", "read", "read"]);
    const e = await nncError(
      GpuPlan.create(
        plan(
          [0, 1, 2].map((i) => buffer(i, `b${i}`, "f32", [4])),
          [k],
          [{ kernel: 0, grid: [1, 1, 1], buffers: [0, 1, 2] }],
          {},
        ),
      ),
    );
    expect(e.code).toBe("NN7003");
    expect(e.message).toContain("kernel 0 `add`");
  });

  it("attributes an error found at submit to its kernel", async () => {
    // the same buffer bound read-only and writable in one dispatch is caught when encoding
    const k = kernel("add", addWgsl(4), ["read", "read", "read_write"]);
    const p = await GpuPlan.create(
      plan(
        [buffer(0, "x", "f32", [4], { kind: "input", name: "x" }), buffer(1, "y", "f32", [4])],
        [kernel("fine", addWgsl(4), ["read", "read", "read_write"]), { ...k, name: "aliased" }],
        [
          { kernel: 0, grid: [1, 1, 1], buffers: [0, 0, 1] },
          { kernel: 1, grid: [1, 1, 1], buffers: [1, 0, 1] },
        ],
        { outputs: [{ name: "y", buffer: 1 }] },
      ),
    );
    const e = await nncError(p.run(ins({ x: f32([4], [1, 2, 3, 4]) })));
    expect(e.code).toBe("NN7003");
    expect(e.message).toContain("kernel 1 `aliased`");
    expect(e.message).toContain("dispatch 1");
    p.dispose();
  });

  it("refuses a kernel with more storage buffers than the adapter allows", async () => {
    const n = 40;
    const decls = Array.from(
      { length: n },
      (_, i) => `@group(0) @binding(${i}) var<storage, read_write> b${i}: array<f32>;`,
    );
    const k = kernel(
      "wide_concat",
      `${decls.join("\n")}\n@compute @workgroup_size(1) fn main() {}`,
      new Array(n).fill("read_write"),
    );
    const e = await nncError(
      GpuPlan.create(
        plan(
          Array.from({ length: n }, (_, i) => buffer(i, `b${i}`, "f32", [1])),
          [k],
          [{ kernel: 0, grid: [1, 1, 1], buffers: Array.from({ length: n }, (_, i) => i) }],
          {},
        ),
      ),
    );
    expect(e.code).toBe("NN7002");
    expect(e.message).toMatch(
      /kernel 0 `wide_concat` \(.*\) binds 40 storage buffers; this adapter allows \d+ per shader stage/,
    );
  });

  it("refuses a binding larger than maxStorageBufferBindingSize before allocating it", async () => {
    const huge = 2 ** 31; // 8 GiB of f32: past every adapter's binding limit
    const k = kernel("add", addWgsl(4), ["read", "read", "read_write"]);
    const e = await nncError(
      GpuPlan.create(
        plan(
          [
            buffer(0, "%0 huge", "f32", [huge]),
            buffer(1, "b", "f32", [4]),
            buffer(2, "c", "f32", [4]),
          ],
          [k],
          [{ kernel: 0, grid: [1, 1, 1], buffers: [0, 1, 2] }],
          {},
        ),
      ),
    );
    expect(e.code).toBe("NN7002");
    expect(e.message).toMatch(
      /kernel 0 `add` .* binds buffer 0 `%0 huge` \[2147483648\] \(8,589,934,592 bytes\) at @binding\(0\); this adapter allows at most [\d,]+ bytes per storage binding/,
    );
  });

  it("refuses a grid past maxComputeWorkgroupsPerDimension", async () => {
    const k = kernel("add", addWgsl(4), ["read", "read", "read_write"]);
    const e = await nncError(
      GpuPlan.create(
        plan(
          [0, 1, 2].map((i) => buffer(i, `b${i}`, "f32", [4])),
          [k],
          [{ kernel: 0, grid: [100_000_000, 1, 1], buffers: [0, 1, 2] }],
          {},
        ),
      ),
    );
    expect(e.code).toBe("NN7002");
    expect(e.message).toContain("grid [100000000, 1, 1]");
    expect(e.diagnostics[0]!.hint).toContain("fold");
  });

  it("rejects a malformed plan as a code generator bug", async () => {
    const k = kernel("add", addWgsl(4), ["read", "read", "read_write"]);
    const e = await nncError(
      GpuPlan.create(
        plan([buffer(0, "x", "f32", [4])], [k], [{ kernel: 0, grid: [1, 1, 1], buffers: [0] }], {}),
      ),
    );
    expect(e.code).toBe("NN9001");
    expect(e.message).toContain("gives 1 buffers for 3 bindings");
  });

  it("checks inputs and weights against the plan", async () => {
    const p = await GpuPlan.create(
      plan(
        [
          buffer(0, "x", "f32", [2], { kind: "input", name: "x" }),
          buffer(1, "w", "f32", [2], { kind: "param", name: "w" }),
        ],
        [],
        [],
        { outputs: [{ name: "x", buffer: 0 }] },
      ),
    );
    expect(() => p.uploadParams(ins({}))).toThrow(/NN6003: missing weight `w` \(f32\[2\]\)/);
    expect(() => p.uploadParams(ins({ w: f32([3], [1, 2, 3]) }))).toThrow(
      /weight `w` is f32\[3\], but the plan was compiled for f32\[2\]/,
    );
    p.uploadParams(ins({ w: f32([2], [1, 2]) }));
    const e = await nncError(p.run(ins({ x: tensorOf("i32", [2], [1, 2]) })));
    expect(e.message).toContain("input `x` is i32[2], but the plan was compiled for f32[2]");
    p.dispose();
  });
  it("reports a lost device as NN7003, and the next plan gets a fresh device", async () => {
    const mk = () =>
      GpuPlan.create(
        plan([buffer(0, "x", "f32", [2], { kind: "input", name: "x" })], [], [], {
          outputs: [{ name: "x", buffer: 0 }],
        }),
      );
    const p = await mk();
    p.gpu.device.destroy(); // what a driver reset or a hung kernel looks like from here
    await p.gpu.device.lost;
    const e = await nncError(p.run(ins({ x: f32([2], [1, 2]) })));
    expect(e.code).toBe("NN7003");
    expect(e.message).toMatch(
      /the WebGPU device was lost \(destroyed: .*\) before running the plan/,
    );
    p.dispose();
    const q = await mk();
    expect(q.gpu).not.toBe(p.gpu);
    expect([...(await q.run(ins({ x: f32([2], [5, 6]) }))).get("x")!.data]).toEqual([5, 6]);
    q.dispose();
  });
  it("attributes errors to the right kernel while plans build concurrently", async () => {
    await closeGpu(); // start from no device: the three plans also race for one
    const good = (name: string) =>
      plan(
        [0, 1, 2].map((i) => buffer(i, `b${i}`, "f32", [4])),
        [kernel(name, addWgsl(4), ["read", "read", "read_write"])],
        [{ kernel: 0, grid: [1, 1, 1], buffers: [0, 1, 2] }],
        {},
      );
    const bad = plan(
      [buffer(0, "x", "f32", [1])],
      [kernel("typo_kernel", "@compute @workgroup_size(1) fn main() { let y: f32 = 1u; }", [])],
      [{ kernel: 0, grid: [1, 1, 1], buffers: [] }],
      {},
    );
    const results = await Promise.allSettled([
      GpuPlan.create(good("first")),
      GpuPlan.create(bad),
      GpuPlan.create(good("third")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const why = (results[1] as PromiseRejectedResult).reason as NncError;
    expect(why.message).toContain("kernel 0 `typo_kernel`");
    const made = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(made[0]!.gpu).toBe(made[1]!.gpu);
    expect(made[0]!.gpu.lost).toBeUndefined();
    for (const p of made) p.dispose();
  });
  it("asks for exactly the limits a plan needs, and a new device when a later plan needs more", async () => {
    await closeGpu();
    const small = await GpuPlan.create(
      plan([buffer(0, "x", "f32", [1], { kind: "input", name: "x" })], [], [], {}),
    );
    expect(small.gpu.requested).toEqual({});
    expect(small.gpu.limits.maxStorageBuffersPerShaderStage).toBe(8);
    const n = 10;
    const decls = Array.from(
      { length: n },
      (_, i) => `@group(0) @binding(${i}) var<storage, read_write> b${i}: array<f32>;`,
    );
    const body = Array.from({ length: n }, (_, i) => `b${i}[0] = f32(${i});`).join(" ");
    const wide = await GpuPlan.create(
      plan(
        Array.from({ length: n }, (_, i) => buffer(i, `b${i}`, "f32", [1])),
        [
          kernel(
            "wide",
            `${decls.join("\n")}\n@compute @workgroup_size(1) fn main() { ${body} }`,
            new Array(n).fill("read_write"),
          ),
        ],
        [{ kernel: 0, grid: [1, 1, 1], buffers: Array.from({ length: n }, (_, i) => i) }],
        { outputs: [{ name: "last", buffer: n - 1 }] },
      ),
    );
    expect(wide.gpu).not.toBe(small.gpu);
    expect(wide.gpu.requested).toEqual({ maxStorageBuffersPerShaderStage: 10 });
    expect([...(await wide.run(ins({}))).get("last")!.data]).toEqual([9]);
    // the old device lives until its last plan goes
    expect((await small.run(ins({ x: f32([1], [3]) }))).size).toBe(0);
    small.dispose();
    expect(small.gpu.lost).toBeDefined();
    wide.dispose();
  });
});
