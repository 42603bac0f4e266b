// Every gradient fixture (SPEC.md §12.2) that has a forward case through
// `nnc grad --json`, on the CPU and on WebGPU, at -O1 and -O0.

import { describe, expect, inject, it, vi } from "vitest";
import { optLevels, runFlags } from "../fixture-suite.js";
import { checkGradCase, gradCases } from "./grad-fixture.js";

vi.mock("../../runtime/webgpu/probe.js", async (original) => {
  const { inject } = await import("vitest");
  return {
    ...(await original<typeof import("../../runtime/webgpu/probe.js")>()),
    probeAdapterAsync: async () => inject("gpu"),
  };
});

const cases = gradCases();

describe("grad fixtures", () => {
  it("covers every forward case that has a gradient fixture", () => {
    // SPEC.md §12.2: 49 shared grad fixtures; batchnorm2d_train has no forward case (train mode:
    // batchnorm-train.test.ts checks it).
    expect(cases.length).toBe(48);
  });
  for (const backend of ["cpu", "webgpu"] as const) {
    describe.skipIf(backend === "webgpu" && !inject("gpu").ok)(`on ${backend}`, () => {
      for (const opt of optLevels) {
        describe(`-O${opt}`, () => {
          for (const c of cases) {
            it(
              c.fixture,
              async () => {
                const bad = await checkGradCase(c, runFlags(backend, opt));
                expect({ mismatches: bad.length, first: bad.slice(0, 5) }).toEqual({
                  mismatches: 0,
                  first: [],
                });
              },
              backend === "webgpu" ? 300_000 : 120_000,
            );
          }
        });
      }
    });
  }
});
