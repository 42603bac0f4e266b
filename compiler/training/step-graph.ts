// One training step as one graph: the objective's forward pass, its backward
// pass (compiler/autodiff) seeded with 1 at the scalar `loss`, gradient
// clipping by global norm and the optimizer's update, so the whole step is
// optimized, fused and planned together (one submit on WebGPU). The step's
// changing numbers (learning rate, bias corrections, first-step flag) are
// scalar inputs, so a schedule never recompiles.

import { gradGraph } from "../autodiff/grad-graph.js";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { TensorType } from "../core/types.js";
import type { Graph, GraphParam } from "../graph/graph.js";
import { GraphEditor } from "../passes/editor.js";

export type OptimizerKind = "sgd" | "adam" | "adamw";

export interface OptimizerSpec {
  kind: OptimizerKind;
  /** SGD: momentum, dampening and Nesterov as torch.optim.SGD. */
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 added to the gradient (SGD, Adam) or decoupled (AdamW). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Clip gradients to this global 2-norm (torch.nn.utils.clip_grad_norm_). */
  clipNorm?: number;
}

/** The scalar inputs a step takes, set by the host each step. */
export const STEP_INPUTS = {
  lr: "step:lr",
  /** 1 on the first step (momentum buffers start as the first gradient), else 0. */
  first: "step:first",
  /** Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
  bc1: "step:bc1",
  bc2: "step:bc2",
} as const;

/** A piece of optimizer state: one tensor per parameter, named `STATE:PARAM`. */
export interface StateSlot {
  name: string;
  param: string;
  type: TensorType;
}

export interface StepGraph {
  graph: Graph;
  /** Trainable parameters, in graph order; the output `param:NAME` is each one's new value. */
  params: GraphParam[];
  state: StateSlot[];
  /** The output holding the global gradient norm before clipping, when clipping. */
  gradNorm?: string;
}

/** The prefixes of a step's outputs holding each parameter's and state slot's new value. */
export const PARAM_OUTPUT = "param:";
export const STATE_OUTPUT = "state:";
export const newParamName = (p: string) => `${PARAM_OUTPUT}${p}`;
export const newStateName = (s: string) => `${STATE_OUTPUT}${s}`;

function stateKinds(opt: OptimizerSpec): string[] {
  if (opt.kind === "sgd") return (opt.momentum ?? 0) !== 0 ? ["momentum"] : [];
  return ["exp_avg", "exp_avg_sq"];
}

/** The training step of an objective whose output `loss` is a scalar. */
export function stepGraph(objective: Graph, opt: OptimizerSpec): StepGraph {
  const loss = objective.outputs.find((o) => o.name === "loss");
  const lossNode = loss ? objective.nodes[loss.node] : undefined;
  if (!loss || !lossNode)
    throw new NncError(
      diagnostic("NN8102", "a training objective needs an output named `loss`", undefined, {
        hint: "return {loss: cross_entropy(net(x), label)} from the objective model",
      }),
    );
  if (lossNode.type.shape.length !== 0 || lossNode.type.dtype !== "f32")
    throw new NncError(
      diagnostic(
        "NN8102",
        `the objective's \`loss\` must be a scalar f32, got f32[${lossNode.type.shape.join(", ")}]`,
        lossNode.span,
        { hint: "reduce it, e.g. with mean(...) or one of the stdlib losses" },
      ),
    );
  const trainable = objective.params.filter((p) => p.kind === "parameter" && !p.derived);
  if (trainable.length === 0)
    throw new NncError(
      diagnostic("NN8103", "the objective has no trainable parameters: there is nothing to train"),
    );

  const { graph: g, grads } = gradGraph(objective, { seedOnes: ["loss"], only: ["loss"] });
  const ed = new GraphEditor(g);
  for (const n of g.nodes) ed.map.set(n.id, ed.copy(n));
  const node = (name: string) => ed.map.get(g.outputs.find((o) => o.name === name)!.node)!;
  const paramNode = (p: GraphParam) => ed.map.get(p.node)!;
  const scalarInput = (name: string) => ed.emit("input", [], { name, dtype: "f32", shape: [] });
  const c = (v: number) => ed.emit("const", [], { dtype: "f32", shape: [], value: [v] });
  const op = (name: string, ...xs: number[]) => ed.emit(name, xs, {});

  const inputs: Graph["inputs"] = [];
  const addInput = (name: string) => {
    const id = scalarInput(name);
    inputs.push({ name, node: id, type: { dtype: "f32", shape: [] } });
    return id;
  };
  const lr = addInput(STEP_INPUTS.lr);

  let gradOf = new Map(trainable.map((p) => [p.name, node(grads.get(p.name)!.output)]));
  const outputs: Graph["outputs"] = [{ name: "loss", node: ed.map.get(loss.node)! }];
  let gradNorm: string | undefined;
  if (opt.clipNorm !== undefined) {
    let total: number | undefined;
    for (const p of trainable) {
      const gp = gradOf.get(p.name)!;
      const axes = p.type.shape.map((_, i) => i);
      const sq = op("mul", gp, gp);
      const s = axes.length > 0 ? ed.emit("reduce_sum", [sq], { axes }) : sq;
      total = total === undefined ? s : op("add", total, s);
    }
    const norm = op("sqrt", total!);
    const coef = op("min", c(1), op("div", c(opt.clipNorm), op("add", norm, c(1e-6))));
    gradOf = new Map([...gradOf].map(([k, gp]) => [k, op("mul", gp, coef)]));
    gradNorm = "grad_norm";
    outputs.push({ name: gradNorm, node: norm });
  }

  const state: StateSlot[] = [];
  const stateIn = new Map<string, number>();
  for (const kind of stateKinds(opt)) {
    for (const p of trainable) {
      const name = `${kind}:${p.name}`;
      const id = ed.emit("input", [], { name, dtype: "f32", shape: [...p.type.shape] });
      inputs.push({ name, node: id, type: p.type });
      stateIn.set(name, id);
      state.push({ name, param: p.name, type: p.type });
    }
  }
  const first = opt.kind === "sgd" && stateKinds(opt).length > 0 ? addInput(STEP_INPUTS.first) : 0;
  const bc1 = opt.kind === "sgd" ? 0 : addInput(STEP_INPUTS.bc1);
  const bc2 = opt.kind === "sgd" ? 0 : addInput(STEP_INPUTS.bc2);

  const wd = opt.weightDecay ?? 0;
  for (const p of trainable) {
    const w = paramNode(p);
    let gp = gradOf.get(p.name)!;
    let next: number;
    if (opt.kind === "sgd") {
      if (wd !== 0) gp = op("add", gp, op("mul", w, c(wd)));
      const mu = opt.momentum ?? 0;
      let d = gp;
      if (mu !== 0) {
        const buf = stateIn.get(`momentum:${p.name}`)!;
        // buf = d on the first step, else μ·buf + (1 − dampening)·d.
        const later = op("add", op("mul", buf, c(mu)), op("mul", gp, c(1 - (opt.dampening ?? 0))));
        const notFirst = op("sub", c(1), first);
        const nb = op("add", op("mul", later, notFirst), op("mul", gp, first));
        outputs.push({ name: newStateName(`momentum:${p.name}`), node: nb });
        d = opt.nesterov ? op("add", gp, op("mul", nb, c(mu))) : nb;
      }
      next = op("sub", w, op("mul", d, lr));
    } else {
      const b1 = opt.beta1 ?? 0.9;
      const b2 = opt.beta2 ?? 0.999;
      const eps = opt.eps ?? 1e-8;
      let base = w;
      if (opt.kind === "adamw" && wd !== 0)
        base = op("mul", w, op("sub", c(1), op("mul", lr, c(wd))));
      else if (wd !== 0) gp = op("add", gp, op("mul", w, c(wd)));
      const m = stateIn.get(`exp_avg:${p.name}`)!;
      const v = stateIn.get(`exp_avg_sq:${p.name}`)!;
      const nm = op("add", op("mul", m, c(b1)), op("mul", gp, c(1 - b1)));
      const nv = op("add", op("mul", v, c(b2)), op("mul", op("mul", gp, gp), c(1 - b2)));
      outputs.push({ name: newStateName(`exp_avg:${p.name}`), node: nm });
      outputs.push({ name: newStateName(`exp_avg_sq:${p.name}`), node: nv });
      // p − (lr / bc1) · m / (√v / √bc2 + eps), torch's order of operations.
      const denom = op("add", op("div", op("sqrt", nv), op("sqrt", bc2)), c(eps));
      next = op("sub", base, op("mul", op("div", lr, bc1), op("div", nm, denom)));
    }
    outputs.push({ name: newParamName(p.name), node: next });
  }

  const graph = ed.finish();
  // The objective's other outputs (logits for accuracy, say) come along; its gradient outputs do not.
  const others = objective.outputs
    .filter((o) => o.name !== "loss")
    .map((o) => ({ name: o.name, node: node(o.name) }));
  graph.inputs = [...graph.inputs, ...inputs];
  graph.outputs = [...outputs, ...others];
  return { graph, params: trainable, state, ...(gradNorm ? { gradNorm } : {}) };
}
