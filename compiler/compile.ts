// The public API: compile(source, options) → CompiledModel with run(),
// inspect(stage) and summary(). The CLI is a thin layer over this.

import { resolve } from "node:path";
import { printAst } from "../grammar/print-ast.js";
import type { Tensor } from "../runtime/tensor.js";
import { diagnostic, NncError, SourceMap } from "./diagnostics.js";
import {
  type ArgInput,
  type Elaborated,
  elaborateEntry,
  type InputSpec,
  pickEntry,
} from "./elaborate/entry.js";
import { Loader, type ModuleScope } from "./elaborate/scope.js";
import type { Graph } from "./graph.js";
import { getOp } from "./ops/index.js";
import { stdlibDir as defaultStdlibDir } from "./paths.js";
import { printGraph } from "./print-graph.js";
import { type Backend, loadWeights, type RunOptions, type RunResult, runOnBackend } from "./run.js";
import { formatType, type TensorType } from "./types.js";

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
}

export type Stage = "ast" | "graph";
export const stages: readonly Stage[] = ["ast", "graph"];

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

  /** Runs the entry on these inputs (compiled for their shapes). */
  async run(inputs: Map<string, Tensor>, options: RunOptions = {}): Promise<RunResult> {
    const graph = this.elaborate(shapesOf(inputs)).graph;
    const backend: Backend = options.backend ?? "cpu";
    const params = loadWeights(graph, options.weights ?? "seeded");
    const outputs = await runOnBackend(graph, inputs, params, backend);
    return { outputs, backend };
  }

  inspect(stage: Stage, inputs?: Record<string, InputSpec>): string {
    if (stage === "ast") return printAst(this.module.ast!);
    return printGraph(this.elaborate(inputs).graph);
  }

  summary(inputs?: Record<string, InputSpec>, depth = 1): Summary {
    const e = this.elaborate(inputs);
    const g = e.graph;
    const rows = e.layers
      .filter((l) => l.depth === depth)
      .map((l) => ({
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
