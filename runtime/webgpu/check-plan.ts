// Checks an ExecutablePlan before anything touches the device: that it is well
// formed (a malformed plan is a code generator bug), and what device limits it
// needs — storage buffers per kernel, binding sizes, workgroup sizes, grids —
// against what the adapter allows, each problem naming its kernel.

import type { BufferSpec, ExecutablePlan, KernelSpec } from "../../compiler/codegen/plan.js";
import { type Diagnostic, diagnostic, NncError } from "../../compiler/core/diagnostics.js";
import type { Limits } from "./device.js";
import { type LimitName, limitDefaults } from "./limits.js";

/** `kernel 3 \`conv2d_relu\` (%12 at resnet.nn:4:12, %13 at …)`: how errors name a kernel. */
export function describeKernel(plan: ExecutablePlan, index: number): string {
  const k = plan.kernels[index];
  if (!k) return `kernel ${index}`;
  const at = k.nodes.map((n, i) => `%${n}${k.origins[i] ? ` at ${k.origins[i]}` : ""}`);
  const shown = at.length > 3 ? [...at.slice(0, 3), `… ${at.length - 3} more`] : at;
  return `kernel ${index} \`${k.name}\`${shown.length > 0 ? ` (${shown.join(", ")})` : ""}`;
}

export function describeBuffer(b: BufferSpec): string {
  return `buffer ${b.id} \`${b.name}\``;
}

const bytes = (n: number) => `${n.toLocaleString("en-US")} bytes`;

/** Structural checks: ids in range, one buffer per binding, sizes that fit the shapes. */
export function checkPlanShape(plan: ExecutablePlan): void {
  const problems: string[] = [];
  const byId = new Map<number, BufferSpec>();
  for (const b of plan.buffers) {
    if (byId.has(b.id)) problems.push(`buffer id ${b.id} appears twice`);
    byId.set(b.id, b);
    const n = b.shape.reduce((a, d) => a * d, 1);
    if (b.bytes % 4 !== 0 || b.bytes < 4 || b.bytes < n * 4)
      problems.push(`${describeBuffer(b)}: ${b.bytes} bytes cannot hold [${b.shape.join(", ")}]`);
    if (b.source.kind === "const" && b.source.values.length > b.bytes / 4)
      problems.push(`${describeBuffer(b)}: ${b.source.values.length} constant values overflow it`);
  }
  const named = (list: { name: string; buffer: number }[], what: string) => {
    for (const e of list)
      if (!byId.has(e.buffer)) problems.push(`${what} \`${e.name}\` names no buffer (${e.buffer})`);
  };
  named(plan.inputs, "input");
  named(plan.params, "param");
  named(plan.outputs, "output");
  plan.kernels.forEach((k, i) => {
    const seen = new Set<number>();
    for (const b of k.bindings) {
      if (seen.has(b.binding))
        problems.push(`${describeKernel(plan, i)}: @binding(${b.binding}) twice`);
      seen.add(b.binding);
    }
    if (k.workgroupSize.some((d) => !Number.isInteger(d) || d < 1))
      problems.push(`${describeKernel(plan, i)}: workgroup size [${k.workgroupSize.join(", ")}]`);
  });
  plan.dispatches.forEach((d, i) => {
    const k = plan.kernels[d.kernel];
    if (!k) {
      problems.push(`dispatch ${i} names kernel ${d.kernel}, which does not exist`);
      return;
    }
    if (d.buffers.length !== k.bindings.length)
      problems.push(
        `dispatch ${i} of ${describeKernel(plan, d.kernel)} gives ${d.buffers.length} buffers for ${k.bindings.length} bindings`,
      );
    for (const id of d.buffers)
      if (!byId.has(id)) problems.push(`dispatch ${i} binds buffer ${id}, which does not exist`);
    // Buffers sharing a memory slot (plan-memory.ts) are never live at once.
    const slots = new Map<number, number>();
    for (const id of new Set(d.buffers)) {
      const slot = byId.get(id)?.slot;
      if (slot === undefined) continue;
      const other = slots.get(slot);
      if (other !== undefined)
        problems.push(
          `dispatch ${i} binds buffers ${other} and ${id}, which share memory slot ${slot}`,
        );
      slots.set(slot, id);
    }
    const dynamic = k.bindings.filter((b) => b.dynamicOffset).length;
    if ((d.dynamicOffsets?.length ?? 0) !== dynamic)
      problems.push(
        `dispatch ${i} of ${describeKernel(plan, d.kernel)} gives ${d.dynamicOffsets?.length ?? 0} dynamic offsets for ${dynamic} bindings`,
      );
    if (d.grid.length !== 3 || d.grid.some((g) => !Number.isInteger(g) || g < 0))
      problems.push(
        `dispatch ${i} of ${describeKernel(plan, d.kernel)}: grid [${d.grid.join(", ")}]`,
      );
  });
  if (problems.length > 0)
    throw new NncError(
      problems.map((p) =>
        diagnostic("NN9001", `internal compiler error: invalid executable plan: ${p}`, undefined, {
          hint: "this is a bug in nnc's WGSL code generator; please report it",
        }),
      ),
    );
}

