// The fixture suites: every case of the named tables (test/fixture-cases.ts)
// through `nnc run ... --json` on the CPU and on WebGPU, each at -O1 (the
// default) and -O0, compared with PyTorch's numbers by SPEC.md §7. One table
// drives all four; the WebGPU half is skipped without an adapter.

import { describe, expect, inject, it, vi } from "vitest";
import type { Backend } from "../compiler/run.js";
import { type Case, type CaseTable, caseTables, caseTitle, runFixture } from "./fixture-cases.js";
import { compareOutput, loadFixture } from "./fixture-compare.js";

// `nnc run` asks a child process whether there is an adapter, every run (about
// half a second each, more than most fixtures take to run). test/global-setup.ts
// asked once already; the CLI gets its answer. test/cli covers the probe itself.
vi.mock("../runtime/webgpu/probe.js", async (original) => {
  const { inject } = await import("vitest");
  return {
    ...(await original<typeof import("../runtime/webgpu/probe.js")>()),
    probeAdapterAsync: async () => inject("gpu"),
  };
});

export type OptLevel = 0 | 1;
export const optLevels: readonly OptLevel[] = [1, 0];
export const fixtureBackends: readonly Backend[] = ["cpu", "webgpu"];

/** The CLI flags that pick a backend and an optimization level. */
export const runFlags = (backend: Backend, opt: OptLevel): string[] => [
  "--backend",
  backend,
  ...(opt === 0 ? ["-O0"] : []),
];

/** Runs one case and asserts every output is within the fixture's tolerance. */
export async function expectFixture(c: Case, backend: Backend, opt: OptLevel): Promise<void> {
  const fx = loadFixture(c.fixture);
  const res = await runFixture(c, fx, runFlags(backend, opt));
  expect(res.backend).toBe(backend);
  expect(Object.keys(res.outputs).sort()).toEqual(fx.outputs.map((o) => o.name).sort());
  for (const o of fx.outputs) {
    const got = res.outputs[o.name]!;
    const bad = compareOutput(fx, o, got.data, got.shape);
    // The count and the first few, not thousands of lines when a whole output is off.
    expect({ mismatches: bad.length, first: bad.slice(0, 5) }, o.name).toEqual({
      mismatches: 0,
      first: [],
    });
  }
}

/**
 * Per test. A run that times out goes on in the background and its closeGpu()
 * then pulls the device from under the next test, so WebGPU gets room for a
 * loaded machine compiling a few hundred kernels.
 */
const timeoutMs: Record<Backend, number> = { cpu: 60_000, webgpu: 180_000 };

/** Registers `<title> fixtures on <backend>` › `-O<level>` › one test per case of the tables. */
export function describeFixtures(title: string, tables: readonly CaseTable[]): void {
  const cases = tables.flatMap((t) => caseTables[t]);
  const gpu = inject("gpu");
  for (const backend of fixtureBackends) {
    describe.skipIf(backend === "webgpu" && !gpu.ok)(`${title} fixtures on ${backend}`, () => {
      for (const opt of optLevels) {
        describe(`-O${opt}`, () => {
          for (const c of cases)
            it(caseTitle(c), () => expectFixture(c, backend, opt), timeoutMs[backend]);
        });
      }
    });
  }
}
