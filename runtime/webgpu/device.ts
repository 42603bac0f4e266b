// The process's WebGPU device: the adapter from `navigator.gpu` (browsers) or
// Dawn's Node bindings (npm `webgpu`), a device with exactly the limits the
// plans need, and errors from the device turned into NncErrors. closeGpu()
// tears it all down so a CLI process can exit.

import { diagnostic, NncError } from "../../compiler/core/diagnostics.js";
import type { AdapterFacts } from "../../compiler/target/target.js";
import { type LimitName, limitDefaults, limitNames } from "./limits.js";

/** What `nnc` prints when there is no adapter. */
export const installHint =
  "on Debian 12 without a GPU: bash scripts/install-vulkan.sh (Mesa lavapipe from bookworm-backports)";

export type Limits = Partial<Record<LimitName, number>>;

/** One device and what lives on it for its lifetime. */
export class Gpu {
  /** Pipelines by WGSL code (comments aside), entry point and binding layout: identical kernels share one. */
  readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  /** Pipelines already dispatched once on this device (so compiled, where the driver waits for that). */
  readonly warmed = new WeakSet<GPUComputePipeline>();
  /** The reason the device was lost, once it is. */
  lost: string | undefined;
  /** Errors no error scope caught; the next run reports them. */
  readonly uncaptured: string[] = [];
  /** The kernel being created or run, for errors that arrive without one. */
  current: string | undefined;
  private destroyed = false;
  /** GpuPlans alive on this device; a superseded device is destroyed when the last goes. */
  users = 0;
  superseded = false;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: string,
    /** The limits asked for (those above the defaults). */
    readonly requested: Limits,
    /**
     * A software adapter (WebGPU's fallback adapter: lavapipe, SwiftShader):
     * the CPU runs the kernels and compiles each pipeline, lavapipe at its
     * first dispatch, on the one thread of the device's queue.
     */
    readonly software = false,
  ) {
    device.addEventListener("uncapturederror", (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.uncaptured.push(
        `${e.message.trim()}${this.current ? ` (while working on ${this.current})` : ""}`,
      );
    });
    void device.lost.then((info) => {
      this.lost ??= `${info.reason}: ${info.message || "no message"}`;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws NN7003 when the device is gone or reported an error outside any scope. */
  checkHealthy(what: string): void {
    if (this.lost !== undefined)
      throw new NncError(
        diagnostic(
          "NN7003",
          `the WebGPU device was lost (${this.lost}) before ${what}`,
          undefined,
          {
            hint: "a lost device does not come back: compile and run the model again",
          },
        ),
      );
    if (this.uncaptured.length > 0) {
      const errs = this.uncaptured.splice(0);
      throw new NncError(errs.map((m) => diagnostic("NN7003", `WebGPU error: ${m}`)));
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.lost ??= "the device was closed (closeGpu)";
    this.pipelines.clear();
    this.device.destroy();
  }
}

interface AdapterState {
  /** Held for the life of the process's devices: if Dawn's GPU object is collected, the process aborts. */
  gpu: GPU;
  adapter: GPUAdapter;
  description: string;
  /** An adapter hands out one device; the next one needs a fresh adapter. */
  consumed: boolean;
  software: boolean;
}

let adapterPromise: Promise<AdapterState | string> | undefined;
let dawnInstance: GPU | undefined;
/** Set once the adapter comes from Dawn's Node bindings (npm `webgpu`), which poll while they wait. */
let pollingBindings = false;

/** Waits shorter than this are left to Dawn's own polling: they stay as fast as they are. */
const SPIN_MS = 0.5;
/** The longest the thread sleeps between two looks at the device. */
const MAX_SLICE_MS = 2;
const sleepCell =
  typeof SharedArrayBuffer === "function" ? new Int32Array(new SharedArrayBuffer(4)) : undefined;

/**
 * Awaits a promise of the WebGPU device (a readback, a pipeline, an error
 * scope) without keeping a core busy. Dawn's Node bindings deliver their
 * callbacks by polling the device from a setImmediate loop for as long as any
 * promise is pending, so the main thread spins for the whole wait: on a CPU
 * adapter (lavapipe) that is one of the cores its JIT compiler and compute
 * threads need. Past the first half millisecond the thread sleeps between
 * polls instead, for at most 1/8 of the time waited so far (and 2 ms), so a
 * wait ends at most ~12 % (2 ms) after the work does. Elsewhere (browsers,
 * other bindings) the promise is returned as it is.
 */
export function settle<T>(p: Promise<T>): Promise<T> {
  if (!pollingBindings || !sleepCell) return p;
  return (async () => {
    let done = false;
    const mark = () => {
      done = true;
    };
    p.then(mark, mark);
    const start = performance.now();
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (done) return p;
      const waited = performance.now() - start;
      if (waited > SPIN_MS) Atomics.wait(sleepCell, 0, 0, Math.min(MAX_SLICE_MS, waited / 8));
    }
  })();
}

/** The shared device of each lane (lane 0: every plan's; lanes 1…: the later parts of split plans). */
const shared = new Map<number, Gpu>();
const devices = new Set<Gpu>();

async function findAdapter(): Promise<AdapterState | string> {
  let gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    // Mesa complains on every call when XDG_RUNTIME_DIR is unset.
    if (typeof process !== "undefined" && !process.env.XDG_RUNTIME_DIR)
      process.env.XDG_RUNTIME_DIR = "/tmp";
    try {
      const dawn = (await import("webgpu")) as { create(flags: string[]): GPU };
      // One Dawn instance for the life of the process: Dawn prints its
      // limit-clamping warnings (maxDynamic*BuffersPerPipelineLayout) from native
      // code each time an instance discovers the adapter, so a fresh instance
      // per closeGpu() printed them again on every run. A bare instance does not
      // keep the process alive; its devices do, and closeGpu() destroys those.
      dawnInstance ??= dawn.create([]);
      gpu = dawnInstance;
      pollingBindings = true;
    } catch (e) {
      return `Dawn's Node bindings (npm webgpu) did not load: ${(e as Error).message.split("\n")[0]}`;
    }
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return `requestAdapter() failed: ${(e as Error).message.split("\n")[0]}`;
  }
  if (!adapter) return "requestAdapter() returned null: no Vulkan/Metal/D3D12 driver Dawn accepts";
  const info = adapter.info;
  const description =
    [info.vendor, info.architecture, info.description].filter(Boolean).join(" / ") ||
    "unnamed adapter";
  const software = info.isFallbackAdapter === true || info.architecture === "software";
  return { gpu, adapter, description, consumed: false, software };
}

function adapterState(): Promise<AdapterState | string> {
  adapterPromise ??= findAdapter();
  return adapterPromise;
}

/** Whether this process can get a WebGPU adapter; `detail` is its description or why not. */
export async function webgpuAvailable(): Promise<{ ok: boolean; detail: string }> {
  const s = await adapterState();
  return typeof s === "string" ? { ok: false, detail: s } : { ok: true, detail: s.description };
}

/**
 * What the compiler's Target model needs of this process's adapter
 * (targetFromAdapter): its info, optional features and limits; or why there
 * is no adapter.
 */
export async function adapterFacts(): Promise<AdapterFacts | string> {
  const s = await adapterState();
  if (typeof s === "string") return s;
  const info = s.adapter.info;
  const limits: Partial<Record<string, number>> = {};
  for (const k of limitNames) limits[k] = s.adapter.limits[k] as number;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    isFallbackAdapter: s.software,
    features: [...s.adapter.features] as string[],
    limits,
  };
}

