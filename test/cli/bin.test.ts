// The `nnc` executable as a user runs it, in its own process: Dawn's native
// notes about lavapipe's limits never reach the terminal, `nnc bench` without
// an adapter is one diagnostic, and the stderr filter passes everything else.

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { DawnNoiseFilter, isDawnNoise, mayOpenDevice } from "../../runtime/webgpu/dawn-noise.js";
import { tempDir } from "./helpers.js";

const gpu = inject("gpu");
const root = fileURLToPath(new URL("../..", import.meta.url));

function nnc(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", "bin/nnc.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp", ...env },
  });
}

const dawnLine =
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.";

describe("the Dawn stderr filter", () => {
  it("drops exactly Dawn's limit notes, across chunk boundaries, and keeps the rest", () => {
    let seen = "";
    const f = new DawnNoiseFilter((t) => (seen += t));
    const text = `note: ours\n${dawnLine}\n${dawnLine.replace("Uniform", "Storage")}\nerror[NN7003]: kept\nWarning: something else\ntail`;
    for (let i = 0; i < text.length; i += 7) f.write(text.slice(i, i + 7));
    f.end();
    expect(seen).toBe("note: ours\nerror[NN7003]: kept\nWarning: something else\ntail");
    expect(isDawnNoise(`${dawnLine} and more`)).toBe(false);
  });

  it("wraps only commands that may open a device", () => {
    expect(mayOpenDevice(["run", "m.nn"])).toBe(true);
    expect(mayOpenDevice(["run", "m.nn", "--backend", "webgpu"])).toBe(true);
    expect(mayOpenDevice(["bench", "m.nn"])).toBe(true);
    expect(mayOpenDevice(["run", "m.nn", "--backend", "cpu"])).toBe(false);
    expect(mayOpenDevice(["run", "m.nn", "--backend=cpu"])).toBe(false);
    expect(mayOpenDevice(["check", "m.nn"])).toBe(false);
  });
});

describe.skipIf(!gpu.ok)("`nnc run` on WebGPU", () => {
  it("prints no Dawn warnings, and exits with the CLI's code", () => {
    const r = nnc([
      "run",
      "examples/mlp.nn",
      "--backend",
      "webgpu",
      "--input",
      "input=seeded:2x784",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("mlp on webgpu");
    expect(r.stderr).not.toContain("artificially reduced");
    const bad = nnc(["run", "examples/mlp.nn", "--backend", "webgpu", "--runs", "2"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("`nnc run` does not take --runs");
  }, 180_000);

  it("checks the plan against the adapter before reading any weights", () => {
    // A 128 MiB+ weight: more than one storage binding may hold on lavapipe or any WebGPU default.
    const dir = tempDir("preflight");
    const src = join(dir, "wide.nn");
    writeFileSync(src, "model wide()(x: f32[1, 8192]) {\n  x -> fc: linear(8192)\n}\n");
    const r = nnc([
      "run",
      src,
      "--backend",
      "webgpu",
      "--weights",
      join(dir, "never-read.safetensors"),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error[NN7002]");
    expect(r.stderr).not.toContain("never-read");
  }, 180_000);
});

describe("`nnc bench` without an adapter", () => {
  const noGpu = { VK_ICD_FILENAMES: "/nonexistent.json", VK_DRIVER_FILES: "/nonexistent.json" };

  it("is one NN7002 diagnostic, with no native log", () => {
    const r = nnc(["bench", "examples/mlp.nn", "--runs", "1"], noGpu);
    expect(r.status).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    expect(lines[0]).toMatch(/^error\[NN7002\]: nnc bench needs a WebGPU adapter/);
    expect(lines.slice(1).every((l) => l.startsWith("  hint:"))).toBe(true);
  }, 180_000);
});
