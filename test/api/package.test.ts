// The built package as a consumer gets it: the README's "Library API" example,
// taken from the README as it stands, type-checked by a project with `strict`
// and without skipLibCheck or @webgpu/types against dist/'s .d.ts, then run
// through `import ... from "nnc"`. Needs `npm run build` (npm test runs it).

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The first ```ts block under the README's "## Library API". */
function readmeExample(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Library API\n"));
  if (!section) throw new Error('README.md has no "## Library API" section');
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md\'s "Library API" section has no ```ts block');
  return m[1]!;
}

describe("the built package, as a consumer uses it", () => {
  let dir: string;
  const example = readmeExample(readFileSync(join(root, "README.md"), "utf8"));

  beforeAll(() => {
    if (!existsSync(join(root, "dist/compiler/index.d.ts")))
      throw new Error("dist/ is not built: run `npm run build` (npm test does)");
    // A project of its own, with nnc installed as node_modules/nnc.
    dir = mkdtempSync(join(tmpdir(), "nnc-consumer-"));
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(root, join(dir, "node_modules/nnc"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          // Node's types only: no @webgpu/types, which nnc's public types must not need.
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
        },
        files: ["example.ts"],
      }),
    );
    writeFileSync(join(dir, "example.ts"), example);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("type-checks the README's example with strict and without skipLibCheck", () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8", timeout: 170_000 });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  }, 180_000);

  it("runs the README's example", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(dir, "example.ts")], {
      cwd: root,
      encoding: "utf8",
      timeout: 110_000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp" },
    });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    // fc1: 8×16 + 16, head: 16×3 + 3.
    expect(lines[0]).toBe("195");
    const runs = lines.slice(1);
    expect(runs).toHaveLength(3);
    for (const line of runs) {
      const [backend, ...probs] = line.split(" ");
      expect(["webgpu", "cpu"]).toContain(backend);
      expect(probs, line).toHaveLength(6);
      // Two rows of softmax over three classes: each sums to 1 (to the 4 decimals printed).
      const p = probs.map(Number);
      expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 3);
      expect(p[3]! + p[4]! + p[5]!).toBeCloseTo(1, 3);
    }
  }, 120_000);
});
