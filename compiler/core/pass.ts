// What every pass of the pipeline is, whatever it rewrites: graph passes
// (compiler/passes), kernel passes (compiler/kernels) and plan passes
// (compiler/codegen) all have this shape; compiler/pipeline orders and runs
// them. Generic over the state and context so no layer imports another's IR.

/** Where a pass runs: on the Graph IR, the Kernel IR, or the executable plan. */
export type PassStage = "graph" | "kernels" | "plan";
export const passStages: readonly PassStage[] = ["graph", "kernels", "plan"];

export interface PassDef<S, C> {
  /** The name `--disable-pass` takes. */
  readonly name: string;
  /** One line on what it does (the CLI's help and `nnc inspect` print it). */
  readonly what: string;
  readonly stage: PassStage;
  /** Passes that must run before this one where both run (the registry checks the order). */
  readonly after: readonly string[];
  run(state: S, cx: C): S;
}
