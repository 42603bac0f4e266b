// Compares nnc outputs with a golden fixture by SPEC.md §7: elementwise
// |ts - torch| <= atol + rtol*|torch| with the output's own atol; a summarised
// output is checked on its first values, strided values, sum and abs_sum.

import { readFileSync } from "node:fs";
import { fixturePath } from "./fixtures-path.js";

export interface FixtureTensor {
  name: string;
  shape: number[];
  dtype: string;
  atol?: number;
  rule?: { kind: "uniform"; scale: number } | { kind: "tokens"; vocab: number };
  data?: number[];
  summary?: {
    numel: number;
    first: number[];
    sum: number;
    abs_sum: number;
    strided_indices: number[];
    strided_values: number[];
  };
}

export interface Fixture {
  name: string;
  torch_module: string;
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
  tolerance: { atol: number; rtol: number };
  num_params: number;
  params: { name: string; shape: number[]; kind: string }[];
}

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(fixturePath(`${name}.json`), "utf8")) as Fixture;
}

export interface Mismatch {
  output: string;
  where: string;
  got: number;
  want: number;
  limit: number;
}

/** Every mismatch of `got` (flat, row-major) against the fixture output; empty means it passes. */
export function compareOutput(
  fx: Fixture,
  out: FixtureTensor,
  got: ArrayLike<number>,
  shape: number[],
): Mismatch[] {
  const bad: Mismatch[] = [];
  if (shape.join(",") !== out.shape.join(",")) {
    return [
      {
        output: out.name,
        where: `shape [${shape.join(", ")}] vs [${out.shape.join(", ")}]`,
        got: Number.NaN,
        want: Number.NaN,
        limit: 0,
      },
    ];
  }
  const atol = out.atol ?? fx.tolerance.atol;
  const rtol = fx.tolerance.rtol;
  const check = (i: number, want: number) => {
    const g = got[i]!;
    const limit = atol + rtol * Math.abs(want);
    if (!(Math.abs(g - want) <= limit))
      bad.push({ output: out.name, where: `[${i}]`, got: g, want, limit });
  };
  if (out.data) {
    out.data.forEach((want, i) => {
      check(i, want);
    });
    return bad;
  }
  const s = out.summary!;
  s.first.forEach((want, i) => {
    check(i, want);
  });
  s.strided_indices.forEach((idx, k) => {
    check(idx, s.strided_values[k]!);
  });
  let sum = 0;
  let absSum = 0;
  for (let i = 0; i < got.length; i++) {
    sum += got[i]!;
    absSum += Math.abs(got[i]!);
  }
  const total = atol * s.numel;
  if (!(Math.abs(sum - s.sum) <= total))
    bad.push({ output: out.name, where: "sum", got: sum, want: s.sum, limit: total });
  if (!(Math.abs(absSum - s.abs_sum) <= total))
    bad.push({ output: out.name, where: "abs_sum", got: absSum, want: s.abs_sum, limit: total });
  return bad;
}

/** `seeded:2x7x16[:scale=S|:tokens=V]` for a fixture input, from its recorded rule. */
export function seededSpec(t: FixtureTensor): string {
  const dims = t.shape.join("x");
  if (t.rule?.kind === "tokens") return `seeded:${dims}:tokens=${t.rule.vocab}`;
  return `seeded:${dims}:scale=${t.rule?.kind === "uniform" ? t.rule.scale : 1}`;
}
