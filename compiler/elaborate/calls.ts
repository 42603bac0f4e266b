// Calling layers. A call binds hyperparameters (numbers, words, layers) and
// tensor inputs by the same convention for `def`s, `layer`s and builtins:
// positional tensors are inputs, other positional values hyperparameters,
// keywords name either. A call with inputs applies the layer at once; one
// without returns the layer with its hyperparameters bound.

import type { CallableDecl, Expr, InputParam, Span, TypeAnn } from "../../grammar/ast.js";
import { didYouMean } from "../core/diagnostics.js";
import { formatType } from "../core/types.js";
import { type Builtin, builtins, type ParamType } from "./builtins/index.js";
import { type Ctx, type Frame, limits, raise, withPrefix } from "./context.js";
import { bareIdent, evalArg, evalBlock, evalExpr, unknownName } from "./expressions.js";
import { ModuleScope, Scope } from "./scope.js";
import { argumentAliases } from "./suggest.js";
import {
  type CallableValue,
  callableName,
  describe,
  floatV,
  isTensorLike,
  primary,
  recordV,
  type Value,
} from "./values.js";

export interface EvaluatedArg {
  name: string | null;
  value: Value;
  expr: Expr;
  span: Span;
}

export interface Segment {
  name: string;
  auto: boolean;
}

interface HyperSpec {
  name: string;
  type: ParamType;
  /** Computes the default from the hyperparameters bound before it; undefined when required. */
  default: ((bound: Map<string, Value>) => Value) | undefined;
}

export function paramType(ctx: Ctx, ann: TypeAnn | null): ParamType {
  if (ann === null) return { kind: "any" };
  if (ann.kind === "EnumType") return { kind: "enum", words: ann.words.map((w) => w.name) };
  const n = ann.name.name;
  if (
    n === "int" ||
    n === "float" ||
    n === "bool" ||
    n === "string" ||
    n === "layer" ||
    n === "any"
  ) {
    return { kind: n };
  }
  raise(
    ctx,
    "NN3017",
    `unknown hyperparameter type \`${n}\`${didYouMean(n, ["int", "float", "bool", "string", "layer", "any"])}`,
    ann.span,
  );
}

function hyperSpecs(ctx: Ctx, c: CallableValue): HyperSpec[] {
  const callee = c.callee;
  if (callee.kind === "builtin") {
    return callee.builtin.hyper.map((h) => ({
      name: h.name,
      type: h.type,
      default: h.default === undefined ? undefined : () => h.default!,
    }));
  }
  if (callee.kind === "sequence") return [];
  const { decl, scope: module } = callee;
  return decl.hyper.map((h) => ({
    name: h.name.name,
    type: paramType(ctx, h.type),
    default:
      h.default === null
        ? undefined
        : (bound: Map<string, Value>) => {
            const s = new Scope(module);
            for (const [k, v] of bound) s.define(k, v);
            return coerce(
              ctx,
              s,
              { name: h.name.name, type: paramType(ctx, h.type) },
              evalArg(ctx, s, h.default!),
              h.default!,
              h.default!.span,
              callableName(c),
            );
          },
  }));
}

function inputNames(c: CallableValue): string[] | "variadic" {
  const callee = c.callee;
  if (callee.kind === "builtin") return callee.builtin.inputs;
  if (callee.kind === "sequence") return ["input"];
  return callee.decl.inputs === null ? ["input"] : callee.decl.inputs.map((i) => i.name.name);
}

