// `nnc bench`: what the optimizer buys on the adapter at hand. Compiles the
// model (timed in process, source to WGSL), opens a WebGPU session on it
// (device, buffers, weight upload: "setup", as the peer runtimes count session
// creation; reading the weights is not counted), runs it cold (pipeline creation and the driver's compiling
// included) and warm (the median of N runs after warm-ups), each run timed
// host to host (input upload, dispatches, readback), and times every kernel
// with timestamp queries where the adapter has them.
// With `--compare O0` the unoptimized plan runs in the same process, its runs
// alternating with the optimized ones, and the ratio is reported.

import { memoryReport } from "../codegen/plan-memory.js";
import {
  type CompiledModel,
  type CompileOptions,
  compile,
  type Source,
  shapesOf,
} from "../compile.js";
import type { Tensor } from "../core/tensor.js";
import type { OptimizeOptions } from "../pipeline/index.js";
import type { Weights } from "../run.js";
import type { Session } from "../session.js";
import { describeTarget } from "../target/target.js";

export interface BenchOptions {
  source: Source;
  compile: CompileOptions;
  /** Inputs given on the command line; the rest are seeded at the entry's declared shape. */
  inputs: Map<string, Tensor>;
  /** Makes a seeded input for an input left out (shape as the entry declares it). */
  seed: (name: string, shape: number[], dtype: string) => Tensor;
  weights: Weights;
  runs: number;
  /** `--compare O0`: the unoptimized plan alongside. */
  compare?: OptimizeOptions;
  /** Progress lines (stderr). */
  note?: (text: string) => void;
}

export interface KernelTime {
  kernel: string;
  /** GPU time summed over the kernel's dispatches in one forward pass. */
  ms: number;
  dispatches: number;
}

/** One plan's numbers; the field names are what outside checks read from `--json`. */
export interface BenchNumbers {
  graph_ops: number;
  kernels: number;
  dispatches: number;
  /** Activation memory a run needs with the memory plan (its slots). */
  peak_activation_bytes: number;
  /** Every computed buffer on its own: what no planning would allocate. */
  activation_bytes: number;
  /** Source → WGSL in process, warm (the median of 3 after a first, cold compile). */
  compile_ms: number;
  compile_cold_ms: number;
  /** Getting the device(s), allocating the buffers and uploading the weights (until the queue is idle). */
  setup_ms: number;
  /** Pipeline creation and the first run: lavapipe compiles every pipeline there. */
  cold_ms: number;
  /** Devices the plan runs on (a software adapter compiles on one thread per device). */
  devices: number;
  /** Median of `runs` host-to-host runs after warm-ups. */
  warm_ms: number;
  warm_min_ms: number;
  runs: number;
  flops: number;
  gflops: number;
  /** Per kernel (timestamp queries), slowest first; absent without `timestamp-query`. */
  kernel_times?: KernelTime[];
  /** The sum of kernel_times: GPU time without host overheads. */
  gpu_ms?: number;
}

