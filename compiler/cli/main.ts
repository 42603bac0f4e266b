// The `nnc` command line: check, run, inspect. A thin layer over compile():
// exit 0 on success, 1 with diagnostics, 2 on usage errors.

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { closeGpu, installHint } from "../../runtime/webgpu/device.js";
import { type ProbeResult, probeAdapterAsync } from "../../runtime/webgpu/probe.js";
import { type CompiledModel, compile, type Source, type Stage, stages } from "../compile.js";
import { didYouMean, formatDiagnostics, NncError, SourceMap } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { formatType } from "../core/types.js";
import type { InputSpec } from "../elaborate/entry.js";
import { type Target, targets } from "../kernels/tune.js";
import { type OptimizeOptions, passNames } from "../passes/index.js";
import { packageRoot } from "../paths.js";
import { type Backend, backends, type RunResult, type Weights } from "../run.js";
import { bench, formatBench } from "./bench.js";
import { formatOutput, formatSummary, tensorJson } from "./format.js";
import { makeInput, parseDims, parseInputSpec, UsageError } from "./inputs.js";
import { checkOnnx, exportCommand, importCommand, isOnnxFile, runOnnx } from "./onnx.js";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const usage = `usage:
  nnc check SOURCE [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]... [--depth N] [--json]
  nnc run SOURCE [--entry NAME] [--arg K=V]... [--input NAME=SPEC]... [--weights seeded|FILE.safetensors]
                 [--backend ${backends.join("|")}] [--json]
  nnc inspect SOURCE --stage ${stages.join("|")} [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]...
  nnc bench SOURCE [--entry NAME] [--arg K=V]... [--input NAME=SPEC]... [--weights ...] [--runs N]
                   [--compare O0] [--json]
  nnc export SOURCE --onnx OUT.onnx [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]...
                    [--weights seeded|FILE.safetensors]
  nnc import MODEL.onnx --out DIR [--shape NAME=DIMS]...

Every command takes -O0 (no optimization) and --disable-pass NAME (${passNames.join(", ")}),
and --target ${targets.join("|")}: the adapter class the tune pass picks tiles for (default cpu: lavapipe).
SOURCE is a .nn file or MODULE:ENTRY for a stdlib entry (rnn:lstm, resnet:resnet50);
run and check also take a MODEL.onnx (inputs may then be TensorProto files, NAME=FILE.pb).
--backend defaults to webgpu, or to cpu (saying so) when there is no WebGPU adapter.
SPEC is seeded:DIMS[:scale=S|:tokens=V], a .npy file or a .json file; DIMS like 2x7x16.`;

