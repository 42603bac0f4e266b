// Vectorisation analysis of the Kernel IR: which loads of a kernel can read
// `width` consecutive elements as one vector (WGSL's vec4<f32> at width 4).
// The tune pass asks it how a tile would load (with the target's vector
// width) and the WGSL emitter follows the same answers, so the cost model
// never builds the emitter to find out.

import { type IExpr, type IVar, isub, ivar, linearTerms, substV, type VExpr } from "./expr.js";
import { linearize } from "./index-maps.js";
import type { Kernel } from "./ir.js";
import { contractionOf, varsOf } from "./schedule.js";

/** The width the emitter's vector loads have: vec4<f32>. */
export const VECTOR_WIDTH = 4;

/**
 * Whether a flat index is `v + (terms whose coefficients are multiples of
 * width)`: then at v ≡ 0 (mod width) it starts an aligned run along v.
 */
export function alignedAlong(flat: IExpr, v: string, width = VECTOR_WIDTH): boolean {
  const { terms, c } = linearTerms(flat);
  if (c % width !== 0) return false;
  let unit = false;
  for (const t of terms) {
    if (t.atom.op === "var" && t.atom.name === v) {
      if (t.coef !== 1) return false;
      unit = true;
    } else if (t.coef % width !== 0 || varsOf(t.atom).has(v)) {
      return false;
    }
  }
  return unit;
}

/** The flat element index of a load of one of a kernel's bindings. */
export function flatIndex(k: Kernel, binding: number, index: IExpr[]): IExpr {
  return linearize(index, k.bindings[binding]!.shape);
}

/** Whether a factor is an f32 load that can read `width` consecutive elements along `v` as one vector. */
export function vectorAlong(k: Kernel, e: VExpr, v: string, width = VECTOR_WIDTH): boolean {
  if (e.op !== "load" || e.dtype !== "f32") return false;
  const b = k.bindings[e.binding]!;
  if (b.shape.reduce((a, d) => a * d, 1) % width !== 0) return false;
  return alignedAlong(flatIndex(k, e.binding, e.index), v, width);
}

/** How a tiled kernel's k loop loads its factors (see tiledLoads). */
export interface TiledLoads {
  /** The column factor is one vector load per `width` columns. */
  nVec: boolean;
  /** The row factor is one vector load per `width` rows (then k is not unrolled). */
  mVec: boolean;
  /** The row factor, or else the column factor, is a vector load along the innermost k. */
  rK: boolean;
  cK: boolean;
  /** The innermost k loop's unroll: `width` when rK or cK. */
  U: number;
  /** A sliding window along n (see slidingVar): its columns are loaded once for every r. */
  slide?: Slide;
}

export interface Slide {
  v: IVar;
  column: VExpr;
  p: string;
}

/**
 * A tiled kernel's contraction split into its factors: R (the row factor,
 * independent of n) and C (the column factor), with the tile's variables.
 * Undefined where the kernel is not a tiled binary contraction.
 */
export function tileFactors(k: Kernel) {
  const s = k.schedule;
  const r = contractionOf(k.body);
  if (s.kind !== "tiled" || r === undefined || r.body.op !== "binary") return undefined;
  const mVar = s.m === null ? undefined : k.space[s.m]!;
  const nVar = k.space[s.n]!;
  const [A, B] = [r.body.a, r.body.b];
  const [R, C] = varsOf(A).has(nVar.name) ? [B, A] : [A, B];
  return {
    r,
    mVar,
    nVar,
    R,
    C,
    kv: r.vars[r.vars.length - 1]!,
    rPerI: mVar !== undefined && varsOf(R).has(mVar.name),
    cPerI: mVar !== undefined && varsOf(C).has(mVar.name),
    cDepN: varsOf(C).has(nVar.name),
    s,
  };
}

/**
 * The vectorisation decisions of a tiled kernel. With U = width and no
 * nVec, each column of the tile costs `width` scalar loads per step of k.
 */
export function tiledLoads(k: Kernel, width = VECTOR_WIDTH): TiledLoads {
  const f = tileFactors(k);
  if (f === undefined) return { nVec: false, mVec: false, rK: false, cK: false, U: 1 };
  const { r, mVar, nVar, R, C, kv, cPerI, cDepN } = f;
  const along = (e: VExpr, v: string) => vectorAlong(k, e, v, width);
  const nVec = cDepN && nVar.extent % width === 0 && along(C, nVar.name);
  // Rows in vectors need every tile's rows unclamped and starting at a multiple of the width.
  const mVec =
    mVar !== undefined && f.s.tm % width === 0 && mVar.extent % f.s.tm === 0 && along(R, mVar.name);
  const rK = !mVec && kv.extent % width === 0 && along(R, kv.name);
  const cK = !mVec && !nVec && cDepN && kv.extent % width === 0 && along(C, kv.name);
  const U = rK || cK ? width : 1;
  const slide = U === 1 && cDepN && !nVec && !cPerI ? slidingVar(r, C, nVar) : undefined;
  return { nVec, mVec, rK, cK, U, ...(slide ? { slide } : {}) };
}

/**
 * A reduce variable r (extent 2–7) the column factor reads only as n + r
 * (a stride-1 window along n): then the factor is `column` at p = n + r.
 */
function slidingVar(r: Extract<VExpr, { op: "reduce" }>, C: VExpr, nVar: IVar): Slide | undefined {
  const p = `${nVar.name}_p`;
  for (const v of r.vars) {
    if (v.extent < 2 || v.extent > 7) continue;
    const column = substV(C, new Map([[nVar.name, isub(ivar(p, nVar.extent + v.extent - 1), v)]]));
    const vars = varsOf(column);
    if (!vars.has(v.name) && !vars.has(nVar.name)) return { v, column, p };
  }
  return undefined;
}
