// One executable plan (or one part of a split plan) on one WebGPU device.
// Everything that can be made once is made once (buffers and constants by
// allocate(), pipelines and bind groups by compile(), weights by
// uploadParams()); a run writes the inputs, encodes every dispatch and the
// output copies in one command encoder, submits once and maps the results.

import type { BufferSpec, ExecutablePlan, KernelSpec } from "../../compiler/codegen/plan.js";
import { diagnostic, NncError } from "../../compiler/core/diagnostics.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { formatType, numel } from "../../compiler/core/types.js";
import { describeKernel } from "./check-plan.js";
import { deviceBytes, hostTensor } from "./convert.js";
import { type Gpu, releaseDevice, settle } from "./device.js";
import { pipelineKey } from "./pipeline-key.js";

// WebGPU's flag values (the spec fixes them), so no GPU* globals are needed in Node.
export const BufferUsage = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
} as const;
const MAP_READ_MODE = 0x1;
const COMPUTE_STAGE = 0x4;

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Where an output lands in the staging buffers. */
interface Readback {
  name: string;
  spec: BufferSpec;
  staging: number;
  offset: number;
  bytes: number;
}

function deviceError(message: string, hint?: string): NncError {
  return new NncError(diagnostic("NN7003", message, undefined, hint ? { hint } : {}));
}

/**
 * Pops `n` error scopes. The pops are issued synchronously (they must be, to
 * match their pushes while other plans or kernels are being built
 * concurrently); only their results are awaited.
 */
async function popScopes(device: GPUDevice, n: number): Promise<string[]> {
  const pops = Array.from({ length: n }, () => device.popErrorScope());
  const errors = await settle(Promise.all(pops));
  return errors.flatMap((e) => (e ? [e.message.trim()] : []));
}

function pushScopes(device: GPUDevice): number {
  device.pushErrorScope("internal");
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  return 3;
}

const bindingType = (access: KernelSpec["bindings"][number]["access"]): GPUBufferBindingType =>
  access === "uniform" ? "uniform" : access === "read" ? "read-only-storage" : "storage";

export class DevicePlan {
  private readonly buffers = new Map<number, GPUBuffer>();
  private readonly kernels: Compiled[] = [];
  private readonly bindGroups: GPUBindGroup[] = [];
  private readonly staging: GPUBuffer[] = [];
  private readonly readbacks: Readback[] = [];
  private paramsUploaded = false;
  private disposed = false;
  /** Runs one at a time: they share the staging buffers. */
  private last: Promise<unknown> = Promise.resolve();

  private compiling: Promise<void> | undefined;

  /** The plan on `gpu`, which it holds until dispose(); nothing is created before allocate(). */
  constructor(
    readonly plan: ExecutablePlan,
    readonly gpu: Gpu,
  ) {
    gpu.users++;
  }

  private get device(): GPUDevice {
    return this.gpu.device;
  }

