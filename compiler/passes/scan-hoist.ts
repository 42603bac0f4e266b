// Hoisting work out of recurrences. In a scan's body, a value that does not
// depend on the carried state is the same computation at every step:
//   - a value of the captured tensors alone (W_hhᵀ) is computed once before the
//     scan and captured instead (fold-constants then makes it a derived weight);
//   - a contraction of the per-step input (x_t @ W_ihᵀ) is computed for all
//     steps at once before the scan — one large matmul over [T, …] instead of
//     T single-row ones — and the body reads its row t as a new sequence
//     (time-major: `seqAxes` 0).
// Sums are regrouped first so that the state-independent terms form one
// subtree: x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh becomes (x_t·W_ihᵀ + (b_ih + b_hh))
// + h·W_hhᵀ, and the whole first term is hoisted (the bias sum folds into one
// derived weight). A body output that repeats another (an LSTM returns h as
// both state and output) is dropped, its readers re-pointed at the first.

import { numel, sameShape } from "../core/types.js";
import type { Graph, GraphInput, GraphNode } from "../graph/graph.js";
import { getOp, inferOp } from "../ops/index.js";
import { type ScanAttrs, seqAxis } from "../ops/scan.js";
import { GraphEditor } from "./editor.js";

/**
 * Contractions and reductions (matmul, convolutions, pooling, reduce_*): what
 * is worth computing for all steps at once. Read from the ops' fusion category.
 */
function heavy(op: string): boolean {
  const category = getOp(op).category;
  return category === "out-elementwise-fusable" || category === "reduction";
}

/** Index maps that cost nothing in place: not worth a buffer of their own. */
const FREE = new Set(["reshape", "broadcast", "slice"]);

const INVARIANT = 0;
const PER_STEP = 1;
const STATEFUL = 2;

export function scanHoist(g: Graph): Graph {
  if (!g.nodes.some((n) => n.op === "scan")) return g;
  const ed = new GraphEditor(g);
  let changed = false;
  const readers = new Map<number, GraphNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(g.outputs.map((o) => o.node));
  /** Scans whose columns moved (a dropped duplicate output): old column → new column. */
  const columns = new Map<number, (c: number) => number>();
  for (const old of g.nodes) {
    const inputs = old.inputs.map((i) => ed.map.get(i)!);
    if (old.op === "scan") {
      const slicedOnly =
        !outputs.has(old.id) && (readers.get(old.id) ?? []).every((r) => r.op === "slice");
      const res = hoist(ed, old, inputs, slicedOnly);
      if (res) {
        changed = true;
        if (res.columns) columns.set(old.id, res.columns);
      }
      ed.map.set(old.id, res?.id ?? ed.copy(old, inputs));
      continue;
    }
    const moved = old.op === "slice" ? columns.get(old.inputs[0]!) : undefined;
    if (moved) {
      const a = old.attrs as { starts: number[]; ends: number[]; steps?: number[] };
      const start = moved(a.starts[1]!);
      const attrs = {
        ...a,
        starts: [a.starts[0]!, start],
        ends: [a.ends[0]!, start + (a.ends[1]! - a.starts[1]!)],
      };
      ed.map.set(old.id, ed.emit("slice", inputs, attrs, old));
      continue;
    }
    ed.map.set(old.id, ed.copy(old, inputs));
  }
  return changed ? ed.finish() : g;
}

/** What each body value depends on: the state, the per-step inputs, or neither. */
function dependencies(body: Graph, nSeq: number, nState: number): Map<number, number> {
  const inputIndex = new Map(body.inputs.map((bi, i) => [bi.node, i]));
  const dep = new Map<number, number>();
  for (const n of body.nodes) {
    const i = inputIndex.get(n.id);
    if (i !== undefined)
      dep.set(n.id, i < nSeq ? PER_STEP : i < nSeq + nState ? STATEFUL : INVARIANT);
    else dep.set(n.id, Math.max(INVARIANT, ...n.inputs.map((x) => dep.get(x)!)));
  }
  return dep;
}

/**
 * The body with each sum that mixes state-dependent and state-independent
 * terms regrouped: (per-step terms + invariant terms) + state terms.
 */
