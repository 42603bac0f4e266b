// Every stdlib image model at 1×3×224×224 (lenet5 at its own 1×1×32×32) on
// WebGPU against the CPU backend: compile, run on the adapter (the cold first
// run, then the median of warm runs), run the CPU reference once, compare the
// logits by SPEC.md §7's whole-model tolerance and print one table.
//
//   npx tsx bench/models.ts [--models resnet18,unet] [--runs 5] [--json] [--out FILE] [-O0]
//
// Each model runs in a child process of its own, so one that runs out of
// memory or crashes the driver is a failed row, not a failed benchmark, and
// the next starts with a clean heap and device. Each child also gets an empty
// Mesa shader cache (MESA_SHADER_CACHE_DIR), so "cold" is what a first run on
// a fresh machine pays for compiling its kernels; --driver-cache keeps the
// user's cache (then cold is what a second `nnc run` pays).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compile } from "../compiler/compile.js";
import type { Tensor } from "../compiler/core/tensor.js";
import { numel } from "../compiler/core/types.js";
import { closeGpu, webgpuAvailable } from "../runtime/webgpu/device.js";
import { seededInput } from "../runtime/weights/seeded.js";

interface BenchModel {
  name: string;
  module: string;
  args?: Record<string, number>;
  input: number[];
}

const at224 = [1, 3, 224, 224];

/** The models, in the order the table lists them. */
export const benchModels: BenchModel[] = [
  { name: "lenet5", module: "lenet", input: [1, 1, 32, 32] },
  ...["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"].map((name) => ({
    name,
    module: "resnet",
    input: at224,
  })),
  { name: "resnext50_32x4d", module: "resnet", input: at224 },
  { name: "resnext101_32x8d", module: "resnet", input: at224 },
  ...["densenet121", "densenet169", "densenet201"].map((name) => ({
    name,
    module: "densenet",
    input: at224,
  })),
  ...["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"].map((name) => ({
    name,
    module: "mobilenet",
    input: at224,
  })),
  ...["convnext_tiny", "convnext_small", "convnext_base"].map((name) => ({
    name,
    module: "convnext",
    input: at224,
  })),
  { name: "unet", module: "unet", args: { in_channels: 3, classes: 2 }, input: at224 },
];

/** One model's measurements; times in milliseconds. */
export interface ModelResult {
  model: string;
  input: number[];
  gflops?: number;
  params?: number;
  kernels?: number;
  dispatches?: number;
  /** Elaborate + optimize + lower + WGSL. */
  compileMs?: number;
  /** The WebGPU session's setup (buffers, weight upload) + pipelines + the first run; reading the weights not counted. */
  coldMs?: number;
  /** Median of the warm runs (inputs written, every dispatch, outputs read back). */
  warmMs?: number;
  warmRuns?: number[];
  cpuMs?: number;
  /** Over every output: the largest |webgpu − cpu|, that over max|cpu|, and the worst |Δ| / (atol + rtol·|cpu|). */
  maxAbsErr?: number;
  maxRelErr?: number;
  worstRatio?: number;
  pass?: boolean;
  error?: string;
  /** 1-minute load average before and after: the machine may be shared. */
  load?: [number, number];
}

