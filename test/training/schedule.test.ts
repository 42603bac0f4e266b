// --schedule against hand-computed learning rates.

import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../compiler/cli/schedule.js";

const c = { lr: 0.1, stepsPerEpoch: 10, totalSteps: 40 };

describe("--schedule", () => {
  it("constant by default", () => {
    expect([1, 40].map(parseSchedule(undefined, c))).toEqual([0.1, 0.1]);
  });
  it("linear warm-up then constant", () => {
    const f = parseSchedule("warmup=4", c);
    expect([1, 2, 4, 5].map(f)).toEqual([0.025, 0.05, 0.1, 0.1]);
  });
  it("step=E:G multiplies by G every E epochs", () => {
    const f = parseSchedule("step=2:0.5", c);
    expect([1, 20, 21, 40].map(f).map((x) => +x.toFixed(6))).toEqual([0.1, 0.1, 0.05, 0.05]);
  });
  it("cosine from lr at step 1 toward 0 at the last step", () => {
    const f = parseSchedule("cosine", c);
    expect(f(1)).toBeCloseTo(0.1, 10);
    expect(f(21)).toBeCloseTo(0.05, 10);
    expect(f(41)).toBeCloseTo(0, 10);
  });
  it("refuses an unknown part", () => {
    expect(() => parseSchedule("exp", c)).toThrow(/unknown part `exp`/);
  });
});
