// Lowering a `scan` without unrolling it: the body graph is lowered once into
// the kernels of one step, and those kernels are dispatched once per step, the
// step coming from a uniform as the index variable `step` (see KernelLoop in
// ir.ts). Identical kernels across steps are one pipeline.
//
// The scan's value is its stacked result [T, total] (row t = every body output
// at time t). A step's kernels read
//   - the sequences at time t (t = step, or T − 1 − step when reversed),
//   - the state from the previous row of the result — or the initial state at
//     the first step (a select on `step`),
//   - captured tensors as they are,
// and the kernel that computes a body output writes it straight into row t.
// Other body values get buffers of their own, reused by every step.
//
// Two schedules (the optimizer's scan passes choose, in the scan's `schedule`
// attr): one kernel per body node (the default, -O0), or the whole step fused
// into one kernel that stores every output (`fused`), optionally running all
// steps itself in one dispatch (`persistent`; emitted by wgsl-step.ts).
//
// This module is what both schedules share (ScanContext, KernelScope,
// evaluate); scan-loop.ts is the entry point and scan-fuse.ts the fused step.

import { numel } from "../core/types.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { getOp } from "../ops/index.js";
import { type ScanAttrs, seqAxis } from "../ops/scan.js";
import type { Target } from "../target/target.js";
import {
  type ICond,
  type IExpr,
  type IVar,
  iadd,
  ic,
  icmp,
  imax,
  imin,
  isub,
  ivar,
  type VExpr,
  vload,
  vselect,
  vtest,
} from "./expr.js";
import { GraphIndex, isBufferSource, type KernelGroup } from "./grouping.js";
import { computeType, linearize } from "./index-maps.js";
import {
  type Binding,
  type Kernel,
  type KernelBuffer,
  type KernelLoop,
  type KernelSource,
  type KernelStore,
  STEP_VAR,
} from "./ir.js";
import { lowerNode, sourceOf } from "./node-attrs.js";
import type { ScanPlacements } from "./scan-place.js";
import { chooseSchedule, gridFor, threadCount, WORKGROUP_SIZE } from "./schedule.js";
import { unrollScans } from "./unroll-scan.js";

/** What scan lowering needs of the program being built (lower.ts's ProgramBuilder). */
export interface ScanHost {
  /** The outer graph. */
  readonly g: GraphIndex;
  /** The program's buffers; scan lowering adds the body's own. */
  readonly buffers: KernelBuffer[];
  /** Where element `at` of a materialised outer value (input, param, constant, kernel result) lives. */
  locate(id: number, at: IExpr[]): { buffer: number; index: IExpr[] };
  /** The buffer a computed outer value is written to, created on first use. */
  computedBuffer(id: number): number;
}

export interface ScanLowerOptions {
  /** The index of the first kernel (names are k<index>_…). */
  index: number;
  /** The loop id of this scan (unique in the program). */
  loop: number;
  tiling: boolean;
  maxBindings: number;
  /** The target: its limits bound a persistent kernel, its cost model sizes a step's workgroups. */
  target: Target;
  /** Groups after the scan that only move its results: a fused step stores them directly. */
  placements?: ScanPlacements;
}

// ---------------------------------------------------------------- kernel scope

/** Bindings, variable names and loads of one kernel under construction. */
export class KernelScope {
  readonly bindings: Binding[] = [];
  private readonly byBuffer = new Map<number, number>();
  private readonly names = new Set<string>([STEP_VAR]);

  constructor(
    readonly buffers: readonly KernelBuffer[],
    /** Buffers the kernel writes (read through the same binding where it also reads them). */
    readonly writes: ReadonlySet<number>,
  ) {}

  readonly fresh = (hint: string, extent: number): IVar => {
    let name = hint;
    for (let i = 1; this.names.has(name); i++) name = `${hint}${i}`;
    this.names.add(name);
    return ivar(name, extent);
  };

  binding(buffer: number): number {
    let b = this.byBuffer.get(buffer);
    if (b === undefined) {
      b = this.bindings.length;
      const buf = this.buffers[buffer]!;
      this.bindings.push({
        buffer,
        role: this.writes.has(buffer) ? "write" : "read",
        dtype: computeType(buf.dtype),
        shape: [...buf.shape],
      });
      this.byBuffer.set(buffer, b);
    }
    return b;
  }

  load(buffer: number, index: IExpr[]): VExpr {
    const b = this.binding(buffer);
    return vload(b, index, this.bindings[b]!.dtype);
  }

  /**
   * Puts reads first and writes last (`primary` the very last, the kernel's
   * `out`); returns the renumbering to apply to every expression.
   */
  finish(primary: number): Map<number, number> {
    const p = this.binding(primary);
    const order = [
      ...this.bindings.map((_, i) => i).filter((i) => this.bindings[i]!.role === "read"),
      ...this.bindings
        .map((_, i) => i)
        .filter((i) => this.bindings[i]!.role === "write" && i !== p),
      p,
    ];
    const map = new Map(order.map((old, i) => [old, i]));
    const sorted = order.map((i) => this.bindings[i]!);
    this.bindings.splice(0, this.bindings.length, ...sorted);
    return map;
  }
}