/** SPEC.md §7, whole models: atol = max(1e-5, 1e-4·max|out|), rtol = 1e-3. */
export function compareLogits(gpu: Tensor, cpu: Tensor) {
  let maxRef = 0;
  for (let i = 0; i < cpu.data.length; i++)
    maxRef = Math.max(maxRef, Math.abs(Number(cpu.data[i])));
  const atol = Math.max(1e-5, 1e-4 * maxRef);
  const rtol = 1e-3;
  let maxAbs = 0;
  let worst = 0;
  for (let i = 0; i < cpu.data.length; i++) {
    const want = Number(cpu.data[i]);
    const d = Math.abs(Number(gpu.data[i]) - want);
    // NaN anywhere fails.
    const diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    maxAbs = Math.max(maxAbs, diff);
    worst = Math.max(worst, diff / (atol + rtol * Math.abs(want)));
  }
  return { maxAbs, maxRel: maxRef > 0 ? maxAbs / maxRef : maxAbs, worst, pass: worst <= 1 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Measures one model in this process. */
async function measure(m: BenchModel, runs: number, level: 0 | 1): Promise<ModelResult> {
  const load0 = loadavg()[0]!;
  const r: ModelResult = { model: m.name, input: m.input };
  try {
    let t = performance.now();
    const lap = () => {
      const now = performance.now();
      const ms = now - t;
      t = now;
      return ms;
    };
    const shapes = { input: { shape: m.input } };
    const model = compile(
      { stdlib: m.module },
      { entry: m.name, args: m.args ?? {}, optimize: { level }, inputs: shapes },
    );
    const plan = model.plan(shapes);
    r.compileMs = lap();
    const summary = model.summary(shapes);
    r.gflops = summary.flops / 1e9;
    r.params = summary.params;
    r.kernels = plan.kernels.length;
    r.dispatches = plan.dispatches.length;
    const inputs = new Map([
      ["input", seededInput("input", m.input, { kind: "uniform", scale: 1 })],
    ]);

    // Both sessions take the plan and graph from the model's cache, and the same seeded weights.
    const gpu = await model.session({ inputs: shapes, backend: "webgpu", weights: "seeded" });
    let gpuOut: Map<string, Tensor>;
    try {
      lap();
      gpuOut = await gpu.run(inputs);
      r.coldMs = gpu.setupMs + lap();
      r.warmRuns = [];
      for (let i = 0; i < runs; i++) {
        lap();
        await gpu.run(inputs);
        r.warmRuns.push(lap());
      }
      r.warmMs = runs > 0 ? median(r.warmRuns) : undefined;
    } finally {
      gpu.dispose();
      await closeGpu();
    }

    const cpu = await model.session({ inputs: shapes, backend: "cpu", weights: "seeded" });
    lap();
    const cpuOut = await cpu.run(inputs);
    r.cpuMs = lap();

    r.maxAbsErr = 0;
    r.maxRelErr = 0;
    r.worstRatio = 0;
    for (const [name, want] of cpuOut) {
      const got = gpuOut.get(name)!;
      if (numel(got.shape) !== numel(want.shape)) throw new Error(`${name}: shapes differ`);
      const c = compareLogits(got, want);
      r.maxAbsErr = Math.max(r.maxAbsErr, c.maxAbs);
      r.maxRelErr = Math.max(r.maxRelErr, c.maxRel);
      r.worstRatio = Math.max(r.worstRatio, c.worst);
    }
    r.pass = r.worstRatio <= 1;
  } catch (e) {
    r.error = (e instanceof Error ? e.message : String(e)).split("\n").slice(0, 3).join(" | ");
    r.pass = false;
  }
  r.load = [load0, loadavg()[0]!];
  return r;
}

/** Runs `--child NAME` in a fresh process and reads its one JSON line. */
function inChild(
  m: BenchModel,
  runs: number,
  level: 0 | 1,
  driverCache: boolean,
): Promise<ModelResult> {
  const script = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, script, "--child", m.name, "--runs", String(runs)];
  if (level === 0) args.push("-O0");
  const cache = driverCache ? undefined : mkdtempSync(join(tmpdir(), "nnc-bench-shaders-"));
  const env = cache ? { ...process.env, MESA_SHADER_CACHE_DIR: cache } : process.env;
  return new Promise<ModelResult>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("close", (code, signal) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) return resolve(JSON.parse(line) as ModelResult);
      const why = err.split("\n").filter((l) => l.trim() && !l.startsWith("Warning:"));
      resolve({
        model: m.name,
        input: m.input,
        pass: false,
        error: `child exited ${signal ?? code}: ${why.slice(-3).join(" | ")}`,
      });
    });
  }).finally(() => {
    if (cache) rmSync(cache, { recursive: true, force: true });
  });
}

const fmt = (v: number | undefined, digits = 0) => (v === undefined ? "-" : v.toFixed(digits));
const sci = (v: number | undefined) => (v === undefined ? "-" : v.toExponential(1));

export function formatTable(rows: ModelResult[]): string {
  const head = [
    "model",
    "input",
    "GFLOPs",
    "webgpu warm ms",
    "cold ms",
    "cpu ms",
    "max abs err",
    "rel err",
    "pass",
  ];
  const body = rows.map((r) => [
    r.model,
    r.input.join("×"),
    fmt(r.gflops, 2),
    fmt(r.warmMs),
    fmt(r.coldMs),
    fmt(r.cpuMs),
    sci(r.maxAbsErr),
    sci(r.maxRelErr),
    r.error ? `FAIL: ${r.error}` : r.pass ? "yes" : `NO (${fmt(r.worstRatio, 1)}× tol)`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 || i === 8 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: "string" },
      runs: { type: "string", default: "5" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
      child: { type: "string" },
      opt: { type: "string", short: "O", default: "1" },
      "driver-cache": { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  const level = values.opt === "0" ? 0 : 1;
  if (values.child) {
    const m = benchModels.find((b) => b.name === values.child)!;
    process.stdout.write(`${JSON.stringify(await measure(m, runs, level))}\n`);
    return;
  }
  const names = values.models?.split(",").map((s) => s.trim());
  const unknown = names?.filter((n) => !benchModels.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `unknown model ${unknown.join(", ")}; models: ${benchModels.map((b) => b.name).join(", ")}`,
    );
  }
  const chosen = names ? benchModels.filter((b) => names.includes(b.name)) : benchModels;
  const adapter = await webgpuAvailable();
  await closeGpu();
  if (!adapter.ok) throw new Error(`no WebGPU adapter: ${adapter.detail}`);
  const jsonOut = values.json;
  if (!jsonOut)
    process.stderr.write(
      `adapter: ${adapter.detail}; -O${level}; ${runs} warm runs each; ${values["driver-cache"] ? "the driver's shader cache as it is" : "an empty driver shader cache per model"}\n`,
    );
  const rows: ModelResult[] = [];
  for (const m of chosen) {
    const r = await inChild(m, runs, level, values["driver-cache"]);
    rows.push(r);
    if (!jsonOut) {
      const load = r.load ? `load ${r.load[0].toFixed(1)}→${r.load[1].toFixed(1)}` : "";
      process.stderr.write(
        `${m.name}: ${r.error ? `failed: ${r.error}` : `warm ${fmt(r.warmMs)} ms, cold ${fmt(r.coldMs)} ms, cpu ${fmt(r.cpuMs)} ms, max err ${sci(r.maxAbsErr)}, ${r.pass ? "pass" : "FAIL"}`} ${load}\n`,
      );
    }
  }
  const report = {
    adapter: adapter.detail,
    optLevel: level,
    warmRunsEach: runs,
    driverShaderCache: values["driver-cache"] ? "kept" : "empty per model",
    models: rows,
  };
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(jsonOut ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(rows)}\n`);
  if (rows.some((r) => !r.pass)) process.exitCode = 1;
}

await main();
