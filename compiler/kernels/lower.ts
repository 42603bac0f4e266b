// Graph IR → Kernel IR. A grouping (grouping.ts) says which nodes each kernel
// evaluates; here each group becomes a kernel: its body is the root's
// lowering with every operand either evaluated in place (inlined nodes, each
// op's own `lower`) or loaded from the buffer of a materialised value.

import { numel } from "../core/types.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import { defaultTarget, type Target } from "../target/target.js";
import { type IExpr, type IVar, iadd, ivar, type VExpr, vload } from "./expr.js";
import {
  defaultGrouping,
  GraphIndex,
  type Grouping,
  isBufferSource,
  type KernelGroup,
  withInlined,
} from "./grouping.js";
import { computeType } from "./index-maps.js";
import type { Binding, Kernel, KernelBuffer, KernelProgram, Schedule } from "./ir.js";
import { atNode, attrsOf, lowerNode, sourceOf } from "./node-attrs.js";
import { lowerScan } from "./scan-loop.js";
import { ScanPlacements } from "./scan-place.js";
import { chooseRows, chooseSchedule, gridFor, threadCount, WORKGROUP_SIZE } from "./schedule.js";

export interface LowerOptions {
  /** The target: its storage-buffer limit bounds each kernel's bindings, its cost model sizes scan steps. */
  target?: Target;
  /** Storage buffers one kernel may bind, overriding the target's limit (tests of the splitting). */
  maxStorageBuffers?: number;
  /**
   * Override the grouping (tests' hook); the default is one kernel per
   * compute node. Groups may list only compute nodes: the movement ops and
   * small constants they read are added. The fuse pass hands its complete
   * grouping to lowerGrouped instead.
   */
  grouping?: Grouping;
  /** Register-tile contractions (default true); false gives every kernel the naive schedule. */
  tiling?: boolean;
}

/** The storage buffers a kernel may bind under these options. */
export function maxBindingsOf(options: LowerOptions): number {
  return (
    options.maxStorageBuffers ??
    (options.target ?? defaultTarget).limits.maxStorageBuffersPerShaderStage
  );
}

/** Space variable names: NCHW for 4-D outputs, else i, j, … */
function spaceNames(rank: number): string[] {
  if (rank === 4) return ["n", "c", "h", "w"];
  const letters = ["i", "j", "k", "l"];
  if (rank <= letters.length) return letters.slice(0, rank);
  return Array.from({ length: rank }, (_, d) => `i${d}`);
}

/** Where a view's value lives: in `node`'s buffer, shifted by `offset` along each dim. */
interface Home {
  node: number;
  offset: number[];
}

/** Each view's home, chains of views (a concat inside a concat) resolved to the outermost buffer. */
function resolveHomes(g: GraphIndex, grouping: Grouping): Map<number, Home> {
  const views = new Map((grouping.views ?? []).map((v) => [v.node, v]));
  const homes = new Map<number, Home>();
  const resolve = (id: number): Home => {
    const hit = homes.get(id);
    if (hit) return hit;
    const v = views.get(id);
    const rank = g.node(id).type.shape.length;
    if (!v) return { node: id, offset: new Array<number>(rank).fill(0) };
    const outer = resolve(v.into);
    const home = {
      node: outer.node,
      offset: outer.offset.map((o, d) => (d === v.axis ? o + v.offset : o)),
    };
    homes.set(id, home);
    return home;
  };
  for (const id of views.keys()) resolve(id);
  return homes;
}

class ProgramBuilder {
  readonly g: GraphIndex;
  readonly buffers: KernelBuffer[] = [];
  /** The buffer holding each materialised node's value. */
  readonly valueBuffer = new Map<number, number>();

  constructor(
    readonly graph: Graph,
    /** Values kept in a slice of another node's buffer. */
    readonly homes: ReadonlyMap<number, Home> = new Map(),
  ) {
    this.g = new GraphIndex(graph);
  }

  /** Where element `at` of a materialised value lives (scan lowering reads the outer graph through this). */
  locate(id: number, at: IExpr[]): { buffer: number; index: IExpr[] } {
    const home = this.homes.get(id);
    return {
      buffer: this.bufferOf(id),
      index: home ? at.map((x, d) => iadd(x, home.offset[d]!)) : at,
    };
  }