  /** Creates the plan's buffers (memory-planned slots shared), its constants and the readback buffers. */
  async allocate(): Promise<void> {
    this.gpu.checkHealthy("building the plan");
    const { plan, device } = this;
    const uniform = new Set<number>();
    for (const d of plan.dispatches) {
      const k = plan.kernels[d.kernel]!;
      k.bindings.forEach((b, j) => {
        if (b.access === "uniform") uniform.add(d.buffers[j]!);
      });
    }
    // Planned buffers (plan-memory.ts) share one allocation per slot, as large as its largest.
    const slotBytes = new Map<number, number>();
    for (const spec of plan.buffers)
      if (spec.slot !== undefined)
        slotBytes.set(spec.slot, Math.max(slotBytes.get(spec.slot) ?? 4, spec.bytes));
    const slots = new Map<number, GPUBuffer>();
    const n = pushScopes(device);
    for (const spec of plan.buffers) {
      const shared = spec.slot === undefined ? undefined : slots.get(spec.slot);
      if (shared) {
        this.buffers.set(spec.id, shared);
        continue;
      }
      const usage =
        BufferUsage.STORAGE |
        BufferUsage.COPY_SRC |
        BufferUsage.COPY_DST |
        (uniform.has(spec.id) ? BufferUsage.UNIFORM : 0);
      const size = spec.slot === undefined ? spec.bytes : slotBytes.get(spec.slot)!;
      const label = spec.slot === undefined ? spec.name : `slot ${spec.slot}`;
      const buf = device.createBuffer({ size, usage, label });
      this.buffers.set(spec.id, buf);
      if (spec.slot !== undefined) slots.set(spec.slot, buf);
      if (spec.source.kind === "const") {
        const values = spec.source.values;
        const data =
          spec.dtype === "f32"
            ? Float32Array.from(values)
            : spec.dtype === "i32"
              ? Int32Array.from(values)
              : Uint32Array.from(values);
        device.queue.writeBuffer(buf, 0, data);
      }
    }
    this.planReadback();
    const errors = await popScopes(device, n);
    if (errors.length > 0) {
      // Find the buffer: an out-of-memory names no object.
      const total = plan.buffers.reduce((a, b) => a + b.bytes, 0);
      throw deviceError(
        `creating the plan's ${plan.buffers.length} buffers (${total.toLocaleString("en-US")} bytes) failed: ${errors.join("; ")}`,
        "the model may not fit this device's memory; try a smaller input",
      );
    }
  }

  /**
   * Creates the pipelines (shared by identical kernels) and bind groups;
   * after allocate(), once. With `warm`, every new pipeline then gets a
   * one-workgroup dispatch on scratch buffers: a driver that compiles at the
   * first dispatch (lavapipe) starts on them at once, on this device's queue
   * thread, while whatever else runs meanwhile (other devices' compiling).
   */
  compile(options: { warm?: boolean } = {}): Promise<void> {
    this.compiling ??= this.build(options.warm ?? false);
    return this.compiling;
  }

  private async build(warm: boolean): Promise<void> {
    this.assertUsable();
    const { plan, device } = this;
    const compiled = await Promise.all(plan.kernels.map((_, i) => this.compileKernel(i)));
    this.kernels.push(...compiled);
    // Dispatches of one kernel over the same buffers (a recurrence's steps) share a bind group.
    const shared = new Map<string, GPUBindGroup>();
    // Each group in an error scope of its own, all popped before any is awaited (one round trip).
    const checks: { dispatch: number; error: Promise<GPUError | null> }[] = [];
    for (const [i, d] of plan.dispatches.entries()) {
      const k = plan.kernels[d.kernel]!;
      const key = `${d.kernel}:${d.buffers.join(",")}`;
      const hit = shared.get(key);
      if (hit) {
        this.bindGroups.push(hit);
        continue;
      }
      device.pushErrorScope("validation");
      const group = device.createBindGroup({
        label: `dispatch ${i} ${k.name}`,
        layout: compiled[d.kernel]!.layout,
        entries: k.bindings.map((b, j) => ({
          binding: b.binding,
          resource: {
            buffer: this.buffers.get(d.buffers[j]!)!,
            ...(b.size !== undefined ? { size: b.size } : {}),
          },
        })),
      });
      shared.set(key, group);
      checks.push({ dispatch: i, error: device.popErrorScope() });
      this.bindGroups.push(group);
    }
    // Pipeline creation waits while the driver compiles (lavapipe holds its queue's lock),
    // so the warm-ups go once every pipeline exists.
    if (warm) this.warmUp();
    const errors = await settle(Promise.all(checks.map((c) => c.error)));
    const bad = errors.findIndex((e) => e !== null);
    if (bad >= 0) {
      const i = checks[bad]!.dispatch;
      throw deviceError(
        `${describeKernel(plan, plan.dispatches[i]!.kernel)}: its buffers do not fit its bindings (dispatch ${i}): ${errors[bad]!.message.trim()}`,
      );
    }
  }

