// The layer rules of .dependency-cruiser.cjs (run by `npm run lint`): the real
// tree passes them, and a fixture tree laid out like the real one, with one
// deliberate violation per file, trips exactly the rule meant for it.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
const config = join(root, ".dependency-cruiser.cjs");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** The violations dependency-cruiser reports for `paths` under `cwd`, as `rule: from → to` lines. */
function cruise(cwd: string, paths: string[]): string[] {
  let out: string;
  try {
    out = execFileSync(
      process.execPath,
      [cli, ...paths, "--config", config, "--output-type", "json"],
      { cwd, encoding: "utf8", maxBuffer: 64 << 20 },
    );
  } catch (e) {
    // Violations of severity error make the CLI exit 1 with the report on stdout.
    const stdout = (e as { stdout?: string }).stdout;
    if (!stdout) throw e;
    out = stdout;
  }
  const report = JSON.parse(out) as { summary: { violations: Violation[] } };
  return report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe("the layer rules", () => {
  it("hold for the real tree", () => {
    expect(cruise(root, ["grammar", "compiler", "runtime", "bin"])).toEqual([]);
  });

  describe("on a fixture tree", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-layers-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const files: Record<string, string> = {
      "tsconfig.json": JSON.stringify({
        compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true },
      }),
      "grammar/parser.ts": "export const parse = 1;\n",
      "compiler/core/types.ts": "export const numel = 1;\n",
      "compiler/codegen/plan.ts": "export const plan = 1;\n",
      "compiler/codegen/wgsl/wgsl-tiled.ts": "export const tiledLoads = 1;\n",
      "compiler/kernels/expr.ts": "export const ic = 1;\n",
      // Allowed: its own layer and below.
      "compiler/kernels/ok.ts":
        'import { numel } from "../core/types.js";\nimport { ic } from "./expr.js";\nexport const ok = numel + ic;\n',
      // Upward: kernels → codegen.
      "compiler/kernels/bad.ts":
        'import { plan } from "../codegen/plan.js";\nexport const bad = plan;\n',
      // tune once read the emitter's tile loads; with that exemption gone, both imports fire.
      "compiler/kernels/tune.ts":
        'import { plan } from "../codegen/plan.js";\nimport { tiledLoads } from "../codegen/wgsl/wgsl-tiled.js";\nexport const t = plan + tiledLoads;\n',
      // Upward: core → grammar.
      "compiler/core/bad.ts":
        'import { parse } from "../../grammar/parser.js";\nexport const b = parse;\n',
      // The ops may use the Kernel IR's expression language; the Graph IR may not.
      "compiler/ops/relu.ts": 'import { ic } from "../kernels/expr.js";\nexport const relu = ic;\n',
      "compiler/graph/graph.ts": 'import { ic } from "../kernels/expr.js";\nexport const g = ic;\n',
      // A module cycle inside one layer.
      "compiler/passes/a.ts": 'import { b } from "./b.js";\nexport const a = () => b();\n',
      "compiler/passes/b.ts": 'import { a } from "./a.js";\nexport const b = () => a();\n',
      // A type-only cycle is allowed.
      "compiler/passes/t1.ts": 'import type { T2 } from "./t2.js";\nexport type T1 = { x?: T2 };\n',
      "compiler/passes/t2.ts": 'import type { T1 } from "./t1.js";\nexport type T2 = { y?: T1 };\n',
      // The elaborator's evaluator cycle is allowed, a cycle through a third module is not.
      "compiler/elaborate/calls.ts":
        'import { evalExpr } from "./expressions.js";\nexport const call = () => evalExpr();\n',
      "compiler/elaborate/expressions.ts":
        'import { call } from "./calls.js";\nimport { helper } from "./helper.js";\nexport const evalExpr = () => call() + helper();\n',
      "compiler/elaborate/helper.ts":
        'import { evalExpr } from "./expressions.js";\nexport const helper = () => evalExpr();\n',
      // Node built-ins below the runtime.
      "compiler/kernels/io.ts":
        'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n',
      // A folder no layer claims.
      "compiler/stage/x.ts": 'import { numel } from "../core/types.js";\nexport const x = numel;\n',
      // A folder cycle with no module cycle: webgpu → weights → webgpu.
      "runtime/webgpu/device.ts":
        'import { load } from "../weights/load.js";\nexport const device = load;\n',
      "runtime/weights/load.ts":
        'import { limits } from "../webgpu/limits.js";\nexport const load = limits;\n',
      "runtime/webgpu/limits.ts": "export const limits = 1;\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }

    it("fire the rule meant for each bad import, and nothing else", () => {
      expect(cruise(dir, ["grammar", "compiler", "runtime"])).toEqual(
        [
          "layer-kernels: compiler/kernels/bad.ts → compiler/codegen/plan.ts",
          "layer-kernels: compiler/kernels/tune.ts → compiler/codegen/plan.ts",
          "layer-kernels: compiler/kernels/tune.ts → compiler/codegen/wgsl/wgsl-tiled.ts",
          "layer-core: compiler/core/bad.ts → grammar/parser.ts",
          "layer-graph: compiler/graph/graph.ts → compiler/kernels/expr.ts",
          // A cycle is reported once, from the module the cruise reaches first.
          "no-circular: compiler/passes/a.ts → compiler/passes/b.ts",
          "no-circular: compiler/elaborate/expressions.ts → compiler/elaborate/helper.ts",
          "node-only-at-the-edge: compiler/kernels/io.ts → fs",
          "unlayered-module: compiler/stage/x.ts → compiler/core/types.ts",
          "no-circular-folders: runtime/webgpu → runtime/weights",
          "no-circular-folders: runtime/weights → runtime/webgpu",
        ].sort(),
      );
    });
  });
});
