// The fuzzer in CI: a fixed-seed run of mutated stdlib and example programs
// through the whole compiler short of a device, and every regression case the
// fuzzer (or an issue) ever found, in test/fuzz/corpus/. A case passes when it
// compiles or is refused with a coded diagnostic; NN9001, an uncoded exception
// or a case taking more than 10 s of CPU time fails.

import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { caseFromFile, loadSeeds, makeCase, runCase } from "./fuzz.js";

const root = resolve(import.meta.dirname, "../..");
const stdlibDir = join(root, "stdlib");
const corpusDir = join(import.meta.dirname, "corpus");

/** The CI run's size and seed; `npx tsx scripts/fuzz.ts --cases 100000` is the long run. */
const CASES = Number(process.env.NNC_FUZZ_CASES ?? 5000);
const SEED = 1;
const SLOW_MS = 10_000;

describe("fuzz regression corpus", () => {
  const files = readdirSync(corpusDir).filter((f) => f.endsWith(".nn"));
  it.each(files)("%s compiles or is refused with a code", (file) => {
    const { outcome, cpuMs } = runCase(caseFromFile(join(corpusDir, file)), stdlibDir);
    expect(outcome.kind === "crash" ? outcome.message : "clean").toBe("clean");
    expect(cpuMs).toBeLessThan(SLOW_MS);
  });
});

describe("fuzz", () => {
  it(`${CASES} mutated programs (seed ${SEED}): no crash, no internal error, none over 10 s`, () => {
    const seeds = loadSeeds(root);
    const failures: string[] = [];
    const counts = { ok: 0, rejected: 0, crash: 0 };
    for (let i = 0; i < CASES; i++) {
      const c = makeCase(seeds, SEED, i);
      const { outcome, cpuMs } = runCase(c, stdlibDir);
      counts[outcome.kind]++;
      if (outcome.kind === "crash") failures.push(`case ${i} (${c.id}): ${outcome.message}`);
      else if (cpuMs > SLOW_MS) failures.push(`case ${i} (${c.id}): ${cpuMs.toFixed(0)} ms CPU`);
    }
    expect(failures).toEqual([]);
    // A run where nothing compiles would pass vacuously: make sure the mutations reach the back end.
    expect(counts.ok).toBeGreaterThan(CASES / 50);
  }, 600_000);
});
