// `nnc run`: inputs from --input (seeded ones made only once the model has
// accepted their shapes), weights bound and checked before anything runs, the
// backend chosen (WebGPU, or the CPU where WebGPU cannot take the model), then
// the outputs printed, and written as .npy with --save-outputs.

import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { checkPlanShape, planLimits } from "../../runtime/webgpu/check-plan.js";
import { adapterLimits, installHint } from "../../runtime/webgpu/device.js";
import type { ProbeResult } from "../../runtime/webgpu/probe.js";
import { bindWeights, weightWarnings } from "../../runtime/weights/bind.js";
import { writeNpy } from "../../runtime/weights/npy.js";
import { readSafetensors } from "../../runtime/weights/safetensors.js";
import { type CompiledModel, type RunResult, shapesOf } from "../compile.js";
import { diagnostic, NncError, type TraceFrame } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { formatType } from "../core/types.js";
import type { LayerRecord } from "../elaborate/context.js";
import { type InputSpec, unboundDimsNote } from "../elaborate/entry.js";
import type { GraphParam } from "../graph/graph.js";
import { loadedParams } from "../passes/prep.js";
import type { Backend } from "../run.js";
import { cannotRunNote, noAdapterNote } from "../session.js";
import { keyValues, type Parsed, weightsFlag } from "./args.js";
import { formatOutput, tensorJson } from "./format.js";
import {
  type InputSpecText,
  makeInput,
  parseInputSpec,
  seededDType,
  UsageError,
} from "./inputs.js";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A command that runs a compiled model: run and grad (the adapter probe already under way). */
export type ModelCommand = (
  model: CompiledModel,
  v: Parsed,
  probe: Promise<ProbeResult> | undefined,
  io: Io,
) => Promise<void>;

const leadsWith7002 = (e: unknown): e is NncError =>
  e instanceof NncError && e.diagnostics[0]?.code === "NN7002";

/**
 * The backend to run on. An explicit `--backend webgpu` without an adapter is
 * an error (NN7002); the default falls back to the CPU with one line saying why.
 */
export async function pickBackend(
  v: Parsed,
  probe: Promise<ProbeResult> | undefined,
  io: Io,
): Promise<{ backend: Backend; explicit: boolean }> {
  const backend = (v.backend ?? "webgpu") as Backend;
  const explicit = v.backend !== undefined;
  if (backend !== "webgpu" || !probe) return { backend, explicit };
  // The probe runs in a child so that, without an adapter, Dawn's own warnings
  // stay there and the user sees the one line below.
  const gpu = await probe;
  if (gpu.ok) return { backend, explicit };
  if (explicit)
    throw new NncError({
      code: "NN7002",
      severity: "error",
      message: `--backend webgpu: no WebGPU adapter (${gpu.detail})`,
      hint: `${installHint}, or run with --backend cpu`,
    });
  io.err(`nnc: ${noAdapterNote(gpu.detail)}`);
  return { backend: "cpu", explicit };
}

function fallBack(e: NncError, io: Io): void {
  io.err(`nnc: ${cannotRunNote(e)}`);
}

/**
 * Checks the plan against the adapter's limits before any weight is made or
 * read: a model WebGPU cannot take fails (or falls back) in a moment, not after
 * generating gigabytes of weights.
 */
async function preflight(
  model: CompiledModel,
  shapes: Record<string, InputSpec>,
  chosen: { backend: Backend; explicit: boolean },
  io: Io,
): Promise<{ backend: Backend; explicit: boolean }> {
  if (chosen.backend !== "webgpu") return chosen;
  try {
    let plan: ReturnType<CompiledModel["plan"]>;
    try {
      plan = model.plan(shapes);
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      throw new NncError([
        diagnostic("NN7002", "the WGSL code generator cannot compile this model for WebGPU"),
        ...e.diagnostics,
      ]);
    }
    checkPlanShape(plan);
    const limits = await adapterLimits();
    try {
      planLimits(plan, limits);
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      throw new NncError([
        diagnostic("NN7002", "the model needs more than this WebGPU adapter allows"),
        ...e.diagnostics,
      ]);
    }
    return chosen;
  } catch (e) {
    if (chosen.explicit || !leadsWith7002(e)) throw e;
    fallBack(e, io);
    return { backend: "cpu", explicit: false };
  }
}

/** Runs on the chosen backend; by default a model WebGPU cannot take (NN7002) runs on the CPU. */
async function runOn(
  model: CompiledModel,
  inputs: Map<string, Tensor>,
  weights: "seeded" | Map<string, Tensor>,
  chosen: { backend: Backend; explicit: boolean },
  io: Io,
): Promise<RunResult> {
  try {
    return await model.run(inputs, { weights, backend: chosen.backend });
  } catch (e) {
    // NN7002 first: WebGPU cannot take this model (the plan needs more than the
    // adapter has, or the code generator cannot compile it); nothing ran yet.
    if (chosen.explicit || chosen.backend !== "webgpu" || !leadsWith7002(e)) throw e;
    fallBack(e, io);
    return model.run(inputs, { weights, backend: "cpu" });
  }
}

/**
 * The user's layer a stdlib-declared param belongs to (`layer1.0.bn1.weight` →
 * the `bn1` call in the user's file), so a weight error leads back to their code.
 */
