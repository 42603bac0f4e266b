// Where the package's own files live, whether running from sources (vitest,
// tsx) or from the compiled dist/ tree.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "stdlib"))) return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new Error("nnc: cannot find the package root (stdlib/ next to package.json)");
    dir = up;
  }
}

export const packageRoot = findPackageRoot();
export const stdlibDir = join(packageRoot, "stdlib");