/** Checks a value against a hyperparameter's type, turning bare identifiers into enum words. */
export function coerce(
  ctx: Ctx,
  scope: Scope,
  p: { name: string; type: ParamType },
  v: Value,
  expr: Expr | null,
  span: Span,
  owner: string,
): Value {
  const t = p.type;
  if (t.kind === "enum") {
    const ident = expr ? bareIdent(ctx, scope, expr) : null;
    const word =
      ident !== null && t.words.includes(ident) && (v.k !== "word" || v.unresolved || v.v === ident)
        ? ident
        : v.k === "word" || v.k === "str"
          ? v.v
          : null;
    if (word !== null && t.words.includes(word)) return { k: "word", v: word };
    raise(
      ctx,
      "NN3005",
      `\`${p.name}\` of ${owner} must be one of ${t.words.join(", ")}; got ${v.k === "word" ? `\`${v.v}\`` : describe(v)}${word ? didYouMean(word, t.words) : ""}`,
      span,
    );
  }
  if (v.k === "word" && v.unresolved) unknownName(ctx, scope, v.v, v.span ?? span);
  const bad = (want: string): never =>
    raise(ctx, "NN3004", `\`${p.name}\` of ${owner} must be ${want}, got ${describe(v)}`, span);
  switch (t.kind) {
    case "int":
      return v.k === "int" ? v : bad("an int");
    case "float":
      return v.k === "float" ? v : v.k === "int" ? floatV(v.v) : bad("a number");
    case "bool":
      return v.k === "bool" ? v : bad("a bool");
    case "string":
      return v.k === "str" ? v : bad("a string");
    case "layer":
      return v.k === "callable" || (v.k === "list" && v.items.every((x) => x.k === "callable"))
        ? v
        : bad("a layer");
    case "any":
      return v;
  }
}

/** Binds hyperparameters from arguments, filling defaults in declaration order. */
function bindHyper(
  ctx: Ctx,
  scope: Scope,
  c: CallableValue,
  positional: EvaluatedArg[],
  keyword: EvaluatedArg[],
  span: Span,
): Map<string, Value> {
  const specs = hyperSpecs(ctx, c);
  const owner = `\`${callableName(c)}\``;
  const given = new Map<string, EvaluatedArg>();
  if (positional.length > specs.length) {
    const extra = positional[specs.length]!;
    raise(
      ctx,
      "NN3003",
      `${owner} takes ${specs.length} hyperparameter${specs.length === 1 ? "" : "s"}, got ${positional.length}`,
      extra.span,
      specs.length > 0
        ? `its hyperparameters are ${specs.map((s) => s.name).join(", ")}`
        : undefined,
    );
  }
  positional.forEach((a, i) => {
    given.set(specs[i]!.name, a);
  });
  for (const a of keyword) {
    if (given.has(a.name!))
      raise(ctx, "NN3009", `\`${a.name}\` is given twice to ${owner}`, a.span);
    given.set(a.name!, a);
  }
  const bound = new Map<string, Value>();
  for (const s of specs) {
    const a = given.get(s.name);
    if (a) bound.set(s.name, coerce(ctx, scope, s, a.value, a.expr, a.span, owner));
    else if (s.default) bound.set(s.name, s.default(bound));
    else
      raise(
        ctx,
        "NN3002",
        `${owner} needs its \`${s.name}\` argument`,
        span,
        `write ${callableName(c)}(${specs
          .filter((x) => !x.default)
          .map((x) => `${x.name}=...`)
          .join(", ")})`,
      );
  }
  return bound;
}

