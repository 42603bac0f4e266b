// The compiler's layering, checked by dependency-cruiser in `npm run lint` and
// by test/layering/layers.test.ts. The layers run lowest first; a module may
// import only from its own layer or a lower one, so each stage of the pipeline
// can be read, tested and replaced without the stages after it.

/** @type {{ name: string, paths: string[], what: string }[]} lowest first */
const layers = [
  {
    name: "core",
    paths: ["^compiler/core/", "^compiler/paths\\.ts$"],
    what: "diagnostics, spans, types, tensors",
  },
  { name: "target", paths: ["^compiler/target/"], what: "the Target model every pass reads" },
  { name: "grammar", paths: ["^grammar/"], what: "lexer, parser, AST" },
  {
    name: "graph",
    paths: ["^compiler/graph/", "^compiler/ops/"],
    what: "the Graph IR, its reference interpreter, the primitive ops",
  },
  { name: "elaborate", paths: ["^compiler/elaborate/"], what: "AST to Graph IR" },
  { name: "passes", paths: ["^compiler/passes/"], what: "graph passes, the optimizer" },
  {
    name: "autodiff",
    paths: ["^compiler/autodiff/"],
    what: "reverse-mode autodiff: the training graph from the ops' gradient rules",
  },
  { name: "kernels", paths: ["^compiler/kernels/"], what: "the target-neutral Kernel IR" },
  { name: "codegen", paths: ["^compiler/codegen/"], what: "executable plan, memory plan, WGSL" },
  {
    name: "pipeline",
    paths: ["^compiler/pipeline/"],
    what: "the pass registry and the driver that runs graph, kernel and plan passes",
  },
  { name: "runtime", paths: ["^runtime/"], what: "WebGPU execution, weight files" },
  {
    name: "api",
    paths: [
      "^compiler/(compile|run|index|session|graph-runner)\\.ts$",
      "^compiler/cli/",
      "^compiler/training/",
      "^compiler/onnx/",
      "^bin/",
    ],
    what: "compile(), run, the CLI",
  },
];

// Upward imports the checker lets through for now. Each names the rule it
// exempts, the importers and the one set of targets, so nothing else slips
// through with it; delete an entry when its import goes.
const allowed = [
  // Each op writes its kernel lowering in the Kernel IR's expression language
  // (expr.ts and the index-expr/value-expr/print-expr it re-exports, scalar.ts,
  // index-maps.ts), which needs only core and ops/op.ts, ops/erf.ts. It belongs
  // below the ops, in a folder of its own; moving it rewrites the imports of
  // some 40 files, so it waits for the parallel work on them to land.
  {
    rule: "layer-graph",
    from: "^compiler/ops/",
    to: "^compiler/kernels/(expr|index-expr|value-expr|print-expr|scalar|index-maps)\\.ts$",
  },
];

// Import cycles that exist today, allowed only among exactly these modules: the
// elaborator's evaluator is mutually recursive (an expression evaluates a
// call, a call's body is expressions). A cycle through any other module still
// fails.
const knownCycle = ["^compiler/elaborate/(calls|expressions)\\.ts$"];

// A rule minus some imports: the importers named in `exempt` are left out of
// it, and each gets its own copy of it that lets through exactly its targets.
function except(rule, exempt) {
  const importers = [...new Set(exempt.map((a) => a.from))];
  if (importers.length === 0) return [rule];
  return [
    { ...rule, from: { ...rule.from, pathNot: importers } },
    ...importers.map((from) => ({
      ...rule,
      from: { path: from },
      to: { ...rule.to, pathNot: exempt.filter((a) => a.from === from).map((a) => a.to) },
    })),
  ];
}

const layerRules = layers.slice(0, -1).flatMap((layer, i) => {
  const name = `layer-${layer.name}`;
  const below = layers.slice(0, i + 1).map((l) => l.name);
  const above = layers.slice(i + 1);
  const rule = {
    name,
    severity: "error",
    comment:
      `${layer.name} (${layer.what}) may import only from its own or a lower layer ` +
      `(${below.join(", ")}), not from ${above.map((l) => l.name).join(", ")}`,
    from: { path: layer.paths },
    to: { path: above.flatMap((l) => l.paths) },
  };
  return except(
    rule,
    allowed.filter((a) => a.rule === name),
  );
});

// Folder cycles across layers are already impossible (one of their imports
// would point upward); within a layer, folders may not form a cycle either.
// The graph layer is exempt: a Graph is made of ops and the scan op holds a
// Graph, so graph/ and ops/ are one unit split in two folders.
const folderCycleRules = layers
  .filter((l) => l.name !== "graph")
  .map((layer) => ({
    layer,
    folders: layer.paths.filter((p) => p.endsWith("/")).map((p) => p.replace(/\/$/, "(/|$)")),
  }))
  .filter(({ folders }) => folders.length > 0)
  .flatMap(({ layer, folders }) =>
    except(
      {
        name: "no-circular-folders",
        severity: "error",
        comment: `the folders of the ${layer.name} layer may not depend on each other in a cycle`,
        scope: "folder",
        from: { path: folders },
        to: { circular: true, path: folders },
      },
      allowed.filter((a) => a.rule === "no-circular-folders" && a.layer === layer.name),
    ),
  );

const layered = layers.flatMap((l) => l.paths);
const runtimeIndex = layers.findIndex((l) => l.name === "runtime");

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "unlayered-module",
      severity: "error",
      comment:
        "every module of grammar/, compiler/, runtime/ and bin/ belongs to a layer: add a new " +
        "folder to `layers` in .dependency-cruiser.cjs",
      from: { path: "^(grammar|compiler|runtime|bin)/", pathNot: layered },
      to: {},
    },
    {
      name: "no-circular",
      severity: "error",
      comment:
        "a module may not import itself through others: move what both need into a module " +
        "both import. Cycles made only of type imports are allowed (they vanish at runtime).",
      from: {},
      to: {
        circular: true,
        via: { pathNot: knownCycle.join("|") },
        viaOnly: { dependencyTypesNot: ["type-only"] },
      },
    },
    ...folderCycleRules,
    {
      name: "node-only-at-the-edge",
      severity: "error",
      comment:
        "Node built-ins (node:fs, …) belong to the runtime and the API/CLI, so the compiler " +
        "below them stays portable. Exceptions: compiler/paths.ts finds the package root, " +
        "the elaborator's module loader (compiler/elaborate/scope.ts) reads stdlib and " +
        "imported .nn files, and compiler/core/files.ts is the one checked file reader " +
        "(regular file, size cap) every path-taking reader goes through.",
      from: {
        path: layers.slice(0, runtimeIndex).flatMap((l) => l.paths),
        pathNot: [
          "^compiler/paths\\.ts$",
          "^compiler/elaborate/scope\\.ts$",
          "^compiler/core/files\\.ts$",
        ],
      },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "an import that resolves to no file and no installed package",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type imports count for the layers: a lower layer that needs a type from
    // a higher one is upside down even where the emitted JS is not.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".d.ts"],
    },
  },
};
