// How the CLI prints: the `check` summary table, run results, JSON.

import type { Summary } from "../compile.js";
import type { Tensor } from "../core/tensor.js";
import { toNumbers } from "../core/tensor.js";
import { formatType } from "../core/types.js";

export function thousands(n: number): string {
  return n.toLocaleString("en-US");
}

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) =>
          rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function formatSummary(s: Summary): string {
  const head = `${s.entry} (${s.file})`;
  const io = [
    ...s.inputs.map((i) => `  input  ${i.name}: ${formatType(i.type)}`),
    ...s.outputs.map((o) => `  output ${o.name}: ${formatType(o.type)}`),
  ];
  const rows = [
    ["layer", "op", "output", "params"],
    ...s.rows.map((r) => [r.path, r.layer, r.output, thousands(r.params)]),
  ];
  const totals = [
    `params: ${thousands(s.params)} trainable${s.buffers > 0 ? `, ${thousands(s.buffers)} in buffers` : ""} (${(s.paramBytes / 1e6).toFixed(2)} MB)`,
    `FLOPs: ${thousands(s.flops)} (2 × multiply-adds of conv and matmul)`,
    `graph: ${thousands(s.graphNodes)} nodes`,
  ];
  return [
    head,
    ...io,
    "",
    table(rows, new Set([3])),
    "",
    ...totals,
    ...s.notes.map((n) => `note: ${n}`),
  ].join("\n");
}

/** JSON has no NaN or Infinity: those print as strings so a reader fails loudly. */
function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

export function tensorJson(t: Tensor): {
  shape: number[];
  dtype: string;
  data: (number | string)[];
} {
  return { shape: t.shape, dtype: t.dtype, data: toNumbers(t).map(jsonNumber) };
}

/** An output's type, its first `count` values (8 unless `--values`), and min/max/mean. */
export function formatOutput(name: string, t: Tensor, count = 8): string {
  const xs = toNumbers(t);
  const shown = xs.slice(0, count).map((x) => (Number.isInteger(x) ? String(x) : x.toPrecision(6)));
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let n = 0;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
    n++;
  }
  const stats =
    n > 0
      ? `\n  min ${min.toPrecision(4)}  max ${max.toPrecision(4)}  mean ${(sum / n).toPrecision(4)}`
      : "";
  const nonFinite = xs.length - n;
  return `${name}: ${formatType(t)}\n  [${shown.join(", ")}${xs.length > count ? `${count > 0 ? ", " : ""}… ${xs.length - count} more` : ""}]${stats}${nonFinite > 0 ? `\n  ${nonFinite} values are NaN or infinite` : ""}`;
}
