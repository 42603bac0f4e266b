// Parsing --input specs into host tensors: `seeded:2x7x16`, `seeded:2x7:tokens=50`,
// `seeded:1x3x64x64:scale=5`, a .npy file or a .json file.

import { readNpy } from "../../runtime/weights/npy.js";
import { seededInput } from "../../runtime/weights/seeded.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import { MAX_JSON_BYTES, readRegularFile } from "../core/files.js";
import type { Tensor } from "../core/tensor.js";
import { type DType, numel } from "../core/types.js";

/** A mistake in how a flag was written: the CLI exits 2. */
export class UsageError extends Error {}

/** The most elements a host tensor given on the command line may have (1 GiB of f32). */
export const MAX_INPUT_ELEMENTS = 2 ** 28;
/** Deeper than any tensor nnc runs: a JSON input nested further is not a tensor. */
const MAX_JSON_RANK = 32;

export function parseDims(text: string, what: string): number[] {
  if (!/^\d+(x\d+)*$/.test(text))
    throw new UsageError(`${what}: dims must look like 2x7x16, got \`${text}\``);
  const dims = text.split("x").map(Number);
  // Checked as a product of reals, so 1000000x1000000 is caught before any allocation.
  const n = dims.reduce((a, d) => a * d, 1);
  if (n > MAX_INPUT_ELEMENTS)
    throw new UsageError(
      `${what}: ${text} is ${n.toExponential(2)} elements, more than the ${MAX_INPUT_ELEMENTS} (1 GiB of f32) accepted`,
    );
  return dims;
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
  if (spec.path.endsWith(".npy")) return readNpy(spec.path);
  return readJsonTensor(spec.path, name);
}

/** The dtype a seeded spec makes: token ids are i32. */
export function seededDType(spec: SeededSpec): DType {
  return spec.rule.kind === "tokens" ? "i32" : "f32";
}

/**
 * The shape of a nested array and its values in row-major order, or why it is not
 * a tensor: ragged (every sibling must have the same length), too deep, or holding
 * something other than numbers. Iterative, so nesting depth cannot exhaust the stack.
 */
function nestedTensor(v: unknown[]): { shape: number[]; data: unknown[] } | string {
  const shape: number[] = [];
  for (let probe: unknown = v; Array.isArray(probe); probe = probe[0]) {
    if (shape.length >= MAX_JSON_RANK) return `nested deeper than ${MAX_JSON_RANK} levels`;
    shape.push(probe.length);
    if (probe.length === 0) break;
  }
  const data: unknown[] = [];
  let level: unknown[] = [v];
  for (let d = 0; d < shape.length; d++) {
    const next: unknown[] = [];
    for (const x of level) {
      if (!Array.isArray(x) || x.length !== shape[d])
        return `the nested arrays are ragged (at depth ${d + 1} every list must have ${shape[d]} items)`;
      for (const y of x) next.push(y);
    }
    level = next;
  }
  for (const x of level) {
    if (Array.isArray(x)) return "the nested arrays are ragged (lists where numbers should be)";
    data.push(x);
  }
  return { shape, data };
}

const F32_MAX = 3.4028234663852886e38;

/** A .json input: a nested array of numbers, or {shape, data, dtype?} with flat data. */
export function readJsonTensor(path: string, name: string): Tensor {
  const text = readRegularFile(path, {
    what: `--input ${name} file`,
    maxBytes: MAX_JSON_BYTES,
  }).toString("utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
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
    const nested = nestedTensor(v);
    if (typeof nested === "string") return bad(nested);
    shape = nested.shape;
    data = nested.data as number[];
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
  if (numel(shape) > MAX_INPUT_ELEMENTS) bad(`more than ${MAX_INPUT_ELEMENTS} elements`);
  if (dtype === "i32") {
    const i = data.findIndex((x) => !Number.isInteger(x) || x < -(2 ** 31) || x >= 2 ** 31);
    if (i >= 0) bad(`i32 data must be integers in [-2^31, 2^31), value ${i} is ${data[i]}`);
  } else {
    const i = data.findIndex((x) => Math.abs(x) > F32_MAX);
    if (i >= 0) bad(`value ${i} (${data[i]}) is beyond the f32 range (±3.4e38)`);
  }
  const t: Tensor = {
    dtype,
    shape,
    data: dtype === "i32" ? Int32Array.from(data) : Float32Array.from(data),
  };
  return t;
}
