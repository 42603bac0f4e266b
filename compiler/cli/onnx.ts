// The ONNX commands of the CLI, kept apart from main.ts, which only
// dispatches to them: `nnc export` (compile, bind weights, write the .onnx),
// `nnc run` / `nnc check` on a MODEL.onnx (import, then run or summarise), and
// `nnc import` (readable .nn source and .safetensors weights).

import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../../runtime/weights/bytes.js";
import { writeSafetensors } from "../../runtime/weights/safetensors.js";
import type { CompiledModel, Summary } from "../compile.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { formatType } from "../core/types.js";
import type { InputSpec } from "../elaborate/entry.js";
import { type ImportedModel, importModel } from "../onnx/import.js";
import { decodeModel, encodeModel } from "../onnx/proto.js";
import { loadOnnx, readOnnxBytes, readTensorPb, runImported } from "../onnx/run-onnx.js";
import { exportWithSymbolicDims } from "../onnx/symbolic.js";
import { writeNn } from "../onnx/to-nn.js";
import { getOp } from "../ops/index.js";
import type { OptimizeOptions } from "../pipeline/index.js";
import { type Backend, loadWeights } from "../run.js";
import type { Target } from "../target/target.js";
import { formatOutput, formatSummary, tensorJson } from "./format.js";
import { makeInput, parseInputSpec, UsageError } from "./inputs.js";

export const isOnnxFile = (path: string | undefined): path is string =>
  path?.toLowerCase().endsWith(".onnx") === true;

type SourceFlags = { entry?: string | undefined; arg?: string[] | undefined };

/** --entry and --arg pick and configure a .nn entry; a .onnx file has neither. */
export function rejectSourceFlags(v: {
  entry?: string | undefined;
  arg?: string[] | undefined;
}): void {
  if (v.entry !== undefined || v.arg !== undefined)
    throw new UsageError("a .onnx model has no entry or hyperparameters; drop --entry and --arg");
}

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
  const dtypes = Object.fromEntries(graph.inputs.map((i) => [i.name, i.type.dtype]));
  const elaborate = (s: Record<string, number[]>) =>
    model.elaborate(
      Object.fromEntries(Object.entries(s).map(([k, shape]) => [k, { shape, dtype: dtypes[k] }])),
    ).graph;
  // Everything is checked and encoded before the file is touched: no half-written .onnx.
  const bytes = encodeModel(exportWithSymbolicDims(graph, params, model.entryName, elaborate));
  writeFileAtomic(v.onnx, bytes);
  io.err(`wrote ${v.onnx} (${bytes.length} bytes, ${graph.params.length} initializers)`);
}

/** `nnc check MODEL.onnx`: the imported model's inputs, outputs and nodes. */
export function checkOnnx(
  file: string,
  v: SourceFlags & { json?: boolean | undefined },
  shapes: Record<string, InputSpec>,
  io: { out: (t: string) => void },
): void {
  rejectSourceFlags(v);
  const s = onnxSummary(file, loadOnnx(file, dimsOf(shapes)));
  io.out(v.json ? JSON.stringify(s) : formatSummary(s));
}

/** `--shape` dims by input name (a .onnx input's dtype is the file's). */
function dimsOf(shapes: Record<string, InputSpec>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, s.shape]));
}

function onnxSummary(file: string, m: ImportedModel): Summary {
  const g = m.graph;
  let flops = 0;
  for (const n of g.nodes) {
    const f = getOp(n.op).flops;
    if (f)
      flops += f(
        n.inputs.map((i) => g.nodes[i]!.type),
        n.type,
        n.attrs,
      );
  }
  const params = [...m.weights.values()].reduce((p, t) => p + t.data.length, 0);
  return {
    entry: basename(file),
    file,
    inputs: g.inputs.map((i) => ({ name: i.name, type: i.type })),
    outputs: g.outputs.map((o) => ({ name: o.name, type: g.nodes[o.node]!.type })),
    rows: m.nodes
      .filter((n) => !n.folded)
      .map((n) => ({
        path: n.name,
        layer: n.op,
        output: n.output ? formatType(n.output) : "-",
        params: n.params,
      })),
    params,
    buffers: 0,
    paramBytes: params * 4,
    flops,
    graphNodes: g.nodes.length,
    notes: [
      `ONNX opset ${m.opset}; ${m.nodes.filter((n) => n.folded).length} nodes folded to constants at import`,
    ],
  };
}

