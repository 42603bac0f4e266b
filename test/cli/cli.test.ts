// The CLI contract: exit codes, `check`'s summary, `inspect` stages, and
// `run --json` printing exactly one JSON object. Runs main() in process.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { compile } from "../../compiler/index.js";
import { encodeNpy } from "../../runtime/weights/npy.js";
import { writeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { fixturePath } from "../fixtures-path.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

const cpu = ["--backend", "cpu"];

describe("nnc check", () => {
  it("reports LeNet-5's 61,706 parameters, as PyTorch counts them", async () => {
    const fixture = JSON.parse(readFileSync(fixturePath("lenet5.json"), "utf8")) as {
      num_params: number;
    };
    const r = await cli("check", "examples/lenet5.nn", "--arg", "classes=10");
    expect(r.code).toBe(0);
    expect(r.out).toContain("params: 61,706 trainable");
    const json = await cli("check", "examples/lenet5.nn", "--arg", "classes=10", "--json");
    expect(JSON.parse(json.out).params).toBe(fixture.num_params);
  });

  it("prints a table of layer path, op, output shape and params", async () => {
    const r = await cli("check", "examples/lenet5.nn", "--shape", "input=4x1x32x32");
    expect(r.out).toMatch(/^conv1\s+conv\s+f32\[4, 6, 28, 28\]\s+156$/m);
    expect(r.out).toMatch(/^fc1\s+linear\s+f32\[4, 120\]\s+48,120$/m);
    expect(r.out).toContain("FLOPs: 3,332,160");
  });

  it("says which input dims it chose when none were given", async () => {
    const r = await cli("check", "examples/lenet5.nn");
    expect(r.out).toContain(
      "note: no shape bound the input dims N=1, so they default to 1; give shapes with --input NAME=seeded:DIMS (or --shape NAME=DIMS), or declare a default in the input's type, e.g. `f32[N = 8, ...]`",
    );
  });

  it("shows a layer entry's primitives", async () => {
    const r = await cli("check", "nn:linear", "--arg", "out=3", "--shape", "input=2x4");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^-\s+matmul\s+f32\[2, 3\]/m);
    expect(r.out).toContain("params: 15 trainable");
  });
});

describe("nnc inspect", () => {
  it("prints the AST", async () => {
    const r = await cli("inspect", "examples/lenet5.nn", "--stage", "ast");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Callable model lenet5");
    expect(r.out).toMatch(/Labeled conv1: Call conv\(6, 5\)/);
  });

  it("prints the Graph IR with state_dict names and source locations", async () => {
    const r = await cli("inspect", "examples/lenet5.nn", "--stage", "graph");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/= param "fc3\.bias" : f32\[10\]/);
    expect(r.out).toMatch(/= conv2d\(%0, %1\) \{stride=\[1, 1\].*\} : f32\[1, 6, 28, 28\]/);
    expect(r.out).toContain("outputs: logits = %");
  });

  it("rejects an unknown stage with exit 2", async () => {
    expect((await cli("inspect", "examples/lenet5.nn", "--stage", "bogus")).code).toBe(2);
  });

  it("rejects a flag of another command instead of ignoring it, and names the right one", async () => {
    const r = await cli("inspect", "examples/lenet5.nn", "--stage", "opt", "--input", "x=seeded:1");
    expect(r.code).toBe(2);
    expect(r.err).toContain("`nnc inspect` does not take --input (use --shape NAME=DIMS)");
    const c = await cli("check", "examples/lenet5.nn", "--runs", "3");
    expect(c.code).toBe(2);
    expect(c.err).toContain("`nnc check` does not take --runs");
  });
});

