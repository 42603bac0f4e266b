// The Kernel IR as text — what `nnc inspect --stage kernels` shows:
//
//   kernel k3_conv2d  wg=(64,1,1) grid=(74,1,1) tiled(m=c×4, n=w×4)  from %3 conv2d @ lenet.nn:4:12 (conv1)
//     in0 = b0 input f32[1, 1, 32, 32], in1 = b1 conv1.weight f32[6, 1, 5, 5]; out = b5 f32[1, 6, 28, 28]
//     out[n, c, h, w] = sum[kh<5, kw<5](in0[n, 0, h + kh, w + kw] * in1[c, 0, kh, kw])

import { formatType } from "../types.js";
import { printI, printV } from "./expr.js";
import type { Kernel, KernelBuffer, KernelProgram } from "./ir.js";

function formatSchedule(k: Kernel): string {
  const s = k.schedule;
  if (s.kind === "naive") return "naive";
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
  return lines.join("\n");
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