function userLayerOf(layers: readonly LayerRecord[]): (p: GraphParam) => TraceFrame[] | undefined {
  const fromStdlib = (file: string) => file.startsWith("stdlib/");
  return (p) => {
    if (!p.span || !fromStdlib(p.span.file)) return undefined;
    const parts = p.name.split(".");
    for (let n = parts.length - 1; n > 0; n--) {
      const path = parts.slice(0, n).join(".");
      const l = layers.find((r) => r.path === path && !r.primitive && !fromStdlib(r.span.file));
      if (l) return [{ name: l.layer, span: l.span }];
    }
    return undefined;
  };
}

/** `--values N|all`: how many values of each output to print (default 8). */
function valuesShown(v: Parsed): number {
  if (v.values === undefined) return 8;
  if (v.values === "all") return Number.POSITIVE_INFINITY;
  const n = Number(v.values);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--values takes a count or \`all\`, got \`${v.values}\``);
  return n;
}

/** `--save-outputs DIR`: checked before the run, so a bad folder costs nothing. */
function outputDir(v: Parsed): string | undefined {
  const dir = v["save-outputs"];
  if (dir === undefined) return undefined;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new NncError(
      diagnostic(
        "NN6012",
        `--save-outputs ${dir}: cannot make the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      ),
    );
  }
  if (!statSync(dir).isDirectory())
    throw new NncError(diagnostic("NN6012", `--save-outputs ${dir}: not a folder`));
  return dir;
}

/** An output's file name: its name with anything but letters, digits, `.`, `_` and `-` made `_`. */
export const npyName = (name: string) => `${name.replace(/[^\w.-]/g, "_") || "output"}.npy`;

/**
 * The `--input` tensors: files are read at once (their shape is in them),
 * seeded inputs only once the model has accepted their shape, so a huge wrong
 * one is never made; inputs left out are seeded at the entry's declared shape.
 */
export function collectInputs(model: CompiledModel, v: Parsed, io: Io): Map<string, Tensor> {
  const specs = new Map<string, InputSpecText>(
    keyValues(v.input, "input").map(([k, s]) => [k, parseInputSpec(k, s)]),
  );
  const inputs = new Map<string, Tensor>();
  const shapes: Record<string, InputSpec> = {};
  for (const [k, spec] of specs) {
    if (spec.kind === "seeded") {
      shapes[k] = { shape: spec.shape, dtype: seededDType(spec) };
    } else {
      const t = makeInput(k, spec);
      inputs.set(k, t);
      shapes[k] = { shape: t.shape, dtype: t.dtype };
    }
  }
  const { graph, defaultedDims } = model.elaborate(shapes);
  if (defaultedDims.length > 0 && !v.json) io.err(`note: ${unboundDimsNote(defaultedDims)}`);
  const names = new Set(graph.inputs.map((i) => i.name));
  for (const k of specs.keys())
    if (!names.has(k))
      throw new NncError(
        diagnostic("NN6009", `--input ${k}: the entry has no input \`${k}\``, undefined, {
          hint: `its inputs: ${[...names].join(", ") || "none"}`,
        }),
      );
  for (const [k, spec] of specs) if (spec.kind === "seeded") inputs.set(k, makeInput(k, spec));
  // Inputs left out are seeded at the shape the entry declares.
  for (const gi of graph.inputs) {
    if (inputs.has(gi.name)) continue;
    if (gi.type.dtype !== "f32") {
      throw new NncError({
        code: "NN6009",
        severity: "error",
        message: `input \`${gi.name}\` is ${formatType(gi.type)}: give it with --input ${gi.name}=seeded:${gi.type.shape.join("x")}:tokens=VOCAB`,
      });
    }
    const spec = parseInputSpec(gi.name, `seeded:${gi.type.shape.join("x") || "1"}`);
    io.err(`note: input \`${gi.name}\` not given; using seeded:${gi.type.shape.join("x")}`);
    inputs.set(gi.name, makeInput(gi.name, spec));
  }
  return inputs;
}

export const runCommand: ModelCommand = async (model, v, probe, io) => {
  const weightsText = weightsFlag(v);
  const shown = valuesShown(v);
  const saveTo = outputDir(v);
  const chosenFirst = await pickBackend(v, probe, io);
  const inputs = collectInputs(model, v, io);
  const runShapes = shapesOf(inputs);
  const chosen = await preflight(model, runShapes, chosenFirst, io);
  let weights: "seeded" | Map<string, Tensor> = "seeded";
  if (weightsText !== "seeded") {
    const optimized = model.optimized(runShapes);
    weights = bindWeights(loadedParams(optimized), readSafetensors(weightsText), weightsText, {
      note: (m) => io.err(`note: ${m}`),
      trace: userLayerOf(model.elaborate(runShapes).layers),
    });
    for (const w of weightWarnings(weights, weightsText)) io.err(`warning[NN6013]: ${w}`);
  }
  const result = await runOn(model, inputs, weights, chosen, io);
  if (saveTo !== undefined)
    for (const [k, t] of result.outputs) writeNpy(join(saveTo, npyName(k)), t);
  if (v.json) {
    const outputs = Object.fromEntries([...result.outputs].map(([k, t]) => [k, tensorJson(t)]));
    const ins = Object.fromEntries(
      [...inputs].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]),
    );
    io.out(
      JSON.stringify({
        outputs,
        backend: result.backend,
        entry: model.entryName,
        weights: weightsText,
        inputs: ins,
      }),
    );
  } else {
    io.out(
      [
        `${model.entryName} on ${result.backend}`,
        ...[...result.outputs].map(([k, t]) => formatOutput(k, t, shown)),
        ...(saveTo !== undefined
          ? [`saved ${[...result.outputs.keys()].map((k) => join(saveTo, npyName(k))).join(", ")}`]
          : []),
      ].join("\n"),
    );
  }
};
