// Evaluates expressions and blocks. Hyperparameter arithmetic happens here on
// plain values; tensor arithmetic emits Graph IR nodes through emit.ts.

import type {
  Binary,
  Block,
  CallableDecl,
  Comprehension,
  Expr,
  Ident,
  Index,
  Labeled,
  ParamStmt,
  Span,
  Stmt,
  UpdateStmt,
} from "../../grammar/ast.js";
import { parse } from "../../grammar/parser.js";
import { didYouMean } from "../core/diagnostics.js";
import { type DType, formatType, type TensorType } from "../core/types.js";
import type { InitRule } from "../graph/graph.js";
import { boundedString, shownLength } from "./budget.js";
import { builtins, tensorMethods } from "./builtins/index.js";
import { applyStage, builtinCallable, type EvaluatedArg, invoke, sequenceOf } from "./calls.js";
import { type Ctx, charge, limits, pathOf, raise, withPrefix } from "./context.js";
import { binary, node, reshape, transpose, unary } from "./emit.js";
import { initRuleOf } from "./init-rule.js";
import { type ModuleScope, Scope } from "./scope.js";
import { nameAliases } from "./suggest.js";
import {
  boolV,
  describe,
  floatV,
  intV,
  isNumber,
  type ListValue,
  listV,
  NONE,
  show,
  type TensorValue,
  type Value,
} from "./values.js";

export function evalExpr(ctx: Ctx, scope: Scope, e: Expr): Value {
  charge(ctx, 1, e.span);
  switch (e.kind) {
    case "Number":
      return e.isInt ? intV(e.value) : floatV(e.value);
    case "String":
      return { k: "str", v: fillTemplate(ctx, scope, e.value, e.span) };
    case "Bool":
      return boolV(e.value);
    case "Ident":
      return lookup(ctx, scope, e);
    case "Pipeline":
      return evalPipeline(ctx, scope, e.stages, e.span);
    case "Labeled": {
      const label = labelOf(ctx, scope, e);
      const v = evalExpr(withPrefix(ctx, label, false), scope, e.expr);
      return v.k === "callable" ? { ...v, label } : v;
    }
    case "If": {
      const c = evalExpr(ctx, scope, e.cond);
      if (c.k !== "bool") {
        raise(
          ctx,
          "NN3008",
          `\`if\` needs a bool, got ${describe(c)}`,
          e.cond.span,
          c.k === "tensor"
            ? "`if` chooses between layers at compile time; for tensors use where(cond, a, b)"
            : undefined,
        );
      }
      return evalExpr(ctx, scope, c.v ? e.then : e.else);
    }
    case "Binary":
      return evalBinary(ctx, scope, e);
    case "Unary": {
      const v = evalExpr(ctx, scope, e.operand);
      if (e.op === "-") {
        if (isNumber(v)) return { k: v.k, v: -v.v };
        if (v.k === "tensor") return unary(ctx, "neg", v, e.span);
      } else {
        if (v.k === "bool") return boolV(!v.v);
        if (v.k === "tensor" && v.type.dtype === "bool") return unary(ctx, "not", v, e.span);
      }
      raise(ctx, "NN3007", `\`${e.op}\` is not defined for ${describe(v)}`, e.span);
    }
    case "Call": {
      const f = evalExpr(ctx, scope, e.callee);
      const args: EvaluatedArg[] = e.args.map((a) => ({
        name: a.name?.name ?? null,
        value: evalArg(ctx, scope, a.value),
        expr: a.value,
        span: a.span,
      }));
      return invoke(ctx, scope, f, args, e.span);
    }
    case "Member": {
      const ns = namespaceOf(scope, e.object);
      const obj = ns ?? evalExpr(ctx, scope, e.object);
      return member(ctx, obj, e.name.name, e.name.span, e.span);
    }
    case "Index":
      return evalIndex(ctx, scope, e);
    case "List": {
      const labels: (string | null)[] = [];
      const items = e.items.map((it) => {
        labels.push(it.kind === "Labeled" ? labelOf(ctx, scope, it) : null);
        return evalExpr(ctx, scope, it);
      });
      return listV(items, labels);
    }
    case "Comprehension":
      return evalComprehension(ctx, scope, e);
    case "Range": {
      const a = evalExpr(ctx, scope, e.start);
      const b = evalExpr(ctx, scope, e.end);
      if (a.k !== "int" || b.k !== "int") {
        raise(ctx, "NN3007", `a range needs ints, got ${describe(a)} .. ${describe(b)}`, e.span);
      }
      if (b.v - a.v > limits.comprehensionItems) {
        raise(
          ctx,
          "NN5002",
          `the range ${a.v}..${b.v} has more than ${limits.comprehensionItems} items`,
          e.span,
        );
      }
      charge(ctx, Math.max(0, b.v - a.v), e.span);
      const items: Value[] = [];
      for (let i = a.v; i < b.v; i++) items.push(intV(i));
      return listV(items);
    }
    case "Record": {
      const fields = new Map<string, Value>();
      for (const f of e.fields) {
        if (fields.has(f.name.name))
          raise(ctx, "NN2005", `field \`${f.name.name}\` appears twice`, f.span);
        fields.set(f.name.name, evalExpr(ctx, scope, f.value));
      }
      return { k: "record", fields };
    }
    case "ParamExpr":
      return declareParam(ctx, scope, e.decl) ?? NONE;
  }
}

