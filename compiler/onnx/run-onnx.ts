// Running an imported ONNX model: the imported Graph IR through the graph
// optimizer and onto a backend, as CompiledModel.run does for .nn sources.
// Inputs may come as TensorProto files (.pb), as the ONNX test cases give them.

import { readFileSync, statSync } from "node:fs";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { GraphRunner } from "../graph-runner.js";
import { withDerived } from "../passes/prep.js";
import type { OptimizeOptions } from "../pipeline/index.js";
import type { Backend } from "../run.js";
import { defaultTarget, type Target } from "../target/target.js";
import { type ImportedModel, importOnnx } from "./import.js";
import { decodeTensor } from "./proto.js";
import { fromTensorProto } from "./tensors.js";

/** The bytes of a .onnx file; a missing or unreadable one is NN8201. */
export function readOnnxBytes(file: string): Uint8Array {
  try {
    if (!statSync(file).isFile()) throw new Error("not a regular file");
    return readFileSync(file);
  } catch (e) {
    throw new NncError(diagnostic("NN8201", `cannot read \`${file}\`: ${(e as Error).message}`));
  }
}

/** Reads and imports a .onnx file; a missing, unreadable or malformed file is NN8201. */
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
 * Runs an imported model: the graph passes, then the CPU interpreter or the
 * WebGPU plan the pass pipeline makes for the target, as a .nn source's is.
 */
export async function runImported(
  model: ImportedModel,
  inputs: Map<string, Tensor>,
  backend: Backend,
  options?: OptimizeOptions,
  target: Target = defaultTarget,
): Promise<Map<string, Tensor>> {
  const runner = new GraphRunner(model.graph, backend, target, options);
  try {
    return await runner.run(inputs, withDerived(runner.graph, model.weights));
  } finally {
    runner.dispose();
  }
}
