// The executable plan: what the WGSL emitter (wgsl/emit-plan.ts) hands the
// WebGPU runtime. It is the contract between compiler/codegen (this folder,
// with the memory plan in plan-memory.ts) and runtime/webgpu (execution):
// buffers with their sizes and what fills them, kernels as WGSL text, and the
// ordered dispatches that bind buffers to them. It is plain data
// (JSON-serialisable) so it can be printed, diffed and cached.

import type { DType } from "../core/types.js";

/** Where a buffer's contents come from before the first dispatch. */
export type BufferSource =
  | { kind: "input"; name: string }
  | { kind: "param"; name: string }
  /** Constant data baked at compile time (row-major, as the buffer's dtype). */
  | { kind: "const"; values: number[] }
  /** Written by a dispatch (intermediates and outputs). */
  | { kind: "computed" };

export interface BufferSpec {
  id: number;
  /** For people and error messages: `%12 conv2d`, `input`, `layer1.0.conv1.weight`. */
  name: string;
  /** Element type as stored on the device: f32, i32, or u32 for bool. */
  dtype: "f32" | "i32" | "u32";
  /** The logical tensor type this buffer holds (host side). */
  hostDtype: DType;
  shape: number[];
  /** Size in bytes, a multiple of 4 and at least 4. */
  bytes: number;
  source: BufferSource;
  /**
   * Memory planning (plan-memory.ts): computed buffers with the same slot
   * share one device allocation, as large as the largest of them; no dispatch
   * binds two of them and their lifetimes do not overlap. Absent: its own.
   */
  slot?: number;
}

/** What memory planning found (activations: the computed buffers). */
export interface MemoryReport {
  /** Bytes of every computed buffer, each on its own (no planning). */
  activationBytes: number;
  /** Bytes the planned slots take: the activation memory a run needs. */
  peakActivationBytes: number;
  slots: number;
}

export interface BindingSpec {
  /** @binding(n) in @group(0). */
  binding: number;
  access: "read" | "read_write" | "uniform";
  /** Bound with a dynamic offset (given per dispatch in `dynamicOffsets`): a recurrence's step slot. */
  dynamicOffset?: boolean;
  /** Bytes bound (from the offset); the whole buffer when absent. */
  size?: number;
}

export interface KernelSpec {
  name: string;
  wgsl: string;
  entryPoint: string;
  workgroupSize: [number, number, number];
  bindings: BindingSpec[];
  /** Graph IR node ids the kernel computes, for error messages (`kernel conv1 (%3 conv2d at lenet.nn:4:12)`). */
  nodes: number[];
  /** `file:line:col` of the source ops, same order as nodes. */
  origins: string[];
}

export interface DispatchSpec {
  kernel: number;
  /** Workgroup counts; each ≤ the adapter's maxComputeWorkgroupsPerDimension (65535 by default). */
  grid: [number, number, number];
  /** Buffer id for each binding of the kernel, in binding order (uniform bindings included). */
  buffers: number[];
  /** One byte offset per `dynamicOffset` binding, in binding order (a recurrence's step slot). */
  dynamicOffsets?: number[];
}

export interface ExecutablePlan {
  buffers: BufferSpec[];
  kernels: KernelSpec[];
  dispatches: DispatchSpec[];
  inputs: { name: string; buffer: number }[];
  params: { name: string; buffer: number }[];
  outputs: { name: string; buffer: number }[];
  /** Set when the buffers were planned (plan-memory.ts). */
  memory?: MemoryReport;
  /** Device limits the plan needs beyond WebGPU's defaults. */
  requiredLimits: {
    maxStorageBufferBindingSize?: number;
    maxBufferSize?: number;
    maxStorageBuffersPerShaderStage?: number;
    maxComputeInvocationsPerWorkgroup?: number;
    maxComputeWorkgroupSizeX?: number;
    maxComputeWorkgroupSizeY?: number;
    maxComputeWorkgroupStorageSize?: number;
  };
}