/** `rnn` in `rnn.lstm` when it names an imported module and nothing local shadows it. */
function namespaceOf(scope: Scope, e: Expr): Value | null {
  if (e.kind !== "Ident" || scope.lookupLocal(e.name) !== undefined) return null;
  const m = scope.module;
  if (m.decls.has(e.name) || m.lets.has(e.name)) return null;
  const ns = m.namespaces.get(e.name);
  return ns ? { k: "module", name: e.name, scope: ns } : null;
}

/** A bare identifier argument that names nothing may still be an enum word for the callee. */
export function evalArg(ctx: Ctx, scope: Scope, e: Expr): Value {
  if (e.kind === "Ident" && resolve(ctx, scope, e.name) === undefined) {
    return { k: "word", v: e.name, span: e.span, unresolved: true };
  }
  if (e.kind === "If") {
    const branch = chosenBranch(ctx, scope, e);
    if (branch) return evalArg(ctx, scope, branch);
  }
  return evalExpr(ctx, scope, e);
}

/** The branch an `if` on a bool hyperparameter takes; null when the condition is not a bool. */
function chosenBranch(ctx: Ctx, scope: Scope, e: Extract<Expr, { kind: "If" }>): Expr | null {
  const c = evalExpr(ctx, scope, e.cond);
  return c.k === "bool" ? (c.v ? e.then : e.else) : null;
}

/** The identifier an argument is written as (through `if` branches), for enum words; else null. */
export function bareIdent(ctx: Ctx, scope: Scope, e: Expr): string | null {
  if (e.kind === "Ident") return e.name;
  if (e.kind === "If") {
    const branch = chosenBranch(ctx, scope, e);
    return branch ? bareIdent(ctx, scope, branch) : null;
  }
  return null;
}

function resolve(ctx: Ctx, scope: Scope, name: string): Value | undefined {
  const local = scope.lookupLocal(name);
  if (local !== undefined) return local;
  if (name === "self" && ctx.self) return ctx.self;
  const m = scope.module;
  if (m.lets.has(name)) return moduleLet(ctx, scope, name);
  const decl = m.decls.get(name);
  if (decl) return declValue(decl, m);
  // `import attention` brings the layer `attention` and the namespace `attention`;
  // the layer wins as a value, the namespace in `attention.luong` (see Member).
  const found = m.imports.filter((i) => i.decls.has(name));
  if (found.length > 0) return declValue(found[0]!.decls.get(name)!, found[0]!);
  const ns = m.namespaces.get(name);
  if (ns) return { k: "module", name, scope: ns };
  if (m.prelude?.decls.has(name)) return declValue(m.prelude.decls.get(name)!, m.prelude);
  if (name === "prim") return { k: "module", name: "prim", scope: m };
  const b = builtins.get(name);
  if (b)
    return builtinCallable(b, {
      file: "<builtin>",
      start: 0,
      end: 0,
      line: 0,
      col: 0,
      endLine: 0,
      endCol: 0,
    });
  if (name === "training") return boolV(ctx.session.training);
  if (name === "pi") return floatV(Math.PI);
  if (name === "inf") return floatV(Number.POSITIVE_INFINITY);
  if (name === "none") return NONE;
  return undefined;
}

function declValue(decl: CallableDecl, scope: ModuleScope): Value {
  return {
    k: "callable",
    callee: { kind: "decl", decl, scope },
    hyper: null,
    boundInputs: [],
    label: null,
    span: decl.name.span,
  };
}