  /** The buffer a computed value is written to (its home's, for a view), created on first use. */
  computedBuffer(id: number): number {
    const node = this.g.node(this.homes.get(id)?.node ?? id);
    let b = this.valueBuffer.get(node.id);
    if (b === undefined) {
      b = this.addBuffer(node, `%${node.id} ${node.op}`, { kind: "computed" });
      this.valueBuffer.set(node.id, b);
    }
    return b;
  }

  addBuffer(node: GraphNode, name: string, source: KernelBuffer["source"]): number {
    const id = this.buffers.length;
    this.buffers.push({ id, name, dtype: node.type.dtype, shape: [...node.type.shape], source });
    return id;
  }

  /** The buffer of a source node (input, param, large constant), created on first use. */
  sourceBuffer(node: GraphNode): number {
    const hit = this.valueBuffer.get(node.id);
    if (hit !== undefined) return hit;
    const name = String(node.attrs.name ?? `%${node.id} const`);
    const source: KernelBuffer["source"] =
      node.op === "input"
        ? { kind: "input", name }
        : node.op === "param"
          ? { kind: "param", name }
          : { kind: "const", values: constValues(node) };
    const id = this.addBuffer(node, node.op === "const" ? `%${node.id} const` : name, source);
    this.valueBuffer.set(node.id, id);
    return id;
  }

  bufferOf(id: number): number {
    const node = this.g.node(id);
    if (node.op === "input" || node.op === "param" || node.op === "const") {
      return this.sourceBuffer(node);
    }
    const b = this.valueBuffer.get(this.homes.get(id)?.node ?? id);
    if (b === undefined) throw new Error(`lowering: %${id} is read before a kernel writes it`);
    return b;
  }
}

function constValues(node: GraphNode): number[] {
  const v = node.attrs.value as number[];
  const n = numel(node.type.shape);
  return v.length === n ? [...v] : new Array<number>(n).fill(v[0]!);
}

/** Builds one kernel: bindings on first use, fresh variable names, the body from the group's nodes. */
function buildKernel(
  p: ProgramBuilder,
  group: KernelGroup,
  index: number,
  out: number,
  tiling: boolean,
): Kernel {
  const g = p.g;
  const root = g.node(group.root);
  const inside = new Set(group.nodes);
  const bindings: Binding[] = [];
  const bindingOf = new Map<number, number>();
  const used = new Set<string>();
  const fresh = (hint: string, extent: number): IVar => {
    let name = hint;
    for (let i = 1; used.has(name); i++) name = `${hint}${i}`;
    used.add(name);
    return ivar(name, extent);
  };

  const load = (id: number, at: IExpr[]): VExpr => {
    const node = g.node(id);
    const buffer = p.bufferOf(id);
    if (buffer === out)
      throw new Error(`lowering: ${root.op} %${root.id} reads the buffer it writes`);
    const home = p.homes.get(id);
    let b = bindingOf.get(buffer);
    if (b === undefined) {
      b = bindings.length;
      bindingOf.set(buffer, b);
      bindings.push({
        buffer,
        role: "read",
        dtype: atNode(node, () => computeType(node.type.dtype)),
        shape: [...p.buffers[buffer]!.shape],
      });
    }
    const index = home ? at.map((x, d) => iadd(x, home.offset[d]!)) : at;
    return vload(b, index, bindings[b]!.dtype);
  };

  // A node read twice at the same index inside one kernel is one expression
  // (its reductions computed once: softmax's max, layernorm's mean).
  const memo = new Map<string, VExpr>();
  const valueAt = (id: number, at: IExpr[]): VExpr => {
    const key = `${id}:${JSON.stringify(at)}`;
    let v = memo.get(key);
    if (v === undefined) {
      v = evaluate(id, at);
      memo.set(key, v);
    }
    return v;
  };

  const evaluate = (id: number, at: IExpr[]): VExpr => {
    const node = g.node(id);
    if (!inside.has(id) || isBufferSource(node)) return load(id, at);
    if (group.part !== undefined && id === group.root) return load(id, at);
    return lowerNode(node, (input) => g.node(input).type, valueAt, at, fresh);
  };

  const computed = group.part === undefined ? root : g.node(root.inputs[group.part]!);
  const space = spaceNames(computed.type.shape.length).map((name, d) =>
    fresh(name, computed.type.shape[d]!),
  );
  let store: IExpr[] = space;
  let body: VExpr;
  if (group.part === undefined) {
    body = valueAt(root.id, space);
  } else {
    body = valueAt(computed.id, space);
    const axis = attrsOf(root).axis as number;
    const offset = root.inputs
      .slice(0, group.part)
      .reduce((s, id) => s + g.node(id).type.shape[axis]!, 0);
    store = space.map((v, d) => (d === axis ? iadd(v, offset) : v));
  }
  // A view writes its slice of its home's buffer.
  const home = p.homes.get(root.id);
  if (home) store = store.map((x, d) => iadd(x, home.offset[d]!));
  bindings.push({
    buffer: out,
    role: "write",
    dtype: atNode(root, () => computeType(root.type.dtype)),
    shape: [...p.buffers[out]!.shape],
  });
  let schedule: Schedule = tiling ? chooseSchedule(space, body) : { kind: "naive" };
  if (tiling && schedule.kind === "naive") schedule = chooseRows(space, body) ?? schedule;
  const threads = threadCount(space, schedule);
  const label = group.part === undefined ? root.op : `${root.op}_part${group.part}`;
  return {
    name: `k${index}_${label}`,
    root: root.id,
    sources: group.nodes.map((id) => sourceOf(g.node(id))),
    bindings,
    space,
    store,
    body,
    schedule,
    workgroup: [WORKGROUP_SIZE, 1, 1],
    grid: gridFor(threads),
    threads,
  };
}

