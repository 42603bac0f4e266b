// Where the golden fixtures (SPEC.md, *.json) live. Tests read them at run
// time. Order: `$NNC_FIXTURES` (e.g. a folder with held-back fixtures), then
// `../shared/fixtures` beside the checkout, then the vendored copy in
// test/golden (refreshed by scripts/sync-fixtures.sh) so a fresh clone has them.

import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function fixturesDir(): string {
  const override = process.env.NNC_FIXTURES;
  if (override) return resolve(override);
  const beside = fileURLToPath(new URL("../../shared/fixtures/", import.meta.url));
  if (existsSync(join(beside, "index.json"))) return beside;
  return fileURLToPath(new URL("./golden/", import.meta.url));
}

/** The path of one fixture file, e.g. `fixturePath("resnet18.json")`. */
export function fixturePath(file: string): string {
  return join(fixturesDir(), file);
}

/** Every fixture JSON file name (not `index.json`), sorted. */
export function fixtureFiles(): string[] {
  return readdirSync(fixturesDir())
    .filter((f) => f.endsWith(".json") && f !== "index.json")
    .sort();
}