/** Evaluates `f(args)`. */
export function invoke(ctx: Ctx, scope: Scope, f: Value, args: EvaluatedArg[], span: Span): Value {
  let c: CallableValue;
  if (f.k === "callable") c = f;
  else if (f.k === "list") c = sequenceOf(f.items, f.labels, span);
  else raise(ctx, "NN3006", `${describe(f)} is not a layer and cannot be called`, span);

  if (c.callee.kind === "builtin" && c.hyper === null && c.boundInputs.length === 0) {
    const num = c.callee.builtin.numeric;
    if (
      num &&
      args.length > 0 &&
      args.every((a) => a.name === null && (a.value.k === "int" || a.value.k === "float"))
    ) {
      return floatV(num(args.map((a) => (a.value as { v: number }).v)));
    }
  }

  const specs = c.hyper === null ? hyperSpecs(ctx, c) : [];
  const names = inputNames(c);
  const allPositionalAreInputs =
    c.callee.kind === "builtin" && c.callee.builtin.positionalHyper === false;
  const posHyper: EvaluatedArg[] = [];
  const kwHyper: EvaluatedArg[] = [];
  const inputs: Value[] = [];
  const named = new Map<string, Value>();
  for (const a of args) {
    if (a.name === null) {
      if (isTensorLike(a.value) || allPositionalAreInputs) inputs.push(a.value);
      else posHyper.push(a);
      continue;
    }
    if (
      names !== "variadic" &&
      names.includes(a.name) &&
      (isTensorLike(a.value) || !specs.some((s) => s.name === a.name))
    ) {
      if (named.has(a.name)) raise(ctx, "NN3009", `input \`${a.name}\` is given twice`, a.span);
      named.set(a.name, a.value);
    } else if (c.hyper === null && specs.some((s) => s.name === a.name)) {
      kwHyper.push(a);
    } else {
      const known = [...specs.map((s) => s.name), ...(names === "variadic" ? [] : names)];
      raise(
        ctx,
        "NN3001",
        `\`${callableName(c)}\` has no argument \`${a.name}\`${didYouMean(a.name, known, argumentAliases)}`,
        a.span,
        c.hyper !== null && known.length > 0 ? "its hyperparameters are already bound" : undefined,
      );
    }
  }
  if (c.hyper !== null && posHyper.length > 0) {
    raise(
      ctx,
      "NN3003",
      `\`${callableName(c)}\` already has its hyperparameters; it takes tensors now, got ${describe(posHyper[0]!.value)}`,
      posHyper[0]!.span,
    );
  }
  const hyper = c.hyper ?? bindHyper(ctx, scope, c, posHyper, kwHyper, span);
  const bound: CallableValue = { ...c, hyper, span };
  const takesNoInputs = names !== "variadic" && names.length === 0;
  if (inputs.length === 0 && named.size === 0 && c.boundInputs.length === 0 && !takesNoInputs)
    return bound;
  return applyCallable(ctx, bound, inputs, named, span, null);
}

export function sequenceOf(items: Value[], labels: (string | null)[], span: Span): CallableValue {
  return {
    k: "callable",
    callee: { kind: "sequence", items, labels },
    hyper: new Map(),
    boundInputs: [],
    label: null,
    span,
  };
}

/** Applies one pipeline stage to the value flowing in. */
export function applyStage(
  ctx: Ctx,
  stage: Value,
  x: Value,
  segment: Segment | null,
  span: Span,
): Value {
  if (stage.k === "list") stage = sequenceOf(stage.items, stage.labels, span);
  if (stage.k !== "callable") {
    raise(
      ctx,
      "NN3011",
      `this pipeline stage is ${describe(stage)}, not a layer`,
      span,
      stage.k === "tensor"
        ? "a tensor can only start a pipeline; combine tensors with operators or concat(...)"
        : undefined,
    );
  }
  return applyCallable(ctx, stage, [primary(x)], new Map(), span, segment);
}

export function applyCallable(
  ctx: Ctx,
  c: CallableValue,
  inputs: Value[],
  named: Map<string, Value>,
  span: Span,
  segment: Segment | null,
): Value {
  const seg = segment ?? (c.label !== null ? { name: c.label, auto: false } : null);
  const inner = seg ? withPrefix(ctx, seg.name, seg.auto) : ctx;
  const all = [...c.boundInputs, ...inputs];
  const before = ctx.session.builder.paramCount;
  let out: Value;
  switch (c.callee.kind) {
    case "decl":
      out = applyDecl(inner, c, c.callee.decl, all, named, span);
      break;
    case "builtin":
      out = applyBuiltin(inner, c, c.callee.builtin, all, named, span);
      break;
    case "sequence":
      out = applySequence(inner, c.callee.items, c.callee.labels, all, named, span);
      break;
  }
  if (c.callee.kind !== "sequence") {
    const p = primary(out);
    ctx.session.layers.push({
      path: inner.prefix.join("."),
      layer: callableName(c),
      primitive: c.callee.kind === "builtin",
      depth: ctx.frames.length,
      output: p.k === "tensor" ? p.type : null,
      node: p.k === "tensor" ? p.node : null,
      params: ctx.session.builder.paramCount - before,
      span,
    });
  }
  return out;
}

function applySequence(
  ctx: Ctx,
  items: Value[],
  labels: (string | null)[],
  inputs: Value[],
  named: Map<string, Value>,
  span: Span,
): Value {
  if (inputs.length !== 1 || named.size > 0) {
    raise(
      ctx,
      "NN3003",
      `a sequence of layers takes one input, got ${inputs.length + named.size}`,
      span,
    );
  }
  let cur = inputs[0]!;
  items.forEach((item, j) => {
    const label = labels[j] ?? (item.k === "callable" ? item.label : null);
    const segment = label !== null ? { name: label, auto: false } : { name: String(j), auto: true };
    const stageSpan = item.k === "callable" ? item.span : span;
    cur = applyStage(ctx, item, cur, segment, stageSpan);
  });
  return cur;
}

