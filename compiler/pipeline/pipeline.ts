// Runs the registry's passes stage by stage for one compilation: the graph
// passes on the elaborated graph, the kernel passes on its lowering, the plan
// passes on the emitted plan, each switched off by `--disable-pass NAME` or
// all by -O0, every one that runs logged with what it changed.

import type { ExecutablePlan } from "../codegen/plan.js";
import { memoryReport } from "../codegen/plan-memory.js";
import { emitPlan } from "../codegen/wgsl/emit-plan.js";
import type { PassStage } from "../core/pass.js";
import type { Graph } from "../graph/graph.js";
import type { KernelProgram } from "../kernels/ir.js";
import { KernelState } from "../kernels/kernel-state.js";
import { defaultTarget, type PassContext, type Target } from "../target/target.js";
import { registry as defaultRegistry, type Pass, type Registry } from "./registry.js";

export interface OptimizeOptions {
  /** 0: no passes; 1 (default): all but the disabled ones. */
  level?: 0 | 1;
  disable?: readonly string[];
}

/** What a pass changed, by its stage's measures (nodes; groups, kernels, dispatches, bytes). */
export type Metrics = Partial<
  Record<"nodes" | "groups" | "kernels" | "dispatches" | "bytes" | "invocations", number>
>;

export interface PassLog {
  pass: string;
  stage: PassStage;
  before: Metrics;
  after: Metrics;
}

/** The simplify passes run to a fixpoint of at most this many rounds. */
const SIMPLIFY_ROUNDS = 6;

export class Pipeline {
  readonly log: PassLog[] = [];
  readonly cx: PassContext;
  private readonly off: ReadonlySet<string>;

  constructor(
    readonly target: Target = defaultTarget,
    readonly options: OptimizeOptions = {},
    readonly registry: Registry = defaultRegistry,
  ) {
    this.cx = { target };
    this.off = new Set(options.level === 0 ? registry.all.map((p) => p.name) : options.disable);
  }

  /** Whether a pass runs under these options. */
  enabled(name: string): boolean {
    return !this.off.has(name);
  }

  private run<S>(p: Pass, state: S, measure: (s: S, after: boolean) => Metrics): S {
    if (this.off.has(p.name)) return state;
    const before = measure(state, false);
    const out = (p.run as (s: S, cx: PassContext) => S)(state, this.cx);
    this.log.push({ pass: p.name, stage: p.stage, before, after: measure(out, true) });
    return out;
  }

  /** The graph passes: the simplify passes to a fixpoint, then the rest in order. */
  graph(graph: Graph): Graph {
    const passes = this.registry.graph;
    const simplify = passes.filter((p) => p.simplify);
    const once = (g: Graph) => simplify.reduce((x, p) => this.run(p, x, nodes), g);
    let g = graph;
    let simplified = false;
    for (const p of passes) {
      if (p.simplify) {
        if (simplified) continue;
        simplified = true;
        for (let round = 0; round < SIMPLIFY_ROUNDS; round++) {
          const before = g.nodes.length;
          g = once(g);
          if (g.nodes.length === before) break;
        }
        continue;
      }
      const before = g;
      g = this.run(p, g, nodes);
      if (p.resimplify && g !== before) g = once(g);
    }
    for (const p of passes) if (p.cleanup) g = this.run(p, g, nodes);
    return g;
  }

  /** Lowers the graph and runs the kernel passes. */
  kernels(graph: Graph): KernelProgram {
    let s = KernelState.initial(graph, this.target);
    for (const p of this.registry.kernels) s = this.run(p, s, kernelMetrics);
    return s.program;
  }

  /** Emits the plan (the WGSL code generator, within the target's limits) and runs the plan passes. */
  plan(program: KernelProgram): ExecutablePlan {
    const limits = this.target.limits;
    let plan = emitPlan(program, {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxStorageBuffers: limits.maxStorageBuffersPerShaderStage,
    });
    for (const p of this.registry.plan) plan = this.run(p, plan, planMetrics);
    return plan;
  }
}

const nodes = (g: Graph): Metrics => ({ nodes: g.nodes.length });

/** A grouping not yet lowered is measured by its groups (lowering just to count would double its cost). */
function kernelMetrics(s: KernelState, after: boolean): Metrics {
  const groups = s.grouping.groups.length;
  if (!s.isLowered && !after) return { groups };
  const p = s.program;
  const computed = p.buffers.filter((b) => b.source.kind === "computed");
  return {
    groups,
    kernels: p.kernels.length,
    dispatches: p.kernels.reduce(
      (a, k) => a + (k.loop && !k.loop.persistent ? k.loop.steps : 1),
      0,
    ),
    bytes: computed.reduce((a, b) => a + 4 * b.shape.reduce((x, d) => x * d, 1), 0),
    invocations: p.kernels.reduce((a, k) => a + k.threads, 0),
  };
}

function planMetrics(plan: ExecutablePlan): Metrics {
  return {
    kernels: plan.kernels.length,
    dispatches: plan.dispatches.length,
    bytes: memoryReport(plan).peakActivationBytes,
  };
}

/** The log as text: one line per pass that ran, its measures before → after. */
export function formatPassLog(log: readonly PassLog[]): string {
  const width = Math.max(0, ...log.map((l) => l.pass.length));
  return log
    .map((l) => {
      const keys = Object.keys(l.after) as (keyof Metrics)[];
      const parts = keys.map((k) =>
        l.before[k] === undefined
          ? `${k} ${l.after[k]}`
          : l.before[k] === l.after[k]
            ? `${k} ${l.after[k]}`
            : `${k} ${l.before[k]} → ${l.after[k]}`,
      );
      return `${l.pass.padEnd(width)}  ${l.stage.padEnd(7)}  ${parts.join(", ")}`;
    })
    .join("\n");
}

export interface OptimizeResult {
  graph: Graph;
  program?: KernelProgram;
  plan?: ExecutablePlan;
  log: PassLog[];
}

/**
 * The pipeline on one graph, through the graph passes (default), the kernel
 * passes (`through: "kernels"`) or to the plan (`through: "plan"`).
 */
export function optimize(
  graph: Graph,
  opts: OptimizeOptions & { target?: Target; through?: PassStage } = {},
): OptimizeResult {
  const p = new Pipeline(opts.target, opts);
  const g = p.graph(graph);
  if (opts.through === undefined || opts.through === "graph") return { graph: g, log: p.log };
  const program = p.kernels(g);
  if (opts.through === "kernels") return { graph: g, program, log: p.log };
  return { graph: g, program, plan: p.plan(program), log: p.log };
}