function moduleLet(ctx: Ctx, scope: Scope, name: string): Value {
  const m = scope.module;
  const cached = m.letValues.get(name);
  if (cached === null)
    raise(ctx, "NN2001", `\`${name}\` is defined in terms of itself`, m.lets.get(name)!.span);
  if (cached !== undefined) return cached;
  m.letValues.set(name, null);
  const stmt = m.lets.get(name)!;
  const v = evalExpr(ctx, new Scope(m), stmt.value);
  if (stmt.names.length === 1) m.letValues.set(name, v);
  else
    destructure(ctx, stmt.names, v, stmt.span).forEach(([n, x]) => {
      m.letValues.set(n, x);
    });
  return m.letValues.get(name)!;
}

function lookup(ctx: Ctx, scope: Scope, id: Ident): Value {
  if (id.name === "self" && !ctx.self && scope.lookupLocal("self") === undefined) {
    raise(ctx, "NN2001", "`self` is only defined inside a `layer`", id.span);
  }
  const v = resolve(ctx, scope, id.name);
  if (v === undefined) unknownName(ctx, scope, id.name, id.span);
  // A layer named here is applied here: errors inside it point at this use.
  return v.k === "callable" ? { ...v, span: id.span } : v;
}

export function unknownName(ctx: Ctx, scope: Scope, name: string, span: Span): never {
  if (ctx.self?.fields.has(name)) {
    raise(
      ctx,
      "NN2001",
      `unknown name \`${name}\`; did you mean \`self.${name}\`?`,
      span,
      "a layer reads its own params and buffers through `self`",
    );
  }
  const candidates = [
    ...scope.localNames(),
    ...scope.module.visibleNames(),
    ...builtins.keys(),
    ...["true", "false", "none", "pi", "inf", "training"],
  ];
  const hint = didYouMean(name, candidates, nameAliases);
  raise(ctx, "NN2001", `unknown name \`${name}\`${hint}`, span);
}

function evalPipeline(ctx: Ctx, scope: Scope, stages: Expr[], span: Span): Value {
  const first = evalExpr(ctx, scope, stages[0]!);
  if (
    first.k === "callable" ||
    (first.k === "list" && first.items.every((x) => x.k === "callable"))
  ) {
    // No source: the pipeline is itself a layer, its stages named 0, 1, ... like nn.Sequential.
    const items = [first, ...stages.slice(1).map((s) => evalExpr(ctx, scope, s))];
    const labels = stages.map((s) => (s.kind === "Labeled" ? labelOf(ctx, scope, s) : null));
    items.forEach((it, i) => {
      if (it.k !== "callable" && it.k !== "list") {
        raise(
          ctx,
          "NN3011",
          `this pipeline stage is ${describe(it)}, not a layer`,
          stages[i]!.span,
        );
      }
    });
    return sequenceOf(items, labels, span);
  }
  let cur: Value = first;
  // `x -> f` is f(x): a single stage adds no level; two or more are numbered like nn.Sequential.
  const numbered = stages.length > 2;
  stages.slice(1).forEach((s, i) => {
    const stage = evalExpr(ctx, scope, s);
    const label =
      s.kind === "Labeled" ? labelOf(ctx, scope, s) : stage.k === "callable" ? stage.label : null;
    const segment =
      label !== null
        ? { name: label, auto: false }
        : numbered
          ? { name: String(i), auto: true }
          : null;
    cur = applyStage(ctx, stage, cur, segment, s.kind === "Labeled" ? s.expr.span : s.span);
  });
  return cur;
}

const arith: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
};

const tensorOps: Record<string, string> = {
  "+": "add",
  "-": "sub",
  "*": "mul",
  "/": "div",
  "@": "matmul",
};
const cmpOps: Record<string, string> = {
  "==": "eq",
  "!=": "ne",
  "<": "lt",
  "<=": "le",
  ">": "gt",
  ">=": "ge",
};

/** In `kind == general`, a bare word on one side compares as a word when the other side is one. */
function wordOperand(ctx: Ctx, scope: Scope, e: Expr, other: Value): Value | null {
  if (other.k !== "word" || other.unresolved || e.kind !== "Ident") return null;
  const v = resolve(ctx, scope, e.name);
  return v === undefined || v.k !== "word" ? { k: "word", v: e.name } : v;
}

