// The values the elaborator computes with. Hyperparameters are numbers, words,
// lists and records; tensors are Graph IR nodes with concrete types; layers are
// first-class callables (a declaration or builtin with some arguments bound).

import type { CallableDecl, Expr, Span } from "../../grammar/ast.js";
import type { TensorType } from "../core/types.js";
import { formatType } from "../core/types.js";
import type { GraphBuilder } from "./builder.js";
import type { Builtin } from "./builtins/builtin.js";
import type { ModuleScope } from "./scope.js";

export type Value =
  | { k: "int"; v: number }
  | { k: "float"; v: number }
  | { k: "bool"; v: boolean }
  | { k: "str"; v: string }
  /**
   * An enum word (`local_p`, `tanh`) bound to a parameter that declares it.
   * `unresolved` marks a bare identifier argument that named nothing in scope:
   * it is only accepted by a parameter whose enum lists it.
   */
  | { k: "word"; v: string; span?: Span; unresolved?: boolean }
  | ListValue
  | RecordValue
  | TensorValue
  | CallableValue
  | { k: "module"; name: string; scope: ModuleScope }
  | { k: "none" };

export interface ListValue {
  k: "list";
  items: Value[];
  /** Per-item labels from `[a: x, ...]`; null items are named by position when the list runs as a layer. */
  labels: (string | null)[];
}

export interface RecordValue {
  k: "record";
  fields: Map<string, Value>;
}

export interface TensorValue {
  k: "tensor";
  node: number;
  type: TensorType;
  /** The graph the node belongs to: the top-level graph, or a scan body. */
  owner: GraphBuilder;
}

/** Hyperparameters bound so far; null while a callable is only referenced (`batchnorm` as a stage). */
export type BoundHyper = Map<string, Value> | null;

export type Callee =
  | { kind: "decl"; decl: CallableDecl; scope: ModuleScope }
  | { kind: "builtin"; builtin: Builtin }
  /** A pipeline of layers (`conv -> bn -> relu` with no source, or a list used as a layer). */
  | { kind: "sequence"; items: Value[]; labels: (string | null)[] };

export interface CallableValue {
  k: "callable";
  callee: Callee;
  hyper: BoundHyper;
  /** Tensor inputs bound ahead of the call: `x.reshape(...)` binds x. */
  boundInputs: Value[];
  /** Attached by `label: layer`; names the parameters the layer creates when applied. */
  label: string | null;
  /** Where the callable was written, for errors about a bare reference. */
  span: Span;
}

/** Unevaluated argument as written, for enum-word resolution and error spans. */
export interface ArgExpr {
  name: string | null;
  expr: Expr;
  span: Span;
}

export const NONE: Value = { k: "none" };

export function intV(v: number): Value {
  return { k: "int", v };
}
export function floatV(v: number): Value {
  return { k: "float", v };
}
export function boolV(v: boolean): Value {
  return { k: "bool", v };
}
export function listV(items: Value[], labels?: (string | null)[]): ListValue {
  return { k: "list", items, labels: labels ?? items.map(() => null) };
}
export function recordV(entries: [string, Value][]): RecordValue {
  return { k: "record", fields: new Map(entries) };
}

export function isNumber(v: Value): v is { k: "int"; v: number } | { k: "float"; v: number } {
  return v.k === "int" || v.k === "float";
}

/** Tensors, records of tensors and non-empty lists of tensors flow into layers as inputs. */
export function isTensorLike(v: Value): boolean {
  if (v.k === "tensor") return true;
  if (v.k === "record") return v.fields.size > 0 && [...v.fields.values()].every(isTensorLike);
  if (v.k === "list") return v.items.length > 0 && v.items.every((x) => x.k === "tensor");
  return false;
}

/** What flows to the next pipeline stage: a record passes its first field. */
export function primary(v: Value): Value {
  if (v.k === "record") {
    const first = v.fields.values().next();
    return first.done ? v : primary(first.value);
  }
  return v;
}

export function callableName(c: CallableValue): string {
  switch (c.callee.kind) {
    case "decl":
      return c.callee.decl.name.name;
    case "builtin":
      return c.callee.builtin.name;
    case "sequence":
      return "sequence";
  }
}

/** A short description for error messages: `int 3`, `f32[2, 3]`, `layer conv`. */
export function describe(v: Value): string {
  switch (v.k) {
    case "int":
      return `int ${v.v}`;
    case "float":
      return `float ${formatNumber(v.v)}`;
    case "bool":
      return `bool ${v.v}`;
    case "str":
      return `string "${v.v}"`;
    case "word":
      return `word \`${v.v}\``;
    case "list":
      return `list of ${v.items.length}`;
    case "record":
      return `record {${[...v.fields.keys()].join(", ")}}`;
    case "tensor":
      return `tensor ${formatType(v.type)}`;
    case "callable":
      return `layer \`${callableName(v)}\``;
    case "module":
      return `module ${v.name}`;
    case "none":
      return "nothing";
  }
}

export function kindName(v: Value): string {
  switch (v.k) {
    case "int":
    case "float":
    case "bool":
      return v.k;
    case "str":
      return "string";
    case "callable":
      return "layer";
    default:
      return v.k;
  }
}

export function formatNumber(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** How a value prints inside a string template or a --arg echo. */
export function show(v: Value): string {
  switch (v.k) {
    case "int":
      return String(v.v);
    case "float":
      return String(v.v);
    case "bool":
      return String(v.v);
    case "str":
    case "word":
      return v.v;
    case "list":
      return `[${v.items.map(show).join(", ")}]`;
    case "record":
      return `{${[...v.fields.entries()].map(([k, x]) => `${k}: ${show(x)}`).join(", ")}}`;
    case "tensor":
      return formatType(v.type);
    case "callable":
      return callableName(v);
    case "module":
      return v.name;
    case "none":
      return "none";
  }
}
