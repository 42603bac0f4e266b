// The README's "Your first model", step by step: every `npx nnc …` line of the section
// runs through the CLI in process, the model is the section's own ```nn block, and the
// PyTorch checkpoint of step 5 is written with the names and shapes its Python builds.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { closeGpu, compile, type Tensor } from "../../compiler/index.js";
import { packageRoot } from "../../compiler/paths.js";
import { writeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededInput } from "../../runtime/weights/seeded.js";

const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
const section = readme.slice(
  readme.indexOf("## Your first model"),
  readme.indexOf("\n## ", readme.indexOf("## Your first model") + 3),
);

function fenced(lang: string): string[] {
  return [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map(
    (m) => m[1]!,
  );
}

const commands = fenced("sh").flatMap((b) => b.split("\n").filter((l) => l.trim() !== ""));
const dir = mkdtempSync(join(tmpdir(), "nnc-first-"));
const model = join(dir, "first.nn");
writeFileSync(model, fenced("nn")[0]!);

async function nnc(line: string, extra: string[] = []) {
  expect(line.startsWith("npx nnc ")).toBe(true);
  // The section's files live in the reader's directory: here, a temporary one.
  const argv = line
    .slice("npx nnc ".length)
    .split(/\s+/)
    .map((a) => (a.startsWith("first.") ? join(dir, a) : a));
  let out = "";
  let err = "";
  const code = await main([...argv, ...extra], {
    out: (t) => (out += `${t}\n`),
    err: (t) => (err += `${t}\n`),
  });
  return { code, out, err };
}

/** Step 5's Python module, as its state_dict: conv1/conv2 Conv2d, fc Linear(16·7·7). */
const torchShapes: Record<string, number[]> = {
  "conv1.weight": [8, 1, 3, 3],
  "conv1.bias": [8],
  "conv2.weight": [16, 8, 3, 3],
  "conv2.bias": [16],
  "fc.weight": [10, 16 * 7 * 7],
  "fc.bias": [10],
};

describe("README: your first model", () => {
  afterAll(() => closeGpu());

  it("has the steps the test runs", () => {
    expect(commands).toEqual([
      "npm install",
      "npx nnc run examples/mlp.nn --backend cpu",
      "npx nnc check first.nn",
      "npx nnc run first.nn --backend cpu",
      "npx nnc run first.nn --backend webgpu",
      "npx nnc run first.nn --weights first.safetensors --backend cpu",
    ]);
    expect(fenced("python")[0]).toContain('save_file(First().state_dict(), "first.safetensors")');
  });

  it("step 2: runs an example", async () => {
    const r = await nnc(commands[1]!);
    // mlp.nn leaves its batch N open: run says what it chose and how to choose.
    expect(r.err).toContain("no shape bound the input dims N=1, so they default to 1");
    expect(r.code).toBe(0);
    expect(r.out).toContain("output: f32[1, 10]");
  });

  it("steps 3 and 4: the model checks and runs on the CPU at its declared sizes", async () => {
    const check = await nnc(commands[2]!);
    expect(check.code).toBe(0);
    expect(check.out).toContain("input  input: f32[4, 1, 28, 28]");
    // PyTorch's count for step 5's module: 80 + 1168 + 7850.
    expect(check.out).toContain("params: 9,098 trainable");
    const run = await nnc(commands[3]!);
    expect(run.code).toBe(0);
    expect(run.out).toContain("logits: f32[4, 10]");
    expect(run.out).toContain("class: i32[4]");
  });

  it.skipIf(!inject("gpu").ok)(
    "step 4: WebGPU agrees with the CPU",
    async () => {
      const cpu = JSON.parse((await nnc(commands[3]!, ["--json"])).out);
      const gpu = JSON.parse((await nnc(commands[4]!, ["--json"])).out);
      expect(gpu.backend).toBe("webgpu");
      const a = cpu.outputs.logits.data as number[];
      const b = gpu.outputs.logits.data as number[];
      for (const [i, v] of b.entries()) expect(Math.abs(v - a[i]!)).toBeLessThan(1e-4);
      expect(gpu.outputs.class.data).toEqual(cpu.outputs.class.data);
    },
    300_000,
  );

  it("step 5: a checkpoint with PyTorch's names loads, and its values are the ones used", async () => {
    const m = compile({ file: model });
    const g = m.elaborate().graph;
    expect(Object.fromEntries(g.params.map((p) => [p.name, p.type.shape]))).toEqual(torchShapes);
    // Values unlike the seeded ones: a ramp, scaled per tensor.
    const weights = new Map<string, Tensor>();
    for (const [name, shape] of Object.entries(torchShapes)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) / Math.sqrt(n));
      weights.set(name, { dtype: "f32", shape, data });
    }
    writeSafetensors(join(dir, "first.safetensors"), weights);
    const r = await nnc(commands[5]!, ["--json"]);
    expect(r.code).toBe(0);
    const loaded = JSON.parse(r.out).outputs.logits.data as number[];
    // The oracle: the same model given the same tensors in memory, not through the file.
    const input = (await nnc(commands[3]!, ["--json"])).out;
    expect(JSON.parse(input).outputs.logits.data).not.toEqual(loaded);
    const inputs = new Map<string, Tensor>([["input", seededImage()]]);
    const want = (await m.run(inputs, { backend: "cpu", weights })).outputs.get("logits")!;
    expect(loaded).toEqual([...want.data]);
  });
});

/** The input `nnc run` seeds when none is given (SPEC's uniform rule keyed by its name). */
function seededImage(): Tensor {
  return seededInput("input", [4, 1, 28, 28], { kind: "uniform", scale: 1 });
}