// ---------------------------------------------------------------- renumbering bindings

export function remapV(e: VExpr, map: ReadonlyMap<number, number>): VExpr {
  switch (e.op) {
    case "const":
      return e;
    case "load":
      return { ...e, binding: map.get(e.binding)!, index: e.index.map((i) => remapI(i, map)) };
    case "index":
      return { ...e, index: remapI(e.index, map) };
    case "test":
      return { ...e, cond: remapC(e.cond, map) };
    case "unary":
    case "cast":
      return { ...e, x: remapV(e.x, map) };
    case "binary":
    case "cmp":
      return { ...e, a: remapV(e.a, map), b: remapV(e.b, map) } as VExpr;
    case "select":
      return { ...e, cond: remapV(e.cond, map), a: remapV(e.a, map), b: remapV(e.b, map) };
    case "reduce":
      return { ...e, body: remapV(e.body, map) };
  }
}

export function remapI(e: IExpr, map: ReadonlyMap<number, number>): IExpr {
  switch (e.op) {
    case "const":
    case "var":
      return e;
    case "value":
      return { op: "value", v: remapV(e.v, map) };
    case "select":
      return { ...e, cond: remapC(e.cond, map), a: remapI(e.a, map), b: remapI(e.b, map) };
    default:
      return { ...e, a: remapI(e.a, map), b: remapI(e.b, map) };
  }
}

export function remapC(c: ICond, map: ReadonlyMap<number, number>): ICond {
  switch (c.op) {
    case "bool":
      return c;
    case "and":
    case "or":
      return { ...c, a: remapC(c.a, map), b: remapC(c.b, map) };
    default:
      return { ...c, a: remapI(c.a, map), b: remapI(c.b, map) };
  }
}

// ---------------------------------------------------------------- evaluating nodes

/** One graph level of a kernel: which nodes it evaluates in place, and how it reads the rest. */
export interface Level {
  g: GraphIndex;
  inline(id: number): boolean;
  read(id: number, at: IExpr[]): VExpr;
}