function evalBinary(ctx: Ctx, scope: Scope, e: Binary): Value {
  if (e.op === "&&" || e.op === "||") {
    const a = evalExpr(ctx, scope, e.left);
    if (a.k === "bool") {
      if (e.op === "&&" ? !a.v : a.v) return a;
      const b = evalExpr(ctx, scope, e.right);
      if (b.k !== "bool")
        raise(ctx, "NN3007", `\`${e.op}\` needs bools, got ${describe(b)}`, e.right.span);
      return b;
    }
    const b = evalExpr(ctx, scope, e.right);
    if (a.k === "tensor" && b.k === "tensor")
      return binary(ctx, e.op === "&&" ? "and" : "or", a, b, e.span);
    raise(
      ctx,
      "NN3007",
      `\`${e.op}\` is not defined for ${describe(a)} and ${describe(b)}`,
      e.opSpan,
    );
  }
  let a: Value;
  let b: Value;
  if (e.op === "==" || e.op === "!=") {
    // `dtype == i32`, `kind == general`: a bare word compares as a word against a word.
    a = evalArg(ctx, scope, e.left);
    b = evalArg(ctx, scope, e.right);
    b = wordOperand(ctx, scope, e.right, a) ?? b;
    a = wordOperand(ctx, scope, e.left, b) ?? a;
    for (const [v, x] of [
      [a, e.left],
      [b, e.right],
    ] as const) {
      if (v.k === "word" && v.unresolved) unknownName(ctx, scope, v.v, x.span);
    }
  } else {
    a = evalExpr(ctx, scope, e.left);
    b = evalExpr(ctx, scope, e.right);
  }
  const fail = (): never =>
    raise(
      ctx,
      "NN3007",
      `\`${e.op}\` is not defined for ${describe(a)} and ${describe(b)}`,
      e.opSpan,
    );
  if ((e.op === "==" || e.op === "!=") && (a.k === "none" || b.k === "none")) {
    // `h0 == none`: was an optional input given? Compares presence, never elements.
    return boolV((a.k === b.k) === (e.op === "=="));
  }
  if (a.k === "tensor" || b.k === "tensor") {
    const other = a.k === "tensor" ? b : a;
    if (other.k !== "tensor" && !isNumber(other) && other.k !== "bool") fail();
    if (e.op === "@") {
      if (a.k !== "tensor" || b.k !== "tensor") fail();
      return node(ctx, "matmul", [a as TensorValue, b as TensorValue], {}, e.span);
    }
    if (tensorOps[e.op]) return binary(ctx, tensorOps[e.op]!, a, b, e.span);
    if (cmpOps[e.op]) return binary(ctx, "cmp", a, b, e.span, { op: cmpOps[e.op] });
    fail();
  }
  if (isNumber(a) && isNumber(b)) return numberOp(ctx, e, a, b);
  if (e.op === "==" || e.op === "!=") {
    const eq = sameValue(a, b);
    if (eq === null) fail();
    return boolV(e.op === "==" ? eq! : !eq);
  }
  if (a.k === "list" && b.k === "list" && e.op === "+") {
    const n = a.items.length + b.items.length;
    if (n > limits.comprehensionItems) {
      raise(
        ctx,
        "NN5002",
        `joining lists of ${a.items.length} and ${b.items.length} items makes more than ${limits.comprehensionItems}`,
        e.span,
      );
    }
    charge(ctx, n, e.span);
    return listV([...a.items, ...b.items], [...a.labels, ...b.labels]);
  }
  if (a.k === "list" && b.k === "int" && e.op === "*") {
    if (b.v < 0 || a.items.length * b.v > limits.comprehensionItems) {
      raise(
        ctx,
        "NN5002",
        `repeating a list of ${a.items.length} ${b.v} times is out of bounds`,
        e.span,
      );
    }
    charge(ctx, a.items.length * b.v, e.span);
    const items: Value[] = [];
    for (let i = 0; i < b.v; i++) items.push(...a.items);
    return listV(items);
  }
  if (a.k === "str" && b.k === "str" && e.op === "+") {
    return { k: "str", v: boundedString(ctx, a.v.length + b.v.length, e.span, () => a.v + b.v) };
  }
  return fail();
}

