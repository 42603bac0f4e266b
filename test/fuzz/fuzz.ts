// The fuzzer's engine, shared by the CI test (test/fuzz/fuzz.test.ts) and the
// long run (scripts/fuzz.ts): mutates the stdlib and examples token-wise and
// byte-wise from a fixed seed, drives each case through compile() → summary →
// optimize → kernels → WGSL (and the CPU interpreter, for small models), and
// sorts the outcome into clean or a failure.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CompiledModel, compile } from "../../compiler/compile.js";
import { NncError } from "../../compiler/core/diagnostics.js";
import { zerosTensor } from "../../compiler/core/tensor.js";
import { runGraph } from "../../compiler/graph/interpret.js";
import { OpError } from "../../compiler/ops/op.js";
import { withDerived } from "../../compiler/passes/prep.js";
import { loadWeights } from "../../compiler/run.js";
import { mulberry32 } from "../../runtime/data/dataset.js";

export interface Seed {
  file: string;
  text: string;
  /** Declarations the file makes, tried as entries. */
  entries: string[];
}

export interface FuzzCase {
  /** `seed-file#index`, enough with the run's seed to regenerate it. */
  id: string;
  text: string;
  entry: string | undefined;
  target: "lavapipe" | "gpu";
  level: 0 | 1;
  /** How far to drive it: the whole pipeline, or elaboration and the summary only. */
  upTo?: "wgsl" | "summary";
}

export type Outcome =
  | { kind: "ok" }
  /** A coded NncError other than NN9001: the compiler said no, clearly. */
  | { kind: "rejected"; code: string }
  /** NN9001, an uncoded exception, a RangeError: a bug. */
  | { kind: "crash"; message: string };

export interface CaseResult {
  outcome: Outcome;
  /** Wall-clock time. */
  ms: number;
  /**
   * Process CPU time, the measure the 10 s bound applies to: unlike the wall
   * clock it does not grow when other jobs share the machine.
   */
  cpuMs: number;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Entries not tried: deeper copies of a smaller sibling (resnet152 is resnet50
 * with more blocks), whose code paths the sibling covers at a fraction of the
 * compile time. A mutation inside their shared layers still reaches them all.
 */
const DEEP_SIBLINGS = new Set([
  "resnet101",
  "resnet152",
  "resnext101_32x8d",
  "densenet169",
  "densenet201",
  "convnext_small",
  "convnext_base",
]);

/** Test models that reach code the stdlib's own models do not: a scan with attention inside. */
const EXTRA_SEEDS = ["test/webgpu/bahdanau-decoder.nn"];

/** Every `.nn` file of the stdlib and examples (and EXTRA_SEEDS), the fuzzer's starting points. */
export function loadSeeds(root: string): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of ["stdlib", "examples"]) {
    for (const f of readdirSync(join(root, dir)).sort()) {
      if (!f.endsWith(".nn")) continue;
      const text = readFileSync(join(root, dir, f), "utf8");
      const entries = [...text.matchAll(/^\s*(?:model|layer|def)\s+([A-Za-z_]\w*)/gm)]
        .map((m) => m[1]!)
        .filter((e) => !DEEP_SIBLINGS.has(e));
      seeds.push({ file: `${dir}/${f}`, text, entries });
    }
  }
  for (const file of EXTRA_SEEDS) {
    const text = readFileSync(join(root, file), "utf8");
    const entries = [...text.matchAll(/^\s*(?:model|layer)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!);
    seeds.push({ file, text, entries });
  }
  return seeds;
}

/** mulberry32 (runtime/data's): small, fast and the same on every machine, so a seed names a run. */
export const rng = mulberry32;

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

const TOKEN_RE =
  /\s+|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|->|\.\.|==|!=|<=|>=|&&|\|\||[\s\S]/g;

