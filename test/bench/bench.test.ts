// `nnc bench`: the JSON fields outside checks read, and the usage errors. Only
// structure is asserted: timings on a shared CPU adapter are never stable
// enough for a test. Skipped without an adapter.

import { describe, expect, inject, it } from "vitest";
import { main } from "../../compiler/cli/main.js";

async function cli(argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const fields = [
  "graph_ops",
  "kernels",
  "dispatches",
  "peak_activation_bytes",
  "compile_ms",
  "setup_ms",
  "cold_ms",
  "devices",
  "warm_ms",
  "gflops",
];

describe("nnc bench usage", () => {
  it("rejects bad --runs and --compare", async () => {
    expect((await cli(["bench", "lenet:lenet5", "--runs", "0"])).code).toBe(2);
    const r = await cli(["bench", "lenet:lenet5", "--compare", "O2"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--compare takes O0");
  });
});

describe.skipIf(!inject("gpu").ok)("nnc bench on WebGPU", () => {
  it("--json --compare O0: one object with the plan's and the baseline's numbers", async () => {
    const r = await cli(["bench", "lenet:lenet5", "--runs", "3", "--json", "--compare", "O0"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    for (const f of fields) {
      expect(typeof j[f], f).toBe("number");
      expect(typeof j.baseline[f], `baseline.${f}`).toBe("number");
    }
    expect(j.kernels).toBe(7);
    expect(j.dispatches).toBe(7);
    expect(j.baseline.kernels).toBe(16);
    expect(j.peak_activation_bytes).toBeLessThanOrEqual(j.activation_bytes);
    expect(j.baseline.peak_activation_bytes).toBe(j.baseline.activation_bytes);
    expect(j.speedup).toBeCloseTo(j.baseline.warm_ms / j.warm_ms, 6);
    expect(j.inputs).toEqual({ input: [1, 1, 32, 32] });
  });

  it("prints a table with per-kernel times where the adapter has timestamps", async () => {
    const r = await cli(["bench", "examples/lenet5.nn", "--runs", "2"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("dispatches / forward");
    expect(r.out).toContain("warm run");
    expect(r.out).toMatch(/slowest kernels|no per-kernel times/);
  });
});