  /**
   * One workgroup of each pipeline that has not run on this device yet, on
   * scratch buffers (the plan's are untouched), in one submit that is not
   * waited for: a driver that compiles at the first dispatch starts now.
   */
  private warmUp(): void {
    const { device, plan } = this;
    const scratch: GPUBuffer[] = [];
    const n = pushScopes(device);
    const enc = device.createCommandEncoder({ label: "nnc warm-up" });
    const pass = enc.beginComputePass({ label: "nnc warm-up" });
    for (const d of plan.dispatches) {
      const k = this.kernels[d.kernel]!;
      if (this.gpu.warmed.has(k.pipeline)) continue;
      this.gpu.warmed.add(k.pipeline);
      const spec = plan.kernels[d.kernel]!;
      // Every storage binding is a runtime-sized array: 16 bytes (one vec4) make a valid binding.
      const entries = spec.bindings.map((b, j) => {
        if (b.access === "uniform") {
          // Uniforms are small read-only constants (a recurrence's step): the plan's own will do.
          const buffer = this.buffers.get(d.buffers[j]!)!;
          return { binding: b.binding, resource: { buffer, ...(b.size ? { size: b.size } : {}) } };
        }
        scratch[j] ??= device.createBuffer({
          size: 16,
          usage: BufferUsage.STORAGE,
          label: "nnc warm-up scratch",
        });
        return { binding: b.binding, resource: { buffer: scratch[j]! } };
      });
      const group = device.createBindGroup({
        label: `warm-up ${spec.name}`,
        layout: k.layout,
        entries,
      });
      const dynamic = spec.bindings.filter((b) => b.dynamicOffset);
      const offsets = (d.dynamicOffsets ?? []).map((o, j) =>
        dynamic[j]?.access === "uniform" ? o : 0,
      );
      pass.setPipeline(k.pipeline);
      pass.setBindGroup(0, group, offsets);
      pass.dispatchWorkgroups(1, 1, 1);
    }
    pass.end();
    device.queue.submit([enc.finish()]);
    // WebGPU keeps a submitted command's buffers alive until it is done.
    for (const b of scratch) b?.destroy();
    // A warm-up that fails is no error of the plan's: its run reports its own.
    void popScopes(device, n);
  }

  /** Packs the outputs into staging buffers no larger than the device allows. */
  private planReadback(): void {
    const max = this.device.limits.maxBufferSize;
    const sizes: number[] = [];
    for (const out of this.plan.outputs) {
      const spec = this.plan.buffers.find((b) => b.id === out.buffer)!;
      const bytes = numel(spec.shape) * 4;
      let s = sizes.length - 1;
      if (s < 0 || sizes[s]! + bytes > max) {
        sizes.push(0);
        s++;
      }
      this.readbacks.push({ name: out.name, spec, staging: s, offset: sizes[s]!, bytes });
      sizes[s]! += bytes;
    }
    for (const [i, size] of sizes.entries()) {
      this.staging.push(
        this.device.createBuffer({
          size: Math.max(4, size),
          usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
          label: `readback ${i}`,
        }),
      );
    }
  }

  private compileKernel(index: number): Promise<Compiled> {
    const key = pipelineKey(this.plan.kernels[index]!);
    const hit = this.gpu.pipelines.get(key);
    if (hit) return hit.then((pipeline) => ({ pipeline, layout: pipeline.getBindGroupLayout(0) }));
    const made = this.makePipeline(index);
    const cached = made.then((c) => c.pipeline);
    this.gpu.pipelines.set(key, cached);
    // A failed kernel is reported through `made`; forget it so a retry compiles again.
    cached.catch(() => this.gpu.pipelines.delete(key));
    return made;
  }