const options = {
  entry: { type: "string" },
  arg: { type: "string", multiple: true },
  shape: { type: "string", multiple: true },
  input: { type: "string", multiple: true },
  weights: { type: "string" },
  backend: { type: "string" },
  stage: { type: "string" },
  depth: { type: "string" },
  json: { type: "boolean" },
  opt: { type: "string", short: "O" },
  "disable-pass": { type: "string", multiple: true },
  target: { type: "string" },
  runs: { type: "string" },
  compare: { type: "string" },
  onnx: { type: "string" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

type Parsed = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>["values"];

function keyValues(list: string[] | undefined, flag: string): [string, string][] {
  return (list ?? []).map((kv) => {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--${flag} ${kv}: expected NAME=VALUE`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

function resolveSource(
  text: string,
  entryFlag: string | undefined,
): { source: Source; entry: string | undefined; file?: string } {
  if (existsSync(text)) return { source: { file: text }, entry: entryFlag };
  const m = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (m) {
    if (entryFlag !== undefined && entryFlag !== m[2])
      throw new UsageError(`${text} already names the entry \`${m[2]}\`; drop --entry`);
    return { source: { stdlib: m[1]! }, entry: m[2] };
  }
  throw new UsageError(
    `no such file \`${text}\` (a stdlib entry is written MODULE:ENTRY, e.g. rnn:lstm)`,
  );
}

function compileFrom(positional: string | undefined, v: Parsed, sources: SourceMap): CompiledModel {
  if (!positional) throw new UsageError("missing SOURCE");
  const { source, entry } = resolveSource(positional, v.entry);
  return compile(source, {
    entry,
    args: Object.fromEntries(keyValues(v.arg, "arg")),
    sources,
    optimize: optimizeFrom(v),
    target: targetFrom(v),
  });
}

/** `--target cpu|gpu`: the adapter class the tune pass picks tiles for (default cpu, lavapipe). */
function targetFrom(v: Parsed): Target {
  const t = v.target ?? "cpu";
  if (!(targets as readonly string[]).includes(t))
    throw new UsageError(`--target takes ${targets.join(" or ")}, got \`${t}\``);
  return t as Target;
}

/** `-O0` turns the optimizer off; `--disable-pass NAME` skips one pass. */
function optimizeFrom(v: Parsed): OptimizeOptions {
  if (v.opt !== undefined && v.opt !== "0" && v.opt !== "1") {
    throw new UsageError(`-O takes 0 (no optimization) or 1 (the default), got \`${v.opt}\``);
  }
  for (const p of v["disable-pass"] ?? []) {
    if (!passNames.includes(p)) {
      throw new UsageError(
        `--disable-pass: no pass \`${p}\`${didYouMean(p, passNames)}; passes: ${passNames.join(", ")}`,
      );
    }
  }
  return { level: v.opt === "0" ? 0 : 1, disable: v["disable-pass"] ?? [] };
}

function shapesFrom(v: Parsed): Record<string, InputSpec> {
  return Object.fromEntries(
    keyValues(v.shape, "shape").map(([k, d]) => [k, { shape: parseDims(d, `--shape ${k}`) }]),
  );
}

function check(model: CompiledModel, v: Parsed, io: Io): void {
  const depth = v.depth === undefined ? 1 : Number(v.depth);
  if (!Number.isInteger(depth) || depth < 0)
    throw new UsageError(`--depth must be a non-negative integer, got \`${v.depth}\``);
  const s = model.summary(shapesFrom(v), depth);
  io.out(v.json ? JSON.stringify(s) : formatSummary(s));
}

function inspect(model: CompiledModel, v: Parsed, io: Io): void {
  if (!v.stage || !(stages as readonly string[]).includes(v.stage)) {
    throw new UsageError(
      `--stage must be one of ${stages.join(", ")}${v.stage ? `, got \`${v.stage}\`` : ""}`,
    );
  }
  io.out(model.inspect(v.stage as Stage, shapesFrom(v)));
}

/**
 * The backend to run on. An explicit `--backend webgpu` without an adapter is
 * an error (NN7002); the default falls back to the CPU with one line saying why.
 */
async function pickBackend(
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
  io.err(
    `nnc: no WebGPU adapter (${gpu.detail}); running on the CPU backend. ${capitalize(installHint)}`,
  );
  return { backend: "cpu", explicit };
}

const capitalize = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** Runs on the chosen backend; by default a model WebGPU cannot take (NN7002) runs on the CPU. */
async function runOn(
  model: CompiledModel,
  inputs: Map<string, Tensor>,
  weights: Weights,
  chosen: { backend: Backend; explicit: boolean },
  io: Io,
): Promise<RunResult> {
  try {
    return await model.run(inputs, { weights, backend: chosen.backend });
  } catch (e) {
    // NN7002 first: WebGPU cannot take this model (the plan needs more than the
    // adapter has, or the code generator cannot compile it); nothing ran yet.
    const unavailable = e instanceof NncError && e.diagnostics[0]?.code === "NN7002";
    if (chosen.explicit || chosen.backend !== "webgpu" || !unavailable) throw e;
    const reasons = e.diagnostics.length > 1 ? e.diagnostics.slice(1) : e.diagnostics;
    const why = reasons.map((d) => `${d.code}: ${d.message}`).join("; ");
    io.err(`nnc: the WebGPU backend cannot run this model (${why}); running on the CPU backend`);
    return model.run(inputs, { weights, backend: "cpu" });
  }
}

function checkBackendFlag(v: Parsed): void {
  if (v.backend !== undefined && !(backends as readonly string[]).includes(v.backend))
    throw new UsageError(`--backend must be one of ${backends.join(", ")}, got \`${v.backend}\``);
}

async function run(
  model: CompiledModel,
  v: Parsed,
  probe: Promise<ProbeResult> | undefined,
  io: Io,
): Promise<void> {
  const weightsText = v.weights ?? "seeded";
  if (weightsText !== "seeded" && !weightsText.endsWith(".safetensors")) {
    throw new UsageError(
      `--weights must be \`seeded\` or a .safetensors file, got \`${weightsText}\``,
    );
  }
  const chosen = await pickBackend(v, probe, io);
  const specs = keyValues(v.input, "input").map(([k, s]) => [k, parseInputSpec(k, s)] as const);
  const inputs = new Map<string, Tensor>();
  for (const [k, spec] of specs) inputs.set(k, makeInput(k, spec));
  // Inputs left out are seeded at the shape the entry declares.
  const shapes = Object.fromEntries(
    [...inputs].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype }]),
  );
  const graph = model.elaborate(shapes).graph;
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
  const weights = weightsText === "seeded" ? "seeded" : { file: weightsText };
  const result = await runOn(model, inputs, weights, chosen, io);
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
        ...[...result.outputs].map(([k, t]) => formatOutput(k, t)),
      ].join("\n"),
    );
  }
}

