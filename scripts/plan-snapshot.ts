// Process replay (tinygrad's habit): writes the WGSL nnc generates for every
// stdlib model, every fixture case and every example, for both targets at
// -O1 and -O0, one file each, so a refactor can be checked byte for byte
// against the commit before it:
//
//   npx tsx scripts/plan-snapshot.ts OUT_DIR            # snapshot this tree
//   diff -r BEFORE_DIR OUT_DIR                          # what changed
//
// It goes through `nnc inspect --stage wgsl`, the user's own path. A regression
// aid, never the correctness oracle (the fixtures and the CPU backend are).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../compiler/cli/main.js";
import { caseTables } from "../test/fixture-cases.js";
import { fixturePath } from "../test/fixtures-path.js";

interface Entry {
  name: string;
  argv: string[];
}

const at224 = ["--shape", "input=1x3x224x224"];
const cnns = [
  "resnet:resnet18",
  "resnet:resnet34",
  "resnet:resnet50",
  "resnet:resnet101",
  "resnet:resnet152",
  "resnet:resnext50_32x4d",
  "resnet:resnext101_32x8d",
  "densenet:densenet121",
  "densenet:densenet169",
  "densenet:densenet201",
  "mobilenet:mobilenet_v1",
  "mobilenet:mobilenet_v2",
  "mobilenet:mobilenet_v3_small",
  "mobilenet:mobilenet_v3_large",
  "convnext:convnext_tiny",
  "convnext:convnext_small",
  "convnext:convnext_base",
];

function entries(): Entry[] {
  const out: Entry[] = cnns.map((s) => ({ name: s, argv: [s, ...at224] }));
  out.push({ name: "lenet:lenet5", argv: ["lenet:lenet5"] });
  out.push({
    name: "unet:unet",
    argv: ["unet:unet", "--arg", "in_channels=3", "--arg", "classes=2", ...at224],
  });
  out.push({ name: "examples/lenet5.nn", argv: ["examples/lenet5.nn"] });
  out.push({ name: "examples/mlp.nn", argv: ["examples/mlp.nn"] });
  out.push({
    name: "examples/resnet_small.nn",
    argv: ["examples/resnet_small.nn", "--shape", "input=2x3x32x32"],
  });
  out.push({
    name: "examples/classify.nn",
    argv: ["examples/classify.nn", "--shape", "tokens=2x64"],
  });
  out.push({
    name: "examples/translate.nn",
    argv: ["examples/translate.nn", "--shape", "src_tokens=2x12", "--shape", "tgt_tokens=2x10"],
  });
  for (const table of Object.values(caseTables)) {
    for (const c of table) {
      const fx = JSON.parse(readFileSync(fixturePath(`${c.fixture}.json`), "utf8")) as {
        inputs: { name: string; shape: number[] }[];
      };
      const argv = [c.source];
      for (const a of c.args ?? []) argv.push("--arg", a);
      for (const i of fx.inputs)
        argv.push("--shape", `${c.rename?.[i.name] ?? i.name}=${i.shape.join("x")}`);
      out.push({ name: `${c.fixture}${c.via ? `-via-${c.source}` : ""}`, argv });
    }
  }
  return out;
}

/** The CLI's name for each target class; `cpu` before the Target model, `lavapipe` after. */
const targetFlags: Record<string, string> = JSON.parse(
  process.env.SNAPSHOT_TARGETS ?? '{"lavapipe":"lavapipe","gpu":"gpu"}',
);

async function snapshot(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  let failed = 0;
  const seen = new Set<string>();
  for (const e of entries()) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    for (const [target, flag] of Object.entries(targetFlags)) {
      for (const level of ["O1", "O0"]) {
        let out = "";
        let err = "";
        const argv = ["inspect", ...e.argv, "--stage", "wgsl", "--target", flag];
        if (level === "O0") argv.push("-O0");
        const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
        const file = join(dir, `${e.name.replace(/[/:]/g, "_")}.${target}.${level}.wgsl`);
        writeFileSync(file, code === 0 ? out : `exit ${code}\n${err}`);
        if (code !== 0) {
          failed++;
          process.stderr.write(`${e.name} ${target} ${level}: exit ${code}\n${err}\n`);
        }
      }
    }
    process.stderr.write(`${e.name}\n`);
  }
  process.stderr.write(
    `${seen.size} entries × ${Object.keys(targetFlags).length} targets × 2 levels; ${failed} failed\n`,
  );
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: npx tsx scripts/plan-snapshot.ts OUT_DIR\n");
  process.exit(2);
}
await snapshot(dir);
