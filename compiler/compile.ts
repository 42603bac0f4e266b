// The public API: compile(source, options) → CompiledModel with run(),
// inspect(stage) and summary(). The CLI is a thin layer over this.

import { resolve } from "node:path";
import { printAst } from "../grammar/print-ast.js";
import type { ExecutablePlan } from "./codegen/plan.js";
import { planMemory } from "./codegen/plan-memory.js";
import { emitPlan } from "./codegen/wgsl/emit-plan.js";
import { diagnostic, NncError, SourceMap } from "./core/diagnostics.js";
import type { Tensor } from "./core/tensor.js";
import { formatType, type TensorType } from "./core/types.js";
import {
  type ArgInput,
  type Elaborated,
  elaborateEntry,
  type InputSpec,
  pickEntry,
} from "./elaborate/entry.js";
import { Loader, type ModuleScope } from "./elaborate/scope.js";
import type { Graph } from "./graph/graph.js";
import { printGraph } from "./graph/print-graph.js";
import type { KernelProgram } from "./kernels/ir.js";
import { lowerGraph } from "./kernels/lower.js";
import { printGroups, printKernels } from "./kernels/print.js";
import type { Target } from "./kernels/tune.js";
import { getOp } from "./ops/index.js";
import { kernelPassOn, type OptimizeOptions, optimize } from "./passes/index.js";
import { withDerived } from "./passes/prep.js";
import { stdlibDir as defaultStdlibDir } from "./paths.js";
import { type Backend, loadWeights, type RunOptions, type RunResult, runOnBackend } from "./run.js";

/**
 * The optimizer's options for the target: a GPU keeps PyTorch's OIHW conv
 * weights. On an H200, resnet18 at 224 ran 4.5 ms warm with them and 7.2 ms
 * with HWIO (bench/README.md): there a warp's lanes walk output pixels and
 * share each OIHW weight, where lavapipe pays per word loaded.
 */
function optimizeFor(o: CompileOptions): OptimizeOptions | undefined {
  if (o.target !== "gpu") return o.optimize;
  return { ...o.optimize, disable: [...(o.optimize?.disable ?? []), "conv-weight-layout"] };
}

/** .nn text, a file path, or a stdlib module (`{stdlib: "rnn"}`). */
export type Source = string | { file: string } | { stdlib: string };

export interface CompileOptions {
  /** The model, def or layer to compile; defaults to the file's only model. */
  entry?: string;
  /** Hyperparameters of the entry (`--arg k=v`). */
  args?: Record<string, ArgInput>;
  /** Input shapes to compile for (`--shape`); unbound symbolic dims default to 1. */
  inputs?: Record<string, InputSpec>;
  /** Display path for text sources (diagnostics, relative imports). */
  file?: string;
  stdlibDir?: string;
  /** Receives every source text read, so a caller can print diagnostics even when compile throws. */
  sources?: SourceMap;
  /** The optimizer: on by default; `{level: 0}` is -O0, `disable` names passes to skip. */
  optimize?: OptimizeOptions;
  /** The adapter class kernels are tuned for: "cpu" (lavapipe; the default) or "gpu" (`--target`). */
  target?: Target;
}

export type Stage = "ast" | "graph" | "opt" | "kernels" | "wgsl";
export const stages: readonly Stage[] = ["ast", "graph", "opt", "kernels", "wgsl"];

export interface SummaryRow {
  path: string;
  layer: string;
  output: string;
  params: number;
}

export interface Summary {
  entry: string;
  file: string;
  inputs: { name: string; type: TensorType }[];
  outputs: { name: string; type: TensorType }[];
  rows: SummaryRow[];
  /** Trainable parameters (buffers excluded), PyTorch's count. */
  params: number;
  buffers: number;
  paramBytes: number;
  /** 2 × multiply-adds of conv/matmul, the fixtures' convention. */
  flops: number;
  graphNodes: number;
  notes: string[];
}

