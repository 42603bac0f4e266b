// Every scalar function of the table (compiler/ops/scalar.ts) on edge values —
// NaN, ±Inf, ±0, subnormals, the i32 saturation bounds, huge and tiny
// magnitudes — through every backend. The CPU interpreter (the ops), constant
// folding in the Kernel IR and the Kernel IR interpreter read the same table
// and must agree bit for bit. The emitted WGSL runs on the WebGPU adapter and
// must give a value the WGSL spec allows (see `allowed`), which is a set, not
// a tolerance around the CPU: the spec leaves some results indeterminate.
// Seeded from NNC_SEED (printed), fast-check shrinks a failure to one value.

import fc from "fast-check";
import { afterAll, describe, expect, inject, it } from "vitest";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import type { DType } from "../../compiler/core/types.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import {
  type VExpr,
  type VType,
  vbinary,
  vcast,
  vcmp,
  vconst,
  vunary,
} from "../../compiler/kernels/expr.js";
import { interpretProgram } from "../../compiler/kernels/interpret.js";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import {
  type Accuracy,
  type BinaryFn,
  binaryFnNames,
  binaryTable,
  type CmpFn,
  castScalar,
  cmpFnNames,
  cmpTable,
  roundTo,
  type ScalarType,
  type UnaryFn,
  unaryFnNames,
  unaryTable,
} from "../../compiler/ops/scalar.js";
import { closeGpu } from "../../runtime/webgpu/device.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { GraphBuilder } from "../cpu/graph-builder.js";

const gpu = inject("gpu");
const seed = process.env.NNC_SEED ? Number(process.env.NNC_SEED) : Date.now() % 2 ** 31;
process.stdout.write(`scalar semantics: fast-check seed ${seed} (replay with NNC_SEED=${seed})\n`);
const numRuns = Number(process.env.NNC_FC_RUNS ?? 1) * 20;

const MAX_F32 = 3.4028234663852886e38;
const MIN_NORMAL = 2 ** -126;

const F32_EDGES = [
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  2 ** -149, // the smallest subnormal
  -(2 ** -149),
  MIN_NORMAL - 2 ** -149, // the largest subnormal
  MIN_NORMAL,
  -MIN_NORMAL,
  1e-20,
  0.1,
  0.49999997,
  0.5,
  -0.5,
  1,
  -1,
  1.5,
  -1.5,
  2,
  -2.5,
  15,
  -16,
  88.72, // exp overflows just above
  -88.73, // sigmoid's exp(−x) overflows just below
  89,
  -100,
  16777217, // → 2^24 in f32
  2147483520, // the largest f32 below 2^31: the f32 → i32 bound
  2147483648,
  -2147483648,
  3e9,
  -3e9,
  1e20,
  1.8e19,
  MAX_F32,
  -MAX_F32,
].map(Math.fround);

const I32_EDGES = [
  0, 1, -1, 2, -9, 46341, 65536, 16777217, 2147483520, 2147483647, -2147483648, -2147483647,
];

