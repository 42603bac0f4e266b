// Hand-written ExecutablePlans for the runtime's tests: small WGSL kernels
// whose results are known, so GpuPlan is tested apart from the code generator.

import type {
  BindingSpec,
  BufferSpec,
  DispatchSpec,
  ExecutablePlan,
  KernelSpec,
} from "../../compiler/codegen/plan.js";
import type { DType } from "../../compiler/core/types.js";

const deviceType = (t: DType): BufferSpec["dtype"] =>
  t === "f32" ? "f32" : t === "bool" ? "u32" : "i32";

export function buffer(
  id: number,
  name: string,
  hostDtype: DType,
  shape: number[],
  source: BufferSpec["source"] = { kind: "computed" },
): BufferSpec {
  const n = shape.reduce((a, d) => a * d, 1);
  return {
    id,
    name,
    dtype: deviceType(hostDtype),
    hostDtype,
    shape,
    bytes: Math.max(4, n * 4),
    source,
  };
}

export function kernel(
  name: string,
  wgsl: string,
  access: BindingSpec["access"][],
  workgroupSize: [number, number, number] = [64, 1, 1],
): KernelSpec {
  return {
    name,
    wgsl,
    entryPoint: "main",
    workgroupSize,
    bindings: access.map((a, binding) => ({ binding, access: a })),
    nodes: [7],
    origins: [`test.nn:${name.length}:1`],
  };
}

export function plan(
  buffers: BufferSpec[],
  kernels: KernelSpec[],
  dispatches: DispatchSpec[],
  io: Partial<Pick<ExecutablePlan, "inputs" | "params" | "outputs" | "requiredLimits">>,
): ExecutablePlan {
  const named = (kind: "input" | "param") =>
    buffers.flatMap((b) => (b.source.kind === kind ? [{ name: b.source.name, buffer: b.id }] : []));
  return {
    buffers,
    kernels,
    dispatches,
    inputs: io.inputs ?? named("input"),
    params: io.params ?? named("param"),
    outputs: io.outputs ?? [],
    requiredLimits: io.requiredLimits ?? {},
  };
}

/** c = a + b over n elements (a an input, b a weight). */
export const addWgsl = (n: number) => `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < ${n}u) { c[g.x] = a[g.x] + b[g.x]; }
}`;

/** out[0] = sum of x[0..n): one workgroup of 64, a tree reduction in workgroup memory. */
export const sumWgsl = (n: number) => `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
  var s = 0.0;
  for (var j = i; j < ${n}u; j += 64u) { s += x[j]; }
  part[i] = s;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w /= 2u) {
    if (i < w) { part[i] += part[i + w]; }
    workgroupBarrier();
  }
  if (i == 0u) { out[0] = part[0]; }
}`;

/** o[i] = x[i] > t (bool as u32) and k[i] = i32(x[i]) * 3. */
export const compareWgsl = (n: number, t: number) => `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<u32>;
@group(0) @binding(2) var<storage, read_write> k: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < ${n}u) {
    o[g.x] = select(0u, 1u, x[g.x] > ${t.toFixed(1)});
    k[g.x] = i32(x[g.x]) * 3;
  }
}`;
