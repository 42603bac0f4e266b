// The tune pass: a tiled contraction's register tile, by a cost model of this
// adapter class (a CPU running the shader: lavapipe). Every load inside the k
// loop is a bounds-checked per-lane load there, so what counts is loads per
// multiply-add: a 4 × 8 tile (two vec4s of columns) reuses each row value for
// 8 columns instead of 4. Measured on resnet18 at 224, same process: its 3×3
// convs 1.1–1.8× faster each, the whole forward 641 → 448 ms. Where the k
// loop is unrolled by 4 and the columns are not one vec4 load (a strided 1×1
// conv), each extra column costs 4 scalar loads and the wider tile was 2×
// slower: those keep 4 × 4. Off at -O0 (fixed 4 × 4 tiles).

import type { Kernel, Schedule } from "./ir.js";
import { gridFor, threadCount } from "./schedule.js";
import { tiledLoads } from "./wgsl-tiled.js";

/** Columns per invocation the tuned tile uses, where the kernel allows it. */
const WIDE_TN = 8;

export function tuneKernel(k: Kernel): Kernel {
  const s = k.schedule;
  if (s.kind !== "tiled" || s.tn >= WIDE_TN) return k;
  if (k.space[s.n]!.extent < WIDE_TN) return k;
  const wide = withSchedule(k, { ...s, tn: WIDE_TN });
  const { U, nVec } = tiledLoads(wide);
  return U === 4 && !nVec ? k : wide;
}

function withSchedule(k: Kernel, schedule: Schedule): Kernel {
  const threads = threadCount(k.space, schedule);
  return { ...k, schedule, threads, grid: gridFor(threads, k.workgroup[0]) };
}
