// Checkpoints as PyTorch users have them: num_batches_tracked left out (inference
// never reads it), a checkpoint of another model (a summary, not 184 errors),
// weight errors traced to the user's layer, and suspicious values warned about.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import { readSafetensors, writeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { cli, tempDir } from "./helpers.js";

const cpu = ["--backend", "cpu"];
const dir = tempDir("weights");
const resnet = "examples/resnet_small.nn";
const seeded = () => seededParams(compile({ file: resnet }).graph.params.filter((p) => !p.derived));

describe("--weights checkpoints", () => {
  it("accepts a state_dict without num_batches_tracked, with a note, and runs as with them", async () => {
    const all = seeded();
    const without = new Map([...all].filter(([k]) => !k.endsWith("num_batches_tracked")));
    expect(without.size).toBeLessThan(all.size);
    const p = join(dir, "no-nbt.safetensors");
    writeSafetensors(p, without);
    const r = await cli("run", resnet, ...cpu, "--weights", p, "--json");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /note: .*has no num_batches_tracked for \d+ batch norms \(inference does not read it\); using 0/,
    );
    const ref = await cli("run", resnet, ...cpu, "--json");
    expect(JSON.parse(r.out).outputs).toEqual(JSON.parse(ref.out).outputs);
  });

  it("summarises a checkpoint of another model: counts first, then a few of each kind", async () => {
    const lenet = join(dir, "lenet.safetensors");
    expect((await cli("export-weights", "examples/lenet5.nn", "--seeded", lenet)).code).toBe(0);
    const r = await cli("run", resnet, ...cpu, "--weights", lenet);
    expect(r.code).toBe(1);
    const errors = r.err.split("\n").filter((l) => /error\[NN600\d\]/.test(l));
    expect(errors[0]).toMatch(
      /does not fit this model: \d+ weights missing, 9 unexpected, 1 of the wrong shape/,
    );
    expect(errors.length).toBeLessThanOrEqual(1 + 5 * 3);
    expect(r.err).toMatch(/… and \d+ more like this/);
    expect(r.err.split("\n").length).toBeLessThan(80);
  });

  it("traces a weight error in a stdlib layer back to the user's layer", async () => {
    const w = seeded();
    const bn = w.get("bn1.weight")!;
    w.set("bn1.weight", { ...bn, shape: [8], data: (bn.data as Float32Array).slice(0, 8) });
    const p = join(dir, "misshaped.safetensors");
    writeSafetensors(p, w);
    const r = await cli("run", resnet, ...cpu, "--weights", p);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[NN6005\]: .*`bn1\.weight`: expected \[16\], file has \[8\]/);
    expect(r.err).toMatch(/in batchnorm, called from examples\/resnet_small\.nn:\d+:\d+/);
  });

  it("warns, naming the tensor, about NaN, infinite values and a negative running_var", async () => {
    const w = seeded();
    const set = (name: string, i: number, v: number) => {
      const t = w.get(name)!;
      const data = Float32Array.from(t.data as Float32Array);
      data[i] = v;
      w.set(name, { ...t, data });
    };
    set("conv1.weight", 0, Number.NaN);
    set("fc.bias", 1, Number.POSITIVE_INFINITY);
    set("bn1.running_var", 2, -1);
    const p = join(dir, "suspicious.safetensors");
    writeSafetensors(p, w);
    const r = await cli("run", resnet, ...cpu, "--weights", p);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning\[NN6013\]: .*`conv1\.weight` holds 1 NaN values/);
    expect(r.err).toMatch(/warning\[NN6013\]: .*`fc\.bias` holds 1 infinite values/);
    expect(r.err).toMatch(/warning\[NN6013\]: .*`bn1\.running_var` holds 1 negative variances/);
    expect(readSafetensors(p).size).toBe(w.size);
  });
});
