// The `nnc` command line's grammar: the flags, which command takes which, and
// parsing argv into them. A flag given twice, or to a command that does not
// read it, is a usage error (exit 2), never silently ignored.

import { parseArgs } from "node:util";
import { stages } from "../compile.js";
import { passNames } from "../pipeline/index.js";
import { backends } from "../run.js";
import { UsageError } from "./inputs.js";
import { targetChoices } from "./target.js";

export const usage = `usage:
  nnc check SOURCE [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]... [--depth N] [--params] [--json]
  nnc run SOURCE [--entry NAME] [--arg K=V]... [--input NAME=SPEC]... [--weights seeded|FILE.safetensors]
                 [--backend ${backends.join("|")}] [--output LABEL]... [--save-outputs DIR] [--values N|all] [--json]
  nnc grad SOURCE [run's options] [--cotangent OUTPUT=seeded|FILE]... [--mode eval|train] [--json]
  nnc inspect SOURCE --stage ${stages.join("|")} [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]...
  nnc bench SOURCE [--entry NAME] [--arg K=V]... [--input NAME=SPEC]... [--weights ...] [--runs N]
                   [--compare O0] [--json]
  nnc export SOURCE --onnx OUT.onnx [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]...
                    [--weights seeded|FILE.safetensors]
  nnc import MODEL.onnx --out DIR [--shape NAME=DIMS]...
  nnc train OBJECTIVE --data NAME=FILE[#ARRAY]|FILE.npz... [--val ...|--holdout F] [--epochs N] [--batch B]
                    [--optimizer sgd|adam|adamw] [--lr LR] [--schedule warmup=K,cosine|step=E:G]
                    [--momentum M] [--nesterov] [--weight-decay W] [--clip-norm C] [--seed S]
                    [--save CKPT.safetensors] [--resume CKPT.safetensors] [--log FILE.jsonl]
                    [--weights ...] [--backend ...]
  nnc export-weights SOURCE --seeded OUT.safetensors [--entry NAME] [--arg K=V]... [--shape NAME=DIMS]...

Every command takes -O0 (no optimization) and --disable-pass NAME (${passNames.join(", ")}),
and --target ${targetChoices.join("|")}: the machine every stage compiles for (conv weight layout, tiles,
scan cost model, limits). auto reads the WebGPU adapter (lavapipe where there is none): the default
of run and bench; check and inspect default to lavapipe and open no device unless given --target auto.
SOURCE is a .nn file or MODULE:ENTRY for a stdlib entry (rnn:lstm, resnet:resnet50);
run and check also take a MODEL.onnx (inputs may then be TensorProto files, NAME=FILE.pb).
--backend defaults to webgpu, or to cpu (saying so) when there is no WebGPU adapter.
SPEC is seeded:DIMS[:scale=S|:tokens=V], a .npy file or a .json file; DIMS like 2x7x16.
--output LABEL adds a labelled layer's value (conv1, layer1.0) to the outputs; --save-outputs
writes each output to DIR/NAME.npy. Imports are read from the entry file's folder tree and
the stdlib; --allow-import DIR widens that.`;

