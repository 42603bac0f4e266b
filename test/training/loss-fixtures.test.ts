// The loss fixtures (SPEC.md §12.3): each stdlib loss as an objective in
// test/training/losses.nn, through `nnc grad` with the cotangent 1 (the
// gradient of the scalar loss itself), on the CPU and on WebGPU at -O1 and -O0.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it, vi } from "vitest";
import { main } from "../../compiler/cli/main.js";
import type { FixtureTensor } from "../fixture-compare.js";
import { optLevels, runFlags } from "../fixture-suite.js";
import { fixturePath } from "../fixtures-path.js";

vi.mock("../../runtime/webgpu/probe.js", async (original) => {
  const { inject } = await import("vitest");
  return {
    ...(await original<typeof import("../../runtime/webgpu/probe.js")>()),
    probeAdapterAsync: async () => inject("gpu"),
  };
});

interface LossFixture {
  inputs: (FixtureTensor & { data: number[] })[];
  loss: { value: number; atol: number };
  grads: Record<string, { shape: number[]; atol: number; data: number[] }>;
  tolerance: { rtol: number; grad_rtol: number };
}

const source = fileURLToPath(new URL("./losses.nn", import.meta.url));

const cases: { fixture: string; entry: string; args?: string[] }[] = [
  { fixture: "loss_cross_entropy", entry: "ce" },
  { fixture: "loss_cross_entropy_label_smoothing", entry: "ce", args: ["smoothing=0.1"] },
  { fixture: "loss_nll_log_softmax", entry: "nll" },
  { fixture: "loss_mse", entry: "mse" },
  { fixture: "loss_bce_with_logits", entry: "bce" },
];

async function gradJson(argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  if (code !== 0) throw new Error(`nnc ${argv.join(" ")} exited ${code}:\n${err}`);
  return JSON.parse(out) as {
    outputs: Record<string, { data: number[] }>;
    grads: Record<string, { shape: number[]; data: number[] }>;
  };
}

for (const backend of ["cpu", "webgpu"] as const) {
  describe.skipIf(backend === "webgpu" && !inject("gpu").ok)(`loss fixtures on ${backend}`, () => {
    for (const opt of optLevels) {
      for (const c of cases) {
        it(`${c.fixture} -O${opt}`, async () => {
          const fx = JSON.parse(
            readFileSync(fixturePath(`grad/${c.fixture}.json`), "utf8"),
          ) as LossFixture;
          const dir = mkdtempSync(join(tmpdir(), "nnc-loss-"));
          const argv = ["grad", source, "--entry", c.entry, "--json", ...runFlags(backend, opt)];
          for (const a of c.args ?? []) argv.push("--arg", a);
          // The stored data: a float input with a tokens rule holds 0.0/1.0 (SPEC.md §12.3).
          for (const inp of fx.inputs) {
            const file = join(dir, `${inp.name}.json`);
            const dtype = inp.dtype.startsWith("int") ? "i32" : "f32";
            writeFileSync(file, JSON.stringify({ shape: inp.shape, dtype, data: inp.data }));
            argv.push("--input", `${inp.name}=${file}`);
          }
          const one = join(dir, "one.json");
          writeFileSync(one, JSON.stringify({ shape: [], data: [1] }));
          argv.push("--cotangent", `loss=${one}`);
          const res = await gradJson(argv);
          const loss = res.outputs.loss!.data[0]!;
          expect(Math.abs(loss - fx.loss.value)).toBeLessThanOrEqual(
            fx.loss.atol + fx.tolerance.rtol * Math.abs(fx.loss.value),
          );
          for (const [name, want] of Object.entries(fx.grads)) {
            const got = res.grads[name]!;
            expect(got.shape).toEqual(want.shape);
            const bad = want.data.filter(
              (w, i) =>
                !(Math.abs(got.data[i]! - w) <= want.atol + fx.tolerance.grad_rtol * Math.abs(w)),
            );
            expect(bad, `∂loss/∂${name}`).toEqual([]);
          }
        }, 120_000);
      }
    }
  });
}

describe("losses on bad input", () => {
  it("a label outside the classes is a run-time error, not a silent zero", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-loss-"));
    const target = join(dir, "target.json");
    writeFileSync(
      target,
      JSON.stringify({ shape: [8], dtype: "i32", data: [0, 1, 2, 3, 4, 5, 6, 10] }),
    );
    let err = "";
    const code = await main(
      ["grad", source, "--entry", "ce", "--backend", "cpu", "--input", `target=${target}`],
      { out: () => {}, err: (t) => (err += t) },
    );
    expect(code).toBe(1);
    expect(err).toMatch(/NN7001/);
  });
  it("a loss of the wrong shape names both", async () => {
    let err = "";
    const code = await main(
      ["check", source, "--entry", "mse_any", "--shape", "input=8x10", "--shape", "mse_target=8x9"],
      {
        out: () => {},
        err: (t) => (err += t),
      },
    );
    expect(code).toBe(1);
    expect(err).toContain("mse_loss: f32[8, 10] against f32[8, 9]");
  });
});
