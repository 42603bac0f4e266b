// The seed policy of test/fast-check-setup.ts: every property in a file draws
// from the one configured seed (NNC_SEED when set), a failure prints it, and
// running again from the printed seed and path gives the same counterexample.

import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Fails for any array holding a number of at least 1000, so it always fails;
// which run fails first, and so the printed path, depends on the seed.
const property = fc.property(fc.array(fc.integer({ min: 0, max: 5000 })), (xs) =>
  xs.every((x) => x < 1000),
);

describe("fast-check seeds", () => {
  it("come from NNC_SEED when it is set, and are configured for every property", () => {
    const seed = fc.readConfigureGlobal().seed;
    expect(Number.isInteger(seed)).toBe(true);
    if (process.env.NNC_SEED !== undefined) expect(seed).toBe(Number(process.env.NNC_SEED) | 0);
  });

  it("a failure prints the seed, and that seed replays the same counterexample", () => {
    const seed = fc.readConfigureGlobal().seed!;
    let message = "";
    try {
      fc.assert(property, { numRuns: 2000 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`seed: ${seed},`);
    const path = /path: "([^"]*)"/.exec(message)?.[1];
    const counterexample = /Counterexample: (.*)/.exec(message)?.[1];
    expect(path).toBeDefined();
    expect(counterexample).toBeDefined();

    // What a developer does with the printed line: NNC_SEED=seed (and NNC_FC_PATH=path).
    const replay = fc.check(property, { numRuns: 2000, seed });
    expect(replay.failed).toBe(true);
    expect(replay.counterexamplePath).toBe(path);
    expect(fc.stringify(replay.counterexample)).toBe(counterexample);
    const direct = fc.check(property, { seed, path });
    expect(fc.stringify(direct.counterexample)).toBe(counterexample);
  });
});