const arbitrary: Record<ScalarType, fc.Arbitrary<number>> = {
  f32: fc.oneof(
    fc.constantFrom(...F32_EDGES),
    // every f32 bit pattern: NaN, infinities, subnormals included
    fc.float(),
    fc.float({ min: -20, max: 20, noNaN: true }),
  ),
  i32: fc.oneof(fc.constantFrom(...I32_EDGES), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  bool: fc.constantFrom(0, 1),
};
const EDGES: Record<ScalarType, number[]> = { f32: F32_EDGES, i32: I32_EDGES, bool: [0, 1] };

/** Elements per kernel: the edge values' cross product for two operands fits. */
const N = 2048;

/** One scalar function on one operand type, as every backend sees it. */
interface Fn {
  label: string;
  operands: ScalarType[];
  result: ScalarType;
  /** The op as a graph node. */
  op: string;
  attrs?: Record<string, unknown>;
  /** The Kernel IR's constant folding of the function on constants. */
  fold: (xs: VExpr[]) => VExpr;
  /** The exact (float64) function; the spec's allowed set is measured from it. */
  exact: (xs: number[]) => number;
  accuracy: (xs: number[]) => Accuracy;
}

const exactly: Accuracy = { ulp: 0 };

function functions(): Fn[] {
  const fns: Fn[] = [];
  for (const name of unaryFnNames) {
    const row = unaryTable[name];
    for (const t of row.dtypes) {
      fns.push({
        label: `${name} ${t}`,
        operands: [t],
        result: t,
        op: name,
        fold: ([x]) => vunary(name as UnaryFn, x!),
        exact: ([x]) => row.f(x!),
        accuracy: ([x]) => row.accuracy(x!),
      });
    }
  }
  for (const name of binaryFnNames) {
    const row = binaryTable[name];
    for (const t of row.dtypes) {
      fns.push({
        label: `${name} ${t}`,
        operands: [t, t],
        result: t,
        op: name,
        fold: ([a, b]) => vbinary(name as BinaryFn, a!, b!),
        exact: ([a, b]) => row.f(a!, b!, t),
        accuracy: ([a, b]) => (t === "f32" ? row.accuracy(a!, b!) : exactly),
      });
    }
  }
  for (const t of ["f32", "i32", "bool"] as const) {
    for (const name of cmpFnNames) {
      fns.push({
        label: `cmp ${name} ${t}`,
        operands: [t, t],
        result: "bool",
        op: "cmp",
        attrs: { op: name },
        fold: ([a, b]) => vcmp(name as CmpFn, a!, b!),
        exact: ([a, b]) => (cmpTable[name].f(a!, b!) ? 1 : 0),
        accuracy: () => exactly,
      });
    }
    for (const to of ["f32", "i32", "bool"] as const) {
      if (to === t) continue;
      fns.push({
        label: `cast ${t} → ${to}`,
        operands: [t],
        result: to,
        op: "cast",
        attrs: { to },
        fold: ([x]) => vcast(x!, to),
        // i32 → f32 rounds to either neighbour (WGSL §Floating Point Conversion); the rest is exact.
        exact: ([x]) => (to === "f32" ? x! : castScalar(x!, t, to)),
        accuracy: () => (t === "i32" && to === "f32" ? { ulp: 1 } : exactly),
      });
    }
  }
  return fns;
}

function graphOf(fn: Fn): Graph {
  const b = new GraphBuilder();
  const ins = fn.operands.map((t, i) => b.input(`x${i}`, t, [N]));
  b.output("y", b.op(fn.op, ins, fn.attrs ?? {}));
  return b.graph;
}

/** Operand columns of length N: the given tuples, repeated to fill. */
function tensors(fn: Fn, tuples: number[][]): Map<string, Tensor> {
  return new Map(
    fn.operands.map((t, i) => {
      const data =
        t === "f32" ? new Float32Array(N) : t === "i32" ? new Int32Array(N) : new Uint8Array(N);
      for (let k = 0; k < N; k++) data[k] = tuples[k % tuples.length]![i]!;
      return [`x${i}`, { dtype: t as DType, shape: [N], data }];
    }),
  );
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const show = (xs: number[]) => xs.map((x) => (Object.is(x, -0) ? "-0" : String(x))).join(", ");

function ulpOf(x: number): number {
  const a = Math.abs(x);
  if (a < MIN_NORMAL) return 2 ** -149;
  if (a >= MAX_F32) return 2 ** 104;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

const isSubnormalOrZero = (x: number) => Math.abs(x) < MIN_NORMAL;

/**
 * The operands WGSL may actually compute with: a subnormal f32 operand may be
 * flushed to zero, and a zero's sign may be ignored (§Differences from IEEE-754).
 */
function variants(xs: number[], types: ScalarType[]): number[][] {
  let out: number[][] = [[]];
  xs.forEach((x, i) => {
    const alts = types[i] === "f32" && isSubnormalOrZero(x) ? [x, 0, -0] : [x];
    out = out.flatMap((p) => alts.map((a) => [...p, a]));
  });
  return out;
}

/**
 * Whether `got` is a result WGSL allows for `fn` at operands `xs`:
 *  - an operand NaN or ±Inf, or an exact result that is NaN (outside the
 *    function's domain) or beyond the f32 range: the Finite Math Assumption
 *    makes the result an indeterminate value — any value of the type;
 *  - otherwise within the function's accuracy (ulps of the exact result, or
 *    an absolute bound) of the exact result of some flushed variant of the
 *    operands; a result that may be subnormal may also be flushed to ±0, and
 *    where the accuracy bound reaches past the f32 range anything goes;
 *  - for f32 → i32 the spec says NaN gives an indeterminate value (the CPU
 *    picks 0), and everything else is exact.
 */
function allowed(fn: Fn, xs: number[], got: number): boolean {
  for (const v of variants(xs, fn.operands)) {
    if (fn.operands.some((t, i) => t === "f32" && !Number.isFinite(v[i]!))) return true;
    const want = fn.exact(v);
    if (fn.result !== "f32") {
      // i32 arithmetic wraps (two's complement) in WGSL as in the table.
      if (Number.isNaN(want) || got === roundTo(want, fn.result)) return true;
      continue;
    }
    if (!Number.isFinite(want) || Math.abs(want) > MAX_F32) return true;
    const acc = fn.accuracy(v);
    if (acc.ulp === Infinity) return true;
    const tol = Math.max(acc.ulp * ulpOf(want), acc.abs ?? 0);
    // An allowed result beyond the f32 range may round to infinity: indeterminate again.
    if (Math.abs(want) + tol > MAX_F32) return true;
    if (!Number.isFinite(got)) continue;
    const target = acc.ulp === 0 && acc.abs === undefined ? Math.fround(want) : want;
    if (Math.abs(got - target) <= tol) return true;
    if (got === 0 && Math.abs(want) - tol < MIN_NORMAL) return true;
  }
  return false;
}

/** Each element through constant folding: a const VExpr per operand, folded, stored like a tensor. */
function folded(fn: Fn, tuples: number[][]): number[] {
  return tuples.map((xs) => {
    const e = fn.fold(xs.map((x, i) => vconst(x, fn.operands[i]! as VType)));
    if (e.op !== "const") throw new Error(`${fn.label}: not folded`);
    const store =
      fn.result === "f32"
        ? new Float32Array(1)
        : fn.result === "i32"
          ? new Int32Array(1)
          : new Uint8Array(1);
    store[0] = e.value;
    return store[0];
  });
}

async function check(fn: Fn, plan: GpuPlan | undefined, tuples: number[][]): Promise<void> {
  const g = graphOf(fn);
  const inputs = tensors(fn, tuples);
  const at = (i: number) => tuples[i % tuples.length]!;
  const cpu = runGraph(g, inputs, new Map()).get("y")!.data;
  const ir = interpretProgram(lowerGraph(g), inputs, new Map()).get("y")!.data;
  const fold = folded(fn, tuples);
  const n = Math.min(N, tuples.length);
  for (let i = 0; i < n; i++) {
    const c = Number(cpu[i]);
    const where = `${fn.label} at (${show(at(i))})`;
    if (!same(Number(ir[i]), c))
      throw new Error(`${where}: Kernel IR interpreter ${ir[i]}, CPU ${c}`);
    if (!same(fold[i]!, c)) throw new Error(`${where}: constant folding ${fold[i]}, CPU ${c}`);
  }
  if (!plan) return;
  const got = (await plan.run(inputs)).get("y")!.data;
  for (let i = 0; i < n; i++) {
    const r = Number(got[i]);
    if (!allowed(fn, at(i), r)) {
      throw new Error(
        `${fn.label} at (${show(at(i))}): WebGPU ${r} is not a result WGSL allows (CPU ${Number(cpu[i])})`,
      );
    }
  }
}

/** The edge values, and for two operands every pair of them. */
function edgeTuples(fn: Fn): number[][] {
  const [a, b] = fn.operands.map((t) => EDGES[t]);
  if (!b) return a!.map((x) => [x]);
  return a!.flatMap((x) => b.map((y) => [x, y]));
}

describe("scalar semantics: CPU, constant folding, the Kernel IR interpreter and WGSL agree", () => {
  afterAll(async () => {
    if (gpu.ok) await closeGpu();
  });
  if (!gpu.ok) {
    it.skip(`WGSL on the adapter (no WebGPU adapter: ${gpu.detail})`, () => {});
  }

  for (const fn of functions()) {
    it(fn.label, async () => {
      const plan = gpu.ok ? await GpuPlan.create(emitPlan(lowerGraph(graphOf(fn)))) : undefined;
      try {
        const edges = edgeTuples(fn);
        expect(edges.length).toBeLessThanOrEqual(N);
        await check(fn, plan, edges);
        const tuple = fc.tuple(...fn.operands.map((t) => arbitrary[t]));
        await fc.assert(
          fc.asyncProperty(fc.array(tuple, { minLength: 1, maxLength: 64 }), (tuples) =>
            check(fn, plan, tuples),
          ),
          { seed, numRuns },
        );
      } finally {
        plan?.dispose();
      }
    }, 60_000);
  }
});