export interface OnnxRunFlags extends SourceFlags {
  input?: string[] | undefined;
  weights?: string | undefined;
  json?: boolean | undefined;
}

/** `nnc run MODEL.onnx`: inputs as for a .nn source, plus TensorProto files (NAME=FILE.pb). */
export async function runOnnx(
  file: string,
  v: OnnxRunFlags,
  inputPairs: [string, string][],
  pickBackend: () => Promise<{ backend: Backend }>,
  optimize: OptimizeOptions,
  target: Target,
  io: { out: (t: string) => void; err: (t: string) => void },
): Promise<void> {
  rejectSourceFlags(v);
  if (v.weights !== undefined)
    throw new UsageError("a .onnx model carries its weights (its initializers); drop --weights");
  const inputs = new Map<string, Tensor>();
  for (const [k, spec] of inputPairs)
    inputs.set(
      k,
      spec.endsWith(".pb") ? readTensorPb(spec) : makeInput(k, parseInputSpec(k, spec)),
    );
  const shapes = Object.fromEntries([...inputs].map(([k, t]) => [k, t.shape]));
  const model = loadOnnx(file, shapes);
  for (const gi of model.graph.inputs) {
    if (inputs.has(gi.name)) continue;
    if (gi.type.dtype !== "f32")
      throw new NncError(
        diagnostic(
          "NN6009",
          `input \`${gi.name}\` is ${formatType(gi.type)}: give it with --input ${gi.name}=FILE`,
        ),
      );
    io.err(`note: input \`${gi.name}\` not given; using seeded:${gi.type.shape.join("x")}`);
    inputs.set(
      gi.name,
      makeInput(gi.name, parseInputSpec(gi.name, `seeded:${gi.type.shape.join("x") || "1"}`)),
    );
  }
  const { backend } = await pickBackend();
  const outputs = await runImported(model, inputs, backend, optimize, target);
  if (v.json) {
    const outs = Object.fromEntries([...outputs].map(([k, t]) => [k, tensorJson(t)]));
    io.out(JSON.stringify({ outputs: outs, backend, entry: basename(file) }));
  } else {
    io.out(
      [`${basename(file)} on ${backend}`, ...[...outputs].map(([k, t]) => formatOutput(k, t))].join(
        "\n",
      ),
    );
  }
}

/** `nnc import MODEL.onnx --out DIR`: DIR/model.nn (readable .nn) and DIR/model.safetensors. */
export function importCommand(
  file: string | undefined,
  out: string | undefined,
  shapes: Record<string, InputSpec>,
  io: { err: (t: string) => void },
): void {
  if (!isOnnxFile(file)) throw new UsageError("nnc import takes a MODEL.onnx");
  if (!out) throw new UsageError("nnc import needs --out DIR");
  const bytes = readOnnxBytes(file);
  const decoded = decodeModel(bytes, file);
  const model = importModel(decoded, file, dimsOf(shapes));
  const name = basename(file).replace(/\.onnx$/i, "");
  // Everything is written in memory first: an error leaves no half-imported folder.
  const nn = writeNn(decoded, model, name);
  mkdirSync(out, { recursive: true });
  writeSafetensors(join(out, "model.safetensors"), nn.weights);
  writeFileAtomic(join(out, "model.nn"), new TextEncoder().encode(nn.source));
  io.err(`wrote ${join(out, "model.nn")} and model.safetensors (${nn.weights.size} tensors)`);
}
