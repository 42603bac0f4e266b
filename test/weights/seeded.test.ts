// The seeded initializer against SPEC.md §4 (the check table) and against every
// parameter, buffer and input of every fixture, rebuilt from names and shapes alone.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { GraphParam } from "../../compiler/graph/graph.js";
import {
  bitsChecksum,
  fmix32,
  fnv1a32,
  matchingWeightName,
  seededHashes,
  seededInput,
  seededParams,
  seededTokens,
  seededValues,
  uniformFanIn,
  uniformScale,
} from "../../runtime/weights/seeded.js";
import { fixtureFiles, fixturePath } from "../fixtures-path.js";

const f32Bits = (v: Float32Array) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
const sum64 = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
};
const relClose = (a: number, b: number, rel = 1e-9) =>
  a === b || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

function param(name: string, shape: number[], init: GraphParam["init"]): GraphParam {
  return { name, node: 0, kind: "parameter", init, type: { dtype: "f32", shape } };
}

describe("SPEC §4 check table", () => {
  it("FNV-1a and fmix32 test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
    expect(fmix32(0xdeadbeef)).toBe(0x0de5c6a9);
    expect(fmix32(0xffffffff)).toBe(0x81f16f39);
  });

  it("layer1.0.conv1.weight: rows, bits_checksum and sum", () => {
    const name = "layer1.0.conv1.weight";
    expect(fnv1a32(name)).toBe(0xb282392a);
    expect([0, 1, 2, 3].map(fmix32)).toEqual([0x00000000, 0x514e28b7, 0x30f4c306, 0x85f0b427]);
    const x = seededHashes(name, 4);
    expect([...x]).toEqual([0x67592422, 0xfdaf84cd, 0x379a11fe, 0x340fa843]);
    expect([...x].map((v) => v / 2 ** 32)).toEqual([
      0.4037039359100163, 0.9909594536293298, 0.21719467593356967, 0.20336391101591289,
    ]);

    // fan_in 576 derived from the shape, s = 1/24.
    const shape = [64, 64, 3, 3];
    expect(uniformFanIn(name, shape, new Map([[name, shape]]))).toBe(576);
    const t = seededParams([param(name, shape, "uniform")]).get(name)!;
    const data = t.data as Float32Array;
    expect(f32Bits(data.subarray(0, 4))).toEqual([0xbc0379ea, 0x3d2794b1, 0xbcc10fd0, 0xbcca80ea]);
    expect([...data.subarray(0, 4)]).toEqual(
      [-0.008024672, 0.040913288, -0.02356711, -0.024719674].map(Math.fround),
    );
    expect(bitsChecksum(data)).toBe(0x7c53e2b4);
    expect(bitsChecksum(data)).toBe(2085872308);
    expect(relClose(sum64(data), -12.427393523716773)).toBe(true);
  });

  it("input [1,3,64,64], scale 1: rows, bits_checksum and sum", () => {
    expect(fnv1a32("input")).toBe(0xf9d86f7b);
    const x = seededHashes("input", 4);
    expect([...x]).toEqual([0xcc8d6f84, 0x5549f7c7, 0x388a02bf, 0x646dd24d]);
    expect([...x].map((v) => v / 2 ** 32)).toEqual([
      0.79903313610702753, 0.33315991028212011, 0.22085587657056749, 0.39230074291117489,
    ]);
    const t = seededInput("input", [1, 3, 64, 64], { kind: "uniform", scale: 1 });
    expect(t.dtype).toBe("f32");
    expect(t.shape).toEqual([1, 3, 64, 64]);
    const data = t.data as Float32Array;
    expect(f32Bits(data.subarray(0, 4))).toEqual([0x3f191adf, 0xbeaad821, 0xbf0eebfb, 0xbe5c916e]);
    expect([...data.subarray(0, 4)]).toEqual(
      [0.5980663, -0.33368018, -0.5582883, -0.21539852].map(Math.fround),
    );
    expect(bitsChecksum(data)).toBe(0xf5b980ef);
    expect(relClose(sum64(data), 78.39363175816834)).toBe(true);
  });

  it("bn1.running_var rows", () => {
    const name = "bn1.running_var";
    expect(fnv1a32(name)).toBe(0x080a58bf);
    const x = seededHashes(name, 4);
    expect([...x]).toEqual([0x0dc9970e, 0x8ed81539, 0x7f88a29b, 0xa12ed0e0]);
    expect([...x].map((v) => v / 2 ** 32)).toEqual([
      0.053857270162552595, 0.55798466340638697, 0.49817863735370338, 0.62962060421705246,
    ]);
    const v = seededValues(name, 4, { kind: "running_var" });
    expect(f32Bits(v)).toEqual([0x3f837266, 0x3fa3b605, 0x3f9fe229, 0x3fa84bb4]);
    expect([...v]).toEqual([1.0269287, 1.2789923, 1.2490894, 1.3148103].map(Math.fround));
  });

  it("src_tokens [2,9], vocab 50", () => {
    expect([...seededTokens("src_tokens", [2, 9], 50)]).toEqual([
      4, 42, 14, 21, 20, 24, 47, 49, 41, 6, 8, 41, 19, 45, 8, 1, 1, 27,
    ]);
    const t = seededInput("src_tokens", [2, 9], { kind: "tokens", vocab: 50 });
    expect(t.dtype).toBe("i32");
    expect(t.shape).toEqual([2, 9]);
  });

  it("computes t*(1/sqrt(f)), not t/sqrt(f)", () => {
    // The two differ for some fan_in; make sure ours is the multiplication form.
    const name = "w";
    const f = 3;
    const x = seededHashes(name, 1000);
    const v = seededValues(name, 1000, { kind: "uniform", scale: uniformScale(f) });
    for (let i = 0; i < 1000; i++) {
      expect(v[i]).toBe(Math.fround((2 * (x[i]! / 2 ** 32) - 1) * (1 / Math.sqrt(f))));
    }
  });
});

