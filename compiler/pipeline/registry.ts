// The one registry of passes, in the order they run: graph passes
// (compiler/passes), kernel passes (compiler/kernels), plan passes
// (compiler/codegen). Adding a pass is its module and one line here; the
// order each declares (`after`) is checked when the registry is built.

import type { ExecutablePlan } from "../codegen/plan.js";
import { planMemoryPass } from "../codegen/plan-memory.js";
import { type PassDef, type PassStage, passStages } from "../core/pass.js";
import { fusePass } from "../kernels/fuse.js";
import type { KernelPass } from "../kernels/kernel-state.js";
import { tunePass } from "../kernels/tune.js";
import { type GraphPass, graphPasses } from "../passes/index.js";
import type { PassContext } from "../target/target.js";

export type PlanPass = PassDef<ExecutablePlan, PassContext>;
export type Pass = GraphPass | KernelPass | PlanPass;

export interface Registry {
  readonly graph: readonly GraphPass[];
  readonly kernels: readonly KernelPass[];
  readonly plan: readonly PlanPass[];
  readonly all: readonly Pass[];
}

/**
 * A registry from passes in run order. Throws where names repeat, a stage
 * runs before an earlier one's passes are done, or a pass comes before one
 * it must run after (or names one that does not exist).
 */
export function defineRegistry(passes: readonly Pass[]): Registry {
  const seen = new Map<string, Pass>();
  let stage = 0;
  for (const p of passes) {
    if (seen.has(p.name)) throw new Error(`pass registry: \`${p.name}\` is listed twice`);
    const at = passStages.indexOf(p.stage);
    if (at < stage)
      throw new Error(
        `pass registry: \`${p.name}\` (${p.stage}) comes after a ${passStages[stage]} pass`,
      );
    stage = at;
    for (const a of p.after) {
      if (seen.has(a)) continue;
      const later = passes.some((q) => q.name === a);
      throw new Error(
        later
          ? `pass registry: \`${p.name}\` must run after \`${a}\`, which is listed later`
          : `pass registry: \`${p.name}\` runs after \`${a}\`, which is no pass`,
      );
    }
    seen.set(p.name, p);
  }
  const of = <S extends PassStage>(s: S) => passes.filter((p) => p.stage === s);
  return {
    graph: of("graph") as GraphPass[],
    kernels: of("kernels") as KernelPass[],
    plan: of("plan") as PlanPass[],
    all: passes,
  };
}

export const registry: Registry = defineRegistry([
  ...graphPasses,
  fusePass,
  tunePass,
  planMemoryPass,
]);

/** Every pass's name, for `--disable-pass`. */
export const passNames: readonly string[] = registry.all.map((p) => p.name);