function wrapInternal<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof NncError) throw e;
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new NncError(
        diagnostic("NN5001", "the program nests too deeply to elaborate (stack exhausted)"),
      );
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new NncError(
      diagnostic("NN9001", `internal compiler error: ${msg}`, undefined, {
        hint: "this is a bug in nnc; please report it with the source that triggered it",
      }),
    );
  }
}

export class CompiledModel {
  readonly sources: SourceMap;
  readonly module: ModuleScope;
  readonly loader: Loader;
  readonly entryName: string;
  private readonly cache = new Map<string, Elaborated>();
  private readonly plans = new Map<string, ExecutablePlan>();
  private readonly optimizedGraphs = new Map<string, Graph>();

  constructor(
    source: Source,
    readonly options: CompileOptions = {},
  ) {
    this.sources = options.sources ?? new SourceMap();
    this.loader = new Loader({
      stdlibDir: options.stdlibDir ?? defaultStdlibDir,
      sources: this.sources,
    });
    this.module = wrapInternal(() => {
      if (typeof source === "string")
        return this.loader.loadText(
          source,
          options.file ?? "<input>.nn",
          options.file ? resolve(options.file) : null,
        );
      if ("file" in source) return this.loader.loadFile(resolve(source.file), undefined);
      return this.loader.loadStdlib(source.stdlib, undefined);
    });
    this.entryName = pickEntry(this.module, options.entry).name.name;
  }

  /** Elaborates the entry for these input shapes (cached per shape). */
  elaborate(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): Elaborated {
    const key = JSON.stringify(Object.entries(inputs).sort());
    const hit = this.cache.get(key);
    if (hit) return hit;
    const decl = pickEntry(this.module, this.entryName);
    const result = wrapInternal(() =>
      elaborateEntry(
        this.module,
        decl,
        this.options.args ?? {},
        inputs,
        this.sources,
        this.loader.stdlibFiles,
      ),
    );
    this.cache.set(key, result);
    return result;
  }

  get graph(): Graph {
    return this.elaborate().graph;
  }

  /** The graph after the optimizer (the elaborated graph at -O0), cached per shape. */
  optimized(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): Graph {
    const key = JSON.stringify(Object.entries(inputs).sort());
    const hit = this.optimizedGraphs.get(key);
    if (hit) return hit;
    const raw = this.elaborate(inputs).graph;
    const graph = wrapInternal(() => optimize(raw, optimizeFor(this.options)).graph);
    this.optimizedGraphs.set(key, graph);
    return graph;
  }

  /** Runs the entry on these inputs (compiled for their shapes). The API's default backend is the CPU. */
  async run(inputs: Map<string, Tensor>, options: RunOptions = {}): Promise<RunResult> {
    const shapes = shapesOf(inputs);
    const graph = this.optimized(shapes);
    const backend: Backend = options.backend ?? "cpu";
    const params = withDerived(graph, loadWeights(graph, options.weights ?? "seeded"));
    const outputs = await runOnBackend(graph, inputs, params, backend, () => this.plan(shapes));
    return { outputs, backend };
  }

  /** The executable plan (WGSL kernels, buffers, dispatches) for these input shapes, cached per shape. */
  plan(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): ExecutablePlan {
    const key = JSON.stringify(Object.entries(inputs).sort());
    const hit = this.plans.get(key);
    if (hit) return hit;
    const program = this.kernels(inputs);
    const plan = wrapInternal(() => {
      const emitted = emitPlan(program);
      return kernelPassOn(this.options.optimize, "plan-memory") ? planMemory(emitted) : emitted;
    });
    this.plans.set(key, plan);
    return plan;
  }

