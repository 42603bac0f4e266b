// The public API of nnc.

import { closeGpu as closeDevices } from "../runtime/webgpu/device.js";

/**
 * Destroys every WebGPU device, so that nothing of Dawn's keeps the process
 * alive; sessions opened before cannot run afterwards. (A wrapper, so that the
 * public types name no WebGPU type: a consumer needs no @webgpu/types.)
 */
export function closeGpu(): Promise<void> {
  return closeDevices();
}
export {
  CompiledModel,
  type CompileOptions,
  compile,
  type RunResult,
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
export {
  formatPassLog,
  type OptimizeOptions,
  optimize,
  type PassLog,
  passNames,
} from "./pipeline/index.js";
export { type Backend, backends, type Weights } from "./run.js";
export {
  type AdapterProbe,
  type RunOptions,
  Session,
  type SessionOptions,
  type SessionStats,
} from "./session.js";
export {
  type AdapterFacts,
  namedTarget,
  type Target,
  type TargetName,
  targetFromAdapter,
  targetNames,
} from "./target/target.js";
