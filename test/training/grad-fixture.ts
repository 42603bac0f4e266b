// Checks nnc's gradients against the PyTorch grad fixtures (SPEC.md §12.2):
// the same entry and inputs as the forward fixture's case, SPEC's seeded
// cotangents, every parameter's and float input's gradient compared with
// the record's atol + grad_rtol·|torch|.

import { readFileSync } from "node:fs";
import { compile } from "../../compiler/compile.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { gradients } from "../../compiler/training/grad.js";
import { seededInput } from "../../runtime/weights/seeded.js";
import type { Case } from "../fixture-cases.js";
import { type Fixture, type FixtureTensor, compareOutput, type Mismatch } from "../fixture-compare.js";
import { fixturePath } from "../fixtures-path.js";

export interface GradRecord {
  shape: number[];
  wrt: "input" | "parameter";
  atol: number;
  data?: number[];
  summary?: FixtureTensor["summary"];
}

export interface GradFixture extends Fixture {
  type: "grad";
  grads: Record<string, GradRecord>;
  tolerance: { atol: number; rtol: number; grad_rtol: number };
}

export function loadGradFixture(name: string): GradFixture {
  return JSON.parse(readFileSync(fixturePath(`grad/${name}.json`), "utf8")) as GradFixture;
}

function inputOf(t: FixtureTensor): Tensor {
  const rule = t.rule?.kind === "tokens" ? t.rule : { kind: "uniform" as const, scale: t.rule?.kind === "uniform" ? t.rule.scale : 1 };
  if (t.data && t.rule === undefined) return { dtype: "f32", shape: t.shape, data: Float32Array.from(t.data) };
  return seededInput(t.name, t.shape, rule);
}

/** Every mismatch of nnc's outputs and gradients against the fixture; empty means it passes. */
export async function checkGradCase(c: Case, extraOptimize?: { level: 0 | 1 }): Promise<Mismatch[]> {
  const fx = loadGradFixture(c.fixture);
  const model = compile(c.source.includes(":") && !c.source.endsWith(".nn") ? { stdlib: c.source.split(":")[0]! } : { file: c.source }, {
    ...(c.source.endsWith(".nn") ? {} : { entry: c.source.split(":")[1]! }),
    args: Object.fromEntries((c.args ?? []).map((a) => a.split("=") as [string, string]).map(([k, v]) => [k, argValue(v)])),
    ...(extraOptimize ? { optimize: extraOptimize } : {}),
  });
  const inputs = new Map<string, Tensor>();
  for (const t of fx.inputs) {
    const name = c.rename?.[t.name] ?? t.name;
    const tensor = c.rename?.[t.name] ? { ...seededInput(t.name, t.shape, t.rule?.kind === "tokens" ? t.rule : { kind: "uniform", scale: 1 }) } : inputOf(t);
    inputs.set(name, tensor);
  }
  const result = await gradients(model, inputs, { weights: "seeded" });
  const bad: Mismatch[] = [];
  for (const out of fx.outputs) {
    const got = result.outputs.get(out.name);
    if (!got) {
      bad.push({ output: out.name, where: "missing output", got: Number.NaN, want: Number.NaN, limit: 0 });
      continue;
    }
    bad.push(...compareOutput(fx, out, got.data as Float32Array, got.shape));
  }
  const gradTol: Fixture = { ...fx, tolerance: { atol: fx.tolerance.atol, rtol: fx.tolerance.grad_rtol } };
  for (const [name, rec] of Object.entries(fx.grads)) {
    const key = rec.wrt === "input" ? (c.rename?.[name] ?? name) : name;
    const got = result.grads.get(key);
    if (!got) {
      bad.push({ output: `grad ${name}`, where: "missing gradient", got: Number.NaN, want: Number.NaN, limit: 0 });
      continue;
    }
    const asOutput: FixtureTensor = { name: `grad ${name}`, shape: rec.shape, dtype: "float32", atol: rec.atol, ...(rec.data ? { data: rec.data } : {}), ...(rec.summary ? { summary: rec.summary } : {}) };
    bad.push(...compareOutput(gradTol, asOutput, got.tensor.data as Float32Array, got.tensor.shape));
  }
  return bad;
}

function argValue(v: string): string | number | boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  const n = Number(v);
  return Number.isFinite(n) && v.trim() !== "" ? n : v;
}
