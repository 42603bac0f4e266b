// Running an imported ONNX model: the imported Graph IR through the graph
// optimizer and onto a backend, as CompiledModel.run does for .nn sources.
// Inputs may come as TensorProto files (.pb), as the ONNX test cases give them.

import { readFileSync, statSync } from "node:fs";
import { planMemory } from "../codegen/plan-memory.js";
import { emitPlan } from "../codegen/wgsl/emit-plan.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { lowerGraph } from "../kernels/lower.js";
import type { Target } from "../kernels/tune.js";
import { kernelPassOn, type OptimizeOptions, optimize } from "../passes/index.js";
import { withDerived } from "../passes/prep.js";
import { type Backend, runOnBackend } from "../run.js";
import { type ImportedModel, importOnnx } from "./import.js";
import { decodeTensor } from "./proto.js";
import { fromTensorProto } from "./tensors.js";

/** The bytes of a .onnx file; a missing or unreadable one is NN8001. */
export function readOnnxBytes(file: string): Uint8Array {
  try {
    if (!statSync(file).isFile()) throw new Error("not a regular file");
    return readFileSync(file);
  } catch (e) {
    throw new NncError(diagnostic("NN8001", `cannot read \`${file}\`: ${(e as Error).message}`));
  }
}

/** Reads and imports a .onnx file; a missing, unreadable or malformed file is NN8001. */
export function loadOnnx(file: string, shapes?: Record<string, number[]>): ImportedModel {
  return importOnnx(readOnnxBytes(file), file, shapes);
}

/** A TensorProto file (input_0.pb) as a host tensor. */
export function readTensorPb(file: string): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new NncError(diagnostic("NN6007", `cannot read \`${file}\`: ${(e as Error).message}`));
  }
  return fromTensorProto(decodeTensor(bytes, file), file);
}

/**
 * Runs an imported model: graph passes, then the CPU interpreter or the WebGPU plan,
 * lowered, fused and tuned as CompiledModel.plan does for a .nn source.
 */
export async function runImported(
  model: ImportedModel,
  inputs: Map<string, Tensor>,
  backend: Backend,
  options?: OptimizeOptions,
  target: Target = "cpu",
): Promise<Map<string, Tensor>> {
  const graph = optimize(model.graph, options).graph;
  const params = withDerived(graph, model.weights);
  const plan = () => {
    const program = lowerGraph(graph, {
      fuse: kernelPassOn(options, "fuse"),
      tune: kernelPassOn(options, "tune"),
      target,
    });
    const emitted = emitPlan(program);
    return kernelPassOn(options, "plan-memory") ? planMemory(emitted) : emitted;
  };
  return runOnBackend(graph, inputs, params, backend, plan);
}
