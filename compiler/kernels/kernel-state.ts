// The kernels stage of the pipeline: a graph, the grouping that says which
// nodes each kernel evaluates, and the Kernel IR lowered from them (lazily:
// the fuse pass replaces the grouping before anything is lowered, so a
// fused program is lowered once). Kernel passes take a state and return one.

import type { PassDef } from "../core/pass.js";
import type { Graph } from "../graph/graph.js";
import type { PassContext, Target } from "../target/target.js";
import { defaultGrouping, type Grouping } from "./grouping.js";
import type { KernelProgram } from "./ir.js";
import { type LowerOptions, lowerGrouped, maxBindingsOf } from "./lower.js";

export class KernelState {
  private lowered: KernelProgram | undefined;

  private constructor(
    readonly graph: Graph,
    readonly grouping: Grouping,
    readonly options: LowerOptions,
    program?: KernelProgram,
  ) {
    this.lowered = program;
  }

  /** One kernel per compute node: what the kernels stage starts from. */
  static initial(graph: Graph, target: Target): KernelState {
    const options = { target };
    return new KernelState(graph, defaultGrouping(graph, maxBindingsOf(options)), options);
  }

  /** The Kernel IR of this grouping (lowered on first use). */
  get program(): KernelProgram {
    this.lowered ??= lowerGrouped(this.graph, this.grouping, this.options);
    return this.lowered;
  }

  get isLowered(): boolean {
    return this.lowered !== undefined;
  }

  withGrouping(grouping: Grouping): KernelState {
    return new KernelState(this.graph, grouping, this.options);
  }

  withProgram(program: KernelProgram): KernelState {
    return new KernelState(this.graph, this.grouping, this.options, program);
  }
}

export interface KernelPass extends PassDef<KernelState, PassContext> {
  readonly stage: "kernels";
}