/** `nnc bench`: the inputs and weights as `run` takes them; see bench.ts. */
async function benchCommand(
  positional: string | undefined,
  v: Parsed,
  sources: SourceMap,
  io: Io,
): Promise<void> {
  if (!positional) throw new UsageError("missing SOURCE");
  const runs = v.runs === undefined ? 10 : Number(v.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new UsageError(`--runs must be a positive integer, got \`${v.runs}\``);
  if (v.compare !== undefined && v.compare !== "O0")
    throw new UsageError(`--compare takes O0 (the unoptimized plan), got \`${v.compare}\``);
  if (v.backend !== undefined && v.backend !== "webgpu")
    throw new UsageError("nnc bench runs on WebGPU only");
  const weightsText = v.weights ?? "seeded";
  if (weightsText !== "seeded" && !weightsText.endsWith(".safetensors"))
    throw new UsageError(
      `--weights must be \`seeded\` or a .safetensors file, got \`${weightsText}\``,
    );
  const { source, entry } = resolveSource(positional, v.entry);
  const inputs = new Map<string, Tensor>();
  for (const [k, spec] of keyValues(v.input, "input"))
    inputs.set(k, makeInput(k, parseInputSpec(k, spec)));
  const result = await bench({
    source,
    compile: {
      entry,
      args: Object.fromEntries(keyValues(v.arg, "arg")),
      sources,
      optimize: optimizeFrom(v),
      target: targetFrom(v),
    },
    inputs,
    seed: (name, shape, dtype) => {
      if (dtype !== "f32")
        throw new NncError({
          code: "NN6009",
          severity: "error",
          message: `input \`${name}\` is ${dtype}: give it with --input ${name}=seeded:${shape.join("x")}:tokens=VOCAB`,
        });
      return makeInput(name, parseInputSpec(name, `seeded:${shape.join("x") || "1"}`));
    },
    weights: weightsText === "seeded" ? "seeded" : { file: weightsText },
    runs,
    ...(v.compare === "O0" ? { compare: { level: 0 } as const } : {}),
    note: v.json ? undefined : (t) => io.err(`${t}…`),
  });
  io.out(v.json ? JSON.stringify(result) : formatBench(result));
}

type Flag = keyof typeof options;
const common: Flag[] = ["entry", "arg", "opt", "disable-pass", "target", "help", "version"];
/** The flags each command reads: any other is an error, never silently ignored. */
const commandFlags: Record<string, Flag[]> = {
  check: [...common, "shape", "depth", "json"],
  inspect: [...common, "shape", "stage"],
  run: [...common, "input", "weights", "backend", "json"],
  bench: [...common, "input", "weights", "backend", "runs", "compare", "json"],
  export: [...common, "shape", "weights", "onnx"],
  import: ["shape", "out", "help", "version"],
};
/** What to use instead, where a flag belongs to another command. */
const insteadOf: Partial<Record<Flag, Partial<Record<string, string>>>> = {
  input: { check: "--shape NAME=DIMS", inspect: "--shape NAME=DIMS" },
  shape: { run: "--input NAME=seeded:DIMS", bench: "--input NAME=seeded:DIMS" },
};

function checkFlags(command: string, v: Parsed): void {
  const allowed = commandFlags[command];
  if (!allowed) return;
  for (const flag of Object.keys(v) as Flag[]) {
    if (allowed.includes(flag)) continue;
    const hint = insteadOf[flag]?.[command];
    const name = flag === "opt" ? "-O" : `--${flag}`;
    throw new UsageError(`\`nnc ${command}\` does not take ${name}${hint ? ` (use ${hint})` : ""}`);
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const sources = new SourceMap();
  try {
    let parsed: { values: Parsed; positionals: string[] };
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values: v, positionals } = parsed;
    if (v.version) {
      io.out("nnc 0.1.0");
      return 0;
    }
    const [command, source, ...rest] = positionals;
    if (v.help || command === undefined || command === "help") {
      io.out(usage);
      return command === undefined && !v.help ? 2 : 0;
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument \`${rest[0]}\``);
    checkFlags(command, v);
    switch (command) {
      case "check":
        if (isOnnxFile(source)) checkOnnx(source, v, shapesFrom(v), io);
        else check(compileFrom(source, v, sources), v, io);
        return 0;
      case "inspect":
        inspect(compileFrom(source, v, sources), v, io);
        return 0;
      case "run":
        try {
          checkBackendFlag(v);
          // Probe for an adapter while the model compiles.
          const probe = v.backend === "cpu" ? undefined : probeAdapterAsync(packageRoot);
          if (isOnnxFile(source)) {
            const backend = () => pickBackend(v, probe, io);
            const pairs = keyValues(v.input, "input");
            await runOnnx(source, v, pairs, backend, optimizeFrom(v), targetFrom(v), io);
          } else await run(compileFrom(source, v, sources), v, probe, io);
        } finally {
          // Destroys the device: nothing of Dawn's may keep the process alive after a run.
          await closeGpu();
        }
        return 0;
      case "bench":
        try {
          await benchCommand(source, v, sources, io);
        } finally {
          await closeGpu();
        }
        return 0;
      case "import":
        importCommand(source, v.out, shapesFrom(v), io);
        return 0;
      case "export":
        exportCommand(compileFrom(source, v, sources), v, shapesFrom(v), io);
        return 0;
      default:
        throw new UsageError(
          `unknown command \`${command}\` (check, run, inspect, bench, export, import)`,
        );
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`nnc: ${e.message}\n\n${usage}`);
      return 2;
    }
    if (e instanceof NncError) {
      io.err(formatDiagnostics(e.diagnostics, sources));
      return 1;
    }
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.err(`nnc: internal error: ${msg}\nthis is a bug in nnc; please report it`);
    return 1;
  }
}
