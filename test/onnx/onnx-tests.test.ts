// The ONNX project's own backend test cases (pytorch-converted and
// pytorch-operator: model.onnx with TensorProto inputs and expected outputs)
// through `nnc run MODEL.onnx --json` on the CPU and on WebGPU, compared as
// the ONNX backend runner does (rtol 1e-3; NaN and infinities must match).
// Cases outside nnc's scope must fail with the error that names the reason.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it, vi } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { getNumber } from "../../compiler/core/tensor.js";
import { decodeModel } from "../../compiler/onnx/proto.js";
import { readTensorPb } from "../../compiler/onnx/run-onnx.js";
import { outOfScope } from "./onnx-scope.js";

vi.mock("../../runtime/webgpu/probe.js", async (original) => {
  const { inject } = await import("vitest");
  return {
    ...(await original<typeof import("../../runtime/webgpu/probe.js")>()),
    probeAdapterAsync: async () => inject("gpu"),
  };
});

/** `$NNC_ONNX_TESTS`, else ../shared/onnx-tests beside the checkout. */
function casesDir(): string {
  if (process.env.NNC_ONNX_TESTS) return resolve(process.env.NNC_ONNX_TESTS);
  return fileURLToPath(new URL("../../../shared/onnx-tests/", import.meta.url));
}

const root = casesDir();
const cases = existsSync(root)
  ? ["pytorch-converted", "pytorch-operator"].flatMap((s) =>
      readdirSync(join(root, s))
        .sort()
        .map((name) => ({ name, dir: join(root, s, name) })),
    )
  : [];

// The ONNX runner's default tolerances; atol a little above its 1e-7 for WGSL's exp/tanh.
const rtol = 1e-3;
const atol = 1e-6;

async function nncRun(dir: string, backend: string) {
  const data = join(dir, "test_data_set_0");
  const files = readdirSync(data);
  const inputs = files.filter((f) => f.startsWith("input_")).sort();
  // The graph's inputs that are not initializers, in order: input_k.pb feeds the k-th.
  const graph = decodeModel(readFileSync(join(dir, "model.onnx")), dir).graph!;
  const inits = new Set(graph.initializer.map((t) => t.name));
  const names = graph.input.map((i) => i.name).filter((n) => !inits.has(n));
  const argv = ["run", join(dir, "model.onnx"), "--json", "--backend", backend];
  for (const [k, f] of inputs.entries()) argv.push("--input", `${names[k]}=${join(data, f)}`);
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  const expected = files
    .filter((f) => f.startsWith("output_"))
    .sort()
    .map((f) => readTensorPb(join(data, f)));
  const outNames = graph.output.map((o) => o.name);
  return { code, err, out, expected, outNames };
}

const gpu = inject("gpu");

describe.skipIf(cases.length === 0)(`ONNX backend test cases (${root})`, () => {
  for (const backend of ["cpu", "webgpu"]) {
    describe.skipIf(backend === "webgpu" && !gpu.ok)(backend, () => {
      for (const c of cases) {
        const reason = outOfScope[c.name];
        it(reason ? `${c.name} is out of scope: ${reason.why}` : c.name, async () => {
          const r = await nncRun(c.dir, backend);
          if (reason) {
            expect(r.code).toBe(1);
            expect(r.err).toContain(reason.error);
            return;
          }
          expect(r.code, r.err).toBe(0);
          const got = JSON.parse(r.out) as {
            outputs: Record<string, { shape: number[]; data: (number | string)[] }>;
          };
          r.expected.forEach((want, k) => {
            const g = got.outputs[r.outNames[k]!]!;
            expect(g.shape).toEqual(want.shape);
            let bad = 0;
            let first = "";
            for (let i = 0; i < want.data.length; i++) {
              const w = getNumber(want, i);
              const v = Number(g.data[i]);
              const ok = Number.isFinite(w)
                ? Math.abs(v - w) <= atol + rtol * Math.abs(w)
                : v === w || (Number.isNaN(v) && Number.isNaN(w));
              if (!ok && bad++ === 0) first = `[${i}] got ${v}, want ${w}`;
            }
            expect({ bad, first }).toEqual({ bad: 0, first: "" });
          });
        });
      }
    });
  }
});
