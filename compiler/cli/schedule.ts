// Learning-rate schedules for `nnc train --schedule`: the lr of step t (1-based)
// from the base lr, the steps per epoch and the total steps. Parts compose:
// `warmup=K` scales linearly from lr/K up to lr over the first K steps, then
// `step=E:G` multiplies by G every E epochs or `cosine` anneals to 0 by the last step.

import { UsageError } from "./inputs.js";

export interface ScheduleContext {
  lr: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

export function parseSchedule(text: string | undefined, c: ScheduleContext): (t: number) => number {
  let warmup = 0;
  let decay: (t: number) => number = () => 1;
  for (const part of (text ?? "constant").split(",")) {
    const [kind, arg] = part.split("=") as [string, string | undefined];
    if (kind === "constant" && arg === undefined) continue;
    if (kind === "warmup") {
      warmup = Number(arg);
      if (!Number.isInteger(warmup) || warmup < 1)
        throw new UsageError(
          `--schedule warmup=K takes a positive number of steps, got \`${arg}\``,
        );
    } else if (kind === "cosine" && arg === undefined) {
      decay = (t) => 0.5 * (1 + Math.cos((Math.PI * Math.min(t - 1, c.totalSteps)) / c.totalSteps));
    } else if (kind === "step") {
      const [e, g] = (arg ?? "").split(":").map(Number) as [number, number | undefined];
      const gamma = g ?? 0.1;
      if (!Number.isInteger(e) || e < 1 || !(gamma > 0))
        throw new UsageError(`--schedule step=EPOCHS[:GAMMA] (e.g. step=5:0.1), got \`${part}\``);
      decay = (t) => gamma ** Math.floor((t - 1) / c.stepsPerEpoch / e);
    } else
      throw new UsageError(
        `--schedule: unknown part \`${part}\`; parts: constant, warmup=STEPS, step=EPOCHS[:GAMMA], cosine (comma-separated)`,
      );
  }
  return (t) => c.lr * decay(t) * (warmup > 0 && t <= warmup ? t / warmup : 1);
}