/** The value expression of node `id` at `at`, inlined nodes through their op's lowering. */
export function evaluate(
  level: Level,
  scope: KernelScope,
  id: number,
  at: IExpr[],
  memo = new Map<string, VExpr>(),
): VExpr {
  if (!level.inline(id)) return level.read(id, at);
  const key = `${id}:${JSON.stringify(at)}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const v = lowerNode(
    level.g.node(id),
    (input) => level.g.node(input).type,
    (input, i) => evaluate(level, scope, input, i, memo),
    at,
    scope.fresh,
  );
  memo.set(key, v);
  return v;
}

/** Space variable names: NCHW for 4-D values, else i, j, … */
export function spaceNames(rank: number): string[] {
  if (rank === 4) return ["n", "c", "h", "w"];
  const letters = ["i", "j", "k", "l"];
  if (rank <= letters.length) return letters.slice(0, rank);
  return Array.from({ length: rank }, (_, d) => `i${d}`);
}

// ---------------------------------------------------------------- the scan

/** The pieces of one scan every step kernel shares. */
export class ScanContext {
  readonly a: ScanAttrs;
  readonly body: Graph;
  readonly bg: GraphIndex;
  readonly T: number;
  readonly step: IVar;
  /** This step's row of the result (input-aligned). */
  readonly t: IExpr;
  /** The previous step's row, clamped into range at the first step (where the initial state is read instead). */
  readonly prev: IExpr;
  readonly first: ICond;
  /** Each body output's slot in a row. */
  readonly slots: { node: number; offset: number; shape: number[] }[];
  /** The first slot of each body node that is an output. */
  readonly slotOf = new Map<number, number>();
  readonly seqs: number[];
  readonly inits: number[];
  readonly captured: number[];
  readonly inputIndex = new Map<number, number>();
  readonly total: number;
  /** Buffers of body values that are not outputs. */
  readonly local = new Map<number, number>();

  constructor(
    readonly host: ScanHost,
    readonly scan: GraphNode,
    readonly group: KernelGroup,
  ) {
    const a = getOp("scan").attrs.parse(scan.attrs) as unknown as ScanAttrs;
    this.a = a;
    // A scan nested in the body is unrolled into it (no stdlib model has one).
    this.body = unrollScans(a.body);
    this.bg = new GraphIndex(this.body);
    const seq0 = host.g.node(scan.inputs[0]!).type;
    this.T = seq0.shape[seqAxis(a, 0)]!;
    this.step = ivar(STEP_VAR, this.T);
    const T = this.T;
    this.t = a.reverse ? isub(ic(T - 1), this.step) : this.step;
    this.prev = a.reverse ? imin(isub(ic(T), this.step), T - 1) : imax(isub(this.step, 1), 0);
    this.first = icmp("eq", this.step, ic(0));
    let offset = 0;
    this.slots = this.body.outputs.map((o, k) => {
      const shape = [...this.bg.node(o.node).type.shape];
      const slot = { node: o.node, offset, shape };
      offset += numel(shape);
      if (!this.slotOf.has(o.node)) this.slotOf.set(o.node, k);
      return slot;
    });
    this.total = offset;
    this.seqs = scan.inputs.slice(0, a.nSeq);
    this.inits = scan.inputs.slice(a.nSeq, a.nSeq + a.nState);
    this.captured = scan.inputs.slice(a.nSeq + a.nState);
    this.body.inputs.forEach((bi, i) => {
      this.inputIndex.set(bi.node, i);
    });
  }

  /** The outer level: the scan group's inlined movement ops, materialised values read where they live. */
  outer(scope: KernelScope): Level {
    const inside = new Set(this.group.nodes);
    const g = this.host.g;
    return {
      g,
      inline: (id) => inside.has(id) && id !== this.scan.id && !isBufferSource(g.node(id)),
      read: (id, at) => {
        const { buffer, index } = this.host.locate(id, at);
        return scope.load(buffer, index);
      },
    };
  }

  /** Element `at` of slot k's value in row `row` of the result. */
  slotAt(scope: KernelScope, k: number, row: IExpr, at: IExpr[]): VExpr {
    const { buffer, index } = this.slotIndex(k, row, at);
    return scope.load(buffer, index);
  }

  slotIndex(k: number, row: IExpr, at: IExpr[]): { buffer: number; index: IExpr[] } {
    const s = this.slots[k]!;
    return this.host.locate(this.scan.id, [row, iadd(ic(s.offset), linearize(at, s.shape))]);
  }

  /** Memoised outer values per kernel (outer ids are not body ids: a memo of their own). */
  private readonly outerMemos = new WeakMap<KernelScope, Map<string, VExpr>>();

  /** A body input's element: the sequence at t, the state of the previous step, a captured tensor. */
  readInput(scope: KernelScope, i: number, at: IExpr[]): VExpr {
    const a = this.a;
    const outer = this.outer(scope);
    let memo = this.outerMemos.get(scope);
    if (!memo) {
      memo = new Map();
      this.outerMemos.set(scope, memo);
    }
    if (i < a.nSeq) {
      const axis = seqAxis(a, i);
      const idx = [...at.slice(0, axis), this.t, ...at.slice(axis)];
      return evaluate(outer, scope, this.seqs[i]!, idx, memo);
    }
    if (i < a.nSeq + a.nState) {
      const j = i - a.nSeq;
      const init = evaluate(outer, scope, this.inits[j]!, at, memo);
      const prev = this.slotAt(scope, j, this.prev, at);
      return vselect(vtest(this.first), init, prev);
    }
    return evaluate(outer, scope, this.captured[i - a.nSeq - a.nState]!, at, memo);
  }

  /** A buffer of the body value `id`, for every step. */
  localBuffer(id: number): number {
    let b = this.local.get(id);
    if (b === undefined) {
      const n = this.bg.node(id);
      b = this.host.buffers.length;
      this.host.buffers.push({
        id: b,
        name: `%${this.scan.id} scan.%${id} ${n.op}`,
        dtype: n.type.dtype,
        shape: [...n.type.shape],
        source: { kind: "computed" },
      });
      this.local.set(id, b);
    }
    return b;
  }

  /** The buffer the scan's own value lives in. */
  get home(): number {
    return this.host.locate(this.scan.id, [ic(0), ic(0)]).buffer;
  }

  loop(why: string, persistent = false): KernelLoop {
    return { id: -1, steps: this.T, ...(persistent ? { persistent } : {}), why };
  }

  /**
   * The scan first (body ids are not graph ids: printing finds the root by id),
   * then the body nodes the kernel evaluates.
   */
  sources(ids: Iterable<number>): KernelSource[] {
    return [sourceOf(this.scan), ...[...ids].map((id) => sourceOf(this.bg.node(id)))];
  }
}

/** A kernel's launch geometry and schedule from its space and body. */
export function geometry(
  space: IVar[],
  body: VExpr,
  tiling: boolean,
): Pick<Kernel, "schedule" | "workgroup" | "grid" | "threads"> {
  const schedule = tiling ? chooseSchedule(space, body) : ({ kind: "naive" } as const);
  const threads = threadCount(space, schedule);
  return { schedule, workgroup: [WORKGROUP_SIZE, 1, 1], grid: gridFor(threads), threads };
}

export type { KernelStore };