/** Lowers a graph to a Kernel IR program (one kernel per compute node unless a grouping says otherwise). */
export function lowerGraph(graph: Graph, options: LowerOptions = {}): KernelProgram {
  const maxBindings = maxBindingsOf(options);
  const grouping = options.grouping
    ? withInlined(graph, options.grouping)
    : defaultGrouping(graph, maxBindings);
  return lowerGrouped(graph, grouping, options);
}

/** Lowers a graph by a complete grouping (the fuse pass's, or defaultGrouping's). Scans become loops (scan-lower.ts). */
export function lowerGrouped(
  graph: Graph,
  grouping: Grouping,
  options: LowerOptions = {},
): KernelProgram {
  const maxBindings = maxBindingsOf(options);
  const p = new ProgramBuilder(graph, resolveHomes(new GraphIndex(graph), grouping));
  const inputs = graph.inputs.map((i) => ({
    name: i.name,
    buffer: p.sourceBuffer(p.g.node(i.node)),
  }));
  const kernels: Kernel[] = [];
  const outputBuffer = new Map<number, number>();
  let loops = 0;
  const placements = new ScanPlacements(p.g, grouping.groups);
  for (const group of grouping.groups) {
    const root = p.g.node(group.root);
    const isSource = root.op === "input" || root.op === "param" || root.op === "const";
    let out = isSource ? outputBuffer.get(root.id) : p.computedBuffer(root.id);
    if (out === undefined) {
      out = p.addBuffer(root, `%${root.id} ${root.op}`, { kind: "computed" });
      outputBuffer.set(root.id, out);
    }
    if (root.op === "scan") {
      const opts = {
        index: kernels.length,
        loop: loops++,
        tiling: options.tiling ?? true,
        maxBindings,
        target: options.target ?? defaultTarget,
        placements,
      };
      kernels.push(...lowerScan(p, group, opts));
      continue;
    }
    // Scan results only moved into place: the fused steps stored them already.
    if (placements.covers(group)) continue;
    const kernel = buildKernel(p, group, kernels.length, out, options.tiling ?? true);
    if (kernel.threads > 0) kernels.push(kernel);
  }
  const params = graph.params
    .filter((prm) => p.valueBuffer.has(prm.node))
    .map((prm) => ({ name: prm.name, buffer: p.valueBuffer.get(prm.node)! }));
  const outputs = graph.outputs.map((o) => ({
    name: o.name,
    buffer: outputBuffer.get(o.node) ?? p.bufferOf(o.node),
  }));
  return { buffers: p.buffers, kernels, inputs, params, outputs };
}