describe("nnc run", () => {
  it("--json prints exactly one JSON object with outputs and the backend", async () => {
    const r = await cli("run", "examples/lenet5.nn", "--json", ...cpu);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j.backend).toBe("cpu");
    expect(Object.keys(j.outputs)).toEqual(["logits"]);
    expect(j.outputs.logits.shape).toEqual([1, 10]);
    expect(j.outputs.logits.dtype).toBe("f32");
    expect(j.outputs.logits.data).toHaveLength(10);
  });

  it("runs a stdlib entry named MODULE:ENTRY", async () => {
    const r = await cli(
      "run",
      "nn:softmax",
      "--input",
      "input=seeded:2x5:scale=3",
      "--json",
      ...cpu,
    );
    expect(r.code).toBe(0);
    const data: number[] = JSON.parse(r.out).outputs.output.data;
    expect(data[0]! + data[1]! + data[2]! + data[3]! + data[4]!).toBeCloseTo(1, 6);
  });

  it("takes .npy and .json inputs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-in-"));
    const npy = join(dir, "x.npy");
    writeFileSync(
      npy,
      encodeNpy({ dtype: "f32", shape: [2, 2], data: Float32Array.from([1, -2, 3, -4]) }),
    );
    const a = await cli("run", "nn:relu", "--input", `input=${npy}`, "--json", ...cpu);
    expect(JSON.parse(a.out).outputs.output.data).toEqual([1, 0, 3, 0]);
    const json = join(dir, "x.json");
    writeFileSync(
      json,
      JSON.stringify([
        [1, -2],
        [3, -4],
      ]),
    );
    const b = await cli("run", "nn:relu", "--input", `input=${json}`, "--json", ...cpu);
    expect(JSON.parse(b.out).outputs.output.data).toEqual([1, 0, 3, 0]);
  });

  it("gives the same logits from a safetensors file as from the seeded weights", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-w-"));
    const file = join(dir, "lenet.safetensors");
    writeSafetensors(file, seededParams(compile({ file: "examples/lenet5.nn" }).graph.params));
    const seeded = JSON.parse((await cli("run", "examples/lenet5.nn", "--json", ...cpu)).out);
    const loaded = JSON.parse(
      (await cli("run", "examples/lenet5.nn", "--weights", file, "--json", ...cpu)).out,
    );
    expect(loaded.outputs.logits.data).toEqual(seeded.outputs.logits.data);
  });

  it("runs every example", async () => {
    for (const [file, input] of [
      ["examples/lenet5.nn", "seeded:2x1x32x32"],
      ["examples/mlp.nn", "seeded:3x784"],
      ["examples/resnet_small.nn", "seeded:1x3x32x32"],
    ] as const) {
      const r = await cli("run", file, "--input", `input=${input}`, "--json", ...cpu);
      expect(r.code, `${file}: ${r.err}`).toBe(0);
      const out = Object.values(JSON.parse(r.out).outputs)[0] as { data: number[] };
      expect(out.data.every(Number.isFinite)).toBe(true);
    }
  });

  it("runs the recurrent examples: the design card's classifier and the translator", async () => {
    const c = await cli(
      "run",
      "examples/classify.nn",
      "--input",
      "tokens=seeded:2x24:tokens=1000",
      "--json",
      ...cpu,
    );
    expect(c.code, c.err).toBe(0);
    const probs: number[] = JSON.parse(c.out).outputs.output.data;
    expect(probs).toHaveLength(8);
    expect(probs.slice(0, 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const t = await cli(
      "run",
      "examples/translate.nn",
      "--arg",
      "src_vocab=100",
      "--arg",
      "tgt_vocab=120",
      "--arg",
      "hidden=64",
      "--input",
      "src_tokens=seeded:2x6:tokens=100",
      "--input",
      "tgt_tokens=seeded:2x4:tokens=120",
      "--json",
      ...cpu,
    );
    expect(t.code, t.err).toBe(0);
    const out = JSON.parse(t.out).outputs;
    expect(out.log_probs.shape).toEqual([2, 4, 120]);
    expect(out.align.shape).toEqual([2, 4, 6]);
  });

  it("seeds an input left out, and says so on stderr", async () => {
    const r = await cli("run", "examples/lenet5.nn", ...cpu);
    expect(r.code).toBe(0);
    expect(r.err).toContain("note: input `input` not given; using seeded:1x1x32x32");
  });
});
