// Value expression constructors (constant folding, identities, reductions
// that drop unit and empty ranges) and variable substitution over both
// expression languages.

import {
  type BinaryFn,
  type CmpFn,
  castScalar,
  evalBinary,
  evalCmp,
  evalUnary,
  roundTo,
  type UnaryFn,
} from "../ops/scalar.js";
import type { ICond, IExpr, IVar, ReduceKind, VExpr, VType } from "./expr.js";
import * as ix from "./index-expr.js";
import { printV } from "./print-expr.js";

// ---------------------------------------------------------------- value constructors

/** A constant, rounded to its type (f32 rounded, i32 wrapped, bool 0/1). */
export function vconst(value: number, dtype: VType): VExpr {
  return { op: "const", value: roundTo(value, dtype), dtype };
}

export function vload(binding: number, index: IExpr[], dtype: VType): VExpr {
  return { op: "load", binding, index, dtype };
}

export function vindex(index: IExpr, dtype: VType): VExpr {
  if (index.op === "const") return vconst(index.value, dtype);
  return { op: "index", index, dtype };
}

export function vtest(cond: ICond): VExpr {
  if (cond.op === "bool") return vconst(cond.value ? 1 : 0, "bool");
  return { op: "test", cond, dtype: "bool" };
}

export function vunary(fn: UnaryFn, x: VExpr): VExpr {
  if (x.op === "const") return vconst(evalUnary(fn, x.value, x.dtype), x.dtype);
  return { op: "unary", fn, x, dtype: x.dtype };
}

export function vbinary(fn: BinaryFn, a: VExpr, b: VExpr): VExpr {
  const dtype = a.dtype;
  if (a.op === "const" && b.op === "const") {
    return vconst(evalBinary(fn, a.value, b.value, dtype), dtype);
  }
  const isConst = (e: VExpr, v: number) => e.op === "const" && e.value === v;
  if ((fn === "add" && isConst(b, 0)) || (fn === "sub" && isConst(b, 0))) return a;
  if (fn === "add" && isConst(a, 0)) return b;
  if ((fn === "mul" && isConst(b, 1)) || (fn === "div" && isConst(b, 1))) return a;
  if (fn === "mul" && isConst(a, 1)) return b;
  return { op: "binary", fn, a, b, dtype };
}

export function vcmp(fn: CmpFn, a: VExpr, b: VExpr): VExpr {
  if (a.op === "const" && b.op === "const") {
    return vconst(evalCmp(fn, a.value, b.value), "bool");
  }
  return { op: "cmp", fn, a, b, dtype: "bool" };
}

export function vselect(cond: VExpr, a: VExpr, b: VExpr): VExpr {
  if (cond.op === "const") return cond.value !== 0 ? a : b;
  if (cond.op === "test" && cond.cond.op === "bool") return cond.cond.value ? a : b;
  if (printV(a) === printV(b)) return a;
  return { op: "select", cond, a, b, dtype: a.dtype };
}

export function vcast(x: VExpr, to: VType): VExpr {
  if (x.dtype === to) return x;
  if (x.op === "const") return vconst(castScalar(x.value, x.dtype, to), to);
  return { op: "cast", x, dtype: to };
}

/** The initial value of a reduction (the result over no elements). */
export function reduceInit(kind: ReduceKind, dtype: VType): number {
  if (kind === "sum") return 0;
  return dtype === "i32" ? ix.I32_MIN : Number.NEGATIVE_INFINITY;
}

/** reduce(kind) over vars of body; extent-1 vars are substituted away, an empty range gives the init. */
export function vreduce(kind: ReduceKind, vars: IVar[], body: VExpr): VExpr {
  if (vars.some((v) => v.extent === 0)) return vconst(reduceInit(kind, body.dtype), body.dtype);
  const ones = vars.filter((v) => v.extent === 1);
  if (ones.length > 0) body = substV(body, new Map(ones.map((v) => [v.name, ix.ic(0)])));
  const kept = vars.filter((v) => v.extent > 1);
  if (kept.length === 0) return body;
  return { op: "reduce", kind, vars: kept, body, dtype: body.dtype };
}

// ---------------------------------------------------------------- substitution

/** Replaces variables by index expressions, re-simplifying on the way up. */
export function substI(e: IExpr, map: ReadonlyMap<string, IExpr>): IExpr {
  switch (e.op) {
    case "const":
      return e;
    case "var":
      return map.get(e.name) ?? e;
    case "value":
      return ix.ivalue(substV(e.v, map));
    case "select":
      return ix.iselect(substCond(e.cond, map), substI(e.a, map), substI(e.b, map));
    case "add":
      return ix.iadd(substI(e.a, map), substI(e.b, map));
    case "sub":
      return ix.isub(substI(e.a, map), substI(e.b, map));
    case "mul":
      return ix.imul(substI(e.a, map), substI(e.b, map));
    case "min":
      return ix.imin(substI(e.a, map), substI(e.b, map));
    case "max":
      return ix.imax(substI(e.a, map), substI(e.b, map));
    case "div":
    case "mod": {
      const a = substI(e.a, map);
      const b = substI(e.b, map);
      if (b.op !== "const") return { op: e.op, a, b };
      return e.op === "div" ? ix.idiv(a, b.value) : ix.imod(a, b.value);
    }
  }
}

export function substCond(c: ICond, map: ReadonlyMap<string, IExpr>): ICond {
  switch (c.op) {
    case "bool":
      return c;
    case "and":
      return ix.cand(substCond(c.a, map), substCond(c.b, map));
    case "or":
      return ix.cor(substCond(c.a, map), substCond(c.b, map));
    default:
      return ix.icmp(c.op, substI(c.a, map), substI(c.b, map));
  }
}

export function substV(e: VExpr, map: ReadonlyMap<string, IExpr>): VExpr {
  switch (e.op) {
    case "const":
      return e;
    case "load":
      return vload(
        e.binding,
        e.index.map((i) => substI(i, map)),
        e.dtype,
      );
    case "index":
      return vindex(substI(e.index, map), e.dtype);
    case "test":
      return vtest(substCond(e.cond, map));
    case "unary":
      return vunary(e.fn, substV(e.x, map));
    case "binary":
      return vbinary(e.fn, substV(e.a, map), substV(e.b, map));
    case "cmp":
      return vcmp(e.fn, substV(e.a, map), substV(e.b, map));
    case "select":
      return vselect(substV(e.cond, map), substV(e.a, map), substV(e.b, map));
    case "cast":
      return vcast(substV(e.x, map), e.dtype);
    case "reduce":
      return vreduce(e.kind, e.vars, substV(e.body, map));
  }
}
