// Gradients of a compiled model: the training graph (compiler/autodiff) of
// the entry at the inputs' shapes, optimized like any graph, run on a backend
// with the weights and one cotangent per float output. What `nnc grad`
// prints and what training steps are built from.

import { seededInput } from "../../runtime/weights/seeded.js";
import { type GradGraph, gradGraph } from "../autodiff/grad-graph.js";
import { type CompiledModel, shapesOf } from "../compile.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { formatType, sameShape } from "../core/types.js";
import { BUFFER_OUTPUT, bufferOutputs, type Graph } from "../graph/graph.js";
import { GraphRunner } from "../graph-runner.js";
import { withDerived } from "../passes/prep.js";
import { type Backend, loadWeights, type Weights } from "../run.js";

export interface GradOptions {
  weights?: Weights;
  backend?: Backend;
  /** Output name → its cotangent; an output left out gets SPEC.md's seeded `grad:NAME` tensor. */
  cotangents?: Map<string, Tensor>;
}

export interface GradResult {
  outputs: Map<string, Tensor>;
  /** Parameter (state_dict name) or float input name → its gradient. */
  grads: Map<string, { wrt: "input" | "parameter"; tensor: Tensor }>;
  cotangents: Map<string, Tensor>;
  /** Train mode: every buffer's value after the call, by state_dict name (empty in eval mode). */
  buffers: Map<string, Tensor>;
  backend: Backend;
}

/** The gradient graph of the model's entry at these input shapes (before the graph passes). */
export function trainingGraph(model: CompiledModel, inputs: Map<string, Tensor>): GradGraph {
  return gradGraph(model.elaborate(shapesOf(inputs)).graph);
}

/** The seeded cotangent of an output: SPEC.md §12.1's uniform rule keyed by `grad:NAME`. */
export function seededCotangent(output: string, shape: readonly number[]): Tensor {
  return seededInput(`grad:${output}`, shape, { kind: "uniform", scale: 1 });
}

export async function gradients(
  model: CompiledModel,
  inputs: Map<string, Tensor>,
  opts: GradOptions = {},
): Promise<GradResult> {
  const backend = opts.backend ?? "cpu";
  const g = trainingGraph(model, inputs);
  const runner = new GraphRunner(g.graph, backend, model.target, model.options.optimize);
  const { cotangents, grads } = g;
  const graph = runner.graph;
  const given = opts.cotangents ?? new Map<string, Tensor>();
  const feed = new Map(inputs);
  const used = new Map<string, Tensor>();
  for (const [output, inputName] of cotangents) {
    const want = graph.inputs.find((i) => i.name === inputName)!.type;
    const t = given.get(output) ?? seededCotangent(output, want.shape);
    if (t.dtype !== want.dtype || !sameShape(t.shape, want.shape)) {
      throw new NncError(
        diagnostic(
          "NN6009",
          `the cotangent of \`${output}\` is ${formatType(t)}, but the output is ${formatType(want)}`,
        ),
      );
    }
    feed.set(inputName, t);
    used.set(output, t);
  }
  for (const name of given.keys()) {
    if (!cotangents.has(name))
      throw new NncError(
        diagnostic("NN6009", `--cotangent ${name}: the model has no float output \`${name}\``),
      );
  }
  const params = withDerived(graph, loadWeights(graph, opts.weights ?? "seeded"));
  let values: Map<string, Tensor>;
  try {
    values = await runner.run(feed, params);
  } finally {
    runner.dispose();
  }
  const outputs = new Map<string, Tensor>();
  const buffers = bufferOutputs(values);
  const gradOut = new Map<string, { wrt: "input" | "parameter"; tensor: Tensor }>();
  const byOutput = new Map([...grads].map(([name, g]) => [g.output, { name, wrt: g.wrt }]));
  for (const [name, t] of values) {
    const g = byOutput.get(name);
    if (g) gradOut.set(g.name, { wrt: g.wrt, tensor: t });
    else if (!name.startsWith(BUFFER_OUTPUT)) outputs.set(name, t);
  }
  if (model.options.mode === "train") advanceCounters(graph, params, buffers);
  return { outputs, grads: gradOut, cotangents: used, buffers, backend };
}

/**
 * torch's batchnorm counts its train-mode calls in the i64 buffer
 * `num_batches_tracked`; graph arithmetic has no i64, so the host adds 1 to
 * each such buffer of a train-mode call (stdlib/nn.nn's batchnorm).
 */
export function advanceCounters(
  graph: Graph,
  params: Map<string, Tensor>,
  buffers: Map<string, Tensor>,
): void {
  for (const p of graph.params) {
    const leaf = p.name.slice(p.name.lastIndexOf(".") + 1);
    if (p.kind !== "buffer" || leaf !== "num_batches_tracked" || p.type.dtype !== "i64") continue;
    const old = params.get(p.name)!;
    if (!(old.data instanceof BigInt64Array)) continue;
    const data = old.data.map((x) => x + 1n);
    buffers.set(p.name, { ...old, data });
  }
}
