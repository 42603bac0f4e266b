// Training an objective: its step graph (step-graph.ts) compiled once for the
// batch's shapes, run once per batch on a backend, with the parameters and
// the optimizer's state carried from step to step on the host. What
// `nnc train` drives; the optimizer and training-step fixtures check it.

import { type CompiledModel, shapeKey, shapesOf } from "../compile.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { numel } from "../core/types.js";
import { RNG_SEED, RNG_STEP } from "../elaborate/builtins/random.js";
import { BUFFER_OUTPUT, bufferOutputs, type Graph } from "../graph/graph.js";
import { GraphRunner } from "../graph-runner.js";
import { withDerived } from "../passes/prep.js";
import { type Backend, loadWeights, type Weights } from "../run.js";
import { advanceCounters } from "./grad.js";
import {
  newParamName,
  newStateName,
  type OptimizerSpec,
  PARAM_OUTPUT,
  STATE_OUTPUT,
  STEP_INPUTS,
  type StepGraph,
  stepGraph,
} from "./step-graph.js";

/** The learning rate of step t (1-based): a constant or a schedule (schedules.ts). */
export type LearningRate = number | ((step: number) => number);

export interface TrainerOptions {
  optimizer: OptimizerSpec;
  lr: LearningRate;
  backend?: Backend;
  /** The starting parameters: seeded (SPEC.md's initializer), a checkpoint, or tensors. */
  weights?: Weights;
  /** The dropout RNG's seed (graph input rng:seed; rng:step is the step number). Default 0. */
  seed?: number;
}

export interface StepResult {
  step: number;
  loss: number;
  gradNorm?: number;
  /** The objective's other outputs (e.g. logits), at the parameters before the update. */
  outputs: Map<string, Tensor>;
}

const scalar = (v: number): Tensor => ({ dtype: "f32", shape: [], data: Float32Array.of(v) });
const int32 = (v: number): Tensor => ({ dtype: "i32", shape: [], data: Int32Array.of(v) });

export class Trainer {
  /** Steps taken so far. */
  step = 0;
  params: Map<string, Tensor>;
  state: Map<string, Tensor>;
  private readonly plans = new Map<string, { step: StepGraph; runner: GraphRunner }>();
  private readonly evals = new Map<string, GraphRunner>();
  private readonly backend: Backend;

  constructor(
    readonly model: CompiledModel,
    readonly options: TrainerOptions,
  ) {
    this.backend = options.backend ?? "cpu";
    this.params = new Map();
    this.state = new Map();
  }

  /** The step graph for a batch of these shapes (compiled once per shape, like a model's plans). */
  compiled(batch: Map<string, Tensor>): { step: StepGraph; runner: GraphRunner } {
    const shapes = shapesOf(batch);
    const key = shapeKey(shapes);
    const hit = this.plans.get(key);
    if (hit) return hit;
    // Steps run the train-mode function: batch statistics, buffer updates, dropout.
    const objective = this.model.elaborate(shapes, "train").graph;
    const step = stepGraph(objective, this.options.optimizer);
    const m = this.model;
    const runner = new GraphRunner(step.graph, this.backend, m.target, m.options.optimize);
    const made = { step, runner };
    this.plans.set(key, made);
    if (this.params.size === 0) this.init(objective, step);
    return made;
  }

  private init(objective: Graph, step: StepGraph): void {
    const loaded = loadWeights(objective, this.options.weights ?? "seeded");
    this.params = loaded;
    for (const s of step.state)
      this.state.set(s.name, {
        dtype: "f32",
        shape: [...s.type.shape],
        data: new Float32Array(numel(s.type.shape)),
      });
  }

  /** One optimizer step on a batch; the loss is that of the parameters before the update. */
  async run(batch: Map<string, Tensor>): Promise<StepResult> {
    const { step, runner } = this.compiled(batch);
    const graph = runner.graph;
    const t = this.step + 1;
    const lr = typeof this.options.lr === "number" ? this.options.lr : this.options.lr(t);
    const o = this.options.optimizer;
    const feed = new Map(batch);
    feed.set(STEP_INPUTS.lr, scalar(lr));
    const has = (name: string) => graph.inputs.some((i) => i.name === name);
    if (has(STEP_INPUTS.first)) feed.set(STEP_INPUTS.first, scalar(t === 1 ? 1 : 0));
    if (has(STEP_INPUTS.bc1)) feed.set(STEP_INPUTS.bc1, scalar(1 - (o.beta1 ?? 0.9) ** t));
    if (has(STEP_INPUTS.bc2)) feed.set(STEP_INPUTS.bc2, scalar(1 - (o.beta2 ?? 0.999) ** t));
    if (has(RNG_SEED)) feed.set(RNG_SEED, int32(this.options.seed ?? 0));
    if (has(RNG_STEP)) feed.set(RNG_STEP, int32(t));
    for (const [k, v] of this.state) feed.set(k, v);
    const params = withDerived(graph, this.params);
    const values = await runner.run(feed, params);
    const loss = (values.get("loss")!.data as Float32Array)[0]!;
    if (!Number.isFinite(loss))
      throw new NncError(
        diagnostic(
          "NN8105",
          `the loss is ${loss} at step ${t}; the parameters were not updated`,
          undefined,
          {
            hint: "lower the learning rate, clip gradients (--clip-norm), or check the data",
          },
        ),
      );
    const next = new Map(this.params);
    for (const p of step.params) next.set(p.name, values.get(newParamName(p.name))!);
    for (const s of step.state) this.state.set(s.name, values.get(newStateName(s.name))!);
    // Buffers carry from step to step like params: running statistics, batch counters.
    const buffers = bufferOutputs(values);
    advanceCounters(graph, this.params, buffers);
    for (const [k, v] of buffers) next.set(k, v);
    this.params = next;
    this.step = t;
    const outputs = new Map(
      [...values].filter(
        ([k]) =>
          k !== "loss" &&
          k !== step.gradNorm &&
          !k.startsWith(PARAM_OUTPUT) &&
          !k.startsWith(STATE_OUTPUT) &&
          !k.startsWith(BUFFER_OUTPUT),
      ),
    );
    const norm = step.gradNorm ? values.get(step.gradNorm) : undefined;
    return {
      step: t,
      loss,
      outputs,
      ...(norm ? { gradNorm: (norm.data as Float32Array)[0]! } : {}),
    };
  }

  /** The objective's loss (and other outputs) at the current parameters, without a step. */
  async evaluate(batch: Map<string, Tensor>): Promise<Map<string, Tensor>> {
    const key = shapeKey(shapesOf(batch));
    if (this.params.size === 0) this.compiled(batch);
    let runner = this.evals.get(key);
    if (!runner) {
      const m = this.model;
      // Evaluation is the inference function: running statistics, no dropout.
      const objective = m.elaborate(shapesOf(batch), "eval").graph;
      runner = new GraphRunner(objective, this.backend, m.target, m.options.optimize);
      this.evals.set(key, runner);
    }
    return runner.run(batch, withDerived(runner.graph, this.params));
  }

  /** Frees the WebGPU plans. */
  dispose(): void {
    for (const { runner } of this.plans.values()) runner.dispose();
    for (const r of this.evals.values()) r.dispose();
  }
}
