// The pass registry: one list of graph, kernel and plan passes whose
// declared order (`after`, stages) is checked when it is built.

import { describe, expect, it } from "vitest";
import type { GraphPass } from "../../compiler/passes/index.js";
import { defineRegistry, passNames, registry } from "../../compiler/pipeline/index.js";

const pass = (name: string, after: string[] = [], stage: "graph" = "graph"): GraphPass => ({
  name,
  what: name,
  stage,
  after,
  run: (g) => g,
});

describe("the pass registry", () => {
  it("holds the graph, kernel and plan passes in stage order", () => {
    expect(registry.kernels.map((p) => p.name)).toEqual(["fuse", "tune"]);
    expect(registry.plan.map((p) => p.name)).toEqual(["plan-memory"]);
    expect(passNames).toEqual(registry.all.map((p) => p.name));
    expect(passNames.slice(-3)).toEqual(["fuse", "tune", "plan-memory"]);
    const stages = registry.all.map((p) => p.stage);
    expect(stages).toEqual([...stages].sort((a, b) => "gkp".indexOf(a[0]!) - "gkp".indexOf(b[0]!)));
  });

  it("accepts passes listed after those they name", () => {
    expect(defineRegistry([pass("a"), pass("b", ["a"])]).all).toHaveLength(2);
  });

  it("rejects a pass listed before one it must run after", () => {
    expect(() => defineRegistry([pass("b", ["a"]), pass("a")])).toThrow(
      /`b` must run after `a`, which is listed later/,
    );
  });

  it("rejects an `after` naming no pass, and a name listed twice", () => {
    expect(() => defineRegistry([pass("b", ["nope"])])).toThrow(/`nope`, which is no pass/);
    expect(() => defineRegistry([pass("a"), pass("a")])).toThrow(/listed twice/);
  });

  it("rejects a graph pass after a kernel pass", () => {
    const [fuse] = registry.kernels;
    expect(() => defineRegistry([fuse!, pass("late")])).toThrow(
      /`late` \(graph\) comes after a kernels pass/,
    );
  });
});
