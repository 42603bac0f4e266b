// The Kernel IR: a scheduled program of kernels over a buffer plan, neutral
// to the target. Lowering (lower.ts, scan-loop.ts for recurrences) builds it
// from the Graph IR, fusion (fuse.ts, grouping.ts) decides its kernels,
// schedule.ts and tune.ts its launch shapes; the WGSL emitter
// (compiler/codegen/wgsl/emit-plan.ts) is its only consumer on the way to
// shader code and the interpreter (interpret.ts) runs it on the host. Plain
// data: printable (print.ts), JSON-serialisable and validated by the zod
// schema below.

import { z } from "zod";
import type { DType } from "../core/types.js";
import { binaryFnNames, cmpFnNames, unaryFnNames } from "../ops/scalar.js";
import type { ICond, IExpr, IVar, VExpr, VType } from "./expr.js";

/** Where a buffer's contents come from: the same sources as the executable plan's. */
export type KernelBufferSource =
  | { kind: "input"; name: string }
  | { kind: "param"; name: string }
  | { kind: "const"; values: number[] }
  | { kind: "computed" };

export interface KernelBuffer {
  id: number;
  /** `input`, `conv1.weight`, `%12 conv2d`. */
  name: string;
  /** The logical dtype; bool is stored as u32. */
  dtype: DType;
  shape: number[];
  source: KernelBufferSource;
}

export interface Binding {
  buffer: number;
  role: "read" | "write";
  dtype: VType;
  shape: number[];
}

/**
 * How invocations cover the iteration space.
 * - naive: one invocation per element.
 * - tiled: the body is `epilogue(sum(a * b))`; each invocation computes a
 *   register tile of tm × tn elements along space dims m and n (m null: a
 *   single row), sharing each factor's loads across the tile.
 * - rows: one invocation per index of the other dims loops over the `rows`
 *   dims; the reductions that do not depend on them (softmax's max and sum,
 *   layernorm's mean and variance) are computed once, before the loop.
 */
export type Schedule =
  | { kind: "naive" }
  | { kind: "tiled"; m: number | null; n: number; tm: number; tn: number }
  | { kind: "rows"; rows: number[] };

/** A Graph IR node a kernel computes, for inspect and error messages. */
export interface KernelSource {
  node: number;
  op: string;
  /** `file:line:col` of the node's span. */
  at?: string;
  /** The layer path, e.g. `layer1.0.conv1`. */
  scope?: string;
}

/** The name of the step variable of kernels inside a recurrence (see KernelLoop). */
export const STEP_VAR = "step";

/** A further value one invocation stores (a fused scan step writes several outputs). */
export interface KernelStore {
  /** A write binding (the primary write or another). */
  binding: number;
  index: IExpr[];
  value: VExpr;
  /** Stored only where this holds (a final state: the last step only). */
  when?: ICond;
}

/**
 * A kernel inside a recurrence (a lowered `scan`). Consecutive kernels with the
 * same loop id are the loop's body: they are dispatched in order once per step,
 * the step (0 … steps − 1 in dispatch order) read from a uniform as the index
 * variable `step`. A persistent kernel runs every step itself in one dispatch:
 * one workgroup, a barrier between steps.
 */
export interface KernelLoop {
  id: number;
  steps: number;
  persistent?: boolean;
  /**
   * A persistent kernel keeps the carried state in workgroup memory: the first
   * `state` columns of each row of its primary output (the scan's new states),
   * double-buffered by step parity; its reads of that output are state reads.
   */
  state?: number;
  /** What lowering chose for this recurrence and why (the cost model), for inspect. */
  why?: string;
}

export interface Kernel {
  name: string;
  /** The Graph IR node whose value the kernel writes (a root contraction, reduction, window or elementwise op). */
  root: number;
  /** Every Graph IR node evaluated inside the kernel, root last. */
  sources: KernelSource[];
  /** Storage bindings in @binding order; reads first, the one write last. */
  bindings: Binding[];
  /** The iteration space: one variable per dim. */
  space: IVar[];
  /** The element of the write binding each point of the space stores (usually the space itself). */
  store: IExpr[];
  /** The stored value; loads name bindings by index. A `reduce` inside is the root, what surrounds it the epilogue. */
  body: VExpr;
  schedule: Schedule;
  workgroup: [number, number, number];
  grid: [number, number, number];
  /** Invocations that do work (the rest of the grid exits at once). */
  threads: number;
  /** Stores besides `out[store] = body`; write bindings may then be several (the primary one last). */
  stores?: KernelStore[];
  /** Set for the kernels of a recurrence. */
  loop?: KernelLoop;
}

/** Kernels in dispatch order over a buffer plan. */
export interface KernelProgram {
  buffers: KernelBuffer[];
  kernels: Kernel[];
  inputs: { name: string; buffer: number }[];
  params: { name: string; buffer: number }[];
  outputs: { name: string; buffer: number }[];
}

// ---------------------------------------------------------------- schema

/**
 * JSON has no ±Infinity or NaN: they travel as strings (see programToJson).
 * Typed by hand: the inferred type has a `[-Infinity]` key, which the emitted
 * .d.ts cannot hold (TS1170 in a consumer's type check).
 */
const num: z.ZodType<number, number | "Infinity" | "-Infinity" | "NaN"> = z.union([
  z.number(),
  z.enum(["Infinity", "-Infinity", "NaN"]).transform((s) => Number(s)),
]);
const int = z.number().int();
const vtype = z.enum(["f32", "i32", "bool"]);
const ivarSchema = z.object({ op: z.literal("var"), name: z.string(), extent: int.nonnegative() });