function numberOp(ctx: Ctx, e: Binary, a: Value & { v: number }, b: Value & { v: number }): Value {
  const bothInt = a.k === "int" && b.k === "int";
  const op = e.op;
  if (arith[op]) {
    const r = arith[op]!(a.v, b.v);
    return bothInt ? intV(r) : floatV(r);
  }
  if (op === "/" || op === "%") {
    if (b.v === 0) raise(ctx, "NN3010", `division by zero in \`${op}\``, e.span);
    // Two ints divide to an int (floored), so `pad=k/2` stays an int; a float makes it a real division.
    // There is no `//` operator: `//` starts a comment.
    if (op === "%")
      return bothInt
        ? intV(a.v - Math.floor(a.v / b.v) * b.v)
        : floatV(a.v - Math.floor(a.v / b.v) * b.v);
    return bothInt ? intV(Math.floor(a.v / b.v)) : floatV(a.v / b.v);
  }
  if (cmpOps[op]) {
    const r = {
      "==": a.v === b.v,
      "!=": a.v !== b.v,
      "<": a.v < b.v,
      "<=": a.v <= b.v,
      ">": a.v > b.v,
      ">=": a.v >= b.v,
    }[op as "==" | "!=" | "<" | "<=" | ">" | ">="];
    return boolV(r);
  }
  raise(ctx, "NN3007", `\`${op}\` is not defined for ${describe(a)} and ${describe(b)}`, e.opSpan);
}

/** Structural equality of hyperparameter values; null when they cannot be compared. */
function sameValue(a: Value, b: Value): boolean | null {
  if (isNumber(a) && isNumber(b)) return a.v === b.v;
  if (a.k !== b.k) return a.k === "none" || b.k === "none" ? false : null;
  switch (a.k) {
    case "bool":
    case "str":
    case "word":
      return a.v === (b as { v: unknown }).v;
    case "none":
      return true;
    case "list": {
      const bl = b as ListValue;
      if (a.items.length !== bl.items.length) return false;
      return a.items.every((x, i) => sameValue(x, bl.items[i]!) === true);
    }
    default:
      return null;
  }
}

const tensorProps = ["shape", "channels", "rank", "dtype", "type", "numel", "T"];

export function member(ctx: Ctx, obj: Value, name: string, nameSpan: Span, span: Span): Value {
  switch (obj.k) {
    case "record": {
      const v = obj.fields.get(name);
      if (v !== undefined) return v;
      raise(
        ctx,
        "NN2007",
        `${describe(obj)} has no field \`${name}\`${didYouMean(name, obj.fields.keys())}`,
        nameSpan,
      );
    }
    case "tensor": {
      const shape = obj.type.shape;
      switch (name) {
        case "shape":
          return listV(shape.map(intV));
        case "rank":
          return intV(shape.length);
        case "numel":
          return intV(shape.reduce((p, d) => p * d, 1));
        case "dtype":
          return { k: "word", v: obj.type.dtype };
        case "type":
          return { k: "str", v: formatType(obj.type) };
        case "channels":
          if (shape.length < 2)
            raise(
              ctx,
              "NN4002",
              `\`.channels\` is axis 1, but ${describe(obj)} has rank ${shape.length}`,
              nameSpan,
            );
          return intV(shape[1]!);
        case "T":
          if (shape.length < 2)
            raise(
              ctx,
              "NN4002",
              `\`.T\` swaps the last two axes, but ${describe(obj)} has rank ${shape.length}`,
              nameSpan,
            );
          return transpose(ctx, obj, shape.length - 2, shape.length - 1, span);
      }
      if (tensorMethods.has(name)) {
        return { ...builtinCallable(builtins.get(name)!, span), boundInputs: [obj] };
      }
      raise(
        ctx,
        "NN2007",
        `a tensor has no member \`${name}\`${didYouMean(name, [...tensorProps, ...tensorMethods])}`,
        nameSpan,
      );
    }
    case "module": {
      if (obj.name === "prim") {
        const b = builtins.get(name);
        if (b) return builtinCallable(b, span);
        raise(
          ctx,
          "NN2007",
          `no primitive \`${name}\`${didYouMean(name, builtins.keys())}`,
          nameSpan,
        );
      }
      const d = obj.scope.decls.get(name);
      if (d) return declValue(d, obj.scope);
      if (obj.scope.lets.has(name)) return moduleLet(ctx, new Scope(obj.scope), name);
      raise(
        ctx,
        "NN2007",
        `module \`${obj.name}\` has no \`${name}\`${didYouMean(name, [...obj.scope.decls.keys(), ...obj.scope.lets.keys()])}`,
        nameSpan,
      );
    }
    default:
      raise(ctx, "NN2007", `${describe(obj)} has no member \`${name}\``, nameSpan);
  }
}

function intOf(ctx: Ctx, v: Value, span: Span): number {
  if (v.k !== "int") raise(ctx, "NN3004", `an index must be an int, got ${describe(v)}`, span);
  return v.v;
}

