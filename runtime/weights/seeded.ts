// The deterministic seeded initializer of shared/fixtures/SPEC.md (`wgen-v1`), bit for bit.
// It rebuilds every parameter, buffer and input of a fixture from its name, so the
// compiler can be checked against PyTorch without shipping weight files.

import { fail } from "../../compiler/core/diagnostics.js";
import { allocData, type Tensor } from "../../compiler/core/tensor.js";
import { numel } from "../../compiler/core/types.js";
import type { GraphParam } from "../../compiler/graph/graph.js";

/** How one tensor's values are drawn (SPEC §1 table). `uniform` takes the final scale, not a fan_in. */
export type SeedRule =
  | { kind: "uniform"; scale: number }
  | { kind: "norm_weight" }
  | { kind: "norm_bias" }
  | { kind: "running_mean" }
  | { kind: "running_var" }
  | { kind: "normal"; mean: number; std: number }
  | { kind: "zeros" }
  | { kind: "ones" };

export type InputRule = { kind: "uniform"; scale: number } | { kind: "tokens"; vocab: number };

/** FNV-1a 32-bit over the UTF-8 bytes of `name`. */
export function fnv1a32(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** The MurmurHash3 32-bit finalizer. */
export function fmix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** x_i = fmix32(fnv1a32(name) XOR fmix32(i)) for i = 0..n-1, the raw draws of SPEC §1. */
export function seededHashes(name: string, n: number): Uint32Array {
  const h = fnv1a32(name);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = fmix32((h ^ fmix32(i)) >>> 0);
  return out;
}

const TWO_POW_32 = 4294967296;

/**
 * The float32 values of the tensor called `name`. Each value is one float64 expression,
 * written exactly as in the SPEC table (u = x / 2^32, t = 2u - 1, both exact), rounded
 * once by the Float32Array store.
 */
export function seededValues(name: string, n: number, rule: SeedRule): Float32Array {
  const out = new Float32Array(n);
  if (rule.kind === "zeros") return out;
  if (rule.kind === "ones") return out.fill(1);
  const x = seededHashes(name, n);
  switch (rule.kind) {
    case "uniform": {
      const s = rule.scale;
      for (let i = 0; i < n; i++) out[i] = (2 * (x[i]! / TWO_POW_32) - 1) * s;
      return out;
    }
    case "norm_weight":
      for (let i = 0; i < n; i++) out[i] = 1 + 0.1 * (2 * (x[i]! / TWO_POW_32) - 1);
      return out;
    case "norm_bias":
    case "running_mean":
      for (let i = 0; i < n; i++) out[i] = 0.1 * (2 * (x[i]! / TWO_POW_32) - 1);
      return out;
    case "running_var":
      for (let i = 0; i < n; i++) out[i] = 1 + 0.5 * (x[i]! / TWO_POW_32);
      return out;
    case "normal":
      // Not a SPEC rule (no fixture uses it): Box–Muller on u_i and a second draw
      // v_i = fmix32(x_i XOR 0x9E3779B9) / 2^32; 1 - u_i is in (0, 1], so the log is finite.
      for (let i = 0; i < n; i++) {
        const u = x[i]! / TWO_POW_32;
        const v = fmix32((x[i]! ^ 0x9e3779b9) >>> 0) / TWO_POW_32;
        const z = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
        out[i] = rule.mean + rule.std * z;
      }
      return out;
  }
}

/** Integer token ids `x_i mod vocab` (PyTorch has them as int64; every value fits i32). */
export function seededTokens(name: string, shape: readonly number[], vocab: number): Int32Array {
  if (!Number.isInteger(vocab) || vocab < 1 || vocab > 0x7fffffff) {
    fail("NN6007", `input \`${name}\`: vocab must be a positive 32-bit integer, got ${vocab}`);
  }
  return Int32Array.from(seededHashes(name, numel(shape)), (x) => x % vocab);
}

/** A seeded model input: `uniform` values in [-scale, scale) as f32, or `tokens` as i32. */
export function seededInput(name: string, shape: readonly number[], rule: InputRule): Tensor {
  if (rule.kind === "tokens") {
    return { dtype: "i32", shape: [...shape], data: seededTokens(name, shape, rule.vocab) };
  }
  return { dtype: "f32", shape: [...shape], data: seededValues(name, numel(shape), rule) };
}

/** `a.b.bias_ih_l0` -> [`a.b`, `bias_ih_l0`]; a bare name has the empty owner (`key.rpartition('.')`). */
function splitOwner(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? ["", name] : [name.slice(0, dot), name.slice(dot + 1)];
}

/** prod(shape[1:]), the empty product being 1 (SPEC §2 rule 3). */
function fanInOfWeight(shape: readonly number[]): number {
  return numel(shape.slice(1));
}

/**
 * The weight a `bias*` tensor takes its fan_in from: the same owner's tensor with the leaf's
 * `bias` prefix replaced by `weight` (`rnn.bias_hh_l1 -> rnn.weight_hh_l1`). Undefined
 * for a leaf that is not a bias.
 */
export function matchingWeightName(name: string): string | undefined {
  const [owner, leaf] = splitOwner(name);
  if (!leaf.startsWith("bias")) return undefined;
  const weightLeaf = `weight${leaf.slice("bias".length)}`;
  return owner === "" ? weightLeaf : `${owner}.${weightLeaf}`;
}

/**
 * The fan_in SPEC §2 gives a `uniform` tensor: a bias takes its matching weight's fan_in
 * when that weight exists with 2+ dims, else its own last dim; every other tensor takes
 * prod(shape[1:]). `shapesByName` holds every tensor of the module.
 */
export function uniformFanIn(
  name: string,
  shape: readonly number[],
  shapesByName: ReadonlyMap<string, readonly number[]>,
): number {
  const weightName = matchingWeightName(name);
  if (weightName === undefined) return fanInOfWeight(shape);
  const weight = shapesByName.get(weightName);
  if (weight !== undefined && weight.length >= 2) return fanInOfWeight(weight);
  // A 0-d bias has no shape[-1]; PyTorch never makes one, and 1 keeps the scale finite.
  return shape.length === 0 ? 1 : shape[shape.length - 1]!;
}

/** 1/sqrt(fan_in) as the SPEC writes it: a float64 division of 1 by a correctly rounded sqrt. */
export function uniformScale(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** Every param and buffer of a graph, filled by its InitRule (SPEC §2). */
export function seededParams(params: readonly GraphParam[]): Map<string, Tensor> {
  const shapes = new Map<string, readonly number[]>(params.map((p) => [p.name, p.type.shape]));
  const out = new Map<string, Tensor>();
  for (const p of params) {
    const shape = [...p.type.shape];
    const n = numel(shape);
    const { dtype } = p.type;
    if (
      p.init === "untouched" ||
      p.init === "zeros" ||
      p.init === "ones" ||
      p.init === "constant"
    ) {
      // `untouched` is what PyTorch builds: num_batches_tracked = 0 (int64).
      const fill = p.init === "ones" ? 1 : p.init === "constant" ? p.initArgs![0]! : 0;
      const data = allocData(dtype, n);
      if (data instanceof BigInt64Array) data.fill(BigInt(Math.trunc(fill)));
      else if (data instanceof Float32Array) data.fill(fill);
      else data.fill(Math.trunc(fill));
      out.set(p.name, { dtype, shape, data });
      continue;
    }
    if (dtype !== "f32") {
      fail(
        "NN6006",
        `param \`${p.name}\`: init rule \`${p.init}\` needs f32, the param is ${dtype}`,
      );
    }
    out.set(p.name, { dtype, shape, data: seededValues(p.name, n, seedRule(p, shapes)) });
  }
  return out;
}

/** The SeedRule of one param: SPEC §2's default, or the rule its `init` names. */
function seedRule(p: GraphParam, shapes: ReadonlyMap<string, readonly number[]>): SeedRule {
  const shape = p.type.shape;
  const args = p.initArgs ?? [];
  switch (p.init) {
    case "uniform":
      return {
        kind: "uniform",
        scale: args.length > 0 ? args[0]! : uniformScale(uniformFanIn(p.name, shape, shapes)),
      };
    case "normal":
      return { kind: "normal", mean: args[0] ?? 0, std: args[1] ?? 1 };
    case "kaiming":
      // He et al.: uniform with bound sqrt(6 / fan_in), torch's kaiming_uniform_ with a = 0.
      return { kind: "uniform", scale: Math.sqrt(6 / fanInOfWeight(shape)) };
    case "xavier": {
      // Glorot & Bengio: uniform with bound sqrt(6 / (fan_in + fan_out)), torch's xavier_uniform_.
      const fanOut = (shape[0] ?? 1) * numel(shape.slice(2));
      return { kind: "uniform", scale: Math.sqrt(6 / (fanInOfWeight(shape) + fanOut)) };
    }
    case "norm_weight":
    case "norm_bias":
    case "running_mean":
    case "running_var":
      return { kind: p.init };
    default:
      throw new Error(`seedRule: ${p.init} is filled without a hash`);
  }
}

/** SPEC §5: sum_i bits(v_i) * (2i+1) mod 2^32 over the float32 bit patterns. */
export function bitsChecksum(f32: Float32Array): number {
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  let acc = 0;
  for (let i = 0; i < bits.length; i++) acc = (acc + Math.imul(bits[i]!, 2 * i + 1)) >>> 0;
  return acc;
}