function regroupSums(body: Graph, dep: Map<number, number>): Graph {
  const byId = new Map(body.nodes.map((n) => [n.id, n]));
  const uses = new Map<number, GraphNode[]>();
  for (const n of body.nodes) for (const i of n.inputs) uses.set(i, [...(uses.get(i) ?? []), n]);
  const outputs = new Set(body.outputs.map((o) => o.node));
  const isAdd = (n: GraphNode) => n.op === "add" && n.type.dtype === "f32";
  // An add read once, by another add, is inside that add's sum.
  const interior = (n: GraphNode) =>
    isAdd(n) && !outputs.has(n.id) && uses.get(n.id)?.length === 1 && isAdd(uses.get(n.id)![0]!);
  const leaves = (n: GraphNode): number[] =>
    n.inputs.flatMap((i) => {
      const x = byId.get(i)!;
      return interior(x) ? leaves(x) : [i];
    });
  const plans = new Map<number, number[][]>();
  for (const n of body.nodes) {
    if (!isAdd(n) || interior(n)) continue;
    const terms = leaves(n);
    const state = terms.filter((t) => dep.get(t) === STATEFUL);
    const step = terms.filter((t) => dep.get(t) === PER_STEP);
    const inv = terms.filter((t) => dep.get(t) === INVARIANT);
    if (state.length === 0 || step.length + inv.length < 2) continue;
    plans.set(n.id, [step, inv, state]);
  }
  if (plans.size === 0) return body;
  const nodes: GraphNode[] = [];
  const map = new Map<number, number>();
  const add = (a: number, b: number, origin: GraphNode): number => {
    const { type } = inferOp("add", [nodes[a]!.type, nodes[b]!.type], {});
    const id = nodes.length;
    nodes.push({ ...origin, id, op: "add", inputs: [a, b], attrs: {}, type });
    return id;
  };
  const sum = (ids: number[], origin: GraphNode): number | undefined =>
    ids.length === 0
      ? undefined
      : ids.map((i) => map.get(i)!).reduce((acc, x) => add(acc, x, origin));
  const skip = new Set<number>();
  for (const id of plans.keys()) {
    const mark = (n: GraphNode) => {
      for (const i of n.inputs) {
        const x = byId.get(i)!;
        if (interior(x)) {
          skip.add(i);
          mark(x);
        }
      }
    };
    mark(byId.get(id)!);
  }
  for (const n of body.nodes) {
    if (skip.has(n.id)) continue;
    const plan = plans.get(n.id);
    if (!plan) {
      const id = nodes.length;
      nodes.push({ ...n, id, inputs: n.inputs.map((i) => map.get(i)!) });
      map.set(n.id, id);
      continue;
    }
    const [step, inv, state] = plan as [number[], number[], number[]];
    const free = [sum(step, n), sum(inv, n)].filter((x): x is number => x !== undefined);
    const f = free.reduce((acc, x) => add(acc, x, n));
    const s = state.map((i) => map.get(i)!).reduce((acc, x) => add(acc, x, n));
    const id = add(f, s, n);
    if (nodes[id]!.type.shape.join() !== n.type.shape.join()) return body;
    map.set(n.id, id);
  }
  return {
    ...body,
    nodes,
    inputs: body.inputs.map((i) => ({ ...i, node: map.get(i.node)! })),
    outputs: body.outputs.map((o) => ({ ...o, node: map.get(o.node)! })),
  };
}

/**
 * Rewrites one scan with its state-independent work hoisted (and, when its
 * readers are all slices, its duplicate outputs dropped); undefined when
 * there is nothing to do.
 */
