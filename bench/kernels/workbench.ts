// The loop both workbenches share: for each kernel configuration, check it
// against the CPU reference on a small shape (a wrong kernel is never timed),
// then time it on the big one; print a table and the best against naive.

import {
  type Bench,
  type Kernel,
  makeKernel,
  readBuffer,
  storageBuffer,
  table,
  timeAlternating,
  timeKernel,
} from "./harness.js";
import { type Row, summarize, writeJson } from "./report.js";

export interface Candidate {
  variant: string;
  config: string;
  outputsPerInvocation: number;
  /** Why it cannot run the timed shape, if it cannot. */
  unsupported?: string;
  /** Runs the kernel on a small shape; the shape's label and max relative error vs the CPU. */
  check(): Promise<{ shape: string; err: number } | undefined>;
  /** The kernel on the timed shape, its buffers bound. */
  build(): Promise<Kernel>;
}

export interface Options {
  title: string;
  flops: number;
  runs: number;
  filter?: string;
  json?: string;
  tolerance?: number;
}

export async function runWorkbench(
  bench: Bench,
  candidates: Candidate[],
  o: Options,
): Promise<Row[]> {
  console.log(`${o.title} on ${bench.adapter}`);
  console.log(
    `timing: ${bench.timestamps ? "GPU timestamp queries" : "host time around submit + onSubmittedWorkDone"}, one dispatch per submit; median of up to ${o.runs} warm runs\n`,
  );
  const rows: Row[] = [];
  const built = new Map<Row, Kernel>();
  for (const k of candidates) {
    const name = `${k.variant}, ${k.config}`;
    if (o.filter && !name.includes(o.filter)) continue;
    const row: Row = {
      variant: k.variant,
      config: k.config,
      outputsPerInvocation: k.outputsPerInvocation,
    };
    rows.push(row);
    try {
      if (k.unsupported) throw new Error(k.unsupported);
      const c = await k.check();
      if (!c) throw new Error("no check shape fits it");
      row.check = c.shape;
      row.maxRelError = c.err;
      if (!(c.err < (o.tolerance ?? 1e-4)))
        throw new Error(`wrong results: max rel error ${c.err.toExponential(1)}`);
      const kernel = await k.build();
      built.set(row, kernel);
      const t = await timeKernel(bench, kernel, { runs: o.runs });
      Object.assign(row, t, { gflops: o.flops / t.medianMs / 1e6 });
      console.log(`  ${name}: ${row.gflops!.toFixed(2)} GFLOP/s`);
    } catch (e) {
      row.failed = (e as Error).message.split("\n")[0];
      console.log(`  ${name}: FAILED ${row.failed}`);
    }
  }
  console.log(
    `\n${table([
      [
        "variant",
        "config",
        "out/inv",
        "check",
        "max rel err",
        "cold ms",
        "median ms",
        "runs",
        "GFLOP/s",
      ],
      ...rows.map((r) => [
        r.variant,
        r.config,
        String(r.outputsPerInvocation),
        r.check ?? "-",
        r.maxRelError?.toExponential(1) ?? "-",
        r.coldMs?.toFixed(0) ?? "-",
        r.medianMs?.toFixed(1) ?? "-",
        r.runs !== undefined ? String(r.runs) : "-",
        r.gflops?.toFixed(2) ?? (r.failed ? `FAILED: ${r.failed}` : "-"),
      ]),
    ])}`,
  );
  console.log(`\n${summarize(rows, "naive")}`);
  const headToHead = await rematch(bench, rows, built, o);
  if (o.json)
    writeJson(o.json, {
      title: o.title,
      adapter: bench.adapter,
      timestamps: bench.timestamps,
      rows,
      headToHead,
    });
  return rows;
}

/** The best kernel and the best naive one again, in alternating runs, so host noise hits both alike. */
async function rematch(bench: Bench, rows: Row[], built: Map<Row, Kernel>, o: Options) {
  const timed = rows.filter((r) => r.gflops !== undefined).sort((x, y) => y.gflops! - x.gflops!);
  const best = timed[0];
  const naive = timed.find((r) => r.variant === "naive");
  if (!best || !naive || best === naive) return undefined;
  const [b, n] = await timeAlternating(
    bench,
    [built.get(best)!, built.get(naive)!],
    Math.min(o.runs, 5),
  );
  const gf = (ms: number) => o.flops / ms / 1e6;
  const result = {
    best: { variant: best.variant, config: best.config, ms: b!, gflops: gf(b!) },
    naive: { variant: naive.variant, config: naive.config, ms: n!, gflops: gf(n!) },
  };
  console.log(
    `head to head (alternating runs): ${best.variant}, ${best.config} ${gf(b!).toFixed(2)} GFLOP/s vs naive, ${naive.config} ${gf(n!).toFixed(2)} GFLOP/s = ${(n! / b!).toFixed(1)}x\n`,
  );
  return result;
}

/** Dispatches `k` once and waits for it (for the correctness check). */
export function dispatchOnce(device: GPUDevice, k: Kernel): void {
  const enc = device.createCommandEncoder();
  const p = enc.beginComputePass();
  p.setPipeline(k.pipeline);
  p.setBindGroup(0, k.bindGroup);
  p.dispatchWorkgroups(...k.grid);
  p.end();
  device.queue.submit([enc.finish()]);
}

/**
 * Runs `wgsl` once on fresh buffers (the inputs, then an output of `out`
 * floats, bound in that order) and returns the output: the correctness check
 * of the workbenches and of their test.
 */
export async function runOnce(
  device: GPUDevice,
  wgsl: string,
  inputs: Float32Array[],
  out: number,
  grid: [number, number, number],
): Promise<Float32Array> {
  const bufs = [...inputs.map((d) => storageBuffer(device, d)), storageBuffer(device, out)];
  dispatchOnce(device, await makeKernel(device, wgsl, bufs, grid));
  const got = await readBuffer(device, bufs[bufs.length - 1]!);
  for (const b of bufs) b.destroy();
  return got;
}
