// The public API of nnc.

export type { Tensor } from "../runtime/tensor.js";
export { closeGpu } from "../runtime/webgpu/device.js";
export {
  CompiledModel,
  type CompileOptions,
  compile,
  type Source,
  type Stage,
  type Summary,
  shapesOf,
  stages,
} from "./compile.js";
export {
  type Diagnostic,
  formatDiagnostic,
  formatDiagnostics,
  NncError,
  SourceMap,
} from "./diagnostics.js";
export type { Graph, GraphNode, GraphParam } from "./graph.js";
export { type OptimizeOptions, optimize, passNames } from "./passes/index.js";
export { type Backend, backends, type RunOptions, type RunResult, type Weights } from "./run.js";
export type { DType, TensorType } from "./types.js";
