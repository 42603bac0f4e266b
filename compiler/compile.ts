// The public API: compile(source, options) → CompiledModel with session(),
// run(), inspect(stage) and summary(). The CLI is a thin layer over this.

import { resolve } from "node:path";
import { printAst } from "../grammar/print-ast.js";
import type { ExecutablePlan } from "./codegen/plan.js";
import { diagnostic, didYouMean, NncError, SourceMap } from "./core/diagnostics.js";
import type { Tensor } from "./core/tensor.js";
import { formatType, type TensorType } from "./core/types.js";
import type { LayerRecord } from "./elaborate/context.js";
import {
  type ArgInput,
  type Elaborated,
  elaborateEntry,
  type InputSpec,
  type Mode,
  pickEntry,
  unboundDimsNote,
} from "./elaborate/entry.js";
import { Loader, type ModuleScope } from "./elaborate/scope.js";
import type { Graph } from "./graph/graph.js";
import { printGraph } from "./graph/print-graph.js";
import type { KernelProgram } from "./kernels/ir.js";
import { printGroups, printKernels } from "./kernels/print.js";
import { getOp } from "./ops/index.js";
import { stdlibDir as defaultStdlibDir } from "./paths.js";
import { formatPassLog, type OptimizeOptions, type PassLog, Pipeline } from "./pipeline/index.js";
import type { Backend } from "./run.js";
import { type RunOptions, Session, type SessionOptions } from "./session.js";
import {
  defaultTarget,
  describeTarget,
  namedTarget,
  type Target,
  type TargetName,
} from "./target/target.js";

/** What CompiledModel.run() returns. */
export interface RunResult {
  outputs: Map<string, Tensor>;
  /** The backend it ran on (after `"auto"` chose). */
  backend: Backend;
  /** What the caller should know: a fallback to the CPU, seeded weights by default. */
  notes: readonly string[];
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
  /** The pass pipeline: on by default; `{level: 0}` is -O0, `disable` names passes to skip. */
  optimize?: OptimizeOptions;
  /**
   * The machine every stage compiles for (`--target`): a named one or one
   * built from an adapter (targetFromAdapter); default lavapipe.
   */
  target?: Target | TargetName;
  /** Folders imports may read besides the entry file's tree and the stdlib (`--allow-import`). */
  importRoots?: string[];
  /** Labelled layers whose values become extra outputs, named by their label (`--output`). */
  taps?: string[];
  /**
   * `eval` (default): the inference function. `train`: `training` is true in
   * .nn code (batch statistics, dropout) and updated buffers become outputs `buffer:PATH`.
   */
  mode?: Mode;
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
  private readonly programs = new Map<string, KernelProgram>();
  private readonly optimizedGraphs = new Map<string, Graph>();
  /** One pipeline (and so one pass log) per input shapes. */
  private readonly pipelines = new Map<string, Pipeline>();
  readonly target: Target;

  constructor(
    source: Source,
    readonly options: CompileOptions = {},
  ) {
    this.sources = options.sources ?? new SourceMap();
    this.loader = new Loader({
      stdlibDir: options.stdlibDir ?? defaultStdlibDir,
      sources: this.sources,
      ...(options.importRoots ? { importRoots: options.importRoots } : {}),
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
    const t = options.target ?? defaultTarget;
    this.target = typeof t === "string" ? namedTarget(t) : t;
    this.checkSource();
  }

  private pipeline(key: string): Pipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      p = new Pipeline(this.target, this.options.optimize);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Every pass that ran for these input shapes so far (graph, kernel, plan), with what it changed. */
  passLog(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): readonly PassLog[] {
    return this.pipeline(shapeKey(inputs)).log;
  }

  /**
   * Elaborates the entry once, so that a source error (a name, an argument, a
   * hyperparameter) is thrown by compile(), not by the first summary() or run().
   * Without `inputs` the shapes are the entry's own with unbound dims set to 1,
   * which the caller did not choose: a shape error there (NN4xxx, NN5xxx, or
   * NN6009, an input whose shape cannot be defaulted) waits for the shapes the
   * model is used at.
   */
  private checkSource(): void {
    try {
      this.elaborate();
    } catch (e) {
      const shapeOnly =
        e instanceof NncError && e.diagnostics.every((d) => /^NN[45]\d{3}$|^NN6009$/.test(d.code));
      if (this.options.inputs === undefined && shapeOnly) return;
      throw e;
    }
  }

  /** Elaborates the entry for these input shapes (cached per shape and mode; the mode defaults to the option's). */
  elaborate(
    inputs: Record<string, InputSpec> = this.options.inputs ?? {},
    mode: Mode = this.options.mode ?? "eval",
  ): Elaborated {
    const key = shapeKey(inputs, mode);
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
        mode,
      ),
    );
    if (this.options.taps?.length) addTaps(result, this.options.taps);
    this.cache.set(key, result);
    return result;
  }

  get graph(): Graph {
    return this.elaborate().graph;
  }

  /** The graph after the optimizer (the elaborated graph at -O0), cached per shape. */
  optimized(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): Graph {
    const key = shapeKey(inputs);
    const hit = this.optimizedGraphs.get(key);
    if (hit) return hit;
    const raw = this.elaborate(inputs).graph;
    const graph = wrapInternal(() => this.pipeline(key).graph(raw));
    this.optimizedGraphs.set(key, graph);
    return graph;
  }

