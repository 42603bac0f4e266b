// The workbench's results: one row per kernel configuration, the summary line
// (best against naive, measured in the same run), and an optional JSON dump.

import { writeFileSync } from "node:fs";

export interface Row {
  variant: string;
  config: string;
  outputsPerInvocation: number;
  check?: string;
  maxRelError?: number;
  coldMs?: number;
  medianMs?: number;
  hostMedianMs?: number;
  runs?: number;
  source?: "timestamps" | "host";
  gflops?: number;
  failed?: string;
}

export function summarize(rows: Row[], naive: string): string {
  const timed = rows.filter((r) => r.gflops !== undefined).sort((x, y) => y.gflops! - x.gflops!);
  const best = timed[0];
  const naives = timed.filter((r) => r.variant === naive);
  if (!best) return "nothing was timed";
  const label = (r: Row) => `${r.gflops!.toFixed(2)} GFLOP/s (${r.variant}, ${r.config})`;
  const lines = [`best:  ${label(best)}`];
  if (naives.length > 0) {
    const n = naives[0]!;
    lines.push(
      `naive: ${label(n)}${naives.length > 1 ? ` — best of ${naives.length} workgroup sizes` : ""}`,
    );
    lines.push(`best / naive: ${(best.gflops! / n.gflops!).toFixed(1)}x`);
  }
  return lines.join("\n");
}

export function writeJson(path: string, data: unknown): void {
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
