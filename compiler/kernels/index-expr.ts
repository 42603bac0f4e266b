// Index expressions: ranges over the variables' extents, linear normal forms
// (Σ coef·atom + c), and smart constructors that use both to fold constants,
// cancel delinearisation (reshape of a reshape) and drop divisions, moduli
// and bounds checks that the ranges decide.

import type { CondOp, ICond, IExpr, IVar, VExpr } from "./expr.js";
import { printCond, printI } from "./print-expr.js";

// ---------------------------------------------------------------- ranges

export const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
type Range = readonly [number, number];
const ranges = new WeakMap<object, Range>();

/** Inclusive bounds of an index expression's value over its variables' extents. */
export function rangeOf(e: IExpr): Range {
  const hit = ranges.get(e);
  if (hit) return hit;
  const r = computeRange(e);
  ranges.set(e, r);
  return r;
}

function computeRange(e: IExpr): Range {
  switch (e.op) {
    case "const":
      return [e.value, e.value];
    case "var":
      return [0, Math.max(0, e.extent - 1)];
    case "value":
      return [I32_MIN, I32_MAX];
    case "select": {
      const a = rangeOf(e.a);
      const b = rangeOf(e.b);
      return [Math.min(a[0], b[0]), Math.max(a[1], b[1])];
    }
  }
  const a = rangeOf(e.a);
  const b = rangeOf(e.b);
  switch (e.op) {
    case "add":
      return [a[0] + b[0], a[1] + b[1]];
    case "sub":
      return [a[0] - b[1], a[1] - b[0]];
    case "mul": {
      const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
      return [Math.min(...p), Math.max(...p)];
    }
    case "min":
      return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
    case "max":
      return [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
    case "div":
      if (b[0] === b[1] && b[0] > 0) return [Math.floor(a[0] / b[0]), Math.floor(a[1] / b[0])];
      return [I32_MIN, I32_MAX];
    case "mod":
      if (b[0] === b[1] && b[0] > 0) {
        if (a[0] >= 0 && a[1] < b[0]) return a;
        return [0, b[0] - 1];
      }
      return [I32_MIN, I32_MAX];
  }
}

// ---------------------------------------------------------------- linear forms

interface Term {
  key: string;
  atom: IExpr;
  coef: number;
}

/** Σ coef·atom + c, the normal form of add/sub/mul-by-constant trees. */
interface Linear {
  terms: Term[];
  c: number;
}

function linear(e: IExpr): Linear {
  switch (e.op) {
    case "const":
      return { terms: [], c: e.value };
    case "add":
      return combine(linear(e.a), linear(e.b), 1);
    case "sub":
      return combine(linear(e.a), linear(e.b), -1);
    case "mul":
      if (e.b.op === "const") return scale(linear(e.a), e.b.value);
      if (e.a.op === "const") return scale(linear(e.b), e.a.value);
  }
  return { terms: [{ key: printI(e), atom: e, coef: 1 }], c: 0 };
}

/** The linear form of an index expression: Σ coef·atom + c, atoms being variables or non-linear parts. */
export function linearTerms(e: IExpr): { terms: { atom: IExpr; coef: number }[]; c: number } {
  const l = linear(e);
  return { terms: l.terms.map((t) => ({ atom: t.atom, coef: t.coef })), c: l.c };
}

function combine(x: Linear, y: Linear, sign: number): Linear {
  const terms = x.terms.map((t) => ({ ...t }));
  for (const t of y.terms) {
    const same = terms.find((u) => u.key === t.key);
    if (same) same.coef += sign * t.coef;
    else terms.push({ ...t, coef: sign * t.coef });
  }
  const l = { terms: terms.filter((t) => t.coef !== 0), c: x.c + sign * y.c };
  return l.terms.length > 1 ? mergeDivMod(l) : l;
}

function constOf(e: IExpr): number | undefined {
  return e.op === "const" ? e.value : undefined;
}

/**
 * Undoes delinearisation (reshape of a reshape): c·(x % a) + c·a·(x / a) = c·x
 * and c·(x % a) + c·a·((x / a) % b) = c·(x % ab).
 */
function mergeDivMod(l: Linear): Linear {
  for (const t of l.terms) {
    if (t.atom.op !== "mod") continue;
    const a = constOf(t.atom.b);
    if (a === undefined) continue;
    const x = t.atom.a;
    const xKey = printI(x);
    for (const u of l.terms) {
      if (u === t || u.coef !== t.coef * a) continue;
      let merged: IExpr | undefined;
      const ua = u.atom;
      if (ua.op === "div" && constOf(ua.b) === a && printI(ua.a) === xKey) merged = x;
      if (
        ua.op === "mod" &&
        ua.a.op === "div" &&
        constOf(ua.a.b) === a &&
        printI(ua.a.a) === xKey &&
        constOf(ua.b) !== undefined
      ) {
        merged = imod(x, a * constOf(ua.b)!);
      }
      if (merged === undefined) continue;
      const rest = { terms: l.terms.filter((v) => v !== t && v !== u), c: l.c };
      return combine(rest, scale(linear(merged), t.coef), 1);
    }
  }
  return l;
}

function scale(x: Linear, k: number): Linear {
  if (k === 0) return { terms: [], c: 0 };
  return { terms: x.terms.map((t) => ({ ...t, coef: t.coef * k })), c: x.c * k };
}

function termExpr(t: Term, coef: number): IExpr {
  return coef === 1 ? t.atom : { op: "mul", a: t.atom, b: { op: "const", value: coef } };
}

/** Positive terms first (in order of appearance), then negative ones, then the constant. */
function fromLinear(l: Linear): IExpr {
  const pos = l.terms.filter((t) => t.coef > 0);
  const neg = l.terms.filter((t) => t.coef < 0);
  let acc: IExpr | undefined;
  for (const t of pos) {
    const x = termExpr(t, t.coef);
    acc = acc === undefined ? x : { op: "add", a: acc, b: x };
  }
  // With no positive term the constant leads (`3 - x`), else it trails (`x - y + 3`).
  const lead = acc === undefined;
  if (lead) acc = ic(l.c);
  for (const t of neg) acc = sub2(acc!, termExpr(t, -t.coef));
  if (!lead && l.c !== 0) acc = l.c > 0 ? { op: "add", a: acc!, b: ic(l.c) } : sub2(acc!, ic(-l.c));
  return acc!;
}

function sub2(a: IExpr, b: IExpr): IExpr {
  return { op: "sub", a, b };
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

// ---------------------------------------------------------------- index constructors

export function ic(value: number): IExpr {
  return { op: "const", value };
}

export function ivar(name: string, extent: number): IVar {
  return { op: "var", name, extent };
}

export function iadd(a: IExpr, b: IExpr | number): IExpr {
  return fromLinear(combine(linear(a), linear(asI(b)), 1));
}

export function isub(a: IExpr, b: IExpr | number): IExpr {
  return fromLinear(combine(linear(a), linear(asI(b)), -1));
}

export function imul(a: IExpr, b: IExpr | number): IExpr {
  const bb = asI(b);
  if (bb.op === "const") return fromLinear(scale(linear(a), bb.value));
  if (a.op === "const") return fromLinear(scale(linear(bb), a.value));
  return { op: "mul", a, b: bb };
}

function asI(x: IExpr | number): IExpr {
  return typeof x === "number" ? ic(x) : x;
}

/** Splits a linear form by k: the terms (and constant part) divisible by k, and the rest. */
function splitBy(l: Linear, k: number): { q: Linear; r: Linear } {
  const q: Linear = { terms: [], c: Math.floor(l.c / k) };
  const r: Linear = { terms: [], c: l.c - q.c * k };
  for (const t of l.terms) {
    if (t.coef % k === 0) q.terms.push({ ...t, coef: t.coef / k });
    else r.terms.push(t);
  }
  return { q, r };
}

/**
 * Splits x = d·X + R with 0 ≤ R < d for the largest proper divisor d of k that
 * allows it (terms with coefficients divisible by d go to X); then
 * floor(x / k) = floor(X / (k/d)) and x mod k = d·(X mod k/d) + R.
 */
function splitAligned(l: Linear, k: number): { d: number; x: Linear; r: IExpr } | undefined {
  if (l.terms.length < 2) return undefined;
  for (const d of properDivisors(k)) {
    const x: Linear = { terms: [], c: Math.floor(l.c / d) };
    const r: Linear = { terms: [], c: l.c - x.c * d };
    for (const t of l.terms) {
      if (t.coef % d === 0) x.terms.push({ ...t, coef: t.coef / d });
      else r.terms.push(t);
    }
    if (x.terms.length === 0) continue;
    const rest = fromLinear(r);
    const [lo, hi] = rangeOf(rest);
    if (lo >= 0 && hi < d) return { d, x, r: rest };
  }
  return undefined;
}

/** Divisors of k strictly between 1 and k, largest first. */
function properDivisors(k: number): number[] {
  const out: number[] = [];
  for (let i = 2; i * i <= k; i++) {
    if (k % i !== 0) continue;
    out.push(i);
    if (i * i !== k) out.push(k / i);
  }
  return out.sort((a, b) => b - a);
}

/** Floor division by a positive constant. */
export function idiv(a: IExpr, k: number): IExpr {
  if (!Number.isInteger(k) || k <= 0) throw new Error(`idiv: divisor ${k} must be a positive int`);
  if (k === 1) return a;
  // (x / d) / k = x / (d·k)
  if (a.op === "div" && a.b.op === "const") return idiv(a.a, a.b.value * k);
  const { q, r } = splitBy(linear(a), k);
  const rest = fromLinear(r);
  const [lo, hi] = rangeOf(rest);
  const quotient = fromLinear(q);
  if (Math.floor(lo / k) === Math.floor(hi / k)) return iadd(quotient, Math.floor(lo / k));
  const aligned = splitAligned(r, k);
  if (aligned) return iadd(quotient, idiv(fromLinear(aligned.x), k / aligned.d));
  // (g·x) / (g·k) = x / k when every coefficient shares g with k
  const g = r.terms.reduce((acc, t) => gcd(acc, t.coef), gcd(r.c, k));
  const inner: IExpr =
    g > 1
      ? { op: "div", a: fromLinear(scale(r, 1 / g)), b: ic(k / g) }
      : { op: "div", a: rest, b: ic(k) };
  return iadd(quotient, inner);
}

/** Floor modulo by a positive constant (the result is in [0, k)). */
export function imod(a: IExpr, k: number): IExpr {
  if (!Number.isInteger(k) || k <= 0) throw new Error(`imod: divisor ${k} must be a positive int`);
  if (k === 1) return ic(0);
  const { r } = splitBy(linear(a), k);
  const rest = fromLinear(r);
  const [lo, hi] = rangeOf(rest);
  if (Math.floor(lo / k) === Math.floor(hi / k)) return isub(rest, Math.floor(lo / k) * k);
  const aligned = splitAligned(r, k);
  if (aligned) {
    return iadd(imul(imod(fromLinear(aligned.x), k / aligned.d), aligned.d), aligned.r);
  }
  return { op: "mod", a: rest, b: ic(k) };
}

export function imin(a: IExpr, b: IExpr | number): IExpr {
  const bb = asI(b);
  const [a0, a1] = rangeOf(a);
  const [b0, b1] = rangeOf(bb);
  if (a1 <= b0) return a;
  if (b1 <= a0) return bb;
  return { op: "min", a, b: bb };
}

export function imax(a: IExpr, b: IExpr | number): IExpr {
  const bb = asI(b);
  const [a0, a1] = rangeOf(a);
  const [b0, b1] = rangeOf(bb);
  if (a0 >= b1) return a;
  if (b0 >= a1) return bb;
  return { op: "max", a, b: bb };
}

export function iselect(cond: ICond, a: IExpr, b: IExpr): IExpr {
  if (cond.op === "bool") return cond.value ? a : b;
  if (printI(a) === printI(b)) return a;
  return { op: "select", cond, a, b };
}

/** An i32 value read from a tensor, used as an index. */
export function ivalue(v: VExpr): IExpr {
  if (v.op === "const") return ic(v.value);
  if (v.op === "index") return v.index;
  return { op: "value", v };
}

// ---------------------------------------------------------------- conditions

export const ctrue: ICond = { op: "bool", value: true };
export const cfalse: ICond = { op: "bool", value: false };

const flipped: Record<CondOp, CondOp> = {
  lt: "gt",
  le: "ge",
  gt: "lt",
  ge: "le",
  eq: "eq",
  ne: "ne",
};

function decide(op: CondOp, lo: number, hi: number): boolean | undefined {
  // bounds of a − b
  switch (op) {
    case "lt":
      return hi < 0 ? true : lo >= 0 ? false : undefined;
    case "le":
      return hi <= 0 ? true : lo > 0 ? false : undefined;
    case "gt":
      return lo > 0 ? true : hi <= 0 ? false : undefined;
    case "ge":
      return lo >= 0 ? true : hi < 0 ? false : undefined;
    case "eq":
      return lo === hi ? lo === 0 : lo > 0 || hi < 0 ? false : undefined;
    case "ne":
      return lo === hi ? lo !== 0 : lo > 0 || hi < 0 ? true : undefined;
  }
}

/** a op b, decided from ranges where possible, else normalised to `terms op constant`. */
export function icmp(op: CondOp, a: IExpr, b: IExpr | number): ICond {
  const d = combine(linear(a), linear(asI(b)), -1);
  const [lo, hi] = rangeOf(fromLinear(d));
  const known = decide(op, lo, hi);
  if (known !== undefined) return { op: "bool", value: known };
  let terms = d.terms;
  let c = -d.c;
  let o = op;
  if (terms.every((t) => t.coef < 0)) {
    terms = terms.map((t) => ({ ...t, coef: -t.coef }));
    c = -c;
    o = flipped[op];
  }
  return { op: o, a: fromLinear({ terms, c: 0 }), b: ic(c) };
}

export function cand(a: ICond, b: ICond): ICond {
  if (a.op === "bool") return a.value ? b : a;
  if (b.op === "bool") return b.value ? a : b;
  if (printCond(a) === printCond(b)) return a;
  return { op: "and", a, b };
}

export function cor(a: ICond, b: ICond): ICond {
  if (a.op === "bool") return a.value ? a : b;
  if (b.op === "bool") return b.value ? b : a;
  if (printCond(a) === printCond(b)) return a;
  return { op: "or", a, b };
}

/** 0 ≤ x < extent */
export function inBounds(x: IExpr, extent: number): ICond {
  return cand(icmp("ge", x, 0), icmp("lt", x, extent));
}
