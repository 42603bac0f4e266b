// The public API of nnc.

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
} from "./core/diagnostics.js";
export type { Tensor } from "./core/tensor.js";
export type { DType, TensorType } from "./core/types.js";
export type { Graph, GraphNode, GraphParam } from "./graph/graph.js";
export {
  formatPassLog,
  type OptimizeOptions,
  optimize,
  type PassLog,
  passNames,
} from "./pipeline/index.js";
export { type Backend, backends, type RunOptions, type RunResult, type Weights } from "./run.js";
export {
  type AdapterFacts,
  namedTarget,
  type Target,
  type TargetName,
  targetFromAdapter,
  targetNames,
} from "./target/target.js";
