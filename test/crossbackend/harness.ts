// The cross-backend check: a small Graph IR graph runs on the CPU interpreter
// (the oracle) and on WebGPU (lowerGraph → emitPlan → GpuPlan, all plans on
// one shared device), and every output must agree within a tolerance chosen
// per output. Properties drive it with fast-check; a failure reports the
// shrunk case, the disagreeing elements and the graph.

import fc from "fast-check";
import { expect, it } from "vitest";
import type { ExecutablePlan } from "../../compiler/codegen/plan.js";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import { allocData, type Tensor } from "../../compiler/core/tensor.js";
import { type DType, formatType, stridesOf } from "../../compiler/core/types.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { printGraph } from "../../compiler/graph/print-graph.js";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import { withDerived } from "../../compiler/passes/prep.js";
import { Pipeline, passNames } from "../../compiler/pipeline/index.js";
import { namedTarget, type TargetName as Target } from "../../compiler/target/target.js";
import { GpuPlan } from "../../runtime/webgpu/execute.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { rng } from "../kernels/helpers.js";

/**
 * Where an input's values come from. f32: `unit` [-1, 1), `wide` [-8, 8),
 * `ints` whole numbers in [-4, 4] (ties for max/cmp, exact floor/ceil),
 * `nonzero` the same without 0 (divisors), `positive` [1/8, 4) (log, sqrt),
 * `huge` [-3e9, 2e9) (casts that saturate below −2^31; see the known
 * disagreement above 2^31 in primitives.test.ts). i32: `small` [-9, 9], `full`
 * the whole range (wrapping arithmetic), `{below: n}` [0, n) (gather indices).
 * bool: 0 or 1. `{values}`: exactly these, repeated.
 */
export type Domain =
  | "unit"
  | "wide"
  | "ints"
  | "nonzero"
  | "positive"
  | "huge"
  | "small"
  | "full"
  | "bool"
  | { below: number }
  | { values: number[] };

/** How close two results must be: bit for bit, or |gpu − cpu| ≤ atol + rtol·|cpu|. */
export type Tolerance = { kind: "exact" } | { kind: "close"; atol: number; rtol: number };

export const exact: Tolerance = { kind: "exact" };

export const close = (atol: number, rtol = 1e-5): Tolerance => ({ kind: "close", atol, rtol });

/**
 * A sum of `terms` values of magnitude ≤ 1 (products of [-1, 1) inputs):
 * the CPU accumulates in float64 and rounds once, a kernel in f32 in its own
 * order, so allow about eight f32 ulps of 1 per term. A wrong or missing term
 * is off by far more.
 */
export const sumOf = (terms: number): Tolerance => close(1e-6 * Math.max(1, terms), 1e-5);

/** A graph to run on both backends. */
export interface CrossCase {
  /** What the CPU runs (the oracle) and, unless `compiled` says otherwise, WebGPU: one kernel per op. */
  graph: Graph;
  /**
   * What WebGPU runs instead: the plan `nnc run` makes of the same model (the
   * optimizer, fusion, memory planning) and its optimized graph, whose prep
   * derives params from the loaded ones.
   */
  compiled?: { graph: Graph; plan: ExecutablePlan };
  /** Per input name; the dtype's default (`unit`, `small`, `bool`) otherwise. */
  domains?: Record<string, Domain>;
  /** Per output name, or one for all. */
  tolerance: Tolerance | Record<string, Tolerance>;
  /** Lower with the tune pass (tiles chosen by the cost model, 4×8 where it pays) instead of fixed 4×4 tiles. */
  tune?: boolean;
  /** The target the tune pass picks tiles for (default lavapipe). */
  target?: Target;
}

/** A random case of one primitive (or family): the ops it covers, its generator and its graph. */
export interface CrossProperty<T> {
  name: string;
  /** Every primitive this property must exercise; checked against the graphs it builds. */
  ops: string[];
  arbitrary: fc.Arbitrary<T>;
  build: (c: T) => CrossCase;
  numRuns?: number;
}