  private async makePipeline(index: number): Promise<Compiled> {
    const { device, plan } = this;
    const k = plan.kernels[index]!;
    const who = describeKernel(plan, index);
    this.gpu.current = who;
    // No await between the pushes and the pops: kernels compile concurrently.
    const n = pushScopes(device);
    const module = device.createShaderModule({ code: k.wgsl, label: k.name });
    const layout = device.createBindGroupLayout({
      label: k.name,
      entries: k.bindings.map((b) => ({
        binding: b.binding,
        visibility: COMPUTE_STAGE,
        buffer: {
          type: bindingType(b.access),
          ...(b.dynamicOffset ? { hasDynamicOffset: true } : {}),
        },
      })),
    });
    const pipelineLayout = device.createPipelineLayout({
      label: k.name,
      bindGroupLayouts: [layout],
    });
    const scoped = popScopes(device, n);
    const info = await settle(module.getCompilationInfo());
    const bad = info.messages.filter((m) => m.type === "error");
    const errors = await scoped;
    if (bad.length > 0) {
      const lines = k.wgsl.split("\n");
      throw new NncError(
        bad.slice(0, 3).map((m) =>
          diagnostic(
            "NN7003",
            `${who} does not compile: WGSL ${m.lineNum}:${m.linePos}: ${m.message}`,
            undefined,
            {
              notes: [
                { message: `WGSL line ${m.lineNum}: ${(lines[m.lineNum - 1] ?? "").trim()}` },
              ],
              hint: "this is a bug in nnc's WGSL code generator; please report it",
            },
          ),
        ),
      );
    }
    if (errors.length > 0) throw deviceError(`${who}: ${errors.join("; ")}`);
    try {
      // Validation errors of an async pipeline reject this promise (no scope needed).
      const pipeline = await settle(
        device.createComputePipelineAsync({
          label: k.name,
          layout: pipelineLayout,
          compute: { module, entryPoint: k.entryPoint },
        }),
      );
      return { pipeline, layout };
    } catch (e) {
      throw deviceError(
        `${who}: creating its compute pipeline failed: ${(e as Error).message.trim()}`,
        "the kernel's WGSL and its bindings in the plan disagree, or it needs more than the device allows",
      );
    }
  }

  /** Uploads the weights, once; names must match the plan's params exactly. */
  uploadParams(params: Map<string, Tensor>): void {
    this.assertUsable();
    const problems = [];
    for (const p of this.plan.params) {
      const spec = this.spec(p.buffer);
      const t = params.get(p.name);
      if (!t) {
        problems.push(
          diagnostic(
            "NN6003",
            `missing weight \`${p.name}\` (${formatType({ dtype: spec.hostDtype, shape: spec.shape })})`,
          ),
        );
        continue;
      }
      const bad = this.mismatch(t, spec, `weight \`${p.name}\``);
      if (bad) problems.push(diagnostic("NN6005", bad));
    }
    if (problems.length > 0) throw new NncError(problems);
    for (const p of this.plan.params) {
      const spec = this.spec(p.buffer);
      // i64 weights (num_batches_tracked) are bookkeeping no kernel reads.
      if (spec.hostDtype === "i64") continue;
      this.write(spec, params.get(p.name)!);
    }
    this.paramsUploaded = true;
  }

  /** One inference: inputs by name in, outputs by name out. */
  run(inputs: Map<string, Tensor>): Promise<Map<string, Tensor>> {
    const next = this.last.then(
      () => this.runNow(inputs),
      () => this.runNow(inputs),
    );
    this.last = next;
    return next;
  }

