// Scheduling a kernel: how its iteration space maps onto invocations. Most
// kernels run one invocation per element; a sum of products (matmul, conv)
// gets a register tile so each load is shared by a row or column of outputs.
// Also the launch geometry: workgroups folded into y/z past 65535.

import { limitDefaults } from "../target/limits.js";
import type { IVar, VExpr } from "./expr.js";
import type { Schedule } from "./ir.js";

/** Invocations per workgroup (1-D). */
export const WORKGROUP_SIZE = 64;
/**
 * WebGPU's default maxComputeWorkgroupsPerDimension (the one limit table's):
 * a grid folds past it on every target, no adapter has less.
 */
export const MAX_WORKGROUPS_PER_DIM = limitDefaults.maxComputeWorkgroupsPerDimension;
/** Register tile: rows (m) × columns (n, in vec4s). */
export const TILE_M = 4;
export const TILE_N = 4;

/** The reduce nodes of a value expression (not looking inside index expressions). */
export function reducesOf(e: VExpr, out: Extract<VExpr, { op: "reduce" }>[] = []) {
  switch (e.op) {
    case "reduce":
      out.push(e);
      reducesOf(e.body, out);
      break;
    case "unary":
    case "cast":
      reducesOf(e.x, out);
      break;
    case "binary":
    case "cmp":
      reducesOf(e.a, out);
      reducesOf(e.b, out);
      break;
    case "select":
      reducesOf(e.cond, out);
      reducesOf(e.a, out);
      reducesOf(e.b, out);
      break;
  }
  return out;
}

/** Names of the variables an expression reads (index expressions included). */
export function varsOf(e: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(e)) {
    for (const x of e) varsOf(x, out);
  } else if (e !== null && typeof e === "object") {
    const o = e as Record<string, unknown>;
    if (o.op === "var") out.add(o.name as string);
    else for (const v of Object.values(o)) if (typeof v === "object") varsOf(v, out);
  }
  return out;
}

/** The factors of a tileable contraction: body = epilogue(sum[k…](a * b)), f32, one reduce (maybe read twice). */
export function contractionOf(body: VExpr): Extract<VExpr, { op: "reduce" }> | undefined {
  const reduces = [...new Set(reducesOf(body))];
  if (reduces.length !== 1) return undefined;
  const r = reduces[0]!;
  if (r.kind !== "sum" || r.dtype !== "f32") return undefined;
  if (r.body.op !== "binary" || r.body.fn !== "mul") return undefined;
  return r;
}

export function chooseSchedule(space: IVar[], body: VExpr): Schedule {
  const r = contractionOf(body);
  if (r === undefined || r.body.op !== "binary") return { kind: "naive" };
  const deps = [varsOf(r.body.a), varsOf(r.body.b)];
  const dims = space.map((_, i) => i).filter((i) => space[i]!.extent > 1);
  // n: the innermost dim some factor does not depend on (that factor is shared along the row).
  const n = [...dims].reverse().find((i) => deps.some((d) => !d.has(space[i]!.name)));
  if (n === undefined) return { kind: "naive" };
  const rowFactor = deps[0]!.has(space[n]!.name) ? 1 : 0;
  const colDeps = deps[1 - rowFactor]!;
  const others = dims.filter((i) => i !== n).reverse();
  // m: preferably a dim the column factor does not depend on, so it is shared down the tile.
  const m = others.find((i) => !colDeps.has(space[i]!.name)) ?? others[0] ?? null;
  const tm = m === null ? 1 : Math.min(TILE_M, space[m]!.extent);
  return { kind: "tiled", m, n, tm, tn: TILE_N };
}

type Reduce = Extract<VExpr, { op: "reduce" }>;

/** The variables a reduce reads that it does not bind itself (nor a reduce inside it). */
export function freeVars(r: Reduce): Set<string> {
  const bound = new Set<string>();
  for (const inner of reducesOf(r)) for (const v of inner.vars) bound.add(v.name);
  const free = new Set<string>();
  for (const v of varsOf(r)) if (!bound.has(v)) free.add(v);
  return free;
}

/**
 * The reduces of a body that can be computed once, before the element is:
 * those that read only variables in `outer`, inner ones first, each once
 * (a node read twice at one index is one object). Reduces under a select's
 * branches stay where they are (they may be meant not to run).
 */
export function hoistableReduces(body: VExpr, outer: ReadonlySet<string>): Reduce[] {
  const out = new Set<Reduce>();
  const visit = (e: VExpr): void => {
    if (e.op === "reduce") {
      if (out.has(e)) return;
      visit(e.body);
      if ([...freeVars(e)].every((v) => outer.has(v))) out.add(e);
    } else if (e.op === "unary" || e.op === "cast") {
      visit(e.x);
    } else if (e.op === "binary" || e.op === "cmp") {
      visit(e.a);
      visit(e.b);
    } else if (e.op === "select") {
      visit(e.cond);
    }
  };
  visit(body);
  return [...out];
}

/**
 * The rows schedule for a body whose reductions are broadcast along some
 * space dims (softmax, layernorm): those dims are looped over inside one
 * invocation, after the reductions, so each row's are computed once.
 * Undefined when no reduction is broadcast.
 */
export function chooseRows(space: IVar[], body: VExpr): Schedule | undefined {
  const names = new Set(space.map((v) => v.name));
  const hoisted = hoistableReduces(body, names);
  if (hoisted.length === 0) return undefined;
  const used = new Set<string>();
  for (const r of hoisted) for (const v of freeVars(r)) used.add(v);
  const rows = space
    .map((_, d) => d)
    .filter((d) => space[d]!.extent > 1 && !used.has(space[d]!.name));
  return rows.length > 0 ? { kind: "rows", rows } : undefined;
}

/** Invocations a schedule needs. */
export function threadCount(space: IVar[], schedule: Schedule): number {
  return space.reduce((acc, v, i) => {
    if (schedule.kind === "rows" && schedule.rows.includes(i)) return acc;
    if (schedule.kind === "tiled" && i === schedule.m)
      return acc * Math.ceil(v.extent / schedule.tm);
    if (schedule.kind === "tiled" && i === schedule.n)
      return acc * Math.ceil(v.extent / schedule.tn);
    return acc * v.extent;
  }, 1);
}

/** Workgroup counts covering `threads`, folded into y and z past the per-dimension limit. */
export function gridFor(threads: number, workgroup = WORKGROUP_SIZE): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroup));
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const yz = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  if (yz <= MAX_WORKGROUPS_PER_DIM) return [Math.ceil(groups / yz), yz, 1];
  const z = Math.ceil(yz / MAX_WORKGROUPS_PER_DIM);
  const y = Math.ceil(yz / z);
  return [Math.ceil(groups / (y * z)), y, z];
}