function evalIndex(ctx: Ctx, scope: Scope, e: Index): Value {
  const obj = evalExpr(ctx, scope, e.object);
  if (obj.k === "list") {
    if (e.items.length !== 1) raise(ctx, "NN3014", "a list takes one index", e.span);
    const it = e.items[0]!;
    const n = obj.items.length;
    if (it.kind === "IndexExpr") {
      const i = intOf(ctx, evalExpr(ctx, scope, it.value), it.span);
      const j = i < 0 ? i + n : i;
      if (j < 0 || j >= n)
        raise(ctx, "NN3014", `index ${i} is out of range for a list of ${n}`, it.span);
      return obj.items[j]!;
    }
    const [start, end, step] = sliceBounds(ctx, scope, it, n);
    charge(ctx, Math.ceil((end - start) / step), it.span);
    const items: Value[] = [];
    const labels: (string | null)[] = [];
    for (let i = start; i < end; i += step) {
      items.push(obj.items[i]!);
      labels.push(obj.labels[i] ?? null);
    }
    return listV(items, labels);
  }
  if (obj.k === "tensor") return indexTensor(ctx, scope, obj, e);
  raise(ctx, "NN3007", `${describe(obj)} cannot be indexed`, e.span);
}

function sliceBounds(
  ctx: Ctx,
  scope: Scope,
  it: Extract<Index["items"][number], { kind: "Slice" }>,
  n: number,
): [number, number, number] {
  const get = (x: Expr | null, dflt: number) =>
    x === null ? dflt : intOf(ctx, evalExpr(ctx, scope, x), x.span);
  const step = get(it.step, 1);
  if (step < 1) raise(ctx, "NN3015", `a slice step must be at least 1, got ${step}`, it.span);
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const start = clamp(get(it.start, 0));
  return [start, Math.max(start, clamp(get(it.end, n))), step];
}

/** `x[:, 0:5]`, `out[:, -1]`: slices per axis; an int index also drops its axis. */
function indexTensor(ctx: Ctx, scope: Scope, x: TensorValue, e: Index): Value {
  const shape = x.type.shape;
  if (e.items.length > shape.length) {
    raise(ctx, "NN3014", `${e.items.length} indices for ${describe(x)}`, e.span);
  }
  const starts = shape.map(() => 0);
  const ends = [...shape];
  const steps = shape.map(() => 1);
  const keep: number[] = [];
  shape.forEach((d, axis) => {
    const it = e.items[axis];
    if (it === undefined) {
      keep.push(d);
      return;
    }
    if (it.kind === "IndexExpr") {
      const i = intOf(ctx, evalExpr(ctx, scope, it.value), it.span);
      const j = i < 0 ? i + d : i;
      if (j < 0 || j >= d)
        raise(ctx, "NN3014", `index ${i} is out of range for axis ${axis} of size ${d}`, it.span);
      starts[axis] = j;
      ends[axis] = j + 1;
      return;
    }
    const [s, t, st] = sliceBounds(ctx, scope, it, d);
    starts[axis] = s;
    ends[axis] = t;
    steps[axis] = st;
    keep.push(Math.ceil((t - s) / st));
  });
  const whole = starts.every((s, i) => s === 0 && ends[i] === shape[i] && steps[i] === 1);
  const sliced = whole ? x : node(ctx, "slice", [x], { starts, ends, steps }, e.span);
  return reshape(ctx, sliced, keep, e.span);
}

function evalComprehension(ctx: Ctx, scope: Scope, e: Comprehension): Value {
  const out: Value[] = [];
  const labels: (string | null)[] = [];
  const walk = (i: number, s: Scope): void => {
    if (i === e.clauses.length) {
      if (out.length >= limits.comprehensionItems) {
        raise(
          ctx,
          "NN5002",
          `the comprehension produces more than ${limits.comprehensionItems} items`,
          e.span,
        );
      }
      labels.push(e.body.kind === "Labeled" ? labelOf(ctx, s, e.body) : null);
      out.push(evalExpr(ctx, s, e.body));
      return;
    }
    // Filtered-out iterations make no item but still cost: `for i in r for j in r if false` is 10^8 steps.
    charge(ctx, 1, e.span);
    const c = e.clauses[i]!;
    if (c.kind === "Filter") {
      const v = evalExpr(ctx, s, c.cond);
      if (v.k !== "bool")
        raise(
          ctx,
          "NN3008",
          `a comprehension filter needs a bool, got ${describe(v)}`,
          c.cond.span,
        );
      if (v.v) walk(i + 1, s);
      return;
    }
    const it = evalExpr(ctx, s, c.iter);
    if (it.k !== "list")
      raise(
        ctx,
        "NN3007",
        `\`for\` iterates over a list or range, got ${describe(it)}`,
        c.iter.span,
      );
    for (const item of it.items) {
      const inner = s.child();
      if (c.names.length === 1) inner.define(c.names[0]!.name, item);
      else
        destructure(ctx, c.names, item, c.span).forEach(([n, v]) => {
          inner.define(n, v);
        });
      walk(i + 1, inner);
    }
  };
  walk(0, scope);
  return listV(out, labels);
}

