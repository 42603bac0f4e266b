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
  /**
   * The gradient rule: a vector–Jacobian product written as graph ops. Given
   * the cotangent of this node's output, the contribution to each input's
   * cotangent (undefined where the input gets none: integer operands, masks,
   * indices). Ops without one cannot be differentiated through (autodiff
   * reports the node).
   */
  vjp?(b: GradBuilder, node: GradNode<A>, cot: number): (number | undefined)[];
}

/** A forward node as its gradient rule sees it: ids in the training graph. */
export interface GradNode<A = Record<string, unknown>> {
  inputs: number[];
  output: number;
  attrs: A;
}

/** What a gradient rule may ask of the graph being built (compiler/autodiff implements it). */
export interface GradBuilder {
  /** Adds a node (its type from the op's shape rule) and returns its id. */
  emit(op: string, inputs: number[], attrs?: Record<string, unknown>): number;
  type(id: number): TensorType;
  /** A scalar constant (shape []), broadcast by the binary ops. */
  scalar(value: number, dtype?: "f32" | "i32"): number;
  /** Sums `grad` over the axes along which `shape` was broadcast to grad's shape, giving `shape`. */
  unbroadcast(grad: number, shape: readonly number[]): number;
  /**
   * The gradient graph of a subgraph (a scan body): its inputs, then one
   * cotangent input per output; its outputs, the gradient of each float input
   * in input order (zeros where nothing reaches it; integer inputs get none).
   */
  gradOf(body: Graph): Graph;
  /** A fresh graph built node by node (the body of a backward scan). */
  subgraph(): SubgraphBuilder;
}

/** Builds a standalone graph: inputs, nodes typed by their ops' shape rules, outputs. */
export interface SubgraphBuilder {
  input(name: string, type: TensorType): number;
  emit(op: string, inputs: number[], attrs?: Record<string, unknown>): number;
  type(id: number): TensorType;
  /** Copies `graph`'s nodes in with its inputs bound to `inputs`; returns its outputs' ids. */
  call(graph: Graph, inputs: number[]): number[];
  finish(outputs: number[]): Graph;
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
