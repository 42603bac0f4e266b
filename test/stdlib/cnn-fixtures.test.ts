// The CNN families' whole-model fixtures (lenet5, resnet18, mobilenet_v2,
// unet) end to end through the CLI's JSON contract on the CPU backend, and
// their state_dicts against the fixtures' `params[]`: every name, shape, kind,
// dtype and seeding rule, in PyTorch's state_dict order.

import { describe, expect, it } from "vitest";
import type { DType } from "../../compiler/index.js";
import { uniformFanIn } from "../../runtime/weights/seeded.js";
import { cnnCases, runFixture } from "../fixture-cases.js";
import { compareOutput, loadFixture } from "../fixture-compare.js";
import { compileCase } from "./cases.js";

interface FixtureParam {
  name: string;
  shape: number[];
  dtype: string;
  kind: string;
  rule: { kind: string; fan_in?: number };
}

const dtypes: Record<string, DType> = { float32: "f32", int64: "i64" };

describe("CNN fixtures on the CPU backend", () => {
  for (const c of cnnCases) {
    it(`${c.fixture}: outputs match PyTorch`, async () => {
      const fx = loadFixture(c.fixture);
      const res = await runFixture(c, fx, ["--backend", "cpu"]);
      expect(res.backend).toBe("cpu");
      expect(Object.keys(res.outputs).sort()).toEqual(fx.outputs.map((o) => o.name).sort());
      for (const o of fx.outputs) {
        const got = res.outputs[o.name]!;
        expect(compareOutput(fx, o, got.data, got.shape)).toEqual([]);
      }
    });

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