function applyBuiltin(
  ctx: Ctx,
  c: CallableValue,
  b: Builtin,
  inputs: Value[],
  named: Map<string, Value>,
  span: Span,
): Value {
  const hyper = c.hyper ?? bindHyper(ctx, new Scope(builtinModule), c, [], [], span);
  let all = inputs;
  if (b.inputs !== "variadic") {
    all = [...inputs];
    b.inputs.forEach((n, i) => {
      const v = named.get(n);
      if (v !== undefined) {
        if (all[i] !== undefined)
          raise(ctx, "NN3009", `input \`${n}\` of \`${b.name}\` is given twice`, span);
        all[i] = v;
      }
    });
    const need = b.inputs.length - (b.optionalInputs ?? 0);
    const have = all.filter((v) => v !== undefined).length;
    if (all.length > b.inputs.length) {
      raise(
        ctx,
        "NN3003",
        `\`${b.name}\` takes ${b.inputs.length} input${b.inputs.length === 1 ? "" : "s"}, got ${all.length}`,
        span,
      );
    }
    if (have < need) {
      const missing = b.inputs.filter((_, i) => all[i] === undefined && i < need);
      raise(ctx, "NN3002", `\`${b.name}\` needs its \`${missing[0]}\` input`, span);
    }
  }
  return b.apply({
    ctx,
    hyper,
    inputs: all,
    span,
    applyLayer: (at, layer, ins, where) => applyCallable(at, layer, ins, new Map(), where, null),
  });
}

/** Builtin defaults are values, never expressions, so this scope is never read. */
const builtinModule = new ModuleScope("<builtins>", "<builtins>", true);

function checkInputType(
  ctx: Ctx,
  decl: CallableDecl,
  p: InputParam,
  v: Value,
  symbols: Map<string, number>,
  span: Span,
): void {
  const t = p.type;
  if (t === null) return;
  const owner = decl.name.name;
  if (t.kind === "RecordType") {
    if (v.k !== "record")
      raise(
        ctx,
        "NN4004",
        `input \`${p.name.name}\` of ${owner} must be a record {${t.fields.map((f) => f.name).join(", ")}}, got ${describe(v)}`,
        span,
      );
    for (const f of t.fields) {
      if (!v.fields.has(f.name))
        raise(
          ctx,
          "NN4004",
          `input \`${p.name.name}\` of ${owner} lacks the field \`${f.name}\``,
          span,
        );
    }
    return;
  }
  if (v.k !== "tensor")
    raise(
      ctx,
      "NN4004",
      `input \`${p.name.name}\` of ${owner} must be a tensor, got ${describe(v)}`,
      span,
    );
  const want = `${t.dtype.name}[${t.dims?.map((d) => (d.kind === "DimInt" ? d.value : d.kind === "DimName" ? d.name : "_")).join(", ") ?? "..."}]`;
  if (t.dtype.name !== v.type.dtype) {
    raise(
      ctx,
      "NN4003",
      `input \`${p.name.name}\` of ${owner} must be ${want}, got ${formatType(v.type)}`,
      span,
    );
  }
  if (t.dims === null) return;
  if (t.dims.length !== v.type.shape.length) {
    raise(
      ctx,
      "NN4004",
      `input \`${p.name.name}\` of ${owner} must be ${want} (rank ${t.dims.length}), got ${formatType(v.type)}`,
      span,
    );
  }
  t.dims.forEach((d, i) => {
    const got = v.type.shape[i]!;
    if (d.kind === "DimInt" && d.value !== got) {
      raise(
        ctx,
        "NN4004",
        `input \`${p.name.name}\` of ${owner} must be ${want}, got ${formatType(v.type)} (axis ${i} is ${got}, not ${d.value})`,
        span,
      );
    }
    if (d.kind === "DimName") {
      const prev = symbols.get(d.name);
      if (prev !== undefined && prev !== got) {
        raise(
          ctx,
          "NN4004",
          `input \`${p.name.name}\` of ${owner}: ${d.name} is ${prev} elsewhere but ${got} here`,
          span,
        );
      }
      symbols.set(d.name, got);
    }
  });
}