function tokenize(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

const isSpace = (t: string) => /^\s/.test(t) || t.startsWith("//");
const isNumber = (t: string) => /^\d/.test(t);
const isName = (t: string) => /^[A-Za-z_]/.test(t);

/** Values at the edges of what shapes, loops and limits accept. */
const NUMBERS = [
  "0",
  "1",
  "2",
  "3",
  "7",
  "-1",
  "64",
  "1000",
  "65536",
  "100000",
  "2147483648",
  "1e30",
  "0.5",
  "1e-9",
  "0.0",
];
const OPERATORS = ["+", "-", "*", "/", "%", "->", "..", "==", "<", "&&", ",", ":", "=", "."];
/** Fragments that reach the language's own limits: long lists, strings, loops, layer chains. */
const FRAGMENTS = [
  "[0] * 10000",
  '"ab" + "cd"',
  "[for i in 0..100 for j in 0..100 i * j]",
  "linear(8) -> linear(8)",
  "x[:, 0:0]",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  "scan",
  "let y = x\n",
  "if true then 1 else 2",
];

/** One token-aware mutation: numbers to edge values, names swapped, tokens cut, copied or spliced. */
function mutateTokens(r: Rand, toks: string[], names: string[], donor: string[]): void {
  const real = toks.map((t, i) => (isSpace(t) ? -1 : i)).filter((i) => i >= 0);
  if (real.length === 0) return;
  const at = pick(r, real);
  // Weighted towards edits that keep the syntax, so most cases reach elaboration and beyond.
  switch (pick(r, [0, 0, 0, 0, 1, 1, 1, 7, 7, 5, 5, 3, 2, 4, 6, 8, 8])) {
    case 0: {
      const nums = real.filter((i) => isNumber(toks[i]!));
      if (nums.length > 0) toks[pick(r, nums)] = pick(r, NUMBERS);
      break;
    }
    case 1: {
      const ids = real.filter((i) => isName(toks[i]!));
      if (ids.length > 0 && names.length > 0) toks[pick(r, ids)] = pick(r, names);
      break;
    }
    case 2:
      toks.splice(at, 1 + int(r, 3));
      break;
    case 3: {
      const len = 1 + int(r, 12);
      toks.splice(pick(r, real), 0, ...toks.slice(at, at + len));
      break;
    }
    case 4:
      toks[at] = pick(r, OPERATORS);
      break;
    case 5:
      toks.splice(at, 0, ` ${pick(r, FRAGMENTS)} `);
      break;
    case 6: {
      const from = int(r, Math.max(1, donor.length));
      toks.splice(at, int(r, 6), ...donor.slice(from, from + 1 + int(r, 30)));
      break;
    }
    case 8: {
      // A symbolic dimension (`N`, `H`, `T`: one capital letter) fixed to a size:
      // inputs otherwise default every unbound dimension to 1.
      const dims = real.filter((i) => /^[A-Z]$/.test(toks[i]!));
      if (dims.length > 0) toks[pick(r, dims)] = String(1 + int(r, 40));
      break;
    }
    default: {
      const nums = real.filter((i) => isNumber(toks[i]!));
      if (nums.length > 0) {
        const i = pick(r, nums);
        toks[i] = String(Number(toks[i]) * pick(r, [2, 10, 0, -1]));
      }
    }
  }
}

/** One byte-level mutation: a character flipped, inserted, removed, or a run duplicated. */
function mutateBytes(r: Rand, text: string): string {
  if (text.length === 0) return String.fromCharCode(32 + int(r, 95));
  const at = int(r, text.length);
  switch (int(r, 5)) {
    case 0:
      return text.slice(0, at) + String.fromCharCode(32 + int(r, 95)) + text.slice(at + 1);
    case 1:
      return (
        text.slice(0, at) + pick(r, ["\0", "\u00e9", "\t", "\n", "\\", '"', "/*"]) + text.slice(at)
      );
    case 2:
      return text.slice(0, at) + text.slice(at + 1 + int(r, 40));
    case 3: {
      const len = 1 + int(r, 60);
      return text.slice(0, at) + text.slice(at, at + len).repeat(2 + int(r, 3)) + text.slice(at);
    }
    default:
      return text.slice(0, at) + String.fromCharCode(int(r, 0x3000)) + text.slice(at + 1);
  }
}

/** Case `index` of the run started with `seed`: the same on every machine. */
export function makeCase(seeds: Seed[], seed: number, index: number): FuzzCase {
  const r = rng((seed * 1_000_003 + index) >>> 0);
  const s = pick(r, seeds);
  const donor = tokenize(pick(r, seeds).text);
  let text = s.text;
  if (r() < 0.85) {
    const toks = tokenize(text);
    const names = [...new Set(toks.filter(isName))];
    const n = 1 + int(r, 3);
    for (let i = 0; i < n; i++) mutateTokens(r, toks, names, donor);
    text = toks.join("");
  } else {
    const n = 1 + int(r, 3);
    for (let i = 0; i < n; i++) text = mutateBytes(r, text);
  }
  const entry = s.entries.length > 0 && r() < 0.9 ? pick(r, s.entries) : undefined;
  return {
    id: `${s.file}#${index}`,
    text,
    entry,
    target: r() < 0.8 ? "lavapipe" : "gpu",
    level: r() < 0.85 ? 1 : 0,
  };
}

/**
 * A regression case from a file (test/fuzz/corpus/, or one `scripts/fuzz.ts
 * --dump` wrote): its first line names the entry, and optionally `target: gpu`,
 * `-O0`, and `up to: summary` for an elaboration-only case.
 */
export function caseFromFile(path: string): FuzzCase {
  const text = readFileSync(path, "utf8");
  const head = text.split("\n", 1)[0]!;
  return {
    id: path,
    text,
    entry: /entry: (\w+)/.exec(head)?.[1],
    target: /target: gpu/.test(head) ? "gpu" : "lavapipe",
    level: /-O0/.test(head) ? 0 : 1,
    upTo: /up to: summary/.test(head) ? "summary" : "wgsl",
  };
}

/** The whole pipeline short of a device: elaboration, summary, optimizer, kernels and WGSL. */
export function runCase(c: FuzzCase, stdlibDir: string): CaseResult {
  const t0 = performance.now();
  const c0 = cpuNow();
  const done = (outcome: Outcome): CaseResult => ({
    outcome,
    ms: performance.now() - t0,
    cpuMs: cpuNow() - c0,
  });
  let outcome: Outcome;
  try {
    const m = compile(c.text, {
      file: "fuzz.nn",
      stdlibDir,
      entry: c.entry,
      target: c.target,
      optimize: { level: c.level },
    });
    m.summary();
    if (c.upTo === "summary") return done({ kind: "ok" });
    m.inspect("opt");
    m.plan();
    runSmall(m);
    outcome = { kind: "ok" };
  } catch (e) {
    outcome = classify(e);
  }
  return done(outcome);
}

/** CPU execution is capped so a case stays a few milliseconds: small models only, zero inputs. */
const RUN_MAX_PARAMS = 300_000;
const RUN_MAX_FLOPS = 5_000_000;

/** Runs the optimized graph on the CPU interpreter with seeded weights when the model is small. */
function runSmall(m: CompiledModel): void {
  const s = m.summary();
  if (s.params + s.buffers > RUN_MAX_PARAMS || s.flops > RUN_MAX_FLOPS) return;
  const graph = m.optimized();
  const inputs = new Map(graph.inputs.map((i) => [i.name, zerosTensor(i.type)]));
  runGraph(graph, inputs, withDerived(graph, loadWeights(graph, "seeded")));
}

export function classify(e: unknown): Outcome {
  // A run-time error of an op (NN7001 for an index) is a clean refusal, as run() reports it.
  if (e instanceof OpError && e.code !== "NN9001") return { kind: "rejected", code: e.code };
  if (e instanceof NncError) {
    const bad = e.diagnostics.find((d) => d.code === "NN9001" || !/^NN\d{4}$/.test(d.code));
    if (bad) return { kind: "crash", message: `${bad.code} ${bad.message}` };
    return { kind: "rejected", code: e.code };
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { kind: "crash", message: msg };
}
