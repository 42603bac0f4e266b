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
// ONNX: export a compiled graph, import a .onnx (docs/onnx.md).
export { exportOnnx } from "./onnx/export.js";
export { type ImportedModel, importOnnx } from "./onnx/import.js";
export { loadOnnx, runImported } from "./onnx/run-onnx.js";
export { writeNn } from "./onnx/to-nn.js";
export { type OptimizeOptions, optimize, passNames } from "./passes/index.js";
export { type Backend, backends, type RunOptions, type RunResult, type Weights } from "./run.js";