function applyDecl(
  ctx: Ctx,
  c: CallableValue,
  decl: CallableDecl,
  inputs: Value[],
  named: Map<string, Value>,
  span: Span,
): Value {
  if (ctx.frames.length >= limits.callDepth) {
    const chain = ctx.frames
      .slice(-4)
      .map((f) => f.name)
      .join(" -> ");
    raise(
      ctx,
      "NN5001",
      `layers nest more than ${limits.callDepth} deep (… ${chain} -> ${decl.name.name})`,
      span,
      "a def that calls itself needs a condition that stops it",
    );
  }
  const module = (c.callee as { scope: ModuleScope }).scope;
  const hyper = c.hyper ?? bindHyper(ctx, new Scope(module), c, [], [], span);
  const frame: Frame = { name: decl.name.name, callSpan: span };
  const inner: Ctx = {
    ...ctx,
    frames: [...ctx.frames, frame],
    self: decl.flavor === "layer" ? recordV([]) : null,
  };
  const scope = new Scope(module);
  for (const [k, v] of hyper) scope.define(k, v);

  const params = declInputs(decl);
  if (inputs.length > params.length) {
    raise(
      ctx,
      "NN3003",
      `\`${decl.name.name}\` takes ${params.length} input${params.length === 1 ? "" : "s"}, got ${inputs.length}`,
      span,
    );
  }
  for (const n of named.keys()) {
    if (!params.some((p) => p.name.name === n))
      raise(ctx, "NN3001", `\`${decl.name.name}\` has no input \`${n}\``, span);
  }
  const symbols = new Map<string, number>();
  params.forEach((p, i) => {
    let v = inputs[i];
    const byName = named.get(p.name.name);
    if (byName !== undefined) {
      if (v !== undefined) raise(ctx, "NN3009", `input \`${p.name.name}\` is given twice`, span);
      v = byName;
    }
    if (v === undefined) {
      if (p.default === null)
        raise(ctx, "NN3002", `\`${decl.name.name}\` needs its \`${p.name.name}\` input`, span);
      v = evalExpr(inner, scope, p.default);
    }
    // The entry's inputs come from the command line: point at the declared type they must match.
    const where = inner.frames.length === 1 ? (p.type?.span ?? p.span) : span;
    checkInputType(inner, decl, p, v, symbols, where);
    scope.define(p.name.name, v);
  });

  if (decl.body.kind === "Block") {
    if (decl.inputs === null) raise(ctx, "NN1006", "a block body needs an input list", decl.span);
    return evalBlock(inner, scope, decl.body);
  }
  // Point-free: the body is a layer (usually a pipeline of layers) applied to the inputs.
  const body = evalExpr(inner, scope, decl.body);
  if (body.k === "callable" || body.k === "list") {
    const layer = body.k === "list" ? sequenceOf(body.items, body.labels, decl.body.span) : body;
    const ins = params.map((p) => scope.lookupLocal(p.name.name)!);
    return applyCallable(inner, layer, ins, new Map(), decl.body.span, null);
  }
  raise(
    inner,
    "NN3011",
    `the body of \`${decl.name.name}\` is ${describe(body)}, not a layer`,
    decl.body.span,
    "a point-free def is a pipeline of layers: `def f(c) = conv(c, 3) -> relu`",
  );
}

export function builtinCallable(b: Builtin, span: Span): CallableValue {
  return {
    k: "callable",
    callee: { kind: "builtin", builtin: b },
    hyper: null,
    boundInputs: [],
    label: null,
    span,
  };
}

export function lookupBuiltin(name: string): Builtin | undefined {
  return builtins.get(name);
}

/** A callable's tensor inputs; one written without an input list takes one, `input`. */
export function declInputs(decl: CallableDecl): InputParam[] {
  return (
    decl.inputs ?? [
      {
        kind: "InputParam",
        name: { kind: "Ident", name: "input", span: decl.name.span },
        type: null,
        default: null,
        span: decl.name.span,
      },
    ]
  );
}