function hoist(
  ed: GraphEditor,
  scan: GraphNode,
  outerInputs: number[],
  slicedOnly: boolean,
): { id: number; columns?: (c: number) => number } | undefined {
  const a = getOp("scan").attrs.parse(scan.attrs) as unknown as ScanAttrs;
  const stepsOf = () => ed.type(outerInputs[0]!).shape[seqAxis(a, 0)]!;
  if (a.body.nodes.some((n) => n.op === "scan" || n.op === "param")) return undefined;
  const body = regroupSums(a.body, dependencies(a.body, a.nSeq, a.nState));
  // Outputs after the state that repeat an earlier output.
  const seen = new Set<number>();
  const dropped = new Set<number>();
  body.outputs.forEach((o, k) => {
    if (seen.has(o.node) && k >= a.nState && slicedOnly) dropped.add(k);
    seen.add(o.node);
  });
  const byId = new Map(body.nodes.map((n) => [n.id, n]));
  const node = (id: number) => byId.get(id)!;
  const inputIndex = new Map(body.inputs.map((bi, i) => [bi.node, i]));
  const kindOf = (i: number) =>
    i < a.nSeq ? "seq" : i < a.nSeq + a.nState ? "state" : ("captured" as const);

  // What each body value depends on.
  const dep = dependencies(body, a.nSeq, a.nState);
  const readers = new Map<number, number[]>();
  for (const n of body.nodes)
    for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n.id]);
  void kindOf;
  const outputs = new Set(body.outputs.map((o) => o.node));

  // Per-step contractions that can be computed for all steps, with everything they read.
  const batchable = new Map<number, boolean>();
  const canBatch = (id: number): boolean => {
    const hit = batchable.get(id);
    if (hit !== undefined) return hit;
    const n = node(id);
    let ok: boolean;
    if (dep.get(id) === INVARIANT) ok = true;
    else if (inputIndex.has(id)) ok = true;
    else
      ok =
        batchRule(
          n,
          (i) => node(i),
          (i) => dep.get(i) === PER_STEP,
        ) !== undefined;
    if (ok && !inputIndex.has(id)) ok = n.inputs.every(canBatch);
    batchable.set(id, ok);
    return ok;
  };
  const hoisted = new Set<number>();
  const addCone = (id: number) => {
    if (hoisted.has(id) || inputIndex.has(id) || dep.get(id) === STATEFUL) return;
    hoisted.add(id);
    for (const i of node(id).inputs) addCone(i);
  };
  // Per-step values the state-dependent part reads, when they contain a contraction:
  // the whole value over all steps (the projection with its biases), else the contractions.
  const heavyCone = (id: number): boolean =>
    heavy(node(id).op) ||
    (!inputIndex.has(id) && node(id).inputs.some((i) => dep.get(i) === PER_STEP && heavyCone(i)));
  for (const n of body.nodes) {
    if (dep.get(n.id) !== PER_STEP || inputIndex.has(n.id)) continue;
    const frontier =
      outputs.has(n.id) || (readers.get(n.id) ?? []).some((r) => dep.get(r) === STATEFUL);
    if (frontier && heavyCone(n.id) && canBatch(n.id)) addCone(n.id);
  }
  for (const n of body.nodes) {
    if (dep.get(n.id) === PER_STEP && heavy(n.op) && canBatch(n.id)) addCone(n.id);
  }
  // Invariant values read by the rest of the body: computed once, before the scan.
  for (const n of body.nodes) {
    if (dep.get(n.id) !== INVARIANT || inputIndex.has(n.id) || n.op === "const") continue;
    if (FREE.has(n.op) || hoisted.has(n.id)) continue;
    const readBy = readers.get(n.id) ?? [];
    if (outputs.has(n.id) || readBy.some((r) => dep.get(r) !== INVARIANT)) addCone(n.id);
  }
  // The hoisted values the body still reads become new inputs.
  const roots = body.nodes
    .filter((n) => hoisted.has(n.id))
    .filter((n) => outputs.has(n.id) || (readers.get(n.id) ?? []).some((r) => !hoisted.has(r)))
    .map((n) => n.id);
  if (roots.length === 0 && dropped.size === 0 && body === a.body) return undefined;

  // Outer nodes: invariant values as they are, per-step values over all steps (time first).
  const outerOf = new Map<number, number>();
  const outer = (id: number): number => {
    const hit = outerOf.get(id);
    if (hit !== undefined) return hit;
    const n = node(id);
    const i = inputIndex.get(id);
    let out: number;
    if (i !== undefined) out = outerInputs[i]!;
    else if (n.op === "const") out = ed.emit("const", [], n.attrs, n);
    else
      out = ed.emit(
        n.op,
        n.inputs.map((x) => outer(x)),
        n.attrs,
        n,
      );
    outerOf.set(id, out);
    return out;
  };
  const batchedOf = new Map<number, number>();
  const batched = (id: number): number => {
    const hit = batchedOf.get(id);
    if (hit !== undefined) return hit;
    const n = node(id);
    const i = inputIndex.get(id);
    let out: number;
    if (i !== undefined) {
      // A sequence, time axis first.
      const axis = seqAxis(a, i);
      const rank = ed.type(outerInputs[i]!).shape.length;
      const perm = [axis, ...[...Array(rank).keys()].filter((d) => d !== axis)];
      out = axis === 0 ? outerInputs[i]! : ed.emit("permute", [outerInputs[i]!], { perm }, scan);
    } else {
      const rule = batchRule(n, node, (x) => dep.get(x) === PER_STEP)!;
      const T = stepsOf();
      const ins = n.inputs.map((x, j) => {
        if (dep.get(x) !== PER_STEP) return rule.invariant?.(outer(x), T, j) ?? outer(x);
        const b = batched(x);
        return rule.reshapeBatched?.(b, j) ?? b;
      });
      out = ed.emit(n.op, ins, rule.attrs, n);
    }
    batchedOf.set(id, out);
    return out;
  };
  function reshaped(b: number, rank: number): number {
    const s = ed.type(b).shape;
    const have = s.length - 1;
    if (have >= rank) return b;
    const shape = [s[0]!, ...new Array<number>(rank - have).fill(1), ...s.slice(1)];
    return ed.emit("reshape", [b], { shape }, scan);
  }

  // The new body: hoisted roots are read as inputs.
  const nodes: GraphNode[] = [];
  const map = new Map<number, number>();
  const inputs: GraphInput[] = [];
  const addInput = (name: string, like: GraphNode): number => {
    const id = nodes.length;
    nodes.push({
      id,
      op: "input",
      inputs: [],
      attrs: { name, dtype: like.type.dtype, shape: [...like.type.shape] },
      type: { dtype: like.type.dtype, shape: [...like.type.shape] },
      ...(like.span ? { span: like.span } : {}),
      ...(like.trace ? { trace: like.trace } : {}),
    });
    inputs.push({ name, node: id, type: nodes[id]!.type });
    return id;
  };
  const used = (id: number) =>
    outputs.has(id) || (readers.get(id) ?? []).some((r) => !hoisted.has(r));
  const seqs: number[] = [];
  const seqAxes: number[] = [];
  body.inputs.slice(0, a.nSeq).forEach((bi, i) => {
    if (!used(bi.node)) return;
    map.set(bi.node, addInput(bi.name, node(bi.node)));
    seqs.push(outerInputs[i]!);
    seqAxes.push(seqAxis(a, i));
  });
  const stepRoots = roots.filter((r) => dep.get(r) === PER_STEP);
  stepRoots.forEach((r, k) => {
    map.set(r, addInput(`hoisted${k}`, node(r)));
    seqs.push(batched(r));
    seqAxes.push(0);
  });
  if (seqs.length === 0) {
    // Nothing per-step is left in the body: the first sequence still gives the length.
    const bi = body.inputs[0]!;
    map.set(bi.node, addInput(bi.name, node(bi.node)));
    seqs.push(outerInputs[0]!);
    seqAxes.push(seqAxis(a, 0));
  }
  const inits: number[] = [];
  body.inputs.slice(a.nSeq, a.nSeq + a.nState).forEach((bi, j) => {
    map.set(bi.node, addInput(bi.name, node(bi.node)));
    inits.push(outerInputs[a.nSeq + j]!);
  });
  const captured: number[] = [];
  body.inputs.slice(a.nSeq + a.nState).forEach((bi, j) => {
    if (!used(bi.node)) return;
    map.set(bi.node, addInput(bi.name, node(bi.node)));
    captured.push(outerInputs[a.nSeq + a.nState + j]!);
  });
  roots
    .filter((r) => dep.get(r) === INVARIANT)
    .forEach((r, k) => {
      map.set(r, addInput(`hoisted_captured${k}`, node(r)));
      captured.push(outer(r));
    });
  for (const n of body.nodes) {
    if (map.has(n.id) || hoisted.has(n.id) || inputIndex.has(n.id)) continue;
    const id = nodes.length;
    nodes.push({ ...n, id, inputs: n.inputs.map((x) => map.get(x)!) });
    map.set(n.id, id);
  }
  const newBody: Graph = {
    nodes,
    inputs,
    params: [],
    outputs: body.outputs
      .filter((_, k) => !dropped.has(k))
      .map((o) => ({ name: o.name, node: map.get(o.node)! })),
  };
  const attrs: Record<string, unknown> = {
    ...scan.attrs,
    body: newBody,
    nSeq: seqs.length,
    nState: a.nState,
  };
  if (seqAxes.some((x) => x !== a.axis)) attrs.seqAxes = seqAxes;
  else delete attrs.seqAxes;
  const id = ed.emit("scan", [...seqs, ...inits, ...captured], attrs, scan);
  if (dropped.size === 0) {
    if (!sameShape(ed.type(id).shape, scan.type.shape))
      throw new Error(`scan-hoist changed the type of %${scan.id}`);
    return { id };
  }
  // Columns of the old row → the new row: a dropped slot reads its first occurrence.
  const sizes = body.outputs.map((o) => numel(node(o.node).type.shape));
  const oldStart = sizes.map((_, k) => sizes.slice(0, k).reduce((x, y) => x + y, 0));
  const newStart = new Map<number, number>();
  let at = 0;
  body.outputs.forEach((_, k) => {
    if (dropped.has(k)) return;
    newStart.set(k, at);
    at += sizes[k]!;
  });
  const firstOf = (k: number) => body.outputs.findIndex((o) => o.node === body.outputs[k]!.node);
  const columns = (c: number) => {
    let k = 0;
    while (k + 1 < oldStart.length && oldStart[k + 1]! <= c) k++;
    const to = dropped.has(k) ? firstOf(k) : k;
    return newStart.get(to)! + (c - oldStart[k]!);
  };
  return { id, columns };

  /**
   * How node `n` runs over all steps at once (a new leading time axis on its
   * per-step operands): its attrs, and how operands are adapted; undefined
   * when there is no rule.
   */
  function batchRule(
    n: GraphNode,
    nodeOf: (id: number) => GraphNode,
    perStep: (id: number) => boolean,
  ): BatchRule | undefined {
    const op = getOp(n.op);
    const rank = n.type.shape.length;
    const at = n.attrs as Record<string, unknown>;
    if (op.category === "elementwise") return { attrs: at };
    // Right-aligned broadcasting: a per-step operand of lower rank gets unit dims after time.
    if (op.category === "broadcast") return { attrs: at, reshapeBatched: (b) => reshaped(b, rank) };
    const T = stepsOf();
    switch (n.op) {
      case "matmul": {
        const [x, y] = n.inputs.map((i) => nodeOf(i).type.shape.length) as [number, number];
        const [px, py] = n.inputs.map(perStep) as [boolean, boolean];
        // Time must become a leading batch dim of the product.
        const ok =
          px && py ? x === y && x >= 2 : px ? (x === 1 ? y <= 2 : y <= x) : y >= 2 && x <= y;
        return ok ? { attrs: at } : undefined;
      }
      case "reduce_sum":
      case "reduce_max":
      case "reduce_mean":
        return { attrs: { ...at, axes: (at.axes as number[]).map((x) => x + 1) } };
      case "reshape":
        return { attrs: { shape: [T, ...(at.shape as number[])] } };
      case "permute":
        return { attrs: { perm: [0, ...(at.perm as number[]).map((p) => p + 1)] } };
      case "slice":
        return {
          attrs: {
            starts: [0, ...(at.starts as number[])],
            ends: [T, ...(at.ends as number[])],
            ...(at.steps ? { steps: [1, ...(at.steps as number[])] } : {}),
          },
        };
      case "pad":
        return { attrs: { ...at, pads: [[0, 0], ...(at.pads as [number, number][])] } };
      case "concat":
        return {
          attrs: { axis: (at.axis as number) + 1 },
          invariant: (o) => {
            const shape = ed.type(o).shape;
            const one = ed.emit("reshape", [o], { shape: [1, ...shape] }, scan);
            return ed.emit("broadcast", [one], { shape: [T, ...shape] }, scan);
          },
        };
      case "broadcast":
        return {
          attrs: { shape: [T, ...(at.shape as number[])] },
          reshapeBatched: (b) => reshaped(b, rank),
        };
      default:
        return undefined;
    }
  }
}

interface BatchRule {
  attrs: Record<string, unknown>;
  /** Adapts a per-step operand already over all steps (`[T, …]`). */
  reshapeBatched?: (b: number, j: number) => number;
  /** Adapts a step-invariant operand. */
  invariant?: (o: number, T: number, j: number) => number;
}
