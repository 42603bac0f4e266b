// The long fuzz run: `npx tsx scripts/fuzz.ts --cases 100000 --seed 2`. Cases
// are regenerated from (seed, index) (`--case I` reruns one), so each failure
// it prints is a command away from a regression file in test/fuzz/corpus/
// (`--dump DIR` writes them; `--file F` runs one file as the corpus test does).

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { caseFromFile, loadSeeds, makeCase, runCase } from "../test/fuzz/fuzz.js";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const cases = Number(opt("cases", "10000"));
const seed = Number(opt("seed", "1"));
const start = Number(opt("start", "0"));
const slowMs = Number(opt("slow-ms", "10000"));
const dump = opt("dump", "");
const only = opt("case", "");
const file = opt("file", "");

const seeds = loadSeeds(root);
const stdlibDir = join(root, "stdlib");
if (file !== "") {
  // One regression file: `--file test/fuzz/corpus/x.nn` (or a --dump output).
  const { outcome, ms, cpuMs } = runCase(caseFromFile(file), stdlibDir);
  console.log(
    `${file}: ${JSON.stringify(outcome)}, ${cpuMs.toFixed(0)} ms CPU, ${ms.toFixed(0)} ms wall`,
  );
  process.exit(outcome.kind === "crash" || cpuMs > slowMs ? 1 : 0);
}
const counts = { ok: 0, rejected: 0, crash: 0, slow: 0 };
let maxMs = 0;
let maxId = "";
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const cpuSecs = () => {
  const u = process.cpuUsage(cpu0);
  return ((u.user + u.system) / 1e6).toFixed(0);
};
const first = only === "" ? start : Number(only);
const last = only === "" ? start + cases : Number(only) + 1;
for (let i = first; i < last; i++) {
  const c = makeCase(seeds, seed, i);
  const { outcome, ms, cpuMs } = runCase(c, stdlibDir);
  counts[outcome.kind]++;
  if (cpuMs > maxMs) [maxMs, maxId] = [cpuMs, c.id];
  const slow = cpuMs > slowMs;
  if (slow) counts.slow++;
  if (outcome.kind === "crash" || slow) {
    const why =
      outcome.kind === "crash"
        ? outcome.message.split("\n")[0]
        : `slow: ${cpuMs.toFixed(0)} ms CPU, ${ms.toFixed(0)} ms wall`;
    console.log(`case ${i} (${c.id}, entry ${c.entry}, ${c.target} -O${c.level}): ${why}`);
    if (dump !== "") {
      mkdirSync(dump, { recursive: true });
      const entry = c.entry ? ` entry: ${c.entry}` : "";
      const how = `${c.target === "gpu" ? " target: gpu" : ""}${c.level === 0 ? " -O0" : ""}`;
      const header = `// fuzz seed ${seed} case ${i}${entry}${how}\n`;
      writeFileSync(join(dump, `seed${seed}-case${i}.nn`), header + c.text);
    }
  }
  if ((i - first + 1) % 1000 === 0) {
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(
      `${i - first + 1} cases, ${s} s (${cpuSecs()} s CPU): ${JSON.stringify(counts)}, slowest ${maxMs.toFixed(0)} ms CPU (${maxId})`,
    );
  }
}
const secs = ((performance.now() - t0) / 1000).toFixed(1);
console.log(
  `done: ${last - first} cases in ${secs} s (${cpuSecs()} s CPU), seed ${seed}: ${JSON.stringify(counts)}, slowest ${maxMs.toFixed(0)} ms CPU (${maxId})`,
);
process.exitCode = counts.crash + counts.slow > 0 ? 1 : 0;
