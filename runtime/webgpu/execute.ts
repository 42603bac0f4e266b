// Runs an ExecutablePlan on WebGPU. A plan runs on one device (device-plan.ts)
// except on a software adapter, where the driver compiles each pipeline on the
// thread of its device's queue: there a plan with many distinct pipelines is
// cut into consecutive parts, one device each (split-plan.ts), so that its
// pipelines compile on as many threads as the host has cores; a value live
// across a cut is read back from one part and uploaded into the next.

import type { ExecutablePlan } from "../../compiler/codegen/plan.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { checkPlanShape, planLimits } from "./check-plan.js";
import { acquireDevice, adapterLimits, type Gpu, settle } from "./device.js";
import { DevicePlan } from "./device-plan.js";
import { pipelineKey, wgslCode } from "./pipeline-key.js";
import { chooseCuts, isCutName, splitPlan } from "./split-plan.js";

export { BufferUsage, DevicePlan } from "./device-plan.js";
export { pipelineKey, wgslCode } from "./pipeline-key.js";

/** Most devices one plan is spread over. */
export const MAX_PARTS = 4;
/** Distinct pipelines a part needs at least for a device of its own to pay. */
export const MIN_PIPELINES_PER_PART = 6;
/** What compiling a pipeline costs beyond its code's length (in characters of WGSL). */
const PIPELINE_BASE_COST = 1500;

export interface GpuPlanOptions {
  /**
   * Devices to spread the plan over: "auto" (the default) uses one on a
   * hardware adapter and, on a software one, one per core (at most
   * MAX_PARTS) as long as each gets MIN_PIPELINES_PER_PART distinct
   * pipelines; a number asks for that many (fewer where the plan has fewer
   * places to cut).
   */
  parts?: number | "auto";
}

export class GpuPlan {
  private compiling: Promise<void> | undefined;

  private constructor(
    readonly plan: ExecutablePlan,
    private readonly parts: DevicePlan[],
  ) {}

  /** The device of the first part (every part's, unless the plan is split). */
  get gpu(): Gpu {
    return this.parts[0]!.gpu;
  }

  /** How many devices the plan runs on. */
  get devices(): number {
    return this.parts.length;
  }

  /** Why a device of the plan was lost, once one is. */
  get lost(): string | undefined {
    return this.parts.find((p) => p.gpu.lost !== undefined)?.gpu.lost;
  }

  /** The consecutive parts the plan runs as (one: the plan itself). */
  get partPlans(): ExecutablePlan[] {
    return this.parts.map((p) => p.plan);
  }

  /** Checks the plan against the adapter, gets its device(s) and creates its buffers, pipelines and bind groups. */
  static async create(plan: ExecutablePlan, options: GpuPlanOptions = {}): Promise<GpuPlan> {
    const p = await GpuPlan.allocate(plan, options);
    try {
      await p.compile();
    } catch (e) {
      p.dispose();
      throw e;
    }
    return p;
  }

  /**
   * Checks the plan, gets its device(s) and creates its buffers; pipelines
   * wait for compile() (or the first run). `nnc bench` counts this and the
   * weight upload as setup, and compile() with the first run as cold.
   */
  static async allocate(plan: ExecutablePlan, options: GpuPlanOptions = {}): Promise<GpuPlan> {
    checkPlanShape(plan);
    const limits = planLimits(plan, await adapterLimits());
    const first = await acquireDevice(limits);
    const pieces = await partsOf(plan, first, options.parts ?? "auto");
    const parts: DevicePlan[] = [];
    try {
      for (const [i, piece] of pieces.entries()) {
        const part = new DevicePlan(piece, i === 0 ? first : await acquireDevice(limits, i));
        parts.push(part);
        await part.allocate();
      }
    } catch (e) {
      for (const p of parts) p.dispose();
      throw e;
    }
    return new GpuPlan(plan, parts);
  }

  /**
   * Creates every part's pipelines and bind groups. On a software adapter
   * each pipeline also gets a one-workgroup dispatch as soon as it exists,
   * so the driver compiles it meanwhile: each part's on its own thread.
   */
  compile(): Promise<void> {
    this.compiling ??= Promise.all(this.parts.map((p) => p.compile({ warm: p.gpu.software }))).then(
      () => undefined,
    );
    return this.compiling;
  }

  /** Uploads the weights, once; names must match the plan's params exactly. */
  uploadParams(params: Map<string, Tensor>): void {
    for (const p of this.parts) p.uploadParams(params);
  }

  /** Resolves when the devices have done all the work submitted so far (uploads included). */
  async idle(): Promise<void> {
    await Promise.all(this.parts.map((p) => settle(p.gpu.device.queue.onSubmittedWorkDone())));
  }

  /** One inference: inputs by name in, outputs by name out. */
  async run(inputs: Map<string, Tensor>): Promise<Map<string, Tensor>> {
    await this.compile();
    if (this.parts.length === 1) return this.parts[0]!.run(inputs);
    const carried = new Map<string, Tensor>();
    const out = new Map<string, Tensor>();
    for (const part of this.parts) {
      const got = await part.run(inputsOf(part, inputs, carried));
      for (const [name, t] of got) (isCutName(name) ? carried : out).set(name, t);
    }
    return out;
  }

  /**
   * GPU time of each dispatch in ms from timestamp queries (undefined when a
   * device has no `timestamp-query`), in the plan's dispatch order.
   */
  async profile(inputs: Map<string, Tensor>): Promise<number[] | undefined> {
    await this.compile();
    const all: number[] = [];
    for (const part of this.parts) {
      // Values carried across a cut stay in the later part's buffers from the last run.
      const ms = await part.profile(inputsOf(part, inputs, new Map()));
      if (!ms) return undefined;
      all.push(...ms);
    }
    return all;
  }

  /** Frees the plan's buffers; the devices stay for other plans (closeGpu ends them). */
  dispose(): void {
    for (const p of this.parts) p.dispose();
  }
}

function inputsOf(
  part: DevicePlan,
  inputs: Map<string, Tensor>,
  carried: Map<string, Tensor>,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const { name } of part.plan.inputs) {
    const t = isCutName(name) ? carried.get(name) : inputs.get(name);
    if (t) out.set(name, t);
  }
  return out;
}

/** The plan as the parts it runs as on `gpu`'s adapter. */
async function partsOf(
  plan: ExecutablePlan,
  gpu: Gpu,
  want: number | "auto",
): Promise<ExecutablePlan[]> {
  const keys = plan.kernels.map(pipelineKey);
  const used = new Set(plan.dispatches.map((d) => keys[d.kernel]!));
  const n =
    want === "auto"
      ? gpu.software
        ? Math.min(await hostCores(), MAX_PARTS, Math.floor(used.size / MIN_PIPELINES_PER_PART))
        : 1
      : Math.floor(want);
  if (n < 2) return [plan];
  const cost = (k: number) => PIPELINE_BASE_COST + wgslCode(plan.kernels[k]!.wgsl).length;
  const cuts = chooseCuts(plan, n, cost, (k) => keys[k]!);
  return cuts.length > 0 ? splitPlan(plan, cuts) : [plan];
}

/** The host's cores (1 where it cannot tell). */
async function hostCores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  try {
    const os = await import("node:os");
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}