export const iexprSchema: z.ZodType<IExpr> = z.lazy(() =>
  z.union([
    z.object({ op: z.literal("const"), value: int }),
    ivarSchema,
    z.object({
      op: z.enum(["add", "sub", "mul", "div", "mod", "min", "max"]),
      a: iexprSchema,
      b: iexprSchema,
    }),
    z.object({ op: z.literal("select"), cond: icondSchema, a: iexprSchema, b: iexprSchema }),
    z.object({ op: z.literal("value"), v: vexprSchema }),
  ]),
) as z.ZodType<IExpr>;

const icondSchema: z.ZodType<import("./expr.js").ICond> = z.lazy(() =>
  z.union([
    z.object({ op: z.literal("bool"), value: z.boolean() }),
    z.object({ op: z.enum(["lt", "le", "gt", "ge", "eq", "ne"]), a: iexprSchema, b: iexprSchema }),
    z.object({ op: z.enum(["and", "or"]), a: icondSchema, b: icondSchema }),
  ]),
) as z.ZodType<import("./expr.js").ICond>;

export const vexprSchema: z.ZodType<VExpr> = z.lazy(() =>
  z.union([
    z.object({
      op: z.literal("load"),
      binding: int.nonnegative(),
      index: z.array(iexprSchema),
      dtype: vtype,
    }),
    z.object({ op: z.literal("const"), value: num, dtype: vtype }),
    z.object({ op: z.literal("index"), index: iexprSchema, dtype: vtype }),
    z.object({ op: z.literal("test"), cond: icondSchema, dtype: z.literal("bool") }),
    z.object({
      op: z.literal("unary"),
      fn: z.enum(unaryFnNames),
      x: vexprSchema,
      dtype: vtype,
    }),
    z.object({
      op: z.literal("binary"),
      fn: z.enum(binaryFnNames),
      a: vexprSchema,
      b: vexprSchema,
      dtype: vtype,
    }),
    z.object({
      op: z.literal("cmp"),
      fn: z.enum(cmpFnNames),
      a: vexprSchema,
      b: vexprSchema,
      dtype: z.literal("bool"),
    }),
    z.object({
      op: z.literal("select"),
      cond: vexprSchema,
      a: vexprSchema,
      b: vexprSchema,
      dtype: vtype,
    }),
    z.object({ op: z.literal("cast"), x: vexprSchema, dtype: vtype }),
    z.object({
      op: z.literal("reduce"),
      kind: z.enum(["sum", "max"]),
      vars: z.array(ivarSchema),
      body: vexprSchema,
      dtype: vtype,
    }),
  ]),
) as z.ZodType<VExpr>;

const shape = z.array(int.nonnegative());
const triple = z.tuple([int.positive(), int.positive(), int.positive()]);
const named = z.object({ name: z.string(), buffer: int.nonnegative() });

export const kernelProgramSchema = z.object({
  buffers: z.array(
    z.object({
      id: int.nonnegative(),
      name: z.string(),
      dtype: z.enum(["f32", "i32", "bool", "i64"]),
      shape,
      source: z.union([
        z.object({ kind: z.literal("input"), name: z.string() }),
        z.object({ kind: z.literal("param"), name: z.string() }),
        z.object({ kind: z.literal("const"), values: z.array(num) }),
        z.object({ kind: z.literal("computed") }),
      ]),
    }),
  ),
  kernels: z.array(
    z.object({
      name: z.string(),
      root: int.nonnegative(),
      sources: z.array(
        z.object({
          node: int.nonnegative(),
          op: z.string(),
          at: z.string().optional(),
          scope: z.string().optional(),
        }),
      ),
      bindings: z.array(
        z.object({
          buffer: int.nonnegative(),
          role: z.enum(["read", "write"]),
          dtype: vtype,
          shape,
        }),
      ),
      space: z.array(ivarSchema),
      store: z.array(iexprSchema),
      body: vexprSchema,
      schedule: z.union([
        z.object({ kind: z.literal("naive") }),
        z.object({
          kind: z.literal("tiled"),
          m: int.nonnegative().nullable(),
          n: int.nonnegative(),
          tm: int.positive(),
          tn: int.positive(),
        }),
        z.object({ kind: z.literal("rows"), rows: z.array(int.nonnegative()) }),
      ]),
      workgroup: triple,
      grid: triple,
      threads: int.nonnegative(),
      stores: z
        .array(
          z.object({
            binding: int.nonnegative(),
            index: z.array(iexprSchema),
            value: vexprSchema,
            when: icondSchema.optional(),
          }),
        )
        .optional(),
      loop: z
        .object({
          id: int.nonnegative(),
          steps: int.positive(),
          persistent: z.boolean().optional(),
          state: int.positive().optional(),
          why: z.string().optional(),
        })
        .optional(),
    }),
  ),
  inputs: z.array(named),
  params: z.array(named),
  outputs: z.array(named),
});

/** The program as JSON text, non-finite constants as strings. */
export function programToJson(program: KernelProgram, indent?: number): string {
  return JSON.stringify(
    program,
    (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
    indent,
  );
}

/** Parses and validates JSON from programToJson. */
export function programFromJson(text: string): KernelProgram {
  return kernelProgramSchema.parse(JSON.parse(text)) as KernelProgram;
}
