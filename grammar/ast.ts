// The abstract syntax tree of the .nn language: what grammar/parser.ts produces
// and compiler/elaborate consumes. Every node carries the source span it came
// from, so any later error can point back at the user's text.

export type { Span } from "../compiler/core/span.js";

import type { Span } from "../compiler/core/span.js";

export interface Ident {
  kind: "Ident";
  name: string;
  span: Span;
}

// ---------------------------------------------------------------- module level

export interface Module {
  kind: "Module";
  file: string;
  imports: Import[];
  decls: Decl[];
  span: Span;
}

/** `import rnn` (a stdlib module) or `import "./blocks.nn"` (a file relative to the importer). */
export interface Import {
  kind: "Import";
  target: { kind: "module"; name: string } | { kind: "file"; path: string };
  span: Span;
}

export type Decl = CallableDecl | LetStmt;

export type CallableFlavor = "def" | "model" | "layer";

/**
 * `def f(hyper...) = pipeline`          (point-free: inputs === null, body is an Expr)
 * `def f(hyper...)(inputs...) { ... }`  (block: body is a Block)
 * `model` and `layer` take the block form; `layer` bodies may declare `param`/`buffer`.
 */
export interface CallableDecl {
  kind: "Callable";
  flavor: CallableFlavor;
  name: Ident;
  hyper: HyperParam[];
  inputs: InputParam[] | null;
  body: Expr | Block;
  span: Span;
}

/** A hyperparameter: `c: int`, `eps: float = 1e-5`, `kind: dot | general = dot`, `block` (untyped). */
export interface HyperParam {
  kind: "HyperParam";
  name: Ident;
  type: TypeAnn | null;
  default: Expr | null;
  span: Span;
}

/** `int`, `float`, `bool`, `string`, `layer`, `any`; or an enum `dot | general | concat`. */
export type TypeAnn =
  | { kind: "NamedType"; name: Ident; span: Span }
  | { kind: "EnumType"; words: Ident[]; span: Span };

/** A tensor input: `input: f32[N, 3, H, W]`, `state: {h, c}`, `h0 = zeros(...)`, or bare `x`. */
export interface InputParam {
  kind: "InputParam";
  name: Ident;
  type: TensorTypeAnn | RecordTypeAnn | null;
  default: Expr | null;
  span: Span;
}

/** `f32[N, 3, 224, 224]`; `dims === null` for a bare dtype (any rank). */
export interface TensorTypeAnn {
  kind: "TensorType";
  dtype: Ident;
  dims: DimAnn[] | null;
  span: Span;
}

export type DimAnn =
  | { kind: "DimInt"; value: number; span: Span }
  /** `T` or `T = 64`: a symbolic dim, with the value an entry uses when no shape binds it. */
  | { kind: "DimName"; name: string; default?: number; span: Span }
  | { kind: "DimAny"; span: Span };

/** `{h, c}`: a record of tensors with these fields. */
export interface RecordTypeAnn {
  kind: "RecordType";
  fields: Ident[];
  span: Span;
}

// ---------------------------------------------------------------- statements

export interface Block {
  kind: "Block";
  stmts: Stmt[];
  span: Span;
}

export type Stmt = LetStmt | ParamStmt | RequireStmt | UpdateStmt | ReturnStmt | ExprStmt;

/** `let y = e` or `let i, f, g, o = split(...)` (destructuring a list or record positionally). */
export interface LetStmt {
  kind: "Let";
  names: Ident[];
  value: Expr;
  span: Span;
}

/**
 * `param weight: [out, input.shape[-1]]`, `param bias: [out] if bias`,
 * `buffer num_batches_tracked: i64[] init zeros`, `param "weight_ih_l{k}": [4*h, in]`.
 * A string name is a template: `{name}` holes are filled from the scope.
 */
export interface ParamStmt {
  kind: "Param";
  role: "param" | "buffer";
  name: Ident | StringLit;
  /** Element type; null means f32. */
  dtype: Ident | null;
  dims: Expr[];
  /** The init rule: a name (`zeros`), a call (`normal(0.02)`) or a number (`-2.0`). */
  init: Expr | null;
  cond: Expr | null;
  span: Span;
}

/** `require cond, "message with {holes}"` — a user-facing check; fails at the caller's site. */
export interface RequireStmt {
  kind: "Require";
  cond: Expr;
  message: StringLit;
  hint: StringLit | null;
  span: Span;
}

/**
 * `update self.running_mean = e`: the buffer's value after this call in train
 * mode (docs/language.md, "Training mode"). `update` is not a reserved word:
 * the statement is recognised by `update self.` at the start of a line.
 */