/** Erases the case type so properties of different cases share one list. */
export function crossProperty<T>(p: CrossProperty<T>): CrossProperty<unknown> {
  return p as CrossProperty<unknown>;
}

function defaultDomain(dtype: DType): Domain {
  return dtype === "f32" ? "unit" : dtype === "i32" ? "small" : "bool";
}

/** One tensor of `dtype` and `shape` with values from `domain`, reproducible from `seed`. */
export function makeTensor(dtype: DType, shape: number[], domain: Domain, seed: number): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  const data = allocData(dtype, n);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  let i = 0;
  const value = (): number => {
    if (typeof domain === "object")
      return "below" in domain
        ? Math.floor(r() * domain.below)
        : domain.values[i % domain.values.length]!;
    switch (domain) {
      case "unit":
        return r() * 2 - 1;
      case "wide":
        return r() * 16 - 8;
      case "ints":
        return int(-4, 4);
      case "nonzero": {
        const v = int(-4, 3);
        return v >= 0 ? v + 1 : v;
      }
      case "positive":
        return 0.125 + r() * 3.875;
      case "huge":
        return -3e9 + r() * 5e9;
      case "small":
        return int(-9, 9);
      case "full":
        // Mostly the extremes' neighbourhood and anything between.
        return r() < 0.2 ? [-2147483648, 2147483647, -1, 0][int(0, 3)]! : (r() * 2 ** 32) | 0;
      case "bool":
        return r() < 0.5 ? 1 : 0;
    }
  };
  for (; i < n; i++) {
    if (data instanceof BigInt64Array) data[i] = BigInt(value());
    else data[i] = value();
  }
  return { dtype, shape: [...shape], data };
}

/** Random inputs by the case's domains and seeded params (a graph compiled from .nn has some). */
export function bindings(c: CrossCase, seed: number) {
  const inputs = new Map(
    c.graph.inputs.map((x, i) => [
      x.name,
      makeTensor(
        x.type.dtype,
        x.type.shape,
        c.domains?.[x.name] ?? defaultDomain(x.type.dtype),
        seed * 31 + i,
      ),
    ]),
  );
  return { inputs, params: seededParams(c.graph.params) };
}

/** The graph lowered as it is, then the tune pass alone (for `target`), emitted. */
function tunedPlan(graph: Graph, target: Target) {
  const p = new Pipeline(namedTarget(target), { disable: passNames.filter((n) => n !== "tune") });
  return p.plan(p.kernels(graph));
}

/** Runs a case on WebGPU through the code generator and the runtime; the device is shared. */
export async function runOnGpu(
  c: CrossCase,
  inputs: Map<string, Tensor>,
  params: Map<string, Tensor>,
): Promise<Map<string, Tensor>> {
  const executable =
    c.compiled?.plan ??
    (c.tune ? tunedPlan(c.graph, c.target ?? "lavapipe") : emitPlan(lowerGraph(c.graph)));
  const plan = await GpuPlan.create(executable);
  try {
    plan.uploadParams(c.compiled ? withDerived(c.compiled.graph, params) : params);
    return await plan.run(inputs);
  } finally {
    plan.dispose();
  }
}

export type Runner = typeof runOnGpu;

function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function within(got: number, want: number, tol: Tolerance): boolean {
  if (same(got, want)) return true;
  if (tol.kind === "exact") return false;
  return Math.abs(got - want) <= tol.atol + tol.rtol * Math.abs(want);
}

function coordinate(shape: number[], flat: number): string {
  const strides = stridesOf(shape);
  return `[${shape.map((d, i) => Math.floor(flat / strides[i]!) % d).join(", ")}]`;
}

const formatTolerance = (t: Tolerance) =>
  t.kind === "exact" ? "exactly" : `within ${t.atol} + ${t.rtol}·|cpu|`;

