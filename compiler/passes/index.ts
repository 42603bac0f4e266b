// The optimizer: Graph IR → Graph IR, one module per pass, each switchable off
// by name (`--disable-pass NAME`) and all at once (`-O0`). The rewrite passes
// run to a fixpoint, then parameter-only work is folded out into `prep`.

import type { Graph } from "../graph.js";
import { algebraicRules } from "./algebraic.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { foldBatchnormRules } from "./fold-batchnorm.js";
import { foldConstants } from "./fold-constants.js";
import { removeIdentityRules } from "./remove-identities.js";
import { rewrite } from "./rewrite.js";

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

export const passes: readonly Pass[] = [...rewritePasses, foldPass];
export const passNames: readonly string[] = passes.map((p) => p.name);

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
  g = run(foldPass, g);
  if (!off.has("dce")) g = dce(g);
  return { graph: g, log };
}