function destructure(ctx: Ctx, names: Ident[], v: Value, span: Span): [string, Value][] {
  const parts = v.k === "list" ? v.items : v.k === "record" ? [...v.fields.values()] : null;
  if (parts === null)
    raise(ctx, "NN3013", `cannot unpack ${describe(v)} into ${names.length} names`, span);
  if (parts.length !== names.length) {
    raise(
      ctx,
      "NN3013",
      `${names.length} names to unpack, but the value has ${parts.length} items`,
      span,
    );
  }
  return names.map((n, i) => [n.name, parts[i]!]);
}

/** A stage's label; a template label (`"denselayer{i}": ...`) is filled from the scope. */
function labelOf(ctx: Ctx, scope: Scope, e: Labeled): string {
  if (!e.template) return e.label;
  const label = fillTemplate(ctx, scope, e.label, e.labelSpan);
  if (!/^[A-Za-z0-9_]+$/.test(label)) {
    raise(
      ctx,
      "NN2010",
      `\`${label}\` is not a valid label: a label is a name or an integer`,
      e.labelSpan,
    );
  }
  return label;
}

/** Fills `{name}` and `{a.b}` holes of a string from the scope. */
function fillTemplate(ctx: Ctx, scope: Scope, text: string, span: Span): string {
  if (!text.includes("{")) return text;
  let length = text.length;
  const filled = text.replace(/\{([^{}]+)\}/g, (_, hole: string) => {
    const v = evalExpr(ctx, scope, holeExpr(ctx, hole, span));
    // Lists share their items, so `[a] * 10000` of a 10,000-item `a` shows as 10^8 items: measure first.
    length += shownLength(v, limits.stringLength - length + 1);
    return boundedString(ctx, length, span, () => show(v));
  });
  return filled;
}

const holeCache = new Map<string, Expr | string>();

/** Parses a template hole `{layers * dirs}` as an expression; its spans become the string's. */
function holeExpr(ctx: Ctx, hole: string, span: Span): Expr {
  let parsed = holeCache.get(hole);
  if (parsed === undefined) {
    const { module, diagnostics } = parse(`let hole = ${hole}`, span.file);
    const decl = module.decls[0];
    parsed =
      diagnostics.length === 0 && decl?.kind === "Let"
        ? decl.value
        : (diagnostics[0]?.message ?? "not an expression");
    holeCache.set(hole, parsed);
  }
  if (typeof parsed === "string")
    raise(ctx, "NN1001", `in the template hole {${hole}}: ${parsed}`, span);
  return withSpan(parsed, span);
}

/** A copy of an AST with every span replaced, so errors inside a template hole point at the string. */
function withSpan<T>(node: T, span: Span): T {
  if (Array.isArray(node)) return node.map((n) => withSpan(n, span)) as T;
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node))
    out[k] = k === "span" || k.endsWith("Span") ? span : withSpan(v, span);
  return out as T;
}

/** Runs a block: lets, params, checks; the last expression or `return` is its value. */
export function evalBlock(ctx: Ctx, scope: Scope, block: Block): Value {
  const s = scope.child();
  for (let i = 0; i < block.stmts.length; i++) {
    const st = block.stmts[i]!;
    const last = i === block.stmts.length - 1;
    const r = evalStmt(ctx, s, st, last);
    if (r !== undefined) return r;
  }
  raise(
    ctx,
    "NN3012",
    "this block has no result; end it with an expression or `return`",
    block.span,
  );
}

