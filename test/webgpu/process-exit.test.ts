// Dawn's Node bindings are known to keep a process alive (or crash it) when a
// device is left open: these run GPU work in fresh processes and require them
// to end by themselves, quickly, with the right output.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";

const gpu = inject("gpu");
const root = fileURLToPath(new URL("../..", import.meta.url));

function node(args: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp", ...env },
  });
  return { ...r, ms: performance.now() - t0 };
}

/** stderr without Dawn's harmless notes about lavapipe's limits. */
const ownLines = (stderr: string) =>
  stderr.split("\n").filter((l) => l.trim() !== "" && !/artificially reduced/.test(l));

describe.skipIf(!gpu.ok)("processes that used the GPU exit by themselves", () => {
  it("after GpuPlan.run and closeGpu()", () => {
    const r = node(["test/webgpu/exit-child.ts"]);
    expect(r.error, "the process did not exit within 60 s").toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("RESULT 11,22,33,44");
  });

  it("after `nnc run` on the default backend", () => {
    const r = node(["bin/nnc.ts", "run", "examples/mlp.nn", "--json"]);
    expect(r.error, "nnc did not exit within 60 s").toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { backend: string };
    if (out.backend === "cpu") {
      // WebGPU could not take this model: exactly one line says why.
      const why = ownLines(r.stderr).filter((l) => l.startsWith("nnc:"));
      expect(why).toHaveLength(1);
      expect(why[0]).toMatch(/running on the CPU backend/);
    } else {
      expect(out.backend).toBe("webgpu");
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
