// Expressions as text, the form `inspect --stage kernels` prints and the
// simplifier uses as a structural key:
//   in0[n, c, h + kh - 1, w + kw - 1]   sum[kh<3, kw<3](…)   h >= 1 && h < 29

import type { CondOp, ICond, IExpr, VExpr } from "./expr.js";

// ---------------------------------------------------------------- printing

const iprec: Record<string, number> = { add: 1, sub: 1, mul: 2, div: 2, mod: 2 };

/** `h + kh - 1`, `(i / 5) % 4`, `min(a, b)`. */
export function printI(e: IExpr, parent = 0): string {
  switch (e.op) {
    case "const":
      return String(e.value);
    case "var":
      return e.name;
    case "value":
      return printV(e.v);
    case "min":
    case "max":
      return `${e.op}(${printI(e.a)}, ${printI(e.b)})`;
    case "select":
      return `select(${printCond(e.cond)}, ${printI(e.a)}, ${printI(e.b)})`;
  }
  const p = iprec[e.op]!;
  const sym = { add: "+", sub: "-", mul: "*", div: "/", mod: "%" }[e.op];
  const s = `${printI(e.a, p)} ${sym} ${printI(e.b, p + 1)}`;
  return p < parent ? `(${s})` : s;
}

const condSym: Record<CondOp, string> = {
  lt: "<",
  le: "<=",
  gt: ">",
  ge: ">=",
  eq: "==",
  ne: "!=",
};

export function printCond(c: ICond, parent = 0): string {
  switch (c.op) {
    case "bool":
      return String(c.value);
    case "and": {
      const s = `${printCond(c.a, 2)} && ${printCond(c.b, 2)}`;
      return parent > 2 ? `(${s})` : s;
    }
    case "or": {
      const s = `${printCond(c.a, 1)} || ${printCond(c.b, 1)}`;
      return parent > 1 ? `(${s})` : s;
    }
    default:
      return `${printI(c.a)} ${condSym[c.op]} ${printI(c.b)}`;
  }
}

export function formatNumber(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  return String(v);
}

const vinfix: Partial<Record<string, [string, number]>> = {
  add: ["+", 1],
  sub: ["-", 1],
  mul: ["*", 2],
  div: ["/", 2],
  and: ["&&", 0],
  or: ["||", 0],
};

/** `in0[n, c, h + kh, w + kw] * in1[c, 0, kh, kw]`, `sum[k<400](...)`. */
export function printV(e: VExpr, parent = 0): string {
  switch (e.op) {
    case "const":
      return e.dtype === "bool" ? String(e.value !== 0) : formatNumber(e.value);
    case "load":
      return `in${e.binding}[${e.index.map((i) => printI(i)).join(", ")}]`;
    case "index":
      return `${e.dtype}(${printI(e.index)})`;
    case "test":
      return parent > 0 ? `(${printCond(e.cond)})` : printCond(e.cond);
    case "unary":
      return `${e.fn}(${printV(e.x)})`;
    case "cmp": {
      const s = `${printV(e.a, 3)} ${condSym[e.fn]} ${printV(e.b, 3)}`;
      return parent > 0 ? `(${s})` : s;
    }
    case "select":
      return `where(${printV(e.cond)}, ${printV(e.a)}, ${printV(e.b)})`;
    case "cast":
      return `${e.dtype}(${printV(e.x)})`;
    case "reduce": {
      const vars = e.vars.map((v) => `${v.name}<${v.extent}`).join(", ");
      return `${e.kind}[${vars}](${printV(e.body)})`;
    }
    case "binary": {
      const infix = vinfix[e.fn];
      if (!infix) return `${e.fn}(${printV(e.a)}, ${printV(e.b)})`;
      const [sym, p] = infix;
      const s = `${printV(e.a, p)} ${sym} ${printV(e.b, p + 1)}`;
      return p < parent ? `(${s})` : s;
    }
  }
}
