// Running a compiled model: bind inputs and weights by name, pick a backend,
// return the outputs. Every check happens before anything runs, so a bad
// weight file or a mis-shaped input is an error naming the tensor.

import { runGraph } from "../runtime/cpu/interpreter.js";
import type { Tensor } from "../runtime/tensor.js";
import { bindWeights } from "../runtime/weights/bind.js";
import { readSafetensors } from "../runtime/weights/safetensors.js";
import { seededParams } from "../runtime/weights/seeded.js";
import { diagnostic, didYouMean, NncError } from "./diagnostics.js";
import type { Graph } from "./graph.js";
import { OpError } from "./ops/op.js";
import { formatType, sameShape } from "./types.js";

export type Backend = "cpu";
export const backends: readonly Backend[] = ["cpu"];

/** `seeded` (SPEC.md's initializer), a .safetensors path, or tensors by state_dict name. */
export type Weights = "seeded" | { file: string } | Map<string, Tensor>;

export interface RunOptions {
  weights?: Weights;
  backend?: Backend;
}

export interface RunResult {
  outputs: Map<string, Tensor>;
  backend: Backend;
}

export function loadWeights(graph: Graph, weights: Weights): Map<string, Tensor> {
  if (weights === "seeded") return seededParams(graph.params);
  if (weights instanceof Map) return bindWeights(graph.params, weights, "the given weights");
  return bindWeights(graph.params, readSafetensors(weights.file), weights.file);
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

export async function runOnBackend(
  graph: Graph,
  inputs: Map<string, Tensor>,
  params: Map<string, Tensor>,
  backend: Backend,
): Promise<Map<string, Tensor>> {
  checkInputs(graph, inputs);
  switch (backend) {
    case "cpu":
      try {
        return runGraph(graph, inputs, params);
      } catch (e) {
        if (e instanceof OpError)
          throw new NncError(
            diagnostic(e.code, e.message, undefined, e.hint ? { hint: e.hint } : {}),
          );
        throw e;
      }
  }
}