  private async runNow(inputs: Map<string, Tensor>): Promise<Map<string, Tensor>> {
    this.assertUsable();
    await this.compile();
    const { plan, device, gpu } = this;
    gpu.checkHealthy("running the plan");
    if (!this.paramsUploaded && plan.params.length > 0)
      throw new NncError(
        diagnostic("NN6003", "the plan's weights were not uploaded (call uploadParams first)"),
      );
    const problems = [];
    for (const inp of plan.inputs) {
      const t = inputs.get(inp.name);
      const spec = this.spec(inp.buffer);
      if (!t)
        problems.push(
          diagnostic(
            "NN6009",
            `missing input \`${inp.name}\` (${formatType({ dtype: spec.hostDtype, shape: spec.shape })})`,
          ),
        );
      else {
        const bad = this.mismatch(t, spec, `input \`${inp.name}\``);
        if (bad) problems.push(diagnostic("NN6009", bad));
      }
    }
    if (problems.length > 0) throw new NncError(problems);
    const n = pushScopes(device);
    for (const inp of plan.inputs) this.write(this.spec(inp.buffer), inputs.get(inp.name)!);
    gpu.current = `running ${plan.dispatches.length} dispatches`;
    const enc = device.createCommandEncoder({ label: "nnc run" });
    if (plan.dispatches.length > 0) {
      const pass = enc.beginComputePass({ label: "nnc kernels" });
      for (const [i, d] of plan.dispatches.entries()) {
        if (d.grid[0] * d.grid[1] * d.grid[2] === 0) continue;
        pass.setPipeline(this.kernels[d.kernel]!.pipeline);
        pass.setBindGroup(0, this.bindGroups[i]!, d.dynamicOffsets ?? []);
        pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
      }
      pass.end();
    }
    for (const r of this.readbacks) {
      if (r.bytes === 0) continue;
      enc.copyBufferToBuffer(
        this.buffers.get(r.spec.id)!,
        0,
        this.staging[r.staging]!,
        r.offset,
        r.bytes,
      );
    }
    device.queue.submit([enc.finish()]);
    const scoped = popScopes(device, n);
    const mapped = settle(Promise.all(this.staging.map((s) => s.mapAsync(MAP_READ_MODE))));
    const errors = await scoped;
    if (errors.length > 0) {
      await mapped.catch(() => undefined);
      this.unmapAll();
      throw await this.attribute(errors);
    }
    try {
      await mapped;
    } catch (e) {
      this.unmapAll();
      if (gpu.lost !== undefined)
        throw deviceError(
          `the WebGPU device was lost while running the plan's ${plan.dispatches.length} dispatches (${gpu.lost})`,
          "a kernel may have run too long or touched memory out of bounds; run with --backend cpu to compare",
        );
      throw deviceError(`reading the outputs back failed: ${(e as Error).message}`);
    }
    gpu.current = undefined;
    const out = new Map<string, Tensor>();
    const ranges = this.staging.map((s) => s.getMappedRange());
    for (const r of this.readbacks) {
      const bytes = ranges[r.staging]!.slice(r.offset, r.offset + r.bytes);
      out.set(r.name, hostTensor(r.spec, bytes));
    }
    this.unmapAll();
    gpu.checkHealthy("reading the outputs");
    return out;
  }

  /**
   * GPU time of each dispatch in ms from timestamp queries (undefined when the
   * device has no `timestamp-query`): every dispatch in a compute pass of its
   * own between two timestamps. For `nnc bench`; run() is what gets timed
   * host to host.
   */
  profile(inputs: Map<string, Tensor>): Promise<number[] | undefined> {
    const next = this.last.then(
      () => this.profileNow(inputs),
      () => this.profileNow(inputs),
    );
    this.last = next;
    return next;
  }