describe("SPEC §2 fan_in", () => {
  const shapes = new Map<string, number[]>([
    ["rnn.weight_ih_l0", [128, 16]],
    ["rnn.weight_hh_l1_reverse", [128, 32]],
    ["fc.weight", [10, 84]],
    ["ln.weight", [84]],
    ["layer_scale", [8, 1, 1]],
  ]);
  it.each([
    ["rnn.bias_ih_l0", [128], 16],
    ["rnn.bias_hh_l1_reverse", [128], 32],
    ["fc.bias", [10], 84],
    ["ln.bias", [84], 84], // the weight is 1-D: shape[-1]
    ["orphan.bias", [7], 7],
    ["fc.weight", [10, 84], 84],
    ["layer_scale", [8, 1, 1], 1],
    ["scalar", [], 1],
    ["vector", [5], 1],
  ])("%s %j -> %i", (name, shape, fanIn) => {
    expect(uniformFanIn(name as string, shape as number[], shapes)).toBe(fanIn);
  });

  it("matching weight names", () => {
    expect(matchingWeightName("bias")).toBe("weight");
    expect(matchingWeightName("a.b.bias_hh_l1_reverse")).toBe("a.b.weight_hh_l1_reverse");
    expect(matchingWeightName("a.weight")).toBeUndefined();
    expect(matchingWeightName("bias_of.x")).toBeUndefined();
  });

  it("untouched, zeros and ones", () => {
    const out = seededParams([
      {
        name: "bn.num_batches_tracked",
        node: 0,
        kind: "buffer",
        init: "untouched",
        type: { dtype: "i64", shape: [] },
      },
      param("z", [3], "zeros"),
      param("o", [2], "ones"),
    ]);
    expect(out.get("bn.num_batches_tracked")!.data).toEqual(new BigInt64Array([0n]));
    expect(out.get("z")!.data).toEqual(new Float32Array(3));
    expect(out.get("o")!.data).toEqual(new Float32Array([1, 1]));
  });
});

