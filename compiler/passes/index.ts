// The graph passes: Graph IR → Graph IR, one module per pass. Their order,
// their switching (`--disable-pass NAME`, `-O0`) and their log are the
// pipeline's (compiler/pipeline), which runs them with the kernel and plan
// passes from one registry. The simplify passes run to a fixpoint, then
// parameter-only work is folded out into `prep`.

import type { PassDef } from "../core/pass.js";
import type { Graph } from "../graph/graph.js";
import type { PassContext } from "../target/target.js";
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

export interface GraphPass extends PassDef<Graph, PassContext> {
  readonly stage: "graph";
  /** One of the simplify passes: together they run to a fixpoint (at most 6 rounds). */
  readonly simplify?: true;
  /** Where it changes the graph the simplify passes run once more after it (its new nodes). */
  readonly resimplify?: true;
  /** Also runs once at the end of the graph stage. */
  readonly cleanup?: true;
}

const simplify = { stage: "graph", simplify: true } as const;

export const graphPasses: readonly GraphPass[] = [
  {
    ...simplify,
    name: "remove-identities",
    what: "x + 0, x · 1, same-shape reshapes, identity permutations, ...",
    after: [],
    run: (g) => rewrite(g, removeIdentityRules),
  },
  {
    ...simplify,
    name: "algebraic",
    what: "transpose∘transpose, reshape chains, −(−x), canonical operand order",
    after: [],
    run: (g) => rewrite(g, algebraicRules),
  },
  {
    ...simplify,
    name: "fold-batchnorm",
    what: "batchnorm and other per-channel affine maps into the conv/linear before them",
    after: [],
    run: (g) => rewrite(g, foldBatchnormRules),
  },
  { ...simplify, name: "cse", what: "one node for identical computations", after: [], run: cse },
  {
    ...simplify,
    cleanup: true,
    name: "dce",
    what: "drops what no output reads",
    after: [],
    run: dce,
  },
  {
    stage: "graph",
    resimplify: true,
    name: "scan-hoist",
    what: "state-independent work out of scan bodies: input projections as one matmul over all steps",
    // The hoisted projections are new nodes: the simplify passes see them after
    // (CSE merges the two directions' time-major views of one input).
    after: ["dce"],
    run: scanHoist,
  },
  {
    stage: "graph",
    name: "fold-constants",
    what: "parameter-only subexpressions computed once when weights are bound",
    after: ["fold-batchnorm", "scan-hoist"],
    run: foldConstants,
  },
  {
    stage: "graph",
    name: "conv-weight-layout",
    what: "conv weights stored output-channel innermost (HWIO) once in prep where the target reads that best: a tile's 4 channels load as one vec4",
    // It relays out the weights folding produced (and the loaded ones).
    after: ["fold-constants"],
    run: (g, cx) => convWeightLayout(g, cx.target),
  },
  // Decisions recorded on each scan for the kernel backends (after folding: they see the final body).
  {
    stage: "graph",
    name: "scan-fuse",
    what: "a scan's whole step (h·W_hhᵀ, gates, state update) as one kernel",
    after: ["fold-constants"],
    run: scanFuse,
  },
  {
    stage: "graph",
    name: "scan-persistent",
    what: "all steps of a fused scan in one dispatch where the target's cost model says it is faster",
    after: ["scan-fuse"],
    run: (g, cx) => scanPersistent(g, cx.target),
  },
];