export interface BenchResult extends BenchNumbers {
  entry: string;
  inputs: Record<string, number[]>;
  adapter: string;
  /** The target the plan was compiled for: name, adapter class, adapter. */
  target: string;
  optimize: string;
  baseline?: BenchNumbers & { optimize: string };
  /** baseline.warm_ms / warm_ms. */
  speedup?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const now = () => performance.now();

interface Prepared {
  model: CompiledModel;
  numbers: Omit<
    BenchNumbers,
    "setup_ms" | "cold_ms" | "devices" | "warm_ms" | "warm_min_ms" | "gflops" | "runs"
  >;
  session: Session;
  setup_ms: number;
  cold_ms: number;
}

function describe(o: OptimizeOptions | undefined): string {
  if (o?.level === 0) return "-O0";
  const off = o?.disable ?? [];
  return off.length > 0 ? `-O1 ${off.map((p) => `--disable-pass ${p}`).join(" ")}` : "-O1";
}

/** Compiles (timed), builds the plan on the device and runs it once (cold). */
async function prepare(
  o: BenchOptions,
  optimize: OptimizeOptions | undefined,
  inputs: Map<string, Tensor>,
): Promise<Prepared> {
  const shapes = shapesOf(inputs);
  const compileOnce = () => {
    const t0 = now();
    const model = compile(o.source, {
      ...o.compile,
      inputs: shapes,
      ...(optimize ? { optimize } : {}),
    });
    const plan = model.plan(shapes);
    return { model, plan, ms: now() - t0 };
  };
  const first = compileOnce();
  const again = [compileOnce(), compileOnce(), compileOnce()];
  const { model, plan } = again[again.length - 1]!;
  const graph = model.optimized(shapes);
  const mem = memoryReport(plan);
  // The session takes the plan from the model's cache: the one just timed.
  const session = await model.session({ inputs: shapes, backend: "webgpu", weights: o.weights });
  const t1 = now();
  await session.warm();
  await session.run(inputs);
  const cold_ms = now() - t1;
  return {
    model,
    session,
    setup_ms: session.setupMs,
    cold_ms,
    numbers: {
      graph_ops: graph.nodes.filter((n) => !["input", "param", "const"].includes(n.op)).length,
      kernels: plan.kernels.length,
      dispatches: plan.dispatches.length,
      peak_activation_bytes: mem.peakActivationBytes,
      activation_bytes: mem.activationBytes,
      compile_ms: median(again.map((c) => c.ms)),
      compile_cold_ms: first.ms,
      flops: model.summary(shapes).flops,
    },
  };
}

/** Per-kernel GPU time of one forward pass, from a few profiled runs (the median per dispatch). */
async function kernelTimes(p: Prepared, inputs: Map<string, Tensor>) {
  const samples: number[][] = [];
  for (let i = 0; i < 3; i++) {
    const ms = await p.session.profile(inputs);
    if (!ms) return undefined;
    samples.push(ms);
  }
  const plan = p.session.plan!;
  const byKernel = new Map<number, KernelTime>();
  plan.dispatches.forEach((d, i) => {
    const k = byKernel.get(d.kernel) ?? {
      kernel: plan.kernels[d.kernel]!.name,
      ms: 0,
      dispatches: 0,
    };
    k.ms += median(samples.map((s) => s[i]!));
    k.dispatches++;
    byKernel.set(d.kernel, k);
  });
  const list = [...byKernel.values()].sort((a, b) => b.ms - a.ms);
  return { list, total: list.reduce((a, k) => a + k.ms, 0) };
}

function finish(p: Prepared, runs: number[], times?: { list: KernelTime[]; total: number }) {
  const warm = median(runs);
  return {
    ...p.numbers,
    setup_ms: p.setup_ms,
    cold_ms: p.cold_ms,
    devices: p.session.devices,
    warm_ms: warm,
    warm_min_ms: Math.min(...runs),
    runs: runs.length,
    gflops: warm > 0 ? p.numbers.flops / (warm * 1e6) : 0,
    ...(times ? { kernel_times: times.list, gpu_ms: times.total } : {}),
  };
}

export async function bench(o: BenchOptions): Promise<BenchResult> {
  const note = o.note ?? (() => {});
  // Inputs left out are seeded at the shapes the entry declares.
  const inputs = new Map(o.inputs);
  const probe = compile(o.source, { ...o.compile, inputs: shapesOf(inputs) });
  for (const gi of probe.elaborate(shapesOf(inputs)).graph.inputs) {
    if (!inputs.has(gi.name)) inputs.set(gi.name, o.seed(gi.name, gi.type.shape, gi.type.dtype));
  }
  note(`compiling ${probe.entryName} (${describe(o.compile.optimize)})`);
  const main = await prepare(o, o.compile.optimize, inputs);
  const base = o.compare ? await prepareBaseline(o, inputs, note) : undefined;
  const warmups = 2;
  note(`timing ${o.runs} runs${base ? " of each, alternating" : ""}`);
  for (let i = 0; i < warmups; i++) {
    await main.session.run(inputs);
    if (base) await base.session.run(inputs);
  }
  const mainRuns: number[] = [];
  const baseRuns: number[] = [];
  const timed = async (p: Prepared, into: number[]) => {
    const t0 = now();
    await p.session.run(inputs);
    into.push(now() - t0);
  };
  for (let i = 0; i < o.runs; i++) {
    // Alternate which goes first, so drifts in the host's load hit both alike.
    if (base && i % 2 === 1) await timed(base, baseRuns);
    await timed(main, mainRuns);
    if (base && i % 2 === 0) await timed(base, baseRuns);
  }
  const mainTimes = await kernelTimes(main, inputs);
  const baseTimes = base ? await kernelTimes(base, inputs) : undefined;
  const result: BenchResult = {
    entry: main.model.entryName,
    inputs: Object.fromEntries([...inputs].map(([k, t]) => [k, t.shape])),
    adapter: main.session.adapter!,
    target: describeTarget(main.model.target),
    optimize: describe(o.compile.optimize),
    ...finish(main, mainRuns, mainTimes),
  };
  if (base) {
    const b = finish(base, baseRuns, baseTimes);
    result.baseline = { ...b, optimize: describe(o.compare) };
    result.speedup = result.warm_ms > 0 ? b.warm_ms / result.warm_ms : 0;
  }
  main.session.dispose();
  base?.session.dispose();
  return result;
}

async function prepareBaseline(
  o: BenchOptions,
  inputs: Map<string, Tensor>,
  note: (text: string) => void,
): Promise<Prepared> {
  note(`compiling the baseline (${describe(o.compare)})`);
  return prepare(o, o.compare, inputs);
}

// ---------------------------------------------------------------- text

const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function rows(n: BenchNumbers): [string, string][] {
  return [
    ["graph ops", String(n.graph_ops)],
    ["kernels", String(n.kernels)],
    ["dispatches / forward", String(n.dispatches)],
    [
      "peak activations",
      `${mib(n.peak_activation_bytes)} (unplanned ${mib(n.activation_bytes)}, ${((100 * n.peak_activation_bytes) / Math.max(1, n.activation_bytes)).toFixed(0)}%)`,
    ],
    ["compile (source → WGSL)", `${ms(n.compile_ms)} ms warm, ${ms(n.compile_cold_ms)} ms first`],
    [
      "setup",
      `${ms(n.setup_ms)} ms (device${n.devices > 1 ? `s: ${n.devices}` : ""}, buffers, weight upload)`,
    ],
    ["cold first run", `${ms(n.cold_ms)} ms (pipelines included)`],
    ["warm run", `${ms(n.warm_ms)} ms median of ${n.runs} (min ${ms(n.warm_min_ms)})`],
    ["throughput", `${n.gflops.toFixed(2)} GFLOP/s (${(n.flops / 1e9).toFixed(3)} GFLOP)`],
    ...(n.gpu_ms !== undefined
      ? ([["GPU time (timestamps)", `${ms(n.gpu_ms)} ms`]] as [string, string][])
      : []),
  ];
}

export function formatBench(r: BenchResult, top = 10): string {
  const head = `${r.entry} ${Object.entries(r.inputs)
    .map(([k, s]) => `${k}=${s.join("x")}`)
    .join(" ")} on ${r.adapter}`;
  const main = rows(r);
  const lines = [head, `compiled for --target ${r.target}`, ""];
  if (r.baseline) {
    const base = rows(r.baseline);
    const w = Math.max(...main.map(([k]) => k.length));
    const v = Math.max(r.optimize.length, ...main.map(([, x]) => x.length));
    lines.push(`${"".padEnd(w)}  ${r.optimize.padEnd(v)}  ${r.baseline.optimize}`);
    main.forEach(([k, x], i) => {
      lines.push(`${k.padEnd(w)}  ${x.padEnd(v)}  ${base[i]?.[1] ?? ""}`);
    });
    lines.push(
      "",
      `speedup over ${r.baseline.optimize}: ${r.speedup!.toFixed(2)}× (warm, same process, alternating runs)`,
    );
  } else {
    const w = Math.max(...main.map(([k]) => k.length));
    for (const [k, x] of main) lines.push(`${k.padEnd(w)}  ${x}`);
  }
  if (r.kernel_times && r.kernel_times.length > 0) {
    const total = r.gpu_ms ?? 0;
    lines.push("", `slowest kernels (${r.optimize}, GPU time per forward):`);
    for (const k of r.kernel_times.slice(0, top)) {
      const share = total > 0 ? ((100 * k.ms) / total).toFixed(1) : "0";
      const times = k.dispatches > 1 ? ` ×${k.dispatches}` : "";
      lines.push(`  ${ms(k.ms).padStart(8)} ms ${share.padStart(5)}%  ${k.kernel}${times}`);
    }
  } else {
    lines.push("", "(no per-kernel times: the adapter has no timestamp-query)");
  }
  return lines.join("\n");
}
