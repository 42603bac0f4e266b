// The tune pass: a tiled contraction's register tile, by the target's tile
// rule (Target.tileRule). Lavapipe's, loads per multiply-add (a CPU running
// the shader; how a tile loads is kernels/vectorize.ts's analysis): every
// load inside the k loop is a bounds-checked per-lane load there, so what
// counts is loads per multiply-add: a 4 × 8 tile (two vec4s of columns) reuses each row value for
// 8 columns instead of 4. Measured on resnet18 at 224, same process: its 3×3
// convs 1.1–1.8× faster each, the whole forward 641 → 448 ms. Where the k
// loop is unrolled by 4 and the columns are not one vec4 load (a strided 1×1
// conv), each extra column costs 4 scalar loads and the wider tile was 2×
// slower: those keep 4 × 4. Where the rows load as vec4s (a conv weight in
// HWIO layout, see passes/conv-weight-layout.ts) 8 rows cost two loads per
// step of k, and an 8 × 8 tile cuts the loads per multiply-add again (8 × 8
// had been no better than 4 × 8 while each row was a scalar load); 16 rows
// where no sliding window shares the column loads (strided and 1×1 convs:
// resnet50 425 → 341 ms against 8 rows), 8 where one does (16 rows spill
// there: resnet18's stride-1 3×3 convs 1.8× slower). resnet18 at 224, same
// process: its convs 1.2–2.1× faster each, the forward 268 → 166 ms. Off at
// -O0 (fixed 4 × 4 tiles).
//
// A GPU's rule (the gpu target's, occupancy) is the other: there the tile
// that matters is the one that leaves enough invocations to fill the device.
// On an H200 (132 SMs) the CPU tiles left ResNet-18's 7×7 layers with 7–12
// workgroups. So: 4 × 4 tiles, fewer rows while the grid has fewer than
// minThreads (16384) invocations, down to 1 × 4 (and OIHW weights:
// Target.convWeightLayout). On the H200, resnet18 at 224, warm host to
// host, one machine: this rule 4.51 ms; fixed 4 × 4 4.86, 2 × 4 4.61,
// 4 × 8 5.43, 8 × 8 6.43; 4 × 8 down to 4096 invocations 4.74; the CPU
// target's tiles and HWIO weights 8.83.

import type { Target } from "../target/target.js";
import type { Kernel, Schedule } from "./ir.js";
import type { KernelPass } from "./kernel-state.js";
import { gridFor, threadCount } from "./schedule.js";
import { tiledLoads } from "./vectorize.js";

/** Columns per invocation the tuned tile uses, where the kernel allows it. */
const WIDE_TN = 8;
/** Rows per invocation where they load as vec4s: 16 where no sliding window shares the column loads. */
const TALL_TM = 8;
const TALLER_TM = 16;

/** A kernel's tile by the target's rule (Target.tileRule). */
export function tuneKernel(k: Kernel, target: Target): Kernel {
  const s = k.schedule;
  if (s.kind !== "tiled") return k;
  const rule = target.tileRule;
  if (rule.kind === "occupancy") return occupancyTile(k, s, rule.minThreads);
  const width = target.vectorWidth;
  const M = s.m === null ? 1 : k.space[s.m]!.extent;
  const N = k.space[s.n]!.extent;
  // 8 columns where n has 8, or where they idle no more columns than 4 do (a 7-wide map).
  const wideFits = N >= WIDE_TN || Math.ceil(N / WIDE_TN) * WIDE_TN <= Math.ceil(N / 4) * 4;
  if (M % TALL_TM === 0 && wideFits) {
    const tall = withSchedule(k, { ...s, tm: TALL_TM, tn: WIDE_TN });
    const loads = tiledLoads(tall, width);
    if (loads.mVec && !loads.slide && M % TALLER_TM === 0)
      return withSchedule(k, { ...s, tm: TALLER_TM, tn: WIDE_TN });
    if (loads.mVec) return tall;
  }
  if (s.tn >= WIDE_TN || N < WIDE_TN) return k;
  const wide = withSchedule(k, { ...s, tn: WIDE_TN });
  const { U, nVec } = tiledLoads(wide, width);
  return U === width && !nVec ? k : wide;
}

/** The largest of 4 × 4, 2 × 4, 1 × 4 whose grid has minThreads invocations (else 1 × 4). */
function occupancyTile(
  k: Kernel,
  s: Extract<Schedule, { kind: "tiled" }>,
  minThreads: number,
): Kernel {
  const rows = s.m === null ? [1] : [4, 2, 1];
  let best = k;
  for (const tm of rows) {
    best = withSchedule(k, { ...s, tm, tn: 4 });
    if (best.threads >= minThreads) break;
  }
  return best;
}

function withSchedule(k: Kernel, schedule: Schedule): Kernel {
  const threads = threadCount(k.space, schedule);
  return { ...k, schedule, threads, grid: gridFor(threads, k.workgroup[0]) };
}

export const tunePass: KernelPass = {
  name: "tune",
  stage: "kernels",
  what: "register tile shapes by the target's rule: fewer loads per multiply-add on a CPU adapter, enough invocations on a GPU",
  // It tiles the kernels the fuse pass formed.
  after: ["fuse"],
  // A recurrence's kernels keep lowering's tiles (their steps are small).
  run: (s, cx) =>
    s.withProgram({
      ...s.program,
      kernels: s.program.kernels.map((k) => (k.loop ? k : tuneKernel(k, cx.target))),
    }),
};