function noAdapter(why: string): NncError {
  return new NncError(
    diagnostic("NN7002", `no WebGPU adapter (${why})`, undefined, {
      hint: `${installHint}, or run with --backend cpu`,
    }),
  );
}

/** The adapter's limits, to check a plan against before asking for a device. */
export async function adapterLimits(): Promise<GPUSupportedLimits> {
  const s = await adapterState();
  if (typeof s === "string") throw noAdapter(s);
  return s.adapter.limits;
}

function satisfies(have: Limits, want: Limits): boolean {
  return (Object.keys(want) as LimitName[]).every(
    (k) => (have[k] ?? limitDefaults[k]) >= (want[k] ?? 0),
  );
}

/**
 * The shared device of a lane, created on first use with the limits asked
 * for. A later plan that needs more gets a new device asking for both; plans
 * already built keep theirs until they are disposed. Lanes are independent
 * devices of the same adapter: a split plan runs its parts on lanes 0, 1, …
 */
export function acquireDevice(want: Limits, lane = 0): Promise<Gpu> {
  // One at a time: two plans asking at once must not each make (and then
  // supersede) a device.
  const next = acquiring.then(
    () => deviceFor(want, lane),
    () => deviceFor(want, lane),
  );
  acquiring = next;
  return next;
}

let acquiring: Promise<unknown> = Promise.resolve();