  private async profileNow(inputs: Map<string, Tensor>): Promise<number[] | undefined> {
    this.assertUsable();
    await this.compile();
    const { plan, device } = this;
    if (!device.features.has("timestamp-query")) return undefined;
    for (const inp of plan.inputs) {
      const t = inputs.get(inp.name);
      if (t) this.write(this.spec(inp.buffer), t);
    }
    const ms = new Array<number>(plan.dispatches.length).fill(0);
    // A query set holds at most 4096 timestamps: 2048 dispatches per submit.
    const chunk = 2048;
    for (let from = 0; from < plan.dispatches.length; from += chunk) {
      const count = Math.min(chunk, plan.dispatches.length - from);
      const n = pushScopes(device);
      const querySet = device.createQuerySet({ type: "timestamp", count: 2 * count });
      const resolved = device.createBuffer({
        size: 16 * count,
        usage: 0x200 | BufferUsage.COPY_SRC,
      });
      const read = device.createBuffer({
        size: 16 * count,
        usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      });
      const enc = device.createCommandEncoder({ label: "nnc profile" });
      for (let q = 0; q < count; q++) {
        const i = from + q;
        const d = plan.dispatches[i]!;
        const pass = enc.beginComputePass({
          timestampWrites: {
            querySet,
            beginningOfPassWriteIndex: 2 * q,
            endOfPassWriteIndex: 2 * q + 1,
          },
        });
        if (d.grid[0] * d.grid[1] * d.grid[2] > 0) {
          pass.setPipeline(this.kernels[d.kernel]!.pipeline);
          pass.setBindGroup(0, this.bindGroups[i]!, d.dynamicOffsets ?? []);
          pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
        }
        pass.end();
      }
      enc.resolveQuerySet(querySet, 0, 2 * count, resolved, 0);
      enc.copyBufferToBuffer(resolved, 0, read, 0, 16 * count);
      device.queue.submit([enc.finish()]);
      const errors = await popScopes(device, n);
      if (errors.length > 0) throw deviceError(`profiling the plan failed: ${errors.join("; ")}`);
      await settle(read.mapAsync(MAP_READ_MODE));
      const stamps = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      for (let q = 0; q < count; q++) {
        const dt = stamps[2 * q + 1]! - stamps[2 * q]!;
        ms[from + q] = dt > 0n ? Number(dt) / 1e6 : 0;
      }
      querySet.destroy();
      resolved.destroy();
      read.destroy();
    }
    return ms;
  }

  private unmapAll(): void {
    for (const s of this.staging) if (s.mapState !== "unmapped") s.unmap();
  }

  /**
   * A submit failed: re-encode each dispatch on its own, in its own error
   * scope, to find the kernel it was (only on this error path).
   */
  private async attribute(errors: string[]): Promise<NncError> {
    const { plan, device } = this;
    for (const [i, d] of plan.dispatches.entries()) {
      device.pushErrorScope("validation");
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(this.kernels[d.kernel]!.pipeline);
      pass.setBindGroup(0, this.bindGroups[i]!, d.dynamicOffsets ?? []);
      pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
      pass.end();
      enc.finish();
      const err = await device.popErrorScope();
      if (err)
        return deviceError(
          `${describeKernel(plan, d.kernel)} (dispatch ${i}): ${err.message.trim()}`,
        );
    }
    return deviceError(`running the plan failed: ${errors.join("; ")}`);
  }

  private spec(id: number): BufferSpec {
    return this.plan.buffers.find((b) => b.id === id)!;
  }

  private mismatch(t: Tensor, spec: BufferSpec, what: string): string | undefined {
    const want = { dtype: spec.hostDtype, shape: spec.shape };
    const same =
      t.dtype === spec.hostDtype &&
      t.shape.length === spec.shape.length &&
      t.shape.every((d, i) => d === spec.shape[i]);
    if (!same)
      return `${what} is ${formatType(t)}, but the plan was compiled for ${formatType(want)}`;
    if (t.data.length !== numel(t.shape))
      return `${what} has ${t.data.length} values for ${formatType(t)}`;
    return undefined;
  }

  private write(spec: BufferSpec, t: Tensor): void {
    const data = deviceBytes(spec, t);
    if (data.byteLength === 0) return;
    this.device.queue.writeBuffer(this.buffers.get(spec.id)!, 0, data);
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error("DevicePlan used after dispose()");
  }

  /** Frees the plan's buffers; the device stays for other plans (closeGpu ends it). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.buffers.values()) b.destroy();
    for (const s of this.staging) s.destroy();
    this.buffers.clear();
    releaseDevice(this.gpu);
  }
}