  /** The Kernel IR for these input shapes: fused unless -O0 or `--disable-pass fuse`. */
  kernels(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): KernelProgram {
    const graph = this.optimized(inputs);
    const fuse = kernelPassOn(this.options.optimize, "fuse");
    const tune = kernelPassOn(this.options.optimize, "tune");
    return wrapInternal(() =>
      lowerGraph(graph, { fuse, tune, target: this.options.target ?? "cpu" }),
    );
  }

  inspect(stage: Stage, inputs?: Record<string, InputSpec>): string {
    switch (stage) {
      case "ast":
        return printAst(this.module.ast!);
      case "graph":
        return printGraph(this.elaborate(inputs).graph);
      case "opt": {
        const g = this.optimized(inputs);
        const prep = g.prep
          ? `\n# prep: parameter-only work, run once when the weights are bound\n${printGraph(g.prep)}`
          : "";
        const fused = kernelPassOn(this.options.optimize, "fuse") ? this.groupsNote(inputs) : "";
        return `${printGraph(g)}${prep}${fused}`;
      }
      case "kernels":
        return wrapInternal(() => printKernels(this.kernels(inputs)));
      case "wgsl":
        return this.plan(inputs)
          .kernels.map((k) => k.wgsl)
          .join("\n");
    }
  }

  /** The fuse pass's groups for `inspect opt`; a kernel-stage error is shown, not thrown, since the graph itself is fine. */
  private groupsNote(inputs?: Record<string, InputSpec>): string {
    const head = "\n# kernels: the ops each one evaluates (the fuse pass)\n";
    try {
      return `${head}${printGroups(this.kernels(inputs))}`;
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      return `${head}# not lowered: ${e.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}\n`;
    }
  }

  summary(inputs?: Record<string, InputSpec>, depth = 1): Summary {
    const e = this.elaborate(inputs);
    const g = e.graph;
    // Layers written in .nn at this depth; a layer entry with none (nn:conv) shows its primitive nodes.
    const layers = e.layers.filter((l) => l.depth === depth && l.output !== null && !l.primitive);
    const primitives = g.nodes
      .filter((n) => !["input", "param", "const"].includes(n.op))
      .map((n) => ({ path: n.scope ?? "", layer: n.op, output: n.type, params: 0 }));
    const rows = (layers.length > 0 ? layers : primitives).map((l) => ({
      path: l.path || "-",
      layer: l.layer,
      output: l.output ? formatType(l.output) : "-",
      params: l.params,
    }));
    let flops = 0;
    for (const n of g.nodes) {
      const op = getOp(n.op);
      if (op.flops)
        flops += op.flops(
          n.inputs.map((i) => g.nodes[i]!.type),
          n.type,
          n.attrs,
        );
    }
    const count = (kind: "parameter" | "buffer") =>
      g.params
        .filter((p) => p.kind === kind)
        .reduce((a, p) => a + p.type.shape.reduce((x, d) => x * d, 1), 0);
    const paramBytes = g.params.reduce(
      (a, p) => a + p.type.shape.reduce((x, d) => x * d, 1) * (p.type.dtype === "i64" ? 8 : 4),
      0,
    );
    return {
      entry: this.entryName,
      file: this.module.file,
      inputs: g.inputs.map((i) => ({ name: i.name, type: i.type })),
      outputs: g.outputs.map((o) => ({ name: o.name, type: g.nodes[o.node]!.type })),
      rows,
      params: count("parameter"),
      buffers: count("buffer"),
      paramBytes,
      flops,
      graphNodes: g.nodes.length,
      notes:
        e.defaultedDims.length > 0
          ? [`unbound input dims set to ${e.defaultedDims.join(", ")} (choose with --shape)`]
          : [],
    };
  }
}

/** The input shapes a set of tensors implies. */
export function shapesOf(inputs: Map<string, Tensor>): Record<string, InputSpec> {
  return Object.fromEntries([...inputs].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]));
}

export function compile(source: Source, options: CompileOptions = {}): CompiledModel {
  return new CompiledModel(source, options);
}

export type { ArgInput, InputSpec, Tensor };
