// --input hardening: sizes checked before anything is allocated, seeded inputs
// made only once the model has accepted their shape, and JSON that is not a
// tensor (ragged, nested without end, out of its dtype's range) refused.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";

const cpu = ["--backend", "cpu"];
const dir = tempDir("inputs");
const json = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("--input", () => {
  it("refuses seeded dims too large to allocate, as a usage error", async () => {
    const r = await cli(
      "run",
      "examples/mlp.nn",
      ...cpu,
      "--input",
      "input=seeded:1000000x1000000",
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain("1000000x1000000 is 1.00e+12 elements");
    expect(r.err).not.toContain("RangeError");
  });

  it("checks a seeded input's shape against the model before making it", async () => {
    // 10000×10000 fits the cap (400 MB) but not mlp's f32[N, 784]: refused by shape, not built.
    const r = await cli("run", "examples/mlp.nn", ...cpu, "--input", "input=seeded:10000x10000");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[NN4004]");
    expect(r.err).toContain("got f32[10000, 10000]");
  });

  it("names an input the entry does not have", async () => {
    const r = await cli("run", "examples/mlp.nn", ...cpu, "--input", "bogus=seeded:2");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NN6009.*has no input `bogus`/);
  });

  it("refuses deeply nested JSON without exhausting the stack", async () => {
    const p = json("deep.json", `${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    const r = await cli("run", "examples/mlp.nn", ...cpu, "--input", `input=${p}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NN6011.*nested deeper than 32 levels/);
    expect(r.err).not.toContain("call stack");
  });

  it("refuses ragged JSON that happens to have as many values as its first row implies", async () => {
    const p = json("ragged.json", "[[1,2],[],[3,4,5,6]]");
    const r = await cli("run", "examples/mlp.nn", ...cpu, "--input", `input=${p}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NN6011.*ragged/);
  });

  it("refuses i32 values that do not fit and f32 values beyond the f32 range", async () => {
    const big = json("big.json", '{"shape":[2],"data":[4294967297,1],"dtype":"i32"}');
    const rb = await cli("run", "examples/mlp.nn", ...cpu, "--input", `input=${big}`);
    expect(rb.err).toMatch(
      /NN6011.*i32 data must be integers in \[-2\^31, 2\^31\), value 0 is 4294967297/,
    );
    const inf = json("inf.json", "[[1e39, 1]]");
    const ri = await cli("run", "examples/mlp.nn", ...cpu, "--input", `input=${inf}`);
    expect(ri.err).toMatch(/NN6011.*beyond the f32 range/);
  });

  it("still takes a well-formed nested array", async () => {
    const row = Array.from({ length: 784 }, (_, i) => (i % 7) / 7);
    const p = json("ok.json", JSON.stringify([row, row]));
    const r = await cli("run", "examples/mlp.nn", ...cpu, "--input", `input=${p}`, "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).inputs.input.shape).toEqual([2, 784]);
  });
});