  /**
   * Binds weights and a backend for these input shapes (the compile options'
   * `inputs` by default): weights are read and uploaded once, and the plan,
   * pipelines and buffers are kept until `dispose()`, so each `run()` costs
   * what `nnc bench`'s warm run does.
   */
  session(options: SessionOptions = {}): Promise<Session> {
    const { inputs, ...rest } = options;
    return Session.open(this, inputs ?? this.options.inputs ?? {}, rest);
  }

  /**
   * One run on a session opened for these inputs' shapes and disposed after:
   * it reads the weights, and on WebGPU allocates, uploads and compiles the
   * pipelines, every call. Use session() to run more than once.
   */
  async run(inputs: Map<string, Tensor>, options: RunOptions = {}): Promise<RunResult> {
    const s = await this.session({ ...options, inputs: shapesOf(inputs) });
    try {
      return { outputs: await s.run(inputs), backend: s.backend, notes: s.notes };
    } finally {
      s.dispose();
    }
  }

  /** The executable plan (WGSL kernels, buffers, dispatches) for these input shapes, cached per shape. */
  plan(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): ExecutablePlan {
    const key = shapeKey(inputs);
    const hit = this.plans.get(key);
    if (hit) return hit;
    const program = this.kernels(inputs);
    const plan = wrapInternal(() => this.pipeline(key).plan(program));
    this.plans.set(key, plan);
    return plan;
  }

  /** The Kernel IR for these input shapes after the kernel passes (fused unless -O0 or `--disable-pass fuse`), cached per shape. */
  kernels(inputs: Record<string, InputSpec> = this.options.inputs ?? {}): KernelProgram {
    const key = shapeKey(inputs);
    const hit = this.programs.get(key);
    if (hit) return hit;
    const graph = this.optimized(inputs);
    const program = wrapInternal(() => this.pipeline(key).kernels(graph));
    this.programs.set(key, program);
    return program;
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
        const key = shapeKey(inputs ?? this.options.inputs ?? {});
        const fused = this.pipeline(key).enabled("fuse") ? this.groupsNote(inputs) : "";
        return `${printGraph(g)}${prep}${fused}`;
      }
      case "kernels": {
        const kernels = wrapInternal(() => printKernels(this.kernels(inputs)));
        const log = formatPassLog(this.passLog(inputs))
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => `#   ${l}`);
        const passes = log.length > 0 ? ["# passes:", ...log] : ["# passes: none (-O0)"];
        return [`# target: ${describeTarget(this.target)}`, ...passes, kernels].join("\n");
      }
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
    const layers = shownLayers(e.layers, depth);
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
      notes: e.defaultedDims.length > 0 ? [unboundDimsNote(e.defaultedDims)] : [],
    };
  }
}

/**
 * Makes each labelled layer's value an output named by its label, so both
 * backends return it. The outermost layer with that path is the one meant:
 * `layer1.0` is the block, not the last conv inside it that shares its path.
 */
function addTaps(e: Elaborated, labels: readonly string[]): void {
  const g = e.graph;
  for (const label of labels) {
    const matches = e.layers.filter((l) => l.path === label && l.node !== null);
    const layer = matches.reduce<LayerRecord | undefined>(
      (best, l) => (best === undefined || l.depth < best.depth ? l : best),
      undefined,
    );
    if (!layer) {
      const paths = [...new Set(e.layers.filter((l) => !l.primitive).map((l) => l.path))];
      throw new NncError(
        diagnostic(
          "NN2012",
          `--output ${label}: no layer labelled \`${label}\`${didYouMean(label, paths)}`,
          undefined,
          {
            hint: "`nnc check --depth N` lists the layers by path",
          },
        ),
      );
    }
    if (g.outputs.some((o) => o.name === label))
      throw new NncError(
        diagnostic(
          "NN2012",
          `--output ${label}: the entry already has an output named \`${label}\``,
        ),
      );
    g.outputs.push({ name: label, node: layer.node! });
  }
}

/**
 * The layers written in .nn that `check --depth N` lists: every one down to depth N
 * whose own sublayers are not listed (deeper than N, or none), so the rows cover the
 * model once and their params add up to the total. Records come in post-order
 * (a layer after its sublayers), so a layer's sublayers are the deeper records just
 * before it. A layer entry with none (nn:conv) shows its primitive nodes instead.
 */
function shownLayers(all: readonly LayerRecord[], depth: number): LayerRecord[] {
  const isLayer = (l: LayerRecord) => l.output !== null && !l.primitive;
  return all.filter((l, i) => {
    if (!isLayer(l) || l.depth > depth || (l.depth === 0 && depth > 0)) return false;
    if (l.depth === depth) return true;
    for (let j = i - 1; j >= 0 && all[j]!.depth > l.depth; j--)
      if (all[j]!.depth === l.depth + 1 && isLayer(all[j]!)) return false;
    return true;
  });
}

/** The input shapes a set of tensors implies. */
export function shapesOf(inputs: Map<string, Tensor>): Record<string, InputSpec> {
  return Object.fromEntries([...inputs].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]));
}

/** The cache key of a set of input shapes (and whatever else names one compilation, before them). */
export function shapeKey(inputs: Record<string, InputSpec>, ...extra: string[]): string {
  return JSON.stringify([...extra, ...Object.entries(inputs).sort()]);
}

export function compile(source: Source, options: CompileOptions = {}): CompiledModel {
  return new CompiledModel(source, options);
}

export type { ArgInput, InputSpec, Tensor };
