// The ONNX commands of the CLI (`nnc export`), kept apart from main.ts, which
// only dispatches to them: compile, bind weights, write the .onnx file.

import { writeFileAtomic } from "../../runtime/weights/bytes.js";
import type { CompiledModel } from "../compile.js";
import type { InputSpec } from "../elaborate/entry.js";
import { exportOnnx } from "../onnx/export.js";
import { loadWeights } from "../run.js";
import { UsageError } from "./inputs.js";

export interface ExportFlags {
  onnx?: string | undefined;
  weights?: string | undefined;
}

/** `nnc export SOURCE --onnx OUT.onnx [--weights seeded|FILE.safetensors] [--shape ...]`. */
export function exportCommand(
  model: CompiledModel,
  v: ExportFlags,
  shapes: Record<string, InputSpec>,
  io: { err: (text: string) => void },
): void {
  if (!v.onnx) throw new UsageError("nnc export needs --onnx OUT.onnx");
  const weightsText = v.weights ?? "seeded";
  if (weightsText !== "seeded" && !weightsText.endsWith(".safetensors"))
    throw new UsageError(
      `--weights must be \`seeded\` or a .safetensors file, got \`${weightsText}\``,
    );
  const graph = model.elaborate(shapes).graph;
  const params = loadWeights(graph, weightsText === "seeded" ? "seeded" : { file: weightsText });
  // Everything is checked and encoded before the file is touched: no half-written .onnx.
  const bytes = exportOnnx(graph, params, model.entryName);
  writeFileAtomic(v.onnx, bytes);
  io.err(`wrote ${v.onnx} (${bytes.length} bytes, ${graph.params.length} initializers)`);
}
