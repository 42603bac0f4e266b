// The PyTorch gradient fixtures (SPEC.md §12.2) through `nnc grad --json`:
// the forward fixture's case (entry, arguments, seeded inputs), SPEC's seeded
// cotangents, and every output and gradient compared with the record's
// tolerance (outputs: atol + rtol·|torch|; gradients: the gradient's own
// atol + grad_rtol·|torch|).

import { existsSync, readFileSync } from "node:fs";
import { type Case, caseTables, type JsonOut, runFixture } from "../fixture-cases.js";
import {
  compareOutput,
  type Fixture,
  type FixtureTensor,
  type Mismatch,
} from "../fixture-compare.js";
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

interface GradJson extends JsonOut {
  grads: Record<string, { shape: number[]; dtype: string; data: number[]; wrt: string }>;
  buffers?: Record<string, { shape: number[]; dtype: string; data: number[] }>;
}

/** batchnorm2d_train's buffers after its one train-mode call (float ones with their own atol). */
type BuffersAfter = Record<
  string,
  { shape: number[]; dtype: string; atol?: number; data: number[] }
>;

export function loadGradFixture(name: string): GradFixture {
  return JSON.parse(readFileSync(fixturePath(`grad/${name}.json`), "utf8")) as GradFixture;
}

/** The forward cases whose fixture has a gradient fixture (each once, not its second routes). */
export function gradCases(): Case[] {
  return Object.values(caseTables)
    .flat()
    .filter((c) => !c.via && existsSync(fixturePath(`grad/${c.fixture}.json`)))
    .filter((c, i, all) => all.findIndex((d) => d.fixture === c.fixture) === i);
}

/** Every mismatch of `nnc grad`'s outputs and gradients against the fixture; empty means it passes. */
export async function checkGradCase(c: Case, flags: string[]): Promise<Mismatch[]> {
  const fx = loadGradFixture(c.fixture);
  const res = await runFixture<GradJson>(c, fx, flags, "grad");
  const bad: Mismatch[] = [];
  const missing = (what: string) =>
    bad.push({ output: what, where: "missing", got: Number.NaN, want: Number.NaN, limit: 0 });
  for (const out of fx.outputs) {
    const got = res.outputs[out.name];
    if (got) bad.push(...compareOutput(fx, out, got.data, got.shape));
    else missing(out.name);
  }
  const gradTol: Fixture = {
    ...fx,
    tolerance: { atol: fx.tolerance.atol, rtol: fx.tolerance.grad_rtol },
  };
  for (const [name, rec] of Object.entries(fx.grads)) {
    const key = rec.wrt === "input" ? (c.rename?.[name] ?? name) : name;
    const got = res.grads[key];
    if (!got || got.wrt !== rec.wrt) {
      missing(`∂/∂${name}`);
      continue;
    }
    const want: FixtureTensor = {
      name: `∂/∂${name}`,
      shape: rec.shape,
      dtype: "float32",
      atol: rec.atol,
      ...(rec.data ? { data: rec.data } : {}),
      ...(rec.summary ? { summary: rec.summary } : {}),
    };
    bad.push(...compareOutput(gradTol, want, got.data, got.shape));
  }
  const after = (fx as GradFixture & { buffers_after?: BuffersAfter }).buffers_after ?? {};
  for (const [name, rec] of Object.entries(after)) {
    const got = res.buffers?.[name];
    if (!got) {
      missing(`buffer ${name}`);
      continue;
    }
    const want: FixtureTensor = {
      name: `buffer ${name}`,
      shape: rec.shape,
      dtype: rec.dtype,
      atol: rec.atol ?? 0,
      data: rec.data,
    };
    bad.push(...compareOutput(fx, want, got.data.map(Number), got.shape));
  }
  const extra = Object.keys(res.grads).filter((k) => !(k in fx.grads) && !c.rename?.[k]);
  for (const k of extra)
    bad.push({ output: `∂/∂${k}`, where: "not in the fixture", got: 0, want: 0, limit: 0 });
  return bad;
}