export interface UpdateStmt {
  kind: "Update";
  buffer: Ident;
  value: Expr;
  span: Span;
}

export interface ReturnStmt {
  kind: "Return";
  value: Expr;
  span: Span;
}

export interface ExprStmt {
  kind: "ExprStmt";
  expr: Expr;
  span: Span;
}

// ---------------------------------------------------------------- expressions

export type Expr =
  | Pipeline
  | Labeled
  | IfExpr
  | Binary
  | Unary
  | Call
  | Member
  | Index
  | Ident
  | NumberLit
  | StringLit
  | BoolLit
  | ListExpr
  | Comprehension
  | RangeExpr
  | RecordExpr
  | ParamExpr;

/** `a -> b -> c`: stages[0] is the source (or the first layer of a point-free def). */
export interface Pipeline {
  kind: "Pipeline";
  stages: Expr[];
  span: Span;
}

/**
 * `conv1: conv(64, 7)` or `0: block(...)`: names the parameters the inner expression creates.
 * `"denselayer{i}": layer(...)` is a template label, filled from the scope when elaborated.
 */
export interface Labeled {
  kind: "Labeled";
  /** The label, or for a template label the string's text with its `{name}` holes. */
  label: string;
  /** True for a string-template label. */
  template?: boolean;
  labelSpan: Span;
  expr: Expr;
  span: Span;
}

export interface IfExpr {
  kind: "If";
  cond: Expr;
  then: Expr;
  else: Expr;
  span: Span;
}

export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "@"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "&&"
  | "||";

export interface Binary {
  kind: "Binary";
  op: BinaryOp;
  left: Expr;
  right: Expr;
  opSpan: Span;
  span: Span;
}

export interface Unary {
  kind: "Unary";
  op: "-" | "!";
  operand: Expr;
  span: Span;
}

/** `f(a, b, k=v)`; positional args have name === null. */
export interface Call {
  kind: "Call";
  callee: Expr;
  args: Arg[];
  span: Span;
}

export interface Arg {
  kind: "Arg";
  name: Ident | null;
  value: Expr;
  span: Span;
}

/** `x.shape`, `self.weight`, `y.h`, `w.T`. */
export interface Member {
  kind: "Member";
  object: Expr;
  name: Ident;
  span: Span;
}

/** `x.shape[-1]`, `out[:, 0:5]`: each item an expression or a slice. */
export interface Index {
  kind: "Index";
  object: Expr;
  items: IndexItem[];
  span: Span;
}

export type IndexItem =
  | { kind: "IndexExpr"; value: Expr; span: Span }
  | { kind: "Slice"; start: Expr | null; end: Expr | null; step: Expr | null; span: Span };

export interface NumberLit {
  kind: "Number";
  value: number;
  /** True for literals written without `.` or exponent: `3` is an int, `3.0` and `1e-5` are floats. */
  isInt: boolean;
  span: Span;
}

export interface StringLit {
  kind: "String";
  value: string;
  span: Span;
}

export interface BoolLit {
  kind: "Bool";
  value: boolean;
  span: Span;
}

/** `[a, b, c]`: a list; used as a layer it is a sequential block whose children are labelled 0, 1, 2. */
export interface ListExpr {
  kind: "List";
  items: Expr[];
  span: Span;
}

/** `[for i in 0..n: body]`, `[for t, c, n, s in cfg for i in 0..n if i > 0: body]`. */
export interface Comprehension {
  kind: "Comprehension";
  clauses: ComprehensionClause[];
  body: Expr;
  span: Span;
}

export type ComprehensionClause =
  | { kind: "For"; names: Ident[]; iter: Expr; span: Span }
  | { kind: "Filter"; cond: Expr; span: Span };

/** `a..b`: the integers a, a+1, ..., b-1. */
export interface RangeExpr {
  kind: "Range";
  start: Expr;
  end: Expr;
  span: Span;
}

/** `{logits: a, state: b}`; `{h, c}` is shorthand for `{h: h, c: c}`. */
export interface RecordExpr {
  kind: "Record";
  fields: { name: Ident; value: Expr; span: Span }[];
  span: Span;
}

/** `param "weight_ih_l{k}": [4*h, in]` used as an expression: declares the param and evaluates to it. */
export interface ParamExpr {
  kind: "ParamExpr";
  decl: ParamStmt;
  span: Span;
}

export type Node =
  | Module
  | Import
  | CallableDecl
  | HyperParam
  | InputParam
  | TensorTypeAnn
  | RecordTypeAnn
  | Block
  | Stmt
  | Expr;
