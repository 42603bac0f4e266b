// The Graph IR: SSA nodes over the primitive op set, with concrete shapes.
// Elaboration produces it; passes rewrite it; its reference interpreter
// (interpret.ts, the CPU backend) runs it; lowering turns it into the Kernel
// IR. Params and inputs are nodes too. With the ops (compiler/ops/) and the
// printer (print-graph.ts) it is one layer, above core and grammar.

import type { TraceFrame } from "../core/diagnostics.js";
import type { Span } from "../core/span.js";
import type { TensorType } from "../core/types.js";

export interface GraphNode {
  id: number;
  /** A primitive op name from compiler/ops (`conv2d`, `add`, ...) or a source op (`input`, `param`, `const`). */
  op: string;
  inputs: number[];
  /** Validated by the op's zod schema. */
  attrs: Record<string, unknown>;
  type: TensorType;
  /** The source expression that produced the node. */
  span?: Span;
  /** The stdlib expansion the node came from, innermost first. */
  trace?: TraceFrame[];
  /** The layer path (state_dict prefix) the node was created under, e.g. `layer1.0.conv1`. */
  scope?: string;
}

/**
 * How the seeded initializer of shared/fixtures/SPEC.md fills a parameter. The first
 * eight are SPEC's rules; `constant`, `normal`, `kaiming` and `xavier` are the explicit
 * `init` rules a layer may choose (docs/language.md, "Initializers"), their numbers in
 * GraphParam.initArgs.
 */
export type InitRule =
  | "uniform"
  | "norm_weight"
  | "norm_bias"
  | "running_mean"
  | "running_var"
  | "zeros"
  | "ones"
  | "untouched"
  | "constant"
  | "normal"
  | "kaiming"
  | "xavier";

export const initRules: readonly InitRule[] = [
  "uniform",
  "norm_weight",
  "norm_bias",
  "running_mean",
  "running_var",
  "zeros",
  "ones",
  "untouched",
  "constant",
  "normal",
  "kaiming",
  "xavier",
];

export interface GraphParam {
  /** The PyTorch state_dict key, e.g. `layer1.0.conv1.weight`. */
  name: string;
  node: number;
  kind: "parameter" | "buffer";
  init: InitRule;
  /** The rule's arguments: constant [value], normal [mean, std], uniform [bound]. */
  initArgs?: readonly number[];
  type: TensorType;
  span?: Span;
  /** Computed from other params by `prep` when weights are bound; never loaded or saved. */
  derived?: boolean;
}

export interface GraphInput {
  name: string;
  node: number;
  type: TensorType;
}

export interface GraphOutput {
  name: string;
  node: number;
}

export interface Graph {
  nodes: GraphNode[];
  inputs: GraphInput[];
  params: GraphParam[];
  outputs: GraphOutput[];
  /**
   * Set by the optimizer: the parameter-only work folded out of the graph (batchnorm
   * into conv weights, transposed weights, ...). Its params are the model's own; each
   * output is the value of a `derived` param of this graph, computed once when the
   * weights are bound.
   */
  prep?: Graph;
}

/**
 * The prefix of the outputs that carry a buffer's value after a train-mode
 * call (`update self.NAME = e`), named by the buffer's state_dict path: state,
 * not part of any objective, so autodiff seeds no cotangent for them.
 */
export const BUFFER_OUTPUT = "buffer:";

/** The buffer values among a run's outputs, by state_dict name (the `buffer:` prefix dropped). */
export function bufferOutputs<T>(values: ReadonlyMap<string, T>): Map<string, T> {
  const buffers = new Map<string, T>();
  for (const [k, v] of values)
    if (k.startsWith(BUFFER_OUTPUT)) buffers.set(k.slice(BUFFER_OUTPUT.length), v);
  return buffers;
}
