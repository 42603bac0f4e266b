// The `nnc` command line: check, run, inspect, bench, export-weights. A thin
// layer over compile(): exit 0 on success, 1 with diagnostics, 2 on usage errors.

import { adapterFacts, closeGpu, installHint } from "../../runtime/webgpu/device.js";
import { probeAdapterAsync } from "../../runtime/webgpu/probe.js";
import { type CompiledModel, compile, type Source, type Stage, stages } from "../compile.js";
import {
  type Diagnostic,
  diagnostic,
  didYouMean,
  formatDiagnostics,
  NncError,
  SourceMap,
} from "../core/diagnostics.js";
import { pathKind } from "../core/files.js";
import type { Tensor } from "../core/tensor.js";
import type { InputSpec } from "../elaborate/entry.js";
import { packageRoot } from "../paths.js";
import type { OptimizeOptions } from "../pipeline/index.js";
import { passNames } from "../pipeline/index.js";
import { backends } from "../run.js";
import type { Target } from "../target/target.js";
import {
  checkFlags,
  flagsFor,
  keyValues,
  type Parsed,
  parseArgv,
  usage,
  weightsFlag,
} from "./args.js";
import { bench, formatBench } from "./bench.js";
import { formatSummary } from "./format.js";
import { gradCommand } from "./grad.js";
import { makeInput, parseDims, parseInputSpec, UsageError } from "./inputs.js";
import { checkOnnx, exportCommand, importCommand, isOnnxFile, runOnnx } from "./onnx.js";
import { type Io, pickBackend, runCommand } from "./run-command.js";
import { type TargetChoice, targetFlag, targetFor } from "./target.js";
import { trainCommand } from "./train.js";
import { exportWeights, formatParams, paramList } from "./weights-command.js";

export type { Io };

function resolveSource(
  text: string,
  entryFlag: string | undefined,
): { source: Source; entry: string | undefined; file?: string } {
  // A path that exists is a file, whatever it is: the loader says why a
  // directory or a device cannot be a SOURCE.
  if (pathKind(text) !== "missing") return { source: { file: text }, entry: entryFlag };
  const m = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (!m)
    throw new UsageError(
      `no such file \`${text}\` (a stdlib entry is written MODULE:ENTRY, e.g. rnn:lstm)`,
    );
  if (entryFlag !== undefined && entryFlag !== m[2])
    throw new UsageError(`${text} already names the entry \`${m[2]}\`; drop --entry`);
  return { source: { stdlib: m[1]! }, entry: m[2] };
}

/** Compiles SOURCE; `inputs`, where the command knows them, are the shapes compile() checks the entry at. */
function compileFrom(
  positional: string | undefined,
  v: Parsed,
  sources: SourceMap,
  target: Target,
  inputs?: Record<string, InputSpec>,
): CompiledModel {
  if (!positional) throw new UsageError("missing SOURCE");
  const { source, entry } = resolveSource(positional, v.entry);
  return compile(source, {
    entry,
    args: Object.fromEntries(keyValues(v.arg, "arg")),
    sources,
    optimize: optimizeFrom(v),
    target,
    ...(inputs && Object.keys(inputs).length > 0 ? { inputs } : {}),
    ...(v["allow-import"] ? { importRoots: v["allow-import"] } : {}),
    ...(v.output ? { taps: v.output } : {}),
    ...(v.mode !== undefined ? { mode: modeFrom(v.mode) } : {}),
  });
}