function evalStmt(ctx: Ctx, s: Scope, st: Stmt, last: boolean): Value | undefined {
  switch (st.kind) {
    case "Let": {
      const v = evalExpr(ctx, s, st.value);
      if (st.names.length === 1) s.define(st.names[0]!.name, v);
      else
        destructure(ctx, st.names, v, st.span).forEach(([n, x]) => {
          s.define(n, x);
        });
      return undefined;
    }
    case "Param":
      declareParam(ctx, s, st);
      return undefined;
    case "Require": {
      const c = evalExpr(ctx, s, st.cond);
      if (c.k !== "bool")
        raise(ctx, "NN3008", `\`require\` needs a bool, got ${describe(c)}`, st.cond.span);
      if (!c.v) {
        raise(
          ctx,
          "NN4005",
          fillTemplate(ctx, s, st.message.value, st.message.span),
          st.span,
          st.hint ? fillTemplate(ctx, s, st.hint.value, st.hint.span) : undefined,
        );
      }
      return undefined;
    }
    case "Update":
      updateBuffer(ctx, s, st);
      return undefined;
    case "Return":
      return evalExpr(ctx, s, st.value);
    case "ExprStmt": {
      if (!last) {
        raise(
          ctx,
          "NN3016",
          "this value is computed but never used",
          st.span,
          "bind it with `let name = ...` or make it the last line",
        );
      }
      return evalExpr(ctx, s, st.expr);
    }
  }
}

/** `update self.NAME = e`: checks the buffer, and in train mode records its new value (an extra graph output). */
function updateBuffer(ctx: Ctx, scope: Scope, st: UpdateStmt): void {
  const name = st.buffer.name;
  const builder = ctx.session.builder;
  const current = ctx.self?.fields.get(name);
  const isBuffer =
    current?.k === "tensor" &&
    builder.graph.params.some((p) => p.node === current.node && p.kind === "buffer");
  if (!ctx.self || current?.k !== "tensor" || !isBuffer) {
    raise(
      ctx,
      "NN2013",
      `\`update self.${name}\` needs a buffer declared in this layer`,
      st.buffer.span,
      "declare it first with `buffer NAME: [dims] init rule`; params are updated by the optimizer",
    );
  }
  // Eval mode is the inference function: buffers stay, the value is not even evaluated.
  if (!ctx.session.training) return;
  const path = pathOf(ctx, name);
  if (ctx.session.updates.has(path))
    raise(ctx, "NN2013", `the buffer \`${path}\` is updated twice in one call`, st.span);
  const v = evalExpr(ctx, scope, st.value);
  if (v.k !== "tensor" || v.owner !== builder || !sameType(v.type, current.type)) {
    raise(
      ctx,
      "NN2013",
      `\`update self.${name}\` needs a ${formatType(current.type)} tensor, got ${describe(v)}`,
      st.value.span,
    );
  }
  ctx.session.updates.set(path, v);
}

function sameType(a: TensorType, b: TensorType): boolean {
  return (
    a.dtype === b.dtype &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i])
  );
}

/** `param weight: [out, in] init rule if cond`: a graph input named by the state_dict path. */
function declareParam(ctx: Ctx, scope: Scope, st: ParamStmt): TensorValue | undefined {
  if (!ctx.self) {
    raise(
      ctx,
      "NN2010",
      `\`${st.role}\` declarations belong in a \`layer\``,
      st.span,
      "declare the parameter in a `layer` and call that layer here",
    );
  }
  if (st.cond) {
    const c = evalExpr(ctx, scope, st.cond);
    if (c.k !== "bool")
      raise(
        ctx,
        "NN3008",
        `the condition of a ${st.role} needs a bool, got ${describe(c)}`,
        st.cond.span,
      );
    if (!c.v) return undefined;
  }
  const name =
    st.name.kind === "Ident" ? st.name.name : fillTemplate(ctx, scope, st.name.value, st.name.span);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    raise(ctx, "NN2010", `\`${name}\` is not a valid parameter name`, st.name.span);
  }
  const dims = st.dims.map((d) => {
    const v = evalExpr(ctx, scope, d);
    if (v.k !== "int" || v.v < 0)
      raise(
        ctx,
        "NN3004",
        `a ${st.role} dimension must be a non-negative int, got ${describe(v)}`,
        d.span,
      );
    return v.v;
  });
  const dtypeName = st.dtype?.name ?? "f32";
  if (dtypeName !== "f32" && dtypeName !== "i32" && dtypeName !== "i64") {
    raise(
      ctx,
      "NN3017",
      `a ${st.role} must be f32, i32 or i64, got \`${dtypeName}\``,
      st.dtype!.span,
    );
  }
  const rule = st.init
    ? initRuleOf(ctx, st.init, (e) => evalExpr(ctx, scope, e))
    : { rule: (dtypeName === "f32" ? "uniform" : "untouched") as InitRule };
  const t = ctx.session.builder.param(
    ctx,
    pathOf(ctx, name),
    { dtype: dtypeName as DType, shape: dims },
    st.role === "param" ? "parameter" : "buffer",
    rule.rule,
    st.span,
    rule.args,
  );
  ctx.self.fields.set(name, t);
  return t;
}
