// The optimizer: Graph IR → Graph IR, one module per pass, each switchable off
// by name (`--disable-pass NAME`) and all at once (`-O0`). The rewrite passes
// run to a fixpoint, then parameter-only work is folded out into `prep`.

import type { Graph } from "../graph/graph.js";
import { algebraicRules } from "./algebraic.js";
import { convWeightLayout } from "./conv-weight-layout.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { foldBatchnormRules } from "./fold-batchnorm.js";
import { foldConstants } from "./fold-constants.js";
import { removeIdentityRules } from "./remove-identities.js";
import { rewrite } from "./rewrite.js";
import { scanHoist } from "./scan-hoist.js";
import { scanFuse, scanPersistent } from "./scan-schedule.js";

export interface Pass {
  name: string;
  what: string;
  run(g: Graph): Graph;
}

const rewritePasses: Pass[] = [
  {
    name: "remove-identities",
    what: "x + 0, x · 1, same-shape reshapes, identity permutations, ...",
    run: (g) => rewrite(g, removeIdentityRules),
  },
  {
    name: "algebraic",
    what: "transpose∘transpose, reshape chains, −(−x), canonical operand order",
    run: (g) => rewrite(g, algebraicRules),
  },
  {
    name: "fold-batchnorm",
    what: "batchnorm and other per-channel affine maps into the conv/linear before them",
    run: (g) => rewrite(g, foldBatchnormRules),
  },
  { name: "cse", what: "one node for identical computations", run: cse },
  { name: "dce", what: "drops what no output reads", run: dce },
];

const foldPass: Pass = {
  name: "fold-constants",
  what: "parameter-only subexpressions computed once when weights are bound",
  run: foldConstants,
};

/** After folding: it relays out the weights folding produced (and the loaded ones). */
const layoutPass: Pass = {
  name: "conv-weight-layout",
  what: "conv weights stored output-channel innermost (HWIO) once in prep: a tile's 4 channels load as one vec4",
  run: convWeightLayout,
};

const hoistPass: Pass = {
  name: "scan-hoist",
  what: "state-independent work out of scan bodies: input projections as one matmul over all steps",
  run: scanHoist,
};

/** Decisions recorded on each scan for the kernel backends (after folding: they see the final body). */
const scanSchedulePasses: Pass[] = [
  {
    name: "scan-fuse",
    what: "a scan's whole step (h·W_hhᵀ, gates, state update) as one kernel",
    run: scanFuse,
  },
  {
    name: "scan-persistent",
    what: "all steps of a fused scan in one dispatch where the cost model says it is faster",
    run: scanPersistent,
  },
];

export const passes: readonly Pass[] = [
  ...rewritePasses,
  hoistPass,
  foldPass,
  layoutPass,
  ...scanSchedulePasses,
];
/**
 * Passes over the kernels rather than the graph (compiler/kernels), switched
 * like the rest: off at -O0 or by `--disable-pass NAME`.
 */
export const kernelPasses: readonly { name: string; what: string }[] = [
  {
    name: "fuse",
    what: "kernels of several ops: elementwise chains, conv/matmul epilogues, softmax/layernorm rows, concat slices",
  },
  {
    name: "tune",
    what: "register tile shapes by a cost model of the --target adapter class: fewer loads per multiply-add on a CPU, enough invocations on a GPU",
  },
  {
    name: "plan-memory",
    what: "intermediate buffers share memory when their lifetimes do not overlap",
  },
];

export const passNames: readonly string[] = [
  ...passes.map((p) => p.name),
  ...kernelPasses.map((p) => p.name),
];

/** Whether a kernel pass runs under these options. */
export function kernelPassOn(opts: OptimizeOptions | undefined, name: string): boolean {
  return opts?.level !== 0 && !(opts?.disable ?? []).includes(name);
}

export interface OptimizeOptions {
  /** 0: no passes; 1 (default): all but the disabled ones. */
  level?: 0 | 1;
  disable?: readonly string[];
}

export interface PassLog {
  pass: string;
  nodesBefore: number;
  nodesAfter: number;
}

export function optimize(
  graph: Graph,
  opts: OptimizeOptions = {},
): { graph: Graph; log: PassLog[] } {
  const log: PassLog[] = [];
  if (opts.level === 0) return { graph, log };
  const off = new Set(opts.disable ?? []);
  const run = (p: Pass, g: Graph): Graph => {
    if (off.has(p.name)) return g;
    const out = p.run(g);
    log.push({ pass: p.name, nodesBefore: g.nodes.length, nodesAfter: out.nodes.length });
    return out;
  };
  let g = graph;
  for (let round = 0; round < 6; round++) {
    const before = g.nodes.length;
    for (const p of rewritePasses) g = run(p, g);
    if (g.nodes.length === before) break;
  }
  const before = g;
  g = run(hoistPass, g);
  // The hoisted projections are new nodes: simplify them like the rest (CSE merges
  // the two directions' time-major views of one input).
  if (g !== before) for (const p of rewritePasses) g = run(p, g);
  g = run(foldPass, g);
  g = run(layoutPass, g);
  for (const p of scanSchedulePasses) g = run(p, g);
  if (!off.has("dce")) g = dce(g);
  return { graph: g, log };
}
