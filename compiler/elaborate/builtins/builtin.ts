// The contract of a builtin: a primitive exposed to .nn code with the same
// calling convention as a `def` (hyperparameters, then tensor inputs). Builtins
// live in the `prim` namespace and, unless the prelude shadows them, unqualified.

import type { Span } from "../../core/span.js";
import type { DType } from "../../core/types.js";
import { unaryFnNames, unaryTable } from "../../ops/scalar.js";
import { type Ctx, raise } from "../context.js";
import type { CallableValue, TensorValue, Value } from "../values.js";
import { describe } from "../values.js";

export type ParamType =
  | { kind: "int" }
  | { kind: "float" }
  | { kind: "bool" }
  | { kind: "string" }
  | { kind: "layer" }
  | { kind: "any" }
  | { kind: "enum"; words: string[] };

export interface BuiltinParam {
  name: string;
  type: ParamType;
  /** Absent means required. */
  default?: Value;
}

export interface BuiltinCall {
  ctx: Ctx;
  hyper: Map<string, Value>;
  inputs: Value[];
  span: Span;
  /**
   * Applies a layer value to inputs (calls.ts's applyCallable), for builtins
   * that take a layer (`scan`'s step). Passed in rather than imported, since
   * calls.ts imports the builtins.
   */
  applyLayer(ctx: Ctx, layer: CallableValue, inputs: Value[], span: Span): Value;
}

export interface Builtin {
  name: string;
  hyper: BuiltinParam[];
  /** Input names, or "variadic" for any number (concat). */
  inputs: string[] | "variadic";
  /** How many inputs may be left out from the end (optional inputs). */
  optionalInputs?: number;
  /** When false, every positional argument is an input (numbers become constants): `where(m, x, 0.0)`. */
  positionalHyper?: boolean;
  /** The value when called on plain numbers: `sqrt(2.0)`. */
  numeric?: (args: number[]) => number;
  apply(call: BuiltinCall): Value;
}

export const T = {
  int: { kind: "int" } as ParamType,
  float: { kind: "float" } as ParamType,
  bool: { kind: "bool" } as ParamType,
  string: { kind: "string" } as ParamType,
  any: { kind: "any" } as ParamType,
  enumOf: (...words: string[]): ParamType => ({ kind: "enum", words }),
  dtype: { kind: "enum", words: ["f32", "i32", "bool"] } as ParamType,
};

export function tensorArg(call: BuiltinCall, i: number, name: string): TensorValue {
  const v = call.inputs[i];
  if (v?.k !== "tensor") {
    raise(
      call.ctx,
      "NN3004",
      `\`${name}\` must be a tensor, got ${v ? describe(v) : "nothing"}`,
      call.span,
    );
  }
  return v;
}

export function intHyper(call: BuiltinCall, name: string): number {
  const v = call.hyper.get(name)!;
  if (v.k !== "int")
    raise(call.ctx, "NN3004", `\`${name}\` must be an int, got ${describe(v)}`, call.span);
  return v.v;
}

export function floatHyper(call: BuiltinCall, name: string): number {
  const v = call.hyper.get(name)!;
  if (v.k !== "int" && v.k !== "float") {
    raise(call.ctx, "NN3004", `\`${name}\` must be a number, got ${describe(v)}`, call.span);
  }
  return v.v;
}

export function boolHyper(call: BuiltinCall, name: string): boolean {
  const v = call.hyper.get(name)!;
  if (v.k !== "bool")
    raise(call.ctx, "NN3004", `\`${name}\` must be a bool, got ${describe(v)}`, call.span);
  return v.v;
}

/** An int or a list of ints, as a list: `axis=1`, `axis=[2, 3]`. */
export function intsHyper(call: BuiltinCall, name: string): number[] {
  return intList(call.ctx, call.hyper.get(name)!, name, call.span);
}

export function intList(ctx: Ctx, v: Value, name: string, span: Span): number[] {
  if (v.k === "int") return [v.v];
  if (v.k === "list" && v.items.every((x) => x.k === "int")) {
    return v.items.map((x) => (x as { v: number }).v);
  }
  raise(ctx, "NN3004", `\`${name}\` must be an int or a list of ints, got ${describe(v)}`, span);
}

/** `k` or `[kh, kw]` as a pair, for kernel sizes, strides and paddings. */
export function pairHyper(call: BuiltinCall, name: string): [number, number] {
  const xs = intsHyper(call, name);
  if (xs.length === 1) return [xs[0]!, xs[0]!];
  if (xs.length === 2) return [xs[0]!, xs[1]!];
  raise(
    call.ctx,
    "NN3015",
    `\`${name}\` must be an int or a pair of ints, got ${xs.length} values`,
    call.span,
  );
}

/** Normalises a possibly negative axis against a rank. */
export function normAxis(call: BuiltinCall, axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    raise(
      call.ctx,
      "NN3014",
      `${what} ${axis} is out of range for a rank-${rank} tensor`,
      call.span,
    );
  }
  return a;
}

export function dtypeHyper(call: BuiltinCall, name: string): DType {
  const v = call.hyper.get(name)!;
  const s = v.k === "word" || v.k === "str" ? v.v : "";
  if (s === "f32" || s === "i32" || s === "bool") return s;
  raise(
    call.ctx,
    "NN3005",
    `\`${name}\` must be one of f32, i32, bool; got ${describe(v)}`,
    call.span,
  );
}

/** Registry filled by the builtin modules. */
export const builtins = new Map<string, Builtin>();

export function register(...bs: Builtin[]): void {
  for (const b of bs) {
    if (builtins.has(b.name)) throw new Error(`builtin ${b.name} registered twice`);
    builtins.set(b.name, b);
  }
}

/** Tensor members callable as methods: `x.reshape(...)` is `reshape(x, ...)`. */
export const tensorMethods = new Set([
  "reshape",
  "permute",
  "transpose",
  "unsqueeze",
  "squeeze",
  "expand",
  "sum",
  "mean",
  "max",
  "min",
  "cast",
  "split",
  // The scalar table's unary functions marked as methods (x.exp()).
  ...unaryFnNames.filter((name) => unaryTable[name].builtin === "method"),
]);
