// The CLI's everyday flags: check --depth rows that add up, check --params,
// export-weights --seeded, --values, --save-outputs, --output LABEL on both
// backends, repeated flags, and hints that name the command's own flags.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { compile } from "../../compiler/index.js";
import { readNpy } from "../../runtime/weights/npy.js";
import { readSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { cli, tempDir } from "./helpers.js";

const cpu = ["--backend", "cpu"];
const gpu = inject("gpu");

interface Summary {
  rows: { path: string; params: number }[];
  params: number;
}

describe("nnc check --depth", () => {
  it("lists every layer down to depth N whose sublayers are not listed, so params add up", async () => {
    for (const depth of ["1", "2", "3"]) {
      const r = await cli("check", "examples/resnet_small.nn", "--depth", depth, "--json");
      expect(r.code, r.err).toBe(0);
      const s = JSON.parse(r.out) as Summary;
      const paths = s.rows.map((row) => row.path);
      // conv1, bn1 and fc have no sublayers written in .nn: they stay at every depth.
      expect(paths).toEqual(expect.arrayContaining(["conv1", "bn1", "fc"]));
      expect(s.rows.reduce((a, row) => a + row.params, 0)).toBe(s.params);
    }
    const two = JSON.parse(
      (await cli("check", "examples/resnet_small.nn", "--depth", "2", "--json")).out,
    ) as Summary;
    expect(two.rows.map((r) => r.path)).toContain("layer1.0");
    expect(two.rows.map((r) => r.path)).not.toContain("layer1");
  });
});

describe("nnc check --params and export-weights", () => {
  it("lists every state_dict key with its shape and dtype, buffers included", async () => {
    const r = await cli("check", "examples/resnet_small.nn", "--params", "--json");
    expect(r.code, r.err).toBe(0);
    const list = JSON.parse(r.out) as {
      name: string;
      shape: number[];
      dtype: string;
      kind: string;
    }[];
    const graph = compile({ file: "examples/resnet_small.nn" }).graph;
    expect(list.map((p) => p.name)).toEqual(
      graph.params.filter((p) => !p.derived).map((p) => p.name),
    );
    expect(list).toContainEqual({
      name: "conv1.weight",
      shape: [16, 3, 3, 3],
      dtype: "f32",
      kind: "parameter",
    });
    expect(list).toContainEqual({
      name: "bn1.num_batches_tracked",
      shape: [],
      dtype: "i64",
      kind: "buffer",
    });
    const text = await cli("check", "examples/resnet_small.nn", "--params");
    expect(text.out).toMatch(/^bn1\.running_var\s+f32\[16\]\s+\(buffer\)$/m);
  });

  it("writes the seeded weights as safetensors, the same tensors `--weights seeded` uses", async () => {
    const out = join(tempDir("export"), "lenet.safetensors");
    const r = await cli("export-weights", "examples/lenet5.nn", "--seeded", out);
    expect(r.code, r.err).toBe(0);
    const written = readSafetensors(out);
    const expected = seededParams(compile({ file: "examples/lenet5.nn" }).graph.params);
    expect([...written.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, t] of expected) expect(written.get(k)!.data).toEqual(t.data);
    const run = await cli("run", "examples/lenet5.nn", ...cpu, "--weights", out, "--json");
    const seeded = await cli("run", "examples/lenet5.nn", ...cpu, "--json");
    expect(JSON.parse(run.out).outputs).toEqual(JSON.parse(seeded.out).outputs);
  });
});

describe("nnc run output flags", () => {
  it("--values N|all prints more than 8 values without --json", async () => {
    const all = await cli("run", "examples/mlp.nn", ...cpu, "--values", "all");
    expect(all.code, all.err).toBe(0);
    const shown = /\n {2}\[([^\]]*)\]/.exec(all.out)![1]!.split(", ");
    expect(shown).toHaveLength(10);
    const three = await cli("run", "examples/mlp.nn", ...cpu, "--values", "3");
    expect(three.out).toContain("… 7 more]");
    expect((await cli("run", "examples/mlp.nn", ...cpu, "--values", "x")).code).toBe(2);
  });

  it("--save-outputs DIR writes each output as .npy, the values --json prints", async () => {
    const dir = join(tempDir("save"), "out");
    const r = await cli("run", "examples/lenet5.nn", ...cpu, "--save-outputs", dir, "--json");
    expect(r.code, r.err).toBe(0);
    const saved = readNpy(join(dir, "logits.npy"));
    const printed = JSON.parse(r.out).outputs.logits as { shape: number[]; data: number[] };
    expect(saved.shape).toEqual(printed.shape);
    expect([...saved.data]).toEqual(printed.data);
  });

  it("--output LABEL adds a labelled layer's value to the outputs on the CPU", async () => {
    const r = await cli(
      "run",
      "examples/lenet5.nn",
      ...cpu,
      "--output",
      "conv1",
      "--output",
      "fc2",
      "--json",
    );
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out).outputs as Record<string, { shape: number[] }>;
    expect(out.conv1!.shape).toEqual([1, 6, 28, 28]);
    expect(out.fc2!.shape).toEqual([1, 84]);
    expect(out.logits!.shape).toEqual([1, 10]);
    const bad = await cli("run", "examples/lenet5.nn", ...cpu, "--output", "conv9");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/NN2012.*no layer labelled `conv9`; did you mean `conv1`\?/);
  });

  it.skipIf(!gpu.ok)(
    "--output LABEL gives the same tapped values on WebGPU as on the CPU",
    async () => {
      const c = await cli("run", "examples/lenet5.nn", ...cpu, "--output", "conv2", "--json");
      const g = await cli(
        "run",
        "examples/lenet5.nn",
        "--backend",
        "webgpu",
        "--output",
        "conv2",
        "--json",
      );
      expect(g.code, g.err).toBe(0);
      const a = JSON.parse(c.out).outputs.conv2.data as number[];
      const b = JSON.parse(g.out).outputs.conv2.data as number[];
      expect(b).toHaveLength(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 4);
    },
  );
});

