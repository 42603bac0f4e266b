// The WGSL emitter: Kernel IR → ExecutablePlan (plan.ts), the only path to
// shader code. Each kernel becomes one compute shader: a flat invocation id
// (folded over the grid's x/y/z) is split into the iteration space, the body
// is evaluated and stored. Tiled contractions are written by wgsl-tiled.ts.
// Device limits are checked here: storage buffers per kernel, binding sizes.

import { diagnostic, NncError } from "../../core/diagnostics.js";
import type { Span } from "../../core/span.js";
import { numel } from "../../core/types.js";
import type { Kernel, KernelBuffer, KernelProgram } from "../../kernels/ir.js";
import { limitDefaults } from "../../target/limits.js";
import type { BufferSpec, ExecutablePlan, KernelSpec } from "../plan.js";
import { type Block, ExprWriter, helperText, storageType } from "./wgsl-expr.js";
import { invocationPrologue, splitIndex } from "./wgsl-invocation.js";
import { emitRowsMain } from "./wgsl-rows.js";
import { emitScanKernel } from "./wgsl-scan.js";
import {
  programDispatches,
  readsStepUniform,
  STEP_LINE,
  stepBindingSpec,
  stepBuffer,
  stepUniformDecl,
} from "./wgsl-step.js";
import { emitTiledMain } from "./wgsl-tiled.js";

export interface EmitOptions {
  /** The largest storage binding the plan may use (the target's limit; WebGPU's default: 128 MiB). */
  maxStorageBufferBindingSize?: number;
  /** Storage buffers per shader stage the plan may use (the target's limit; WebGPU's default: 8). */
  maxStorageBuffers?: number;
}

/** What a device has without asking: past these the plan records requiredLimits. */
const DEFAULT_MAX_BINDING_SIZE = limitDefaults.maxStorageBufferBindingSize;
const DEFAULT_MAX_BUFFER_SIZE = limitDefaults.maxBufferSize;
const DEFAULT_STORAGE_BUFFERS = limitDefaults.maxStorageBuffersPerShaderStage;

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} bytes`;
}

function emitNaiveMain(w: ExprWriter): string[] {
  const k = w.kernel;
  const lines = [...invocationPrologue(k)];
  lines.push(
    ...splitIndex(
      w,
      k.space.map((v) => v.name),
      k.space.map((v) => v.extent),
      k.threads,
    ),
  );
  const block: Block = { lines, indent: "  " };
  const env = new Map<string, string>();
  const value = w.v(k.body, env, block);
  const outIndex = w.i(w.flat(k.bindings.length - 1, k.store), env);
  const write = k.bindings[k.bindings.length - 1]!;
  lines.push(
    `  out[${outIndex}] = ${write.dtype === "bool" ? `select(0u, 1u, ${value})` : value};`,
  );
  return lines;
}

function header(k: Kernel): string {
  const from = k.sources
    .map((s) => `%${s.node} ${s.op}${s.at ? ` @ ${s.at}` : ""}${s.scope ? ` (${s.scope})` : ""}`)
    .join(", ");
  return `// ${k.name}: ${from}`;
}

/** One kernel as a WGSL module with entry point `main`. */
export function emitKernel(k: Kernel): string {
  if (k.stores !== undefined || k.loop?.persistent) return emitScanKernel(k);
  const tiled =
    k.schedule.kind === "tiled"
      ? emitTiledMain(k)
      : k.schedule.kind === "rows"
        ? emitRowsMain(k)
        : undefined;
  const w = tiled?.writer ?? new ExprWriter(k);
  const body = tiled?.lines ?? emitNaiveMain(w);
  const decls = k.bindings.map((b, i) => {
    const access = b.role === "read" ? "read" : "read_write";
    const elem = w.vec4.has(i) ? "vec4<f32>" : storageType(b.dtype);
    return `@group(0) @binding(${i}) var<storage, ${access}> ${w.bindingName(i)}: array<${elem}>;`;
  });
  if (readsStepUniform(k)) decls.push(...stepUniformDecl(k.bindings.length));
  const helpers = helperText(w.helpers);
  const wg = k.workgroup.join(", ");
  return [
    header(k),
    ...decls,
    ...(helpers ? ["", helpers] : []),
    "",
    `@compute @workgroup_size(${wg})`,
    "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    ...(readsStepUniform(k) ? [STEP_LINE] : []),
    ...body,
    "}",
    "",
  ].join("\n");
}

/**
 * Where the source computes (or, for a weight or input, first reads) buffer `b`: the
 * root op of the kernel that writes it, else of the first kernel that reads it.
 */
