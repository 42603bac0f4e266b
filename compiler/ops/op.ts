// The contract every primitive op module fulfils. An op owns its attribute
// schema, its shape rule, its CPU reference semantics and its fusion category;
// adding an op means adding one module here and registering it in index.ts.

import type { z } from "zod";
import type { DiagnosticCode, TraceFrame } from "../core/diagnostics.js";
import type { Span } from "../core/span.js";
import type { Tensor } from "../core/tensor.js";
import type { TensorType } from "../core/types.js";
import type { Graph } from "../graph/graph.js";
import type { IExpr, IVar, VExpr } from "../kernels/expr.js";

/**
 * TVM's fusion categories. `source` marks graph inputs, params and constants.
 * - elementwise: out[i] = f(in[i]) with identical shapes
 * - broadcast: elementwise with NumPy broadcasting of inputs
 * - injective: each output element reads one input element through an index map (movement ops)
 * - reduction: folds axes away (sum, max, mean)
 * - out-elementwise-fusable: matmul/conv: elementwise epilogues fuse into their output
 * - opaque: nothing fuses across it (scan)
 */
export type FusionCategory =
  | "source"
  | "elementwise"
  | "broadcast"
  | "injective"
  | "reduction"
  | "out-elementwise-fusable"
  | "opaque";

/** A shape or attribute error raised by an op's shape rule; elaboration adds the span and trace. */
export class OpError extends Error {
  readonly code: DiagnosticCode;
  readonly hint: string | undefined;
  /** Where the failing node came from, set by the interpreter for a run-time error (NN7001). */
  span: Span | undefined;
  trace: TraceFrame[] | undefined;
  constructor(code: DiagnosticCode, message: string, hint?: string) {
    super(message);
    this.name = "OpError";
    this.code = code;
    this.hint = hint;
  }
}

/** What an op's CPU evaluation may ask of the interpreter (scan runs its body graph through it). */
export interface EvalContext {
  runGraph(graph: Graph, inputs: Tensor[], params: Tensor[]): Tensor[];
}

export interface OpDef<A = Record<string, unknown>> {
  name: string;
  category: FusionCategory;
  /** The number of tensor inputs: exact, or at least `min` for variadic ops (concat). */
  arity: number | { min: number };
  /** Validates and normalises attrs (defaults filled in). */
  attrs: z.ZodType<A>;
  /** Output type from input types; throws OpError for a bad combination. */
  infer(inputs: TensorType[], attrs: A): TensorType;
  /** Reference semantics on host tensors: plain loops, obviously correct. */
  evaluate(inputs: Tensor[], attrs: A, ctx: EvalContext): Tensor;
  /** Multiply-add count ×2 (the fixtures' FLOP convention); 0 where not counted. */
  flops?(inputs: TensorType[], output: TensorType, attrs: A): number;
  /**
   * The Kernel IR lowering: each output element as a value expression over
   * the operands' elements. Movement ops index their input; contractions,
   * reductions and windows return a `reduce`. Ops without one cannot run on
   * a kernel backend.
   */
  lower?(inputs: LowerOperand[], attrs: A, output: TensorType, ctx: LowerContext): ElementFn;
}

/** An operand as a kernel sees it: its type and the value expression of any of its elements. */
export interface LowerOperand {
  type: TensorType;
  /** The element at `index` (one index expression per dim). */
  at(index: IExpr[]): VExpr;
}

/** What a lowering may ask of the kernel it is lowered into. */
export interface LowerContext {
  /** A reduction variable over [0, extent) with a name unique in the kernel (`hint`, `hint1`, …). */
  fresh(hint: string, extent: number): IVar;
}

/** Given an output index (one expression per output dim), the value expression of that element. */
export type ElementFn = (index: IExpr[]) => VExpr;

/** Declares an op with its attribute type inferred from the schema. */
export function defineOp<S extends z.ZodType<Record<string, unknown>>>(
  def: Omit<OpDef<z.output<S>>, "attrs"> & { attrs: S },
): OpDef<z.output<S>> {
  return def as unknown as OpDef<z.output<S>>;
}
