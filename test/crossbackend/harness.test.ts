// The cross-backend harness itself, without a GPU: a backend that is wrong on
// larger tensors makes a property fail, and the failure names the shrunk
// counterexample (the smallest failing shape), the elements that disagree and
// the graph. Also: the properties together cover every primitive op.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runGraph } from "../../compiler/graph/interpret.js";
import { ops } from "../../compiler/ops/index.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { contractionProperties } from "./contractions.js";
import { elementwiseProperties } from "./elementwise.js";
import { checkProperty, crossProperty, exact, type Runner } from "./harness.js";
import { movementProperties } from "./movement.js";
import { reductionProperties } from "./reductions.js";
import { scanProperties } from "./scan.js";

/** A "backend" that is the CPU, off by one in the last element of any output of 7 or more. */
const wrongFromSeven: Runner = async (c, inputs, params) => {
  const out = runGraph(c.graph, inputs, params);
  for (const t of out.values()) {
    if (t.data.length >= 7 && t.data instanceof Float32Array) t.data[t.data.length - 1]! += 1;
  }
  return out;
};

const neg = crossProperty({
  name: "neg",
  ops: ["neg"],
  numRuns: 50,
  arbitrary: fc.record({ n: fc.integer({ min: 1, max: 40 }) }),
  build(c) {
    const b = new GraphBuilder();
    b.output("y", b.op("neg", [b.input("x", "f32", [c.n])]));
    return { graph: b.graph, tolerance: exact };
  },
});

describe("cross-backend harness", () => {
  it("reports the shrunk counterexample, the disagreeing elements and the graph", async () => {
    const failure = await checkProperty(neg, wrongFromSeven).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = failure!.message;
    expect(message).toMatch(/Shrunk \d+ time/);
    const line = /Counterexample: (.*)/.exec(message)?.[1];
    expect(line).toBeDefined();
    // Shrunk to the smallest failing size: 7 elements, input seed 0.
    expect(JSON.parse(line!)).toEqual([{ n: 7 }, 0]);
    const cause = String((failure!.cause as Error | undefined)?.message ?? message);
    expect(cause).toContain("WebGPU and the CPU disagree");
    expect(cause).toContain("y f32[7]: 1 of 7 elements differ (want exactly)");
    expect(cause).toMatch(/webgpu .* cpu /);
    expect(cause).toContain("= neg(%0)");
  });

  it("passes when the backends agree", async () => {
    await checkProperty({ ...neg, numRuns: 5 }, async (c, i, p) => runGraph(c.graph, i, p));
  });

  it("fails a property whose graphs never use an op it declares", async () => {
    const liar = { ...neg, ops: ["neg", "exp"], numRuns: 2 };
    await expect(checkProperty(liar, async (c, i, p) => runGraph(c.graph, i, p))).rejects.toThrow(
      /declared ops no generated graph used/,
    );
  });

  it("the properties cover every primitive op", () => {
    const all = [
      ...elementwiseProperties,
      ...contractionProperties,
      ...reductionProperties,
      ...movementProperties,
      ...scanProperties,
    ];
    const covered = new Set(all.flatMap((p) => p.ops));
    // Sources: every graph has inputs; params come from .nn (scan) and const is declared above.
    const uncovered = [...ops.keys()].filter(
      (op) => !covered.has(op) && op !== "input" && op !== "param",
    );
    expect(uncovered).toEqual([]);
  });
});
