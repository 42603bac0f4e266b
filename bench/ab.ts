// nnc against an earlier build of itself on the peers' workloads: each
// workload's `nnc bench` from checkout A and from checkout B in fresh
// processes, alternating A B A B (so the host's load drifts hit both alike),
// Mesa's shader cache off, and the medians with the ratio B/A. A refactor
// that keeps the peers' ratios is one whose B/A stays within the spread of
// the A runs themselves; the peers' own numbers do not depend on nnc.
//
//   npx tsx bench/ab.ts OLD_CHECKOUT [NEW_CHECKOUT=.] [-w "resnet224 lstm gru2 matmul"] [--rounds 2] [--runs 7]
//
// Each checkout must be built (`npm run build`, which puts dist/bin/nnc.js there).

import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { aliases, workloads } from "./workloads/peer-workloads.js";

/** The fields of `nnc bench --json` compared here. */
interface BenchJson {
  warm_ms: number;
  cold_ms: number;
}

function bench(checkout: string, args: string[], runs: number): Promise<BenchJson> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ["dist/bin/nnc.js", "bench", ...args, "--runs", String(runs), "--json"],
      {
        cwd: checkout,
        env: { ...process.env, MESA_SHADER_CACHE_DISABLE: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => {
      if (code !== 0)
        return fail(new Error(`${checkout}: nnc bench ${args.join(" ")} exited ${code}\n${err}`));
      done(JSON.parse(out) as BenchJson);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const { values, positionals } = parseArgs({
  options: {
    w: { type: "string", default: "resnet224 lstm gru2 matmul" },
    rounds: { type: "string", default: "2" },
    runs: { type: "string", default: "7" },
  },
  allowPositionals: true,
});
const [oldDir, newDir = "."] = positionals;
if (!oldDir) {
  process.stderr.write(
    "usage: npx tsx bench/ab.ts OLD_CHECKOUT [NEW_CHECKOUT] [-w WORKLOADS] [--rounds N] [--runs N]\n",
  );
  process.exit(2);
}
const dirs = { A: resolve(oldDir), B: resolve(newDir) };
const rounds = Number(values.rounds);
const runs = Number(values.runs);
process.stdout.write(
  `A = ${dirs.A}\nB = ${dirs.B}\nCPU: ${cpus()[0]?.model ?? "?"} × ${cpus().length}; load ${loadavg()[0]!.toFixed(1)}\n\n`,
);
process.stdout.write(
  "| workload | A warm ms (each round) | B warm ms (each round) | B/A warm | A cold ms | B cold ms | B/A cold |\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n",
);
for (const name of values.w!.split(/\s+/).filter(Boolean)) {
  const w = workloads[aliases[name] ?? name];
  if (!w) throw new Error(`unknown workload ${name} (${Object.keys(workloads).join(", ")})`);
  const got: Record<"A" | "B", BenchJson[]> = { A: [], B: [] };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const))
      got[side].push(await bench(dirs[side], w.nnc, runs));
  }
  const warm = (s: "A" | "B") => got[s].map((g) => g.warm_ms);
  const cold = (s: "A" | "B") => got[s].map((g) => g.cold_ms);
  const f = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(", ");
  process.stdout.write(
    `| ${w.label} | ${f(warm("A"))} | ${f(warm("B"))} | ${(median(warm("B")) / median(warm("A"))).toFixed(2)} | ${median(cold("A")).toFixed(0)} | ${median(cold("B")).toFixed(0)} | ${(median(cold("B")) / median(cold("A"))).toFixed(2)} |\n`,
  );
}
process.stdout.write(`\nload at the end ${loadavg()[0]!.toFixed(1)}\n`);
