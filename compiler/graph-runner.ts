// Runs a graph that no CompiledModel owns (a training or gradient graph) on a
// backend: the CPU interpreter, or the plan the pass pipeline makes of it for
// the model's target on WebGPU, allocated once and kept, with the weights
// uploaded again only when the caller hands over new ones.

import { GpuPlan } from "../runtime/webgpu/execute.js";
import type { Tensor } from "./core/tensor.js";
import type { Graph } from "./graph/graph.js";
import { type OptimizeOptions, Pipeline } from "./pipeline/index.js";
import { type Backend, checkGpuIndices, checkInputs, planUnavailable, runOnCpu } from "./run.js";
import type { Target } from "./target/target.js";

export class GraphRunner {
  /** The graph after the graph passes: what runs, and whose params must be bound. */
  readonly graph: Graph;
  /** One pipeline for the graph passes here and the kernel and plan passes on WebGPU: one log. */
  private readonly pipeline: Pipeline;
  private gpu: Promise<GpuPlan> | undefined;
  private uploaded: Map<string, Tensor> | undefined;

  constructor(
    graph: Graph,
    readonly backend: Backend,
    readonly target: Target,
    readonly options: OptimizeOptions = {},
  ) {
    this.pipeline = new Pipeline(target, options);
    this.graph = this.pipeline.graph(graph);
  }

  /** Runs on the inputs with these params (the graph's own and derived ones, withDerived). */
  async run(
    inputs: Map<string, Tensor>,
    params: Map<string, Tensor>,
  ): Promise<Map<string, Tensor>> {
    checkInputs(this.graph, inputs);
    if (this.backend === "cpu") return runOnCpu(this.graph, inputs, params);
    checkGpuIndices(this.graph, inputs);
    this.gpu ??= this.allocate();
    const gpu = await this.gpu;
    if (this.uploaded !== params) {
      gpu.uploadParams(params);
      this.uploaded = params;
    }
    return gpu.run(inputs);
  }

  private async allocate(): Promise<GpuPlan> {
    try {
      const p = this.pipeline;
      return await GpuPlan.allocate(p.plan(p.kernels(this.graph)));
    } catch (e) {
      throw planUnavailable(e) ?? e;
    }
  }

  dispose(): void {
    // A plan that failed to allocate has nothing to free (run() already threw its error).
    void this.gpu?.then(
      (g) => g.dispose(),
      () => undefined,
    );
    this.gpu = undefined;
  }
}
