// The model's state_dict as data: `nnc check --params` lists every key with its
// shape and dtype (what a checkpoint must hold), and `nnc export-weights --seeded`
// writes the seeded initializer's tensors as a .safetensors file.

import { writeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import type { CompiledModel } from "../compile.js";
import { formatType } from "../core/types.js";
import type { InputSpec } from "../elaborate/entry.js";
import type { Parsed } from "./args.js";
import { thousands } from "./format.js";
import { UsageError } from "./inputs.js";
import type { Io } from "./run-command.js";

export interface ParamEntry {
  name: string;
  shape: number[];
  dtype: string;
  kind: "parameter" | "buffer";
}

/** The entry's state_dict keys, in declaration order (derived params are not in a checkpoint). */
export function paramList(model: CompiledModel, shapes: Record<string, InputSpec>): ParamEntry[] {
  return model
    .elaborate(shapes)
    .graph.params.filter((p) => !p.derived)
    .map((p) => ({ name: p.name, shape: [...p.type.shape], dtype: p.type.dtype, kind: p.kind }));
}

export function formatParams(list: ParamEntry[]): string {
  const width = Math.max(3, ...list.map((p) => p.name.length));
  const total = list.reduce((a, p) => a + p.shape.reduce((x, d) => x * d, 1), 0);
  return [
    ...list.map(
      (p) =>
        `${p.name.padEnd(width)}  ${formatType({ dtype: p.dtype as "f32", shape: p.shape })}${p.kind === "buffer" ? "  (buffer)" : ""}`,
    ),
    `${list.length} tensors, ${thousands(total)} values`,
  ].join("\n");
}

/** `nnc export-weights SOURCE --seeded OUT.safetensors`: the weights `--weights seeded` runs with. */
export function exportWeights(
  model: CompiledModel,
  v: Parsed,
  shapes: Record<string, InputSpec>,
  io: Io,
): void {
  const out = v.seeded;
  if (out === undefined)
    throw new UsageError("export-weights needs --seeded OUT.safetensors (the weights to write)");
  if (!out.endsWith(".safetensors"))
    throw new UsageError(`--seeded writes a .safetensors file, got \`${out}\``);
  const params = model.elaborate(shapes).graph.params.filter((p) => !p.derived);
  const tensors = seededParams(params);
  writeSafetensors(out, tensors, { format: "pt", producer: "nnc export-weights --seeded" });
  io.out(`wrote ${tensors.size} tensors to ${out}`);
}