/** `--mode train` compiles the train-mode function (batch statistics, buffer updates). */
function modeFrom(mode: string): "eval" | "train" {
  if (mode === "eval" || mode === "train") return mode;
  throw new UsageError(`--mode takes eval (the default) or train, got \`${mode}\``);
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
  if (v.params) {
    if (v.depth !== undefined) throw new UsageError("--params lists every weight; drop --depth");
    const list = paramList(model, shapesFrom(v));
    io.out(v.json ? JSON.stringify(list) : formatParams(list));
    return;
  }
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

function checkBackendFlag(v: Parsed): void {
  if (v.backend !== undefined && !(backends as readonly string[]).includes(v.backend))
    throw new UsageError(`--backend must be one of ${backends.join(", ")}, got \`${v.backend}\``);
}

/** `nnc bench`: the inputs and weights as `run` takes them; see bench.ts. */
async function benchCommand(
  positional: string | undefined,
  v: Parsed,
  sources: SourceMap,
  choice: TargetChoice,
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
  const weightsText = weightsFlag(v);
  // Without an adapter, Dawn's own log (and a native stack frame) would reach the
  // terminal from this process; the probe meets it in a child, and one line says why.
  const gpu = await probeAdapterAsync(packageRoot);
  if (!gpu.ok)
    throw new NncError(
      diagnostic(
        "NN7002",
        `nnc bench needs a WebGPU adapter: none found (${gpu.detail})`,
        undefined,
        {
          hint: installHint,
        },
      ),
    );
  const { source, entry } = resolveSource(positional, v.entry);
  // bench opens the adapter in this process anyway: ask it there.
  const target = await targetFor(choice, async () => adapterFacts(), io);
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
      target,
      ...(v["allow-import"] ? { importRoots: v["allow-import"] } : {}),
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

/** Hints and messages rewritten to name the flags this command takes. */
function forCommand(ds: Diagnostic[], command: string): Diagnostic[] {
  return ds.map((d) => ({
    ...d,
    message: flagsFor(command, d.message),
    ...(d.hint !== undefined ? { hint: flagsFor(command, d.hint) } : {}),
  }));
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const sources = new SourceMap();
  let command: string | undefined;
  try {
    const { values: v, positionals } = parseArgv(argv);
    if (v.version) {
      io.out("nnc 0.1.0");
      return 0;
    }
    const [cmd, source, ...rest] = positionals;
    command = cmd;
    if (v.help || command === undefined || command === "help") {
      io.out(usage);
      return command === undefined && !v.help ? 2 : 0;
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument \`${rest[0]}\``);
    checkFlags(command, v);
    const choice = targetFlag(command, v.target);
    // In a child: Dawn's warnings and event loop stay out of this process.
    const probed = async () => {
      const r = await probeAdapterAsync(packageRoot);
      return r.facts ?? r.detail;
    };
    switch (command) {
      case "check":
        if (isOnnxFile(source)) {
          checkOnnx(source, v, shapesFrom(v), io);
          return 0;
        }
        // Nothing check prints depends on the target: no adapter is asked for it.
        check(
          compileFrom(source, v, sources, await targetFor(choice, undefined, io), shapesFrom(v)),
          v,
          io,
        );
        return 0;
      case "import":
        importCommand(source, v.out, shapesFrom(v), io);
        return 0;
      case "inspect":
        inspect(
          compileFrom(source, v, sources, await targetFor(choice, probed, io), shapesFrom(v)),
          v,
          io,
        );
        return 0;
      case "export":
      case "export-weights": {
        // ONNX, or the seeded weights as safetensors: neither depends on the target.
        const model = compileFrom(source, v, sources, await targetFor(choice, undefined, io));
        (command === "export" ? exportCommand : exportWeights)(model, v, shapesFrom(v), io);
        return 0;
      }
      case "run":
        try {
          checkBackendFlag(v);
          const probe = v.backend === "cpu" ? undefined : probeAdapterAsync(packageRoot);
          // --backend cpu runs no plan: auto asks no adapter then.
          const facts = probe ? async () => (await probe).facts ?? (await probe).detail : undefined;
          const target = await targetFor(choice, facts, io, { quiet: true });
          if (isOnnxFile(source)) {
            const backend = () => pickBackend(v, probe, io);
            const pairs = keyValues(v.input, "input");
            await runOnnx(source, v, pairs, backend, optimizeFrom(v), target, io);
          } else await runCommand(compileFrom(source, v, sources, target), v, probe, io);
        } finally {
          // Destroys the device: nothing of Dawn's may keep the process alive after a run.
          await closeGpu();
        }
        return 0;
      case "grad":
        try {
          checkBackendFlag(v);
          const probe = v.backend === "cpu" ? undefined : probeAdapterAsync(packageRoot);
          const facts = probe ? async () => (await probe).facts ?? (await probe).detail : undefined;
          const target = await targetFor(choice, facts, io, { quiet: true });
          await gradCommand(compileFrom(source, v, sources, target), v, probe, io);
        } finally {
          await closeGpu();
        }
        return 0;
      case "train":
        try {
          checkBackendFlag(v);
          const probe = v.backend === "cpu" ? undefined : probeAdapterAsync(packageRoot);
          const facts = probe ? async () => (await probe).facts ?? (await probe).detail : undefined;
          const target = await targetFor(choice, facts, io, { quiet: true });
          return await trainCommand(compileFrom(source, v, sources, target), v, probe, io);
        } finally {
          await closeGpu();
        }
      case "bench":
        try {
          await benchCommand(source, v, sources, choice, io);
        } finally {
          await closeGpu();
        }
        return 0;
      default:
        throw new UsageError(
          `unknown command \`${command}\` (check, run, grad, train, inspect, bench, export-weights, export, import)`,
        );
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`nnc: ${e.message}\n\n${usage}`);
      return 2;
    }
    if (e instanceof NncError) {
      io.err(formatDiagnostics(forCommand(e.diagnostics, command ?? ""), sources));
      return 1;
    }
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.err(`nnc: internal error: ${msg}\nthis is a bug in nnc; please report it`);
    return 1;
  }
}
