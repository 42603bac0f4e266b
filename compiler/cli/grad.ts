// `nnc grad`: the outputs and the gradient of Σ_O ⟨O, cotangent_O⟩ with
// respect to every trainable parameter (by state_dict name) and every float
// input, on the chosen backend. A cotangent left out is SPEC.md §12.1's
// seeded tensor `grad:O`.

import type { CompiledModel } from "../compile.js";
import type { Tensor } from "../core/tensor.js";
import type { Backend, Weights } from "../run.js";
import { gradients } from "../training/grad.js";
import { formatOutput, tensorJson } from "./format.js";
import { makeInput, parseInputSpec, UsageError } from "./inputs.js";

export interface GradCommand {
  model: CompiledModel;
  inputs: Map<string, Tensor>;
  weights: Weights;
  weightsText: string;
  /** `--cotangent OUTPUT=seeded|FILE` pairs. */
  cotangents: [string, string][];
  backend: Backend;
  json: boolean;
  out: (text: string) => void;
}

export async function gradCommand(c: GradCommand): Promise<void> {
  const cotangents = new Map<string, Tensor>();
  for (const [output, spec] of c.cotangents) {
    if (cotangents.has(output)) throw new UsageError(`--cotangent ${output} is given twice`);
    if (spec === "seeded") continue;
    const parsed = parseInputSpec(`grad:${output}`, spec);
    if (parsed.kind !== "file")
      throw new UsageError(`--cotangent ${output}: expected \`seeded\` or a .npy/.json file`);
    cotangents.set(output, makeInput(`grad:${output}`, parsed));
  }
  const r = await gradients(c.model, c.inputs, {
    weights: c.weights,
    backend: c.backend,
    cotangents,
  });
  if (c.json) {
    const json = (m: Map<string, Tensor>) =>
      Object.fromEntries([...m].map(([k, t]) => [k, tensorJson(t)]));
    c.out(
      JSON.stringify({
        outputs: json(r.outputs),
        grads: Object.fromEntries(
          [...r.grads].map(([k, g]) => [k, { ...tensorJson(g.tensor), wrt: g.wrt }]),
        ),
        backend: r.backend,
        entry: c.model.entryName,
        weights: c.weightsText,
      }),
    );
    return;
  }
  c.out(
    [
      `${c.model.entryName} on ${r.backend}`,
      ...[...r.outputs].map(([k, t]) => formatOutput(k, t)),
      "gradients:",
      ...[...r.grads].map(([k, g]) => formatOutput(`∂/∂${k}`, g.tensor)),
    ].join("\n"),
  );
}