describe("flag hygiene", () => {
  it("a flag that takes one value given twice is a usage error; repeatable flags still repeat", async () => {
    const r = await cli("run", "examples/mlp.nn", "--backend", "cpu", "--backend", "webgpu");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--backend given twice");
    const ok = await cli(
      "check",
      "examples/lenet5.nn",
      "--arg",
      "classes=10",
      "--shape",
      "input=2x1x32x32",
    );
    expect(ok.code).toBe(0);
  });

  it("hints name the flags of the command at hand", async () => {
    const p = join(tempDir("hints"), "free.nn");
    writeFileSync(p, "model m()(x) { x * 2 }\n");
    const run = await cli("run", p, ...cpu);
    expect(run.err).toContain("give one with --input x=seeded:DIMS");
    expect(run.err).not.toContain("--shape");
    const check = await cli("check", p);
    expect(check.err).toContain("give one with --shape x=DIMS");
    expect(check.err).not.toContain("--input");
  });

  it("an out-of-range token id (NN7001) points at the embedding in the user's file", async () => {
    const dir = tempDir("nn7001");
    const src = join(dir, "emb.nn");
    writeFileSync(src, "model m()(x: i32[2, 3]) {\n  x -> emb: embedding(5, 4)\n}\n");
    const ids = join(dir, "ids.json");
    writeFileSync(ids, '{"shape":[2,3],"data":[0,1,2,3,4,9],"dtype":"i32"}');
    const r = await cli("run", src, ...cpu, "--input", `x=${ids}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stdlib\/nn\.nn:\d+:\d+ error\[NN7001\]: gather: index 9/);
    expect(r.err).toContain(`called from ${src}:2:13`);
    expect(readFileSync(ids, "utf8")).toContain("9");
  });
});
