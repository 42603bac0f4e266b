// The workbench's GPU side: one device with the adapter's full limits (and
// timestamp queries where the adapter has them), buffers, and a timer that
// runs one kernel dispatch per submit and reports the median. Kept apart from
// runtime/webgpu on purpose: the workbench measures kernels, not the runtime.

export interface Bench {
  /** Dawn's GPU object, held as long as the device: if it is collected the process aborts. */
  gpu: GPU;
  device: GPUDevice;
  adapter: string;
  timestamps: boolean;
  close(): void;
}

// WebGPU's flag values, so no GPU* globals are needed.
const STORAGE = 0x80;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const MAP_READ = 0x1;
const QUERY_RESOLVE = 0x200;

export async function openBench(): Promise<Bench> {
  process.env.XDG_RUNTIME_DIR ??= "/tmp";
  const { create } = (await import("webgpu")) as { create(flags: string[]): GPU };
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter)
    throw new Error(
      "no WebGPU adapter (on Debian 12 without a GPU: bash scripts/install-vulkan.sh)",
    );
  const l = adapter.limits;
  const timestamps = adapter.features.has("timestamp-query");
  const device = await adapter.requestDevice({
    requiredFeatures: timestamps ? ["timestamp-query"] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    },
  });
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(" / ");
  return {
    gpu,
    device,
    adapter: name,
    timestamps,
    close() {
      device.destroy();
    },
  };
}

export function storageBuffer(device: GPUDevice, data: Float32Array | number): GPUBuffer {
  const bytes = typeof data === "number" ? data * 4 : data.byteLength;
  const buf = device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
  if (typeof data !== "number") device.queue.writeBuffer(buf, 0, data);
  return buf;
}

export async function readBuffer(device: GPUDevice, src: GPUBuffer): Promise<Float32Array> {
  const rb = device.createBuffer({ size: src.size, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, rb, 0, src.size);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(1);
  const out = new Float32Array(rb.getMappedRange().slice(0));
  rb.unmap();
  rb.destroy();
  return out;
}

export interface Kernel {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: [number, number, number];
}

/** Compiles `wgsl` and binds `buffers` to @binding(0..); throws with the WGSL error if it fails. */
export async function makeKernel(
  device: GPUDevice,
  wgsl: string,
  buffers: GPUBuffer[],
  grid: [number, number, number],
): Promise<Kernel> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: wgsl });
  const info = await module.getCompilationInfo();
  const err = info.messages.find((m) => m.type === "error");
  if (err) {
    await device.popErrorScope();
    const line = wgsl.split("\n")[err.lineNum - 1]?.trim();
    throw new Error(`WGSL ${err.lineNum}:${err.linePos}: ${err.message} (${line})`);
  }
  const pipeline = await device.createComputePipelineAsync({
    layout: "auto",
    compute: { module, entryPoint: "main" },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const e = await device.popErrorScope();
  if (e) throw new Error(e.message);
  for (const g of grid)
    if (g > device.limits.maxComputeWorkgroupsPerDimension)
      throw new Error(`grid [${grid.join(", ")}] is past maxComputeWorkgroupsPerDimension`);
  return { pipeline, bindGroup, grid };
}

export interface Timing {
  /** The first dispatch: lavapipe compiles the pipeline with LLVM here. */
  coldMs: number;
  /** Median of the timed runs: GPU timestamps when available, else host time. */
  medianMs: number;
  hostMedianMs: number;
  runs: number;
  source: "timestamps" | "host";
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs `k` once per submit and returns host and (where available) GPU milliseconds. */
function runner(bench: Bench, k: Kernel) {
  const { device, timestamps } = bench;
  const query = timestamps ? device.createQuerySet({ type: "timestamp", count: 2 }) : undefined;
  const resolved = timestamps
    ? device.createBuffer({ size: 16, usage: QUERY_RESOLVE | COPY_SRC })
    : undefined;
  const readback = timestamps
    ? device.createBuffer({ size: 16, usage: MAP_READ | COPY_DST })
    : undefined;
  const once = async (): Promise<{ host: number; gpu: number | undefined }> => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass(
      query
        ? {
            timestampWrites: {
              querySet: query,
              beginningOfPassWriteIndex: 0,
              endOfPassWriteIndex: 1,
            },
          }
        : {},
    );
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, k.bindGroup);
    pass.dispatchWorkgroups(...k.grid);
    pass.end();
    if (query && resolved && readback) {
      enc.resolveQuerySet(query, 0, 2, resolved, 0);
      enc.copyBufferToBuffer(resolved, 0, readback, 0, 16);
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const host = performance.now() - t0;
    if (!readback) return { host, gpu: undefined };
    await readback.mapAsync(1);
    const [a, b] = new BigUint64Array(readback.getMappedRange());
    const gpu = Number(b! - a!) / 1e6;
    readback.unmap();
    return { host, gpu: gpu > 0 ? gpu : undefined };
  };
  const done = () => {
    query?.destroy();
    resolved?.destroy();
    readback?.destroy();
  };
  return { once, done };
}

/**
 * Times one dispatch of `k`: a cold run, one warm-up, then `runs` timed
 * submits (fewer when one run takes longer than `budgetMs` / runs).
 */
export async function timeKernel(
  bench: Bench,
  k: Kernel,
  { runs = 7, budgetMs = 20_000 } = {},
): Promise<Timing> {
  const { once, done } = runner(bench, k);
  const cold = await once();
  const warm = await once();
  const n = Math.max(3, Math.min(runs, Math.floor(budgetMs / Math.max(warm.host, 1))));
  const host: number[] = [];
  const gpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await once();
    host.push(r.host);
    if (r.gpu !== undefined) gpu.push(r.gpu);
  }
  done();
  const useGpu = gpu.length === n;
  return {
    coldMs: cold.host,
    medianMs: useGpu ? median(gpu) : median(host),
    hostMedianMs: median(host),
    runs: n,
    source: useGpu ? "timestamps" : "host",
  };
}

/**
 * Times kernels in turn (A B A B …, `runs` rounds) so that both see the same
 * host noise: the fair way to compare two kernels on a busy machine.
 */
export async function timeAlternating(
  bench: Bench,
  kernels: Kernel[],
  runs = 5,
): Promise<number[]> {
  const rs = kernels.map((k) => runner(bench, k));
  for (const r of rs) await r.once();
  const times: number[][] = kernels.map(() => []);
  for (let i = 0; i < runs; i++)
    for (const [j, r] of rs.entries()) {
      const t = await r.once();
      times[j]!.push(t.gpu ?? t.host);
    }
  for (const r of rs) r.done();
  return times.map(median);
}

/** Deterministic values in [-1, 1) (xorshift32), the same on every run. */
export function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

/** max |got − want| / (1 + |want|) over all elements. */
export function maxRelError(got: Float32Array, want: Float64Array | Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
  }
  return worst;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join("  "),
    )
    .join("\n");
}
