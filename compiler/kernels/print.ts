// The Kernel IR as text — what `nnc inspect --stage kernels` shows:
//
//   kernel k3_conv2d  wg=(64,1,1) grid=(74,1,1) tiled(m=c×4, n=w×4)  from %3 conv2d @ lenet.nn:4:12 (conv1)
//     in0 = b0 input f32[1, 1, 32, 32], in1 = b1 conv1.weight f32[6, 1, 5, 5]; out = b5 f32[1, 6, 28, 28]
//     out[n, c, h, w] = sum[kh<5, kw<5](in0[n, 0, h + kh, w + kw] * in1[c, 0, kh, kw])

import { formatType } from "../core/types.js";
import { getOp } from "../ops/index.js";
import { printCond, printI, printV } from "./expr.js";
import type { Kernel, KernelBuffer, KernelProgram, KernelSource } from "./ir.js";

function formatSchedule(k: Kernel): string {
  const s = k.schedule;
  if (s.kind === "naive") return "naive";
  if (s.kind === "rows") return `rows(${s.rows.map((d) => k.space[d]!.name).join(", ")})`;
  const dim = (d: number | null, t: number) => (d === null ? "1" : `${k.space[d]!.name}×${t}`);
  return `tiled(m=${dim(s.m, s.tm)}, n=${dim(s.n, s.tn)})`;
}

function formatSources(k: Kernel): string {
  const root = k.sources.find((s) => s.node === k.root) ?? k.sources[k.sources.length - 1];
  if (!root) return "";
  const where = root.at ? ` @ ${root.at}` : "";
  const scope = root.scope ? ` (${root.scope})` : "";
  const others = k.sources.filter((s) => s !== root).map((s) => `%${s.node} ${s.op}`);
  const with_ = others.length > 0 ? ` + ${others.join(", ")}` : "";
  return `from %${root.node} ${root.op}${where}${scope}${with_}`;
}

function formatBuffer(b: KernelBuffer): string {
  const kind = b.source.kind === "computed" ? "" : `${b.source.kind} `;
  return `b${b.id} ${kind}${b.name} : ${formatType(b)}`;
}

export function printKernel(k: Kernel, buffers: readonly KernelBuffer[]): string {
  const t = (v: [number, number, number]) => `(${v.join(",")})`;
  const lines = [
    `kernel ${k.name}  wg=${t(k.workgroup)} grid=${t(k.grid)} ${formatSchedule(k)}  ${formatSources(k)}`,
  ];
  const reads = k.bindings
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b.role === "read")
    .map(({ b, i }) => `in${i} = b${b.buffer} ${buffers[b.buffer]?.name ?? ""}`.trimEnd());
  const write = k.bindings.find((b) => b.role === "write")!;
  lines.push(`  ${[...reads, `out = b${write.buffer}`].join(", ")}`);
  lines.push(`  out[${k.store.map((e) => printI(e)).join(", ")}] = ${printV(k.body)}`);
  // A fused scan step stores several outputs; a recurrence says how it runs and why.
  for (const st of k.stores ?? []) {
    const name = st.binding === k.bindings.length - 1 ? "out" : `out${st.binding}`;
    const when = st.when ? ` if ${printCond(st.when)}` : "";
    lines.push(
      `  ${name}[${st.index.map((e) => printI(e)).join(", ")}] = ${printV(st.value)}${when}`,
    );
  }
  if (k.loop) lines.push(`  ${formatLoop(k)}`);
  const ops = computeSources(k);
  if (ops.length > 1) lines.push(`  fused: ${ops.map(formatSource).join(", ")}`);
  return lines.join("\n");
}

/** How a recurrence's kernel runs: once per step (the step from a uniform) or all steps in one dispatch. */
export function formatLoop(k: Kernel): string {
  const l = k.loop!;
  const how = l.persistent
    ? `persistent: all ${l.steps} steps in this one dispatch (one workgroup, a barrier between steps)`
    : `dispatched once per step, ${l.steps} steps (step = uniform)`;
  return `recurrence loop ${l.id}, ${how}${l.why ? ` — ${l.why}` : ""}`;
}

/** The compute ops a kernel evaluates (movement ops and constants left out), root last. */
function computeSources(k: Kernel): KernelSource[] {
  return k.sources.filter((s) => s.op !== "const" && getOp(s.op).category !== "injective");
}

function formatSource(s: KernelSource): string {
  return `%${s.node} ${s.op}${s.at ? ` @ ${s.at}` : ""}${s.scope ? ` (${s.scope})` : ""}`;
}

/** One line per kernel: the ops fused into it (what `inspect --stage opt` appends). */
export function printGroups(program: KernelProgram): string {
  return program.kernels
    .map((k) => {
      const ops = computeSources(k);
      const scopes = [...new Set(ops.map((s) => s.scope).filter(Boolean))];
      const where = scopes.length > 0 ? `  (${scopes.join(", ")})` : "";
      const loop = k.loop
        ? ` {loop ${k.loop.id}: ${k.loop.persistent ? "persistent" : `×${k.loop.steps} steps`}}`
        : "";
      return `${k.name} [${formatSchedule(k)}]${loop}: ${ops.map((s) => `%${s.node} ${s.op}`).join(", ")}${where}`;
    })
    .join("\n");
}

export function printKernels(program: KernelProgram): string {
  const lines = program.buffers.map((b) => formatBuffer(b));
  const io = [
    ...program.inputs.map((i) => `input ${i.name} = b${i.buffer}`),
    ...program.outputs.map((o) => `output ${o.name} = b${o.buffer}`),
  ];
  return [
    "buffers:",
    ...lines.map((l) => `  ${l}`),
    ...io,
    "",
    ...program.kernels.map((k) => printKernel(k, program.buffers)),
  ].join("\n");
}