export const options = {
  entry: { type: "string" },
  arg: { type: "string", multiple: true },
  shape: { type: "string", multiple: true },
  input: { type: "string", multiple: true },
  weights: { type: "string" },
  backend: { type: "string" },
  stage: { type: "string" },
  depth: { type: "string" },
  params: { type: "boolean" },
  json: { type: "boolean" },
  opt: { type: "string", short: "O" },
  "disable-pass": { type: "string", multiple: true },
  target: { type: "string" },
  runs: { type: "string" },
  compare: { type: "string" },
  output: { type: "string", multiple: true },
  "save-outputs": { type: "string" },
  values: { type: "string" },
  seeded: { type: "string" },
  "allow-import": { type: "string", multiple: true },
  cotangent: { type: "string", multiple: true },
  onnx: { type: "string" },
  out: { type: "string" },
  mode: { type: "string" },
  data: { type: "string", multiple: true },
  val: { type: "string", multiple: true },
  holdout: { type: "string" },
  epochs: { type: "string" },
  batch: { type: "string" },
  optimizer: { type: "string" },
  lr: { type: "string" },
  schedule: { type: "string" },
  momentum: { type: "string" },
  nesterov: { type: "boolean" },
  "weight-decay": { type: "string" },
  "clip-norm": { type: "string" },
  seed: { type: "string" },
  save: { type: "string" },
  resume: { type: "string" },
  log: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

export type Parsed = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>["values"];

export type Flag = keyof typeof options;

export const flagName = (flag: Flag) => (flag === "opt" ? "-O" : `--${flag}`);

/** argv as flags and positionals; a flag that does not repeat given twice is an error. */
export function parseArgv(argv: string[]): { values: Parsed; positionals: string[] } {
  const config = {
    args: argv,
    options,
    allowPositionals: true,
    strict: true,
    tokens: true,
  } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== "option") continue;
    const flag = t.name as Flag;
    if ("multiple" in options[flag]) continue;
    if (seen.has(flag))
      throw new UsageError(
        `${flagName(flag)} given twice; it takes one value (the flags that repeat: --arg, --shape, --input, --output, --disable-pass, --allow-import, --cotangent, --data, --val)`,
      );
    seen.add(flag);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

export function keyValues(list: string[] | undefined, flag: string): [string, string][] {
  return (list ?? []).map((kv) => {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--${flag} ${kv}: expected NAME=VALUE`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

const common: Flag[] = [
  "entry",
  "arg",
  "opt",
  "disable-pass",
  "target",
  "allow-import",
  "help",
  "version",
];
/** The flags each command reads: any other is an error, never silently ignored. */
export const commandFlags: Record<string, Flag[]> = {
  check: [...common, "shape", "depth", "params", "json"],
  inspect: [...common, "shape", "stage"],
  run: [...common, "input", "weights", "backend", "json", "output", "save-outputs", "values"],
  bench: [...common, "input", "weights", "backend", "runs", "compare", "json"],
  grad: [...common, "input", "weights", "backend", "cotangent", "json", "values", "mode"],
  "export-weights": [...common, "shape", "seeded"],
  export: [...common, "shape", "weights", "onnx"],
  import: ["shape", "out", "help", "version"],
  train: [
    ...common,
    ...(["data", "val", "holdout", "epochs", "batch", "optimizer", "lr", "schedule"] as const),
    ...(["momentum", "nesterov", "weight-decay", "clip-norm", "seed", "save", "resume"] as const),
    ...(["log", "backend", "weights"] as const),
  ],
};
/** What to use instead, where a flag belongs to another command. */
const insteadOf: Partial<Record<Flag, Partial<Record<string, string>>>> = {
  input: { check: "--shape NAME=DIMS", inspect: "--shape NAME=DIMS" },
  shape: {
    run: "--input NAME=seeded:DIMS",
    bench: "--input NAME=seeded:DIMS",
    grad: "--input NAME=seeded:DIMS",
  },
};

export function checkFlags(command: string, v: Parsed): void {
  const allowed = commandFlags[command];
  if (!allowed) return;
  for (const flag of Object.keys(v) as Flag[]) {
    if (allowed.includes(flag)) continue;
    const hint = insteadOf[flag]?.[command];
    throw new UsageError(
      `\`nnc ${command}\` does not take ${flagName(flag)}${hint ? ` (use ${hint})` : ""}`,
    );
  }
}

/**
 * Compiler messages name the flag that sets a shape as `--shape NAME=DIMS`, which
 * only check, inspect and export-weights take; run and bench set shapes with --input.
 */
export function flagsFor(command: string, text: string): string {
  if (command !== "run" && command !== "bench" && command !== "grad")
    return text.replace(" (or --input)", "");
  return text
    .replace(/--shape ([\w.]+)=DIMS \(or --input\)/g, "--input $1=seeded:DIMS")
    .replace(/--shape ([\w.]+)=DIMS/g, "--input $1=seeded:DIMS")
    .replace(/\(--shape\)/g, "(--input)")
    .replace(/choose with --shape/g, "choose with --input");
}

/** --weights of run, bench and grad: `seeded` (the default) or a .safetensors file. */
export function weightsFlag(v: Parsed): string {
  const text = v.weights ?? "seeded";
  if (text !== "seeded" && !text.endsWith(".safetensors"))
    throw new UsageError(`--weights must be \`seeded\` or a .safetensors file, got \`${text}\``);
  return text;
}
