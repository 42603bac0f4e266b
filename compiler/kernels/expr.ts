// The two expression languages of the Kernel IR. Index expressions (IExpr)
// are i32 arithmetic over loop variables: every movement op becomes one.
// Value expressions (VExpr) compute an output element from loads, constants
// and the primitive scalar functions, with `reduce` for contractions and
// reductions. Their smart constructors (index-expr.ts, value-expr.ts) keep
// both simplified so a printed kernel (print-expr.ts) reads like the formula
// it computes. This module is the one import for all of it.

import type { BinaryFn, CmpFn, UnaryFn } from "../ops/scalar.js";

export type { BinaryFn, CmpFn, UnaryFn } from "../ops/scalar.js";

// ---------------------------------------------------------------- index expressions

export interface IVar {
  op: "var";
  name: string;
  /** The variable ranges over [0, extent). */
  extent: number;
}

export type IExpr =
  | { op: "const"; value: number }
  | IVar
  | { op: "add" | "sub" | "mul" | "div" | "mod" | "min" | "max"; a: IExpr; b: IExpr }
  | { op: "select"; cond: ICond; a: IExpr; b: IExpr }
  /** An integer read from a tensor (gather's indices). */
  | { op: "value"; v: VExpr };

export type CondOp = "lt" | "le" | "gt" | "ge" | "eq" | "ne";

export type ICond =
  | { op: "bool"; value: boolean }
  | { op: CondOp; a: IExpr; b: IExpr }
  | { op: "and" | "or"; a: ICond; b: ICond };

// ---------------------------------------------------------------- value expressions

/** The element types kernels compute in; bool is stored as u32. */
export type VType = "f32" | "i32" | "bool";

export type ReduceKind = "sum" | "max";

export type VExpr =
  | { op: "load"; binding: number; index: IExpr[]; dtype: VType }
  | { op: "const"; value: number; dtype: VType }
  /** An index as a value (iota, pool divisors). */
  | { op: "index"; index: IExpr; dtype: VType }
  /** An index condition as a bool value (pad and concat bounds). */
  | { op: "test"; cond: ICond; dtype: "bool" }
  | { op: "unary"; fn: UnaryFn; x: VExpr; dtype: VType }
  | { op: "binary"; fn: BinaryFn; a: VExpr; b: VExpr; dtype: VType }
  | { op: "cmp"; fn: CmpFn; a: VExpr; b: VExpr; dtype: "bool" }
  | { op: "select"; cond: VExpr; a: VExpr; b: VExpr; dtype: VType }
  | { op: "cast"; x: VExpr; dtype: VType }
  | { op: "reduce"; kind: ReduceKind; vars: IVar[]; body: VExpr; dtype: VType };

export * from "./index-expr.js";
export * from "./print-expr.js";
export * from "./value-expr.js";
