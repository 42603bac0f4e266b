// The CNN families against their whole-model fixtures (lenet5, resnet18,
// mobilenet_v2, unet), without running them: each state_dict against the
// fixture's `params[]` (every name, shape, kind, dtype and seeding rule, in
// PyTorch's state_dict order), the parameter count and the FLOPs. Their outputs
// are checked in test/fixtures/cnn-fixtures.test.ts.

import { describe, expect, it } from "vitest";
import type { DType } from "../../compiler/index.js";
import { uniformFanIn } from "../../runtime/weights/seeded.js";
import { cnnCases } from "../fixture-cases.js";
import { loadFixture } from "../fixture-compare.js";
import { compileCase } from "./cases.js";

interface FixtureParam {
  name: string;
  shape: number[];
  dtype: string;
  kind: string;
  rule: { kind: string; fan_in?: number };
}

const dtypes: Record<string, DType> = { float32: "f32", int64: "i64" };

describe("CNN state_dicts, parameter counts and FLOPs against the fixtures", () => {
  for (const c of cnnCases) {
    it(`${c.fixture}: the state_dict matches the fixture's, name for name`, () => {
      const fx = loadFixture(c.fixture);
      const model = compileCase(c);
      const inputs = Object.fromEntries(fx.inputs.map((i) => [i.name, { shape: i.shape }]));
      const graph = model.elaborate(inputs).graph;
      const want = (fx.params as FixtureParam[]).map((p) => ({
        name: p.name,
        shape: p.shape,
        dtype: dtypes[p.dtype] ?? p.dtype,
        kind: p.kind,
        rule: p.rule.kind,
        fanIn: p.rule.fan_in,
      }));
      const shapes = new Map(graph.params.map((p) => [p.name, p.type.shape]));
      const got = graph.params.map((p) => ({
        name: p.name,
        shape: p.type.shape,
        dtype: p.type.dtype,
        kind: p.kind,
        rule: p.init,
        fanIn: p.init === "uniform" ? uniformFanIn(p.name, p.type.shape, shapes) : undefined,
      }));
      expect(got).toEqual(want);
    });

    it(`${c.fixture}: parameter count and FLOPs match the fixture`, () => {
      const fx = loadFixture(c.fixture) as ReturnType<typeof loadFixture> & {
        flops: { total: number };
      };
      const inputs = Object.fromEntries(fx.inputs.map((i) => [i.name, { shape: i.shape }]));
      const s = compileCase(c).summary(inputs);
      expect(s.params).toBe(fx.num_params);
      expect(s.flops).toBe(fx.flops.total);
      expect(s.outputs.map((o) => [o.name, o.type.shape])).toEqual(
        fx.outputs.map((o) => [o.name, o.shape]),
      );
    });
  }
});