const storage = (k: KernelSpec) => k.bindings.filter((b) => b.access !== "uniform").length;
const uniforms = (k: KernelSpec) => k.bindings.filter((b) => b.access === "uniform").length;

/**
 * The limits the plan needs (its own `requiredLimits` and what its kernels and
 * dispatches imply, only those above WebGPU's defaults), or an NncError listing
 * every kernel that needs more than `adapter` allows.
 */
export function planLimits(plan: ExecutablePlan, adapter: GPUSupportedLimits): Limits {
  const need: Limits = {};
  const problems: Diagnostic[] = [];
  const want = (name: LimitName, value: number, problem: () => Diagnostic) => {
    if (value > (adapter[name] as number)) problems.push(problem());
    else if (value > (need[name] ?? limitDefaults[name])) need[name] = value;
  };
  for (const [name, value] of Object.entries(plan.requiredLimits) as [LimitName, number][]) {
    if (value !== undefined)
      want(name, value, () =>
        diagnostic(
          "NN7002",
          `the plan needs ${name} = ${value}; this adapter allows ${adapter[name]}`,
        ),
      );
  }
  const buffers = new Map(plan.buffers.map((b) => [b.id, b]));
  for (const b of plan.buffers)
    want("maxBufferSize", b.bytes, () =>
      diagnostic(
        "NN7002",
        `${describeBuffer(b)} [${b.shape.join(", ")}] needs ${bytes(b.bytes)}; this adapter allows buffers of at most ${bytes(adapter.maxBufferSize)}`,
      ),
    );
  const splitHint = {
    hint: "the kernel must be split by the code generator, or the model run at a smaller size",
  };
  plan.kernels.forEach((k, i) => {
    const who = describeKernel(plan, i);
    want("maxStorageBuffersPerShaderStage", storage(k), () =>
      diagnostic(
        "NN7002",
        `${who} binds ${storage(k)} storage buffers; this adapter allows ${adapter.maxStorageBuffersPerShaderStage} per shader stage`,
        undefined,
        splitHint,
      ),
    );
    want("maxUniformBuffersPerShaderStage", uniforms(k), () =>
      diagnostic(
        "NN7002",
        `${who} binds ${uniforms(k)} uniform buffers; this adapter allows ${adapter.maxUniformBuffersPerShaderStage}`,
      ),
    );
    const maxBinding = Math.max(-1, ...k.bindings.map((b) => b.binding));
    want("maxBindingsPerBindGroup", maxBinding + 1, () =>
      diagnostic(
        "NN7002",
        `${who} uses @binding(${maxBinding}); this adapter allows ${adapter.maxBindingsPerBindGroup} per group`,
      ),
    );
    const [x, y, z] = k.workgroupSize;
    const wgProblem = () =>
      diagnostic(
        "NN7002",
        `${who} has @workgroup_size(${x}, ${y}, ${z}); this adapter allows at most (${adapter.maxComputeWorkgroupSizeX}, ${adapter.maxComputeWorkgroupSizeY}, ${adapter.maxComputeWorkgroupSizeZ}) and ${adapter.maxComputeInvocationsPerWorkgroup} invocations`,
      );
    want("maxComputeWorkgroupSizeX", x, wgProblem);
    want("maxComputeWorkgroupSizeY", y, wgProblem);
    want("maxComputeWorkgroupSizeZ", z, wgProblem);
    want("maxComputeInvocationsPerWorkgroup", x * y * z, wgProblem);
  });
  plan.dispatches.forEach((d, i) => {
    const k = plan.kernels[d.kernel]!;
    const who = describeKernel(plan, d.kernel);
    const top = Math.max(...d.grid);
    want("maxComputeWorkgroupsPerDimension", top, () =>
      diagnostic(
        "NN7002",
        `${who} is dispatched (dispatch ${i}) with grid [${d.grid.join(", ")}]; this adapter allows ${adapter.maxComputeWorkgroupsPerDimension} workgroups per dimension`,
        undefined,
        { hint: "the code generator must fold a large grid into y and z" },
      ),
    );
    k.bindings.forEach((binding, j) => {
      const b = buffers.get(d.buffers[j]!)!;
      const limit: LimitName =
        binding.access === "uniform"
          ? "maxUniformBufferBindingSize"
          : "maxStorageBufferBindingSize";
      // A binding with a size (a recurrence's step slot) binds only that much.
      want(limit, binding.size ?? b.bytes, () =>
        diagnostic(
          "NN7002",
          `${who} binds ${describeBuffer(b)} [${b.shape.join(", ")}] (${bytes(b.bytes)}) at @binding(${binding.binding}); this adapter allows at most ${bytes(adapter[limit] as number)} per ${binding.access === "uniform" ? "uniform" : "storage"} binding`,
          undefined,
          splitHint,
        ),
      );
    });
  });
  if (problems.length > 0) throw new NncError(problems);
  return need;
}