function sourceSpan(b: KernelBuffer, users: readonly Kernel[]): Span | undefined {
  const writer = users.find((k) => k.bindings.some((x) => x.buffer === b.id && x.role === "write"));
  for (const k of writer ? [writer, ...users] : users) {
    const root = k.sources.find((s) => s.node === k.root) ?? k.sources[k.sources.length - 1];
    const m = root?.at === undefined ? null : /^(.*):(\d+):(\d+)$/.exec(root.at);
    if (m === null) continue;
    const line = Number(m[2]);
    const col = Number(m[3]);
    // Only line and column travel in a KernelSource; offsets are not needed to print a caret.
    return { file: m[1]!, start: 0, end: 0, line, col, endLine: line, endCol: col + 1 };
  }
  return undefined;
}

function bufferSpec(b: KernelBuffer, maxBinding: number, program: KernelProgram): BufferSpec {
  if (b.dtype === "i64") {
    throw new NncError(
      diagnostic(
        "NN4003",
        `${b.name} is i64[${b.shape.join(", ")}]; i64 tensors cannot live on the device`,
      ),
    );
  }
  const bytes = Math.max(4, numel(b.shape) * 4);
  if (bytes > maxBinding) {
    const users = program.kernels.filter((k) => k.bindings.some((x) => x.buffer === b.id));
    const by = users.length > 0 ? ` (bound by ${users.map((k) => k.name).join(", ")})` : "";
    throw new NncError(
      diagnostic(
        "NN5007",
        `${b.name} f32[${b.shape.join(", ")}] is ${formatBytes(bytes)}, more than the largest storage binding the device allows (${formatBytes(maxBinding)})${by}`,
        sourceSpan(b, users),
        {
          hint: "compile for a smaller input shape (--shape), or a device with a larger maxStorageBufferBindingSize",
        },
      ),
    );
  }
  return {
    id: b.id,
    name: b.name,
    dtype: b.dtype === "bool" ? "u32" : b.dtype,
    hostDtype: b.dtype,
    shape: [...b.shape],
    bytes,
    source: b.source.kind === "const" ? { kind: "const", values: [...b.source.values] } : b.source,
  };
}

function kernelSpec(k: Kernel): KernelSpec {
  return {
    name: k.name,
    wgsl: emitKernel(k),
    entryPoint: "main",
    workgroupSize: [...k.workgroup],
    bindings: [
      ...k.bindings.map((b, i) => ({
        binding: i,
        access: b.role === "read" ? ("read" as const) : ("read_write" as const),
      })),
      ...stepBindingSpec(k),
    ],
    nodes: k.sources.map((s) => s.node),
    origins: k.sources.map((s) => s.at ?? ""),
  };
}

/** Kernel IR → the plan the WebGPU runtime executes. */
export function emitPlan(program: KernelProgram, options: EmitOptions = {}): ExecutablePlan {
  const maxBinding = options.maxStorageBufferBindingSize ?? DEFAULT_MAX_BINDING_SIZE;
  const maxBuffers = options.maxStorageBuffers ?? DEFAULT_STORAGE_BUFFERS;
  const buffers = program.buffers.map((b) => bufferSpec(b, maxBinding, program));
  for (const k of program.kernels) {
    if (k.bindings.length > maxBuffers) {
      throw new NncError(
        diagnostic(
          "NN5006",
          `${k.name} binds ${k.bindings.length} storage buffers, more than the ${maxBuffers} allowed`,
        ),
      );
    }
  }
  const kernels = program.kernels.map(kernelSpec);
  // Recurrences: a loop's kernels once per step, the step from a uniform slot.
  const steps = stepBuffer(program, buffers.length);
  if (steps) buffers.push(steps);
  const dispatches = programDispatches(program, steps?.id);
  const maxBindings = Math.max(0, ...program.kernels.map((k) => k.bindings.length));
  const maxBytes = Math.max(4, ...buffers.map((b) => b.bytes));
  const requiredLimits: ExecutablePlan["requiredLimits"] = {};
  if (maxBindings > DEFAULT_STORAGE_BUFFERS)
    requiredLimits.maxStorageBuffersPerShaderStage = maxBindings;
  if (maxBytes > DEFAULT_MAX_BINDING_SIZE) requiredLimits.maxStorageBufferBindingSize = maxBytes;
  if (maxBytes > DEFAULT_MAX_BUFFER_SIZE) requiredLimits.maxBufferSize = maxBytes;
  return {
    buffers,
    kernels,
    dispatches,
    inputs: program.inputs.map((x) => ({ ...x })),
    params: program.params.map((x) => ({ ...x })),
    outputs: program.outputs.map((x) => ({ ...x })),
    requiredLimits,
  };
}