/** Every disagreement between the backends' outputs, as report lines; empty when they agree. */
export function disagreements(
  want: Map<string, Tensor>,
  got: Map<string, Tensor>,
  tolerance: CrossCase["tolerance"],
): string[] {
  const lines: string[] = [];
  for (const [name, w] of want) {
    const g = got.get(name);
    const tol: Tolerance =
      "kind" in tolerance ? (tolerance as Tolerance) : (tolerance[name] ?? exact);
    if (!g) {
      lines.push(`${name}: missing from the WebGPU results`);
      continue;
    }
    if (g.dtype !== w.dtype || g.shape.join() !== w.shape.join()) {
      lines.push(`${name}: WebGPU gives ${formatType(g)}, the CPU ${formatType(w)}`);
      continue;
    }
    const bad: number[] = [];
    for (let i = 0; i < w.data.length; i++) {
      if (!within(Number(g.data[i]), Number(w.data[i]), tol)) bad.push(i);
    }
    if (bad.length === 0) continue;
    lines.push(
      `${name} ${formatType(w)}: ${bad.length} of ${w.data.length} elements differ (want ${formatTolerance(tol)})`,
    );
    for (const i of bad.slice(0, 6))
      lines.push(
        `  ${coordinate(w.shape, i)}  webgpu ${Number(g.data[i])}  cpu ${Number(w.data[i])}`,
      );
  }
  return lines;
}

/** Runs the case on both backends; throws a readable report when they disagree. */
export async function crossCheck(c: CrossCase, seed: number, runner: Runner = runOnGpu) {
  const { inputs, params } = bindings(c, seed);
  const want = runGraph(c.graph, inputs, params);
  const got = await runner(c, inputs, params);
  const lines = disagreements(want, got, c.tolerance);
  if (lines.length > 0) {
    const text = printGraph(c.graph);
    throw new Error(
      `WebGPU and the CPU disagree (input seed ${seed}):\n${lines.join("\n")}\ngraph:\n${text.length > 4000 ? `${text.slice(0, 4000)}\n…` : text}`,
    );
  }
}

/** The ops of a graph and of the bodies nested in it (scan). */
export function opsOf(g: Graph, into = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    into.add(n.op);
    const body = n.attrs.body as Graph | undefined;
    if (body && Array.isArray(body.nodes)) opsOf(body, into);
  }
  return into;
}

/**
 * fast-check's run count and path. Every new shape is a new kernel for the
 * driver to compile (~50 ms on lavapipe), so runs are few by default;
 * NNC_FC_RUNS=k runs k times as many. The seed is the file's (NNC_SEED, see
 * test/fast-check-setup.ts); NNC_FC_PATH with it jumps to the shrunk case.
 */
function runParameters(numRuns: number): fc.Parameters<unknown> {
  const path = process.env.NNC_FC_PATH;
  const scale = Number(process.env.NNC_FC_RUNS ?? 1);
  return {
    numRuns: Math.max(1, Math.round(numRuns * (scale > 0 ? scale : 1))),
    ...(path ? { path } : {}),
  };
}

/**
 * Checks a property: `numRuns` random cases, each on both backends. On failure
 * fast-check shrinks the case and the error carries the counterexample (case
 * and input seed), the disagreements and the graph.
 */
export async function checkProperty(p: CrossProperty<unknown>, runner: Runner = runOnGpu) {
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(p.arbitrary, fc.nat(1_000_000), async (c, seed) => {
      const built = p.build(c);
      opsOf(built.graph, seen);
      await crossCheck(built, seed, runner);
    }),
    runParameters(p.numRuns ?? 15) as fc.Parameters<[unknown, number]>,
  );
  expect(
    p.ops.filter((op) => !seen.has(op)),
    `${p.name}: declared ops no generated graph used`,
  ).toEqual([]);
}

/** The same property with its cases lowered by the tune pass, for `target`'s adapter class. */
export function tuned<T>(p: CrossProperty<T>, target: Target = "lavapipe"): CrossProperty<T> {
  return {
    ...p,
    name: `${p.name} (tuned tiles${target === "lavapipe" ? "" : `, ${target}`})`,
    build: (c) => ({ ...p.build(c), tune: true, target }),
  };
}

/** One vitest test per property; compiling a few hundred kernels on a loaded machine takes minutes. */
export function itAgrees(properties: CrossProperty<unknown>[], timeoutMs = 300_000): void {
  for (const p of properties) it(p.name, () => checkProperty(p), timeoutMs);
}
