// Parsing --input specs into host tensors: `seeded:2x7x16`, `seeded:2x7:tokens=50`,
// `seeded:1x3x64x64:scale=5`, a .npy file or a .json file.

import { existsSync, readFileSync } from "node:fs";
import { readNpy } from "../../runtime/weights/npy.js";
import { seededInput } from "../../runtime/weights/seeded.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { type DType, numel } from "../core/types.js";

/** A mistake in how a flag was written: the CLI exits 2. */
export class UsageError extends Error {}

export function parseDims(text: string, what: string): number[] {
  if (!/^\d+(x\d+)*$/.test(text))
    throw new UsageError(`${what}: dims must look like 2x7x16, got \`${text}\``);
  return text.split("x").map(Number);
}

export interface SeededSpec {
  kind: "seeded";
  shape: number[];
  rule: { kind: "uniform"; scale: number } | { kind: "tokens"; vocab: number };
}

export type InputSpecText = SeededSpec | { kind: "file"; path: string };

export function parseInputSpec(name: string, spec: string): InputSpecText {
  if (spec.startsWith("seeded:")) {
    const [, dims, ...opts] = spec.split(":");
    const shape = parseDims(dims ?? "", `--input ${name}`);
    let rule: SeededSpec["rule"] = { kind: "uniform", scale: 1 };
    for (const o of opts) {
      const m = /^(scale|tokens)=(.+)$/.exec(o);
      const v = m ? Number(m[2]) : Number.NaN;
      if (!m || !Number.isFinite(v)) {
        throw new UsageError(
          `--input ${name}: unknown option \`${o}\` (expected scale=S or tokens=V)`,
        );
      }
      if (m[1] === "tokens") {
        if (!Number.isInteger(v) || v < 1)
          throw new UsageError(
            `--input ${name}: tokens=V needs a positive integer vocabulary size`,
          );
        rule = { kind: "tokens", vocab: v };
      } else {
        rule = { kind: "uniform", scale: v };
      }
    }
    return { kind: "seeded", shape, rule };
  }
  if (spec.endsWith(".npy") || spec.endsWith(".json")) return { kind: "file", path: spec };
  throw new UsageError(
    `--input ${name}=${spec}: expected seeded:DIMS[:scale=S|:tokens=V], a .npy file or a .json file`,
  );
}

export function makeInput(name: string, spec: InputSpecText): Tensor {
  if (spec.kind === "seeded") return seededInput(name, spec.shape, spec.rule);
  if (!existsSync(spec.path))
    throw new NncError(diagnostic("NN6007", `--input ${name}: no such file \`${spec.path}\``));
  if (spec.path.endsWith(".npy")) return readNpy(spec.path);
  return readJsonTensor(spec.path, name);
}

/** A .json input: a nested array of numbers, or {shape, data, dtype?} with flat data. */
export function readJsonTensor(path: string, name: string): Tensor {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new NncError(
      diagnostic(
        "NN6011",
        `--input ${name}: \`${path}\` is not valid JSON (${(e as Error).message})`,
      ),
    );
  }
  const bad = (why: string): never => {
    throw new NncError(diagnostic("NN6011", `--input ${name}: \`${path}\`: ${why}`));
  };
  let shape: number[];
  let data: number[];
  let dtype: DType = "f32";
  if (Array.isArray(v)) {
    shape = [];
    let probe: unknown = v;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    data = (v as unknown[]).flat(shape.length) as number[];
    if (data.length !== numel(shape)) bad("the nested arrays are ragged");
  } else if (v !== null && typeof v === "object" && "shape" in v && "data" in v) {
    const o = v as { shape: unknown; data: unknown; dtype?: unknown };
    if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d) && d >= 0))
      bad("`shape` must be a list of sizes");
    if (!Array.isArray(o.data)) bad("`data` must be a flat list of numbers");
    shape = o.shape as number[];
    data = o.data as number[];
    if (o.dtype !== undefined) {
      if (o.dtype !== "f32" && o.dtype !== "i32") bad("`dtype` must be f32 or i32");
      dtype = o.dtype as DType;
    }
    if (data.length !== numel(shape)) bad(`${data.length} values for shape [${shape.join(", ")}]`);
  } else {
    return bad("expected a nested array or {shape, data}");
  }
  if (!data.every((x) => typeof x === "number" && Number.isFinite(x)))
    bad("every value must be a finite number");
  if (dtype === "i32" && !data.every((x) => Number.isInteger(x))) bad("i32 data must be integers");
  const t: Tensor = {
    dtype,
    shape,
    data: dtype === "i32" ? Int32Array.from(data) : Float32Array.from(data),
  };
  return t;
}
