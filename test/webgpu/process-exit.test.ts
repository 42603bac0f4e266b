// Dawn's Node bindings are known to keep a process alive (or crash it) when a
// device is left open: these run GPU work in fresh processes and require them
// to end by themselves (within 60 s) with the right output.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";

const gpu = inject("gpu");
const root = fileURLToPath(new URL("../..", import.meta.url));

function node(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp", ...env },
  });
}

interface RunJson {
  backend: string;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

describe.skipIf(!gpu.ok)("processes that used the GPU exit by themselves", () => {
  it("after GpuPlan.run and closeGpu()", () => {
    const r = node(["test/webgpu/exit-child.ts"]);
    expect(r.error, "the process did not exit within 60 s").toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("RESULT 11,22,33,44");
  });

  it("after `nnc run` on the default backend, WebGPU, with the CPU backend's numbers", () => {
    const r = node(["bin/nnc.ts", "run", "examples/mlp.nn", "--json"]);
    expect(r.error, "nnc did not exit within 60 s").toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const gpuRun = JSON.parse(r.stdout) as RunJson;
    // An adapter is there, so the default backend is WebGPU, not a fallback.
    expect(gpuRun.backend).toBe("webgpu");
    const c = node(["bin/nnc.ts", "run", "examples/mlp.nn", "--json", "--backend", "cpu"]);
    expect(c.status, c.stderr).toBe(0);
    const cpuRun = JSON.parse(c.stdout) as RunJson;
    expect(cpuRun.backend).toBe("cpu");
    expect(Object.keys(gpuRun.outputs)).toEqual(Object.keys(cpuRun.outputs));
    for (const [name, want] of Object.entries(cpuRun.outputs)) {
      const got = gpuRun.outputs[name]!;
      expect(got.shape, name).toEqual(want.shape);
      expect(want.data.length, name).toBeGreaterThan(0);
      got.data.forEach((v, i) => {
        expect(Math.abs(v - want.data[i]!), `${name}[${i}]`).toBeLessThanOrEqual(
          1e-5 + 1e-4 * Math.abs(want.data[i]!),
        );
      });
    }
  });
});

describe("`nnc run` without an adapter", () => {
  // No Vulkan driver: Dawn finds no adapter, as on a machine without a GPU.
  const noGpu = { VK_ICD_FILENAMES: "/nonexistent.json", VK_DRIVER_FILES: "/nonexistent.json" };

  it("says so in one line and runs on the CPU", () => {
    const r = node(["bin/nnc.ts", "run", "examples/mlp.nn", "--json"], noGpu);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).backend).toBe("cpu");
    const lines = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("nnc:") || l.startsWith("Warning"));
    expect(lines).toEqual([
      expect.stringMatching(
        /^nnc: no WebGPU adapter \(.*\); running on the CPU backend\. .*install-vulkan\.sh/,
      ),
    ]);
  });

  it("fails with NN7002 when --backend webgpu is asked for", () => {
    const r = node(["bin/nnc.ts", "run", "examples/mlp.nn", "--backend", "webgpu"], noGpu);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[NN7002\]: --backend webgpu: no WebGPU adapter/);
    expect(r.stdout).toBe("");
  });
});
