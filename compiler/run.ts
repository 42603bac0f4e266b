// Running a compiled model: bind inputs and weights by name, pick a backend,
// return the outputs. Every check happens before anything runs, so a bad
// weight file or a mis-shaped input is an error naming the tensor. The CPU
// backend interprets the Graph IR; WebGPU runs the ExecutablePlan the WGSL
// code generator makes of it.

import { GpuPlan } from "../runtime/webgpu/execute.js";
import { bindWeights } from "../runtime/weights/bind.js";
import { readSafetensors } from "../runtime/weights/safetensors.js";
import { seededParams } from "../runtime/weights/seeded.js";
import type { ExecutablePlan } from "./codegen/plan.js";
import { emitPlan } from "./codegen/wgsl/emit-plan.js";
import { diagnostic, didYouMean, NncError } from "./core/diagnostics.js";
import type { Tensor } from "./core/tensor.js";
import { formatType, sameShape } from "./core/types.js";
import { checkInputIndices } from "./graph/check-indices.js";
import type { Graph } from "./graph/graph.js";
import { runGraph } from "./graph/interpret.js";
import { lowerGraph } from "./kernels/lower.js";
import { OpError } from "./ops/op.js";
import { loadedParams } from "./passes/prep.js";

export type Backend = "cpu" | "webgpu";
export const backends: readonly Backend[] = ["webgpu", "cpu"];

/** The graph's executable plan (compiler/kernels: lowering + WGSL), made only when WebGPU runs. */
export type PlanSource = () => ExecutablePlan;

/** `seeded` (SPEC.md's initializer), a .safetensors path, or tensors by state_dict name. */
export type Weights = "seeded" | { file: string } | Map<string, Tensor>;

export interface RunOptions {
  weights?: Weights;
  backend?: Backend;
}

export interface RunResult {
  outputs: Map<string, Tensor>;
  backend: Backend;
}

/** The graph's own params (its state_dict) from seeds, a file or a map; derived params come from `prep` later. */
export function loadWeights(graph: Graph, weights: Weights): Map<string, Tensor> {
  const params = loadedParams(graph);
  if (weights === "seeded") return seededParams(params);
  if (weights instanceof Map) return bindWeights(params, weights, "the given weights");
  return bindWeights(params, readSafetensors(weights.file), weights.file);
}

/** Checks that the inputs are exactly the graph's, by name, dtype and shape. */
export function checkInputs(graph: Graph, inputs: Map<string, Tensor>): void {
  const problems = [];
  const names = graph.inputs.map((i) => i.name);
  for (const want of graph.inputs) {
    const t = inputs.get(want.name);
    if (!t) {
      problems.push(
        diagnostic("NN6009", `missing input \`${want.name}\` (${formatType(want.type)})`),
      );
    } else if (t.dtype !== want.type.dtype || !sameShape(t.shape, want.type.shape)) {
      problems.push(
        diagnostic(
          "NN6009",
          `input \`${want.name}\` is ${formatType(t)}, but the model was compiled for ${formatType(want.type)}`,
        ),
      );
    }
  }
  for (const name of inputs.keys()) {
    if (!names.includes(name))
      problems.push(diagnostic("NN6009", `unexpected input \`${name}\`${didYouMean(name, names)}`));
  }
  if (problems.length > 0) throw new NncError(problems);
}

export async function runOnBackend(
  graph: Graph,
  inputs: Map<string, Tensor>,
  params: Map<string, Tensor>,
  backend: Backend,
  plan?: PlanSource,
): Promise<Map<string, Tensor>> {
  checkInputs(graph, inputs);
  switch (backend) {
    case "cpu":
      return coded(() => runGraph(graph, inputs, params));
    case "webgpu": {
      // The kernels clamp a gather index; the CPU backend's NN7001 for token ids is checked here.
      coded(() => checkInputIndices(graph, inputs));
      const gpuPlan = await gpuPlanFor(graph, plan);
      if (uploaded.get(gpuPlan) !== params) {
        gpuPlan.uploadParams(params);
        uploaded.set(gpuPlan, params);
      }
      return gpuPlan.run(inputs);
    }
  }
}

/** An OpError (a run-time error of an op) as the NncError a caller sees. */
function coded<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpError)
      throw new NncError(diagnostic(e.code, e.message, undefined, e.hint ? { hint: e.hint } : {}));
    throw e;
  }
}

/** Built plans by graph (CompiledModel caches graphs per input shape), so a second run reuses one. */
const gpuPlans = new WeakMap<Graph, Promise<GpuPlan>>();
/** The weights each plan holds, by identity: uploaded again only when they change. */
const uploaded = new WeakMap<GpuPlan, Map<string, Tensor>>();

async function gpuPlanFor(graph: Graph, plan: PlanSource | undefined): Promise<GpuPlan> {
  const hit = gpuPlans.get(graph);
  if (hit) {
    const p = await hit.catch(() => undefined);
    if (p && p.lost === undefined) return p;
    p?.dispose();
  }
  let executable: ExecutablePlan;
  try {
    // CompiledModel passes its cached plan(); a bare graph is lowered here.
    executable = plan ? plan() : emitPlan(lowerGraph(graph));
  } catch (e) {
    // Led by NN7002, so a caller that chose WebGPU by default can fall back to the CPU.
    const why =
      e instanceof NncError
        ? e.diagnostics
        : e instanceof OpError
          ? [diagnostic(e.code, e.message, undefined, e.hint ? { hint: e.hint } : {})]
          : undefined;
    if (!why) throw e;
    throw new NncError([
      diagnostic("NN7002", "the WGSL code generator cannot compile this model for WebGPU"),
      ...why,
    ]);
  }
  const made = GpuPlan.create(executable);
  gpuPlans.set(graph, made);
  made.catch(() => gpuPlans.delete(graph));
  return made;
}