// Only the parts of the fixture schema (SPEC §6) the weights layer checks.
const ruleSchema = z.object({
  kind: z.enum(["uniform", "norm_weight", "norm_bias", "running_mean", "running_var", "untouched"]),
  fan_in: z.number().optional(),
  scale: z.number().optional(),
  fan_in_from: z.string().optional(),
});
const fixtureSchema = z.object({
  params: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int()),
      dtype: z.enum(["float32", "int64"]),
      kind: z.enum(["parameter", "buffer"]),
      rule: ruleSchema,
      check: z.object({
        first: z.array(z.number()),
        sum: z.number(),
        bits_checksum: z.number().optional(),
      }),
    }),
  ),
  inputs: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int()),
      dtype: z.enum(["float32", "int64"]),
      rule: z.discriminatedUnion("kind", [
        z.object({ kind: z.literal("uniform"), scale: z.number() }),
        z.object({ kind: z.literal("tokens"), vocab: z.number().int() }),
      ]),
      data: z.array(z.number()).optional(),
    }),
  ),
});

describe("every fixture's params and inputs, rebuilt from names", () => {
  const files = fixtureFiles();
  it("finds the fixtures", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s", (file) => {
    const fixture = fixtureSchema.parse(JSON.parse(readFileSync(fixturePath(file), "utf8")));
    const params: GraphParam[] = fixture.params.map((p, i) => ({
      name: p.name,
      node: i,
      kind: p.kind,
      init: p.rule.kind,
      type: { dtype: p.dtype === "int64" ? "i64" : "f32", shape: p.shape },
    }));
    const shapes = new Map(params.map((p) => [p.name, p.type.shape]));
    const built = seededParams(params);
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) problems.push(what);
    };

    expect([...built.keys()]).toEqual(fixture.params.map((p) => p.name));
    for (const p of fixture.params) {
      const t = built.get(p.name)!;
      if (p.rule.kind === "uniform") {
        const fanIn = uniformFanIn(p.name, p.shape, shapes);
        check(fanIn === p.rule.fan_in, `${p.name}: fan_in ${fanIn}, fixture ${p.rule.fan_in}`);
        check(uniformScale(fanIn) === p.rule.scale, `${p.name}: scale differs`);
        if (p.rule.fan_in_from !== undefined) {
          const from = matchingWeightName(p.name);
          check(from === p.rule.fan_in_from, `${p.name}: fan_in_from ${from}`);
        }
      }
      check(t.dtype === (p.dtype === "int64" ? "i64" : "f32"), `${p.name}: dtype ${t.dtype}`);
      if (t.data instanceof Float32Array) {
        const sum = sum64(t.data);
        check(bitsChecksum(t.data) === p.check.bits_checksum, `${p.name}: bits_checksum`);
        check(relClose(sum, p.check.sum), `${p.name}: sum ${sum}, fixture ${p.check.sum}`);
        const first = [...t.data.subarray(0, p.check.first.length)];
        check(
          first.every((v, k) => v === Math.fround(p.check.first[k]!)),
          `${p.name}: first ${first}, fixture ${p.check.first}`,
        );
      } else {
        const values = Array.from(t.data as BigInt64Array, Number);
        check(sum64(values) === p.check.sum, `${p.name}: sum`);
        check(
          p.check.first.every((v, k) => values[k] === v),
          `${p.name}: first ${values.slice(0, 4)}`,
        );
      }
    }

    for (const input of fixture.inputs) {
      const t = seededInput(input.name, input.shape, input.rule);
      check(
        t.dtype === (input.rule.kind === "tokens" ? "i32" : "f32"),
        `${input.name}: dtype ${t.dtype}`,
      );
      if (input.data === undefined) continue;
      const want =
        input.rule.kind === "tokens" ? input.data : input.data.map((v) => Math.fround(v));
      check(
        t.data.length === want.length && want.every((v, k) => t.data[k] === v),
        `input ${input.name}: values differ`,
      );
    }
    expect(problems).toEqual([]);
  });
});
