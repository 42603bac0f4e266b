// Running a compiled model, the pieces a session (session.ts) is made of:
// binding weights by name, checking inputs, the CPU backend. Every check
// happens before anything runs, so a bad weight file or a mis-shaped input is
// an error naming the tensor. The CPU backend interprets the Graph IR.

import { bindWeights } from "../runtime/weights/bind.js";
import { readSafetensors } from "../runtime/weights/safetensors.js";
import { seededParams } from "../runtime/weights/seeded.js";
import { diagnostic, didYouMean, NncError } from "./core/diagnostics.js";
import type { Tensor } from "./core/tensor.js";
import { formatType, sameShape } from "./core/types.js";
import { checkInputIndices } from "./graph/check-indices.js";
import type { Graph } from "./graph/graph.js";
import { runGraph } from "./graph/interpret.js";
import { OpError } from "./ops/op.js";
import { loadedParams } from "./passes/prep.js";

export type Backend = "cpu" | "webgpu";
export const backends: readonly Backend[] = ["webgpu", "cpu"];

/** `seeded` (SPEC.md's initializer), a .safetensors path, or tensors by state_dict name. */
export type Weights = "seeded" | { file: string } | Map<string, Tensor>;

/** The graph's own params (its state_dict) from seeds, a file or a map; derived params come from `prep` later. */
export function loadWeights(graph: Graph, weights: Weights): Map<string, Tensor> {
  const params = loadedParams(graph);
  if (weights === "seeded") return seededParams(params);
  if (weights instanceof Map) return bindWeights(params, weights, "the given weights");
  return bindWeights(params, readSafetensors(weights.file), weights.file);
}

/** Checks that the inputs are exactly the graph's, by name, dtype and shape. */
export function checkInputs(graph: Graph, inputs: Map<string, Tensor>): void {
  const problems = [];
  const names = graph.inputs.map((i) => i.name);
  for (const want of graph.inputs) {
    const t = inputs.get(want.name);
    if (!t) {
      problems.push(
        diagnostic("NN6009", `missing input \`${want.name}\` (${formatType(want.type)})`),
      );
    } else if (t.dtype !== want.type.dtype || !sameShape(t.shape, want.type.shape)) {
      problems.push(
        diagnostic(
          "NN6009",
          `input \`${want.name}\` is ${formatType(t)}, but the model was compiled for ${formatType(want.type)}`,
        ),
      );
    }
  }
  for (const name of inputs.keys()) {
    if (!names.includes(name))
      problems.push(diagnostic("NN6009", `unexpected input \`${name}\`${didYouMean(name, names)}`));
  }
  if (problems.length > 0) throw new NncError(problems);
}

/** An op's run-time error as a diagnostic (span, hint and trace kept); anything else as it is. */
function asDiagnostic(e: unknown): unknown {
  if (!(e instanceof OpError)) return e;
  return new NncError(
    diagnostic(e.code, e.message, e.span, {
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.trace?.length ? { trace: e.trace } : {}),
    }),
  );
}

/** The CPU backend: interprets the graph; an op's run-time error becomes a diagnostic. */
export function runOnCpu(
  graph: Graph,
  inputs: Map<string, Tensor>,
  params: Map<string, Tensor>,
): Map<string, Tensor> {
  try {
    return runGraph(graph, inputs, params);
  } catch (e) {
    throw asDiagnostic(e);
  }
}

/** An error of the plan's making as diagnostics led by NN7002, or undefined for anything else. */
export function planUnavailable(e: unknown): NncError | undefined {
  const why =
    e instanceof NncError
      ? e.diagnostics
      : e instanceof OpError
        ? [diagnostic(e.code, e.message, undefined, e.hint ? { hint: e.hint } : {})]
        : undefined;
  if (!why) return undefined;
  if (e instanceof NncError && why[0]?.code === "NN7002") return e;
  return new NncError([
    diagnostic("NN7002", "the WGSL code generator cannot compile this model for WebGPU"),
    ...why,
  ]);
}

/**
 * The kernels clamp a gather index, so before a WebGPU run the token ids the
 * CPU backend would reject (NN7001) are checked here, on the host.
 */
export function checkGpuIndices(graph: Graph, inputs: Map<string, Tensor>): void {
  try {
    checkInputIndices(graph, inputs);
  } catch (e) {
    throw asDiagnostic(e);
  }
}