async function deviceFor(want: Limits, lane: number): Promise<Gpu> {
  const current = shared.get(lane);
  if (current && current.lost === undefined && satisfies(current.requested, want)) return current;
  const s = await adapterState();
  if (typeof s === "string") throw noAdapter(s);
  const requested: Limits = { ...(current?.lost === undefined ? current?.requested : {}) };
  for (const [k, v] of Object.entries(want) as [LimitName, number][]) {
    if (v > (requested[k] ?? limitDefaults[k])) requested[k] = v;
  }
  const over = (Object.entries(requested) as [LimitName, number][]).filter(
    ([k, v]) => v > (s.adapter.limits[k] as number),
  );
  if (over.length > 0)
    throw new NncError(
      over.map(([k, v]) =>
        diagnostic(
          "NN7002",
          `the plan needs ${k} = ${v}, but this adapter (${s.description}) allows ${s.adapter.limits[k]}`,
        ),
      ),
    );
  // An adapter that has handed out a device is "consumed" (WebGPU spec); a
  // fresh one from the same GPU object gives the next.
  let adapter = s.adapter;
  if (s.consumed) {
    const again = await s.gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!again) throw noAdapter("requestAdapter() returned null on the second request");
    adapter = again;
  }
  let device: GPUDevice;
  try {
    // Timestamp queries where the adapter has them: `nnc bench` times each kernel with them.
    const features: GPUFeatureName[] = adapter.features.has("timestamp-query")
      ? ["timestamp-query"]
      : [];
    device = await adapter.requestDevice({
      requiredLimits: requested as Record<string, number>,
      requiredFeatures: features,
      label: "nnc",
    });
  } catch (e) {
    throw new NncError(
      diagnostic("NN7002", `requestDevice() failed on ${s.description}: ${(e as Error).message}`),
    );
  }
  s.consumed = true;
  const gpu = new Gpu(device, s.description, requested, s.software);
  devices.add(gpu);
  if (current) {
    current.superseded = true;
    if (current.users === 0) release(current);
  }
  shared.set(lane, gpu);
  return gpu;
}

/** A GpuPlan is done with its device. */
export function releaseDevice(gpu: Gpu): void {
  gpu.users--;
  if (gpu.superseded && gpu.users <= 0) release(gpu);
}

function release(gpu: Gpu): void {
  gpu.destroy();
  devices.delete(gpu);
}

/**
 * Destroys every device and forgets the adapter, so nothing of Dawn's keeps the
 * process alive. Plans built before are unusable afterwards; a later
 * acquireDevice() starts over.
 */
export async function closeGpu(): Promise<void> {
  for (const g of devices) g.destroy();
  devices.clear();
  shared.clear();
  if (adapterPromise) {
    await adapterPromise.catch(() => undefined);
    adapterPromise = undefined;
  }
  // Let Dawn deliver the `lost` callbacks of the destroyed devices before the
  // GPU object becomes collectable.
  await new Promise((r) => setTimeout(r, 0));
}

/** Whether a device is open (for tests and the CLI). */
export function gpuOpen(): boolean {
  return devices.size > 0;
}
