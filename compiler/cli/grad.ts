// `nnc grad`: the outputs and the gradient of Σ_O ⟨O, cotangent_O⟩ with
// respect to every trainable parameter (by state_dict name) and every float
// input, on the chosen backend. A cotangent left out is SPEC.md §12.1's
// seeded tensor `grad:O`.

import type { Tensor } from "../core/tensor.js";
import { gradients } from "../training/grad.js";
import { keyValues, weightsFlag } from "./args.js";
import { formatOutput, tensorJson } from "./format.js";
import { makeInput, parseInputSpec, UsageError } from "./inputs.js";
import { collectInputs, type ModelCommand, pickBackend } from "./run-command.js";

export const gradCommand: ModelCommand = async (model, v, probe, io) => {
  const weightsText = weightsFlag(v);
  const cotangents = new Map<string, Tensor>();
  for (const [output, spec] of keyValues(v.cotangent, "cotangent")) {
    if (cotangents.has(output)) throw new UsageError(`--cotangent ${output} is given twice`);
    if (spec === "seeded") continue;
    const parsed = parseInputSpec(`grad:${output}`, spec);
    if (parsed.kind !== "file")
      throw new UsageError(`--cotangent ${output}: expected \`seeded\` or a .npy/.json file`);
    cotangents.set(output, makeInput(`grad:${output}`, parsed));
  }
  const { backend } = await pickBackend(v, probe, io);
  const inputs = collectInputs(model, v, io);
  const r = await gradients(model, inputs, {
    weights: weightsText === "seeded" ? "seeded" : { file: weightsText },
    backend,
    cotangents,
  });
  if (v.json) {
    const json = (m: Map<string, Tensor>) =>
      Object.fromEntries([...m].map(([k, t]) => [k, tensorJson(t)]));
    io.out(
      JSON.stringify({
        outputs: json(r.outputs),
        grads: Object.fromEntries(
          [...r.grads].map(([k, g]) => [k, { ...tensorJson(g.tensor), wrt: g.wrt }]),
        ),
        ...(r.buffers.size > 0 ? { buffers: json(r.buffers) } : {}),
        backend: r.backend,
        entry: model.entryName,
        weights: weightsText,
      }),
    );
    return;
  }
  io.out(
    [
      `${model.entryName} on ${r.backend}`,
      ...[...r.outputs].map(([k, t]) => formatOutput(k, t)),
      "gradients:",
      ...[...r.grads].map(([k, g]) => formatOutput(`∂/∂${k}`, g.tensor)),
      ...(r.buffers.size > 0
        ? ["buffers after the call:", ...[...r.buffers].map(([k, t]) => formatOutput(k, t))]
        : []),
    ].join("\n"),
  );
};
