// Recurrences in the executable plan. A loop kernel (KernelLoop) reads its
// step from a uniform: one 256-byte slot per step in a shared constant buffer,
// bound with a dynamic offset, so every step of a kernel is the same pipeline
// and the same bind group and only the offset changes. The loop's kernels are
// dispatched in order once per step; a persistent kernel once in all.

import type { Kernel, KernelProgram } from "../../kernels/ir.js";
import type { BindingSpec, BufferSpec, DispatchSpec } from "../plan.js";

/** WebGPU's default minUniformBufferOffsetAlignment: one step's slot. */
export const STEP_SLOT_BYTES = 256;
const SLOT_WORDS = STEP_SLOT_BYTES / 4;
/** The bytes a step binding sees (a uniform struct is a multiple of 16 bytes). */
const STEP_BINDING_BYTES = 16;

/** Whether a kernel is dispatched once per step with the step uniform. */
export function readsStepUniform(k: Kernel): boolean {
  return k.loop !== undefined && !k.loop.persistent;
}

/** The uniform's declaration in a kernel's WGSL (after its storage bindings). */
export function stepUniformDecl(binding: number): string[] {
  return [
    "struct NncStep { s: i32, pad0: i32, pad1: i32, pad2: i32 }",
    `@group(0) @binding(${binding}) var<uniform> nnc_step: NncStep;`,
  ];
}

/** The first statement of a loop kernel's main. */
export const STEP_LINE = "  let step = nnc_step.s;";

/** The uniform binding of a loop kernel, after its storage bindings. */
export function stepBindingSpec(k: Kernel): BindingSpec[] {
  if (!readsStepUniform(k)) return [];
  return [
    {
      binding: k.bindings.length,
      access: "uniform",
      dynamicOffset: true,
      size: STEP_BINDING_BYTES,
    },
  ];
}

/** The constant buffer of step slots (slot s holds s), or undefined when no kernel needs one. */
export function stepBuffer(program: KernelProgram, id: number): BufferSpec | undefined {
  const steps = Math.max(0, ...program.kernels.filter(readsStepUniform).map((k) => k.loop!.steps));
  if (steps === 0) return undefined;
  const values = new Array<number>(steps * SLOT_WORDS).fill(0);
  for (let s = 0; s < steps; s++) values[s * SLOT_WORDS] = s;
  return {
    id,
    name: "scan steps",
    dtype: "i32",
    hostDtype: "i32",
    shape: [steps, SLOT_WORDS],
    bytes: steps * STEP_SLOT_BYTES,
    source: { kind: "const", values },
  };
}

/**
 * The dispatches of a program in order: a kernel outside a loop once; a loop's
 * kernels in order once per step, each step binding its slot of `steps`.
 */
export function programDispatches(program: KernelProgram, steps?: number): DispatchSpec[] {
  const ks = program.kernels;
  const one = (i: number, step?: number): DispatchSpec => {
    const k = ks[i]!;
    const d: DispatchSpec = {
      kernel: i,
      grid: [...k.grid] as [number, number, number],
      buffers: k.bindings.map((b) => b.buffer),
    };
    if (step !== undefined) {
      d.buffers.push(steps!);
      d.dynamicOffsets = [step * STEP_SLOT_BYTES];
    }
    return d;
  };
  const out: DispatchSpec[] = [];
  for (let i = 0; i < ks.length; ) {
    const k = ks[i]!;
    if (!readsStepUniform(k)) {
      out.push(one(i++));
      continue;
    }
    let j = i;
    while (j < ks.length && ks[j]!.loop?.id === k.loop!.id && readsStepUniform(ks[j]!)) j++;
    for (let s = 0; s < k.loop!.steps; s++) for (let q = i; q < j; q++) out.push(one(q, s));
    i = j;
  }
  return out;
}
