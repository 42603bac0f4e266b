// Weights round trip: the seeded tensors of a model, written to a .safetensors
// file under the model's own state_dict names (no name mapping), load back
// through `nnc run ... --weights FILE.safetensors` and give exactly the logits
// of `--weights seeded`.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import { writeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";
import { cnnCases, type JsonOut } from "../fixture-cases.js";
import { compileCase } from "./cases.js";

interface RoundTrip {
  source: string;
  args: string[];
  input: number[];
}

// The fixture models at their fixture sizes, plus the families without a
// fixture here at small sizes (squeeze-excitation, layer scale, dense concat).
const cases: RoundTrip[] = [
  { source: "lenet:lenet5", args: [], input: [1, 1, 32, 32] },
  { source: "resnet:resnet18", args: ["classes=10"], input: [1, 3, 64, 64] },
  { source: "mobilenet:mobilenet_v2", args: ["classes=10"], input: [1, 3, 64, 64] },
  {
    source: "unet:unet",
    args: ["in_channels=1", "classes=2", "base=8", "depth=2"],
    input: [1, 1, 32, 32],
  },
  { source: "mobilenet:mobilenet_v3_small", args: ["classes=10"], input: [1, 3, 64, 64] },
  { source: "convnext:convnext_tiny", args: ["classes=10"], input: [1, 3, 32, 32] },
  { source: "densenet:densenet121", args: ["classes=10"], input: [1, 3, 32, 32] },
];

const dir = mkdtempSync(join(tmpdir(), "nnc-stdlib-weights-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(c: RoundTrip, weights: string): Promise<JsonOut> {
  const argv = ["run", c.source, "--json", "--weights", weights, "--backend", "cpu"];
  for (const a of c.args) argv.push("--arg", a);
  argv.push("--input", `input=seeded:${c.input.join("x")}`);
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  if (code !== 0) throw new Error(`nnc ${argv.join(" ")} exited ${code}:\n${err}`);
  return JSON.parse(out) as JsonOut;
}

describe("safetensors round trip under the state_dict names", () => {
  it("covers every CNN fixture case", () => {
    for (const c of cnnCases) expect(cases.map((r) => r.source)).toContain(c.source);
  });

  for (const c of cases) {
    it(c.source, async () => {
      const graph = compileCase(c).elaborate({ input: { shape: c.input } }).graph;
      const file = join(dir, `${c.source.replace(":", "_")}.safetensors`);
      writeSafetensors(file, seededParams(graph.params));
      const fromFile = await run(c, file);
      const seeded = await run(c, "seeded");
      expect(Object.keys(fromFile.outputs)).toEqual(Object.keys(seeded.outputs));
      for (const [name, t] of Object.entries(seeded.outputs)) {
        expect(fromFile.outputs[name]!.shape).toEqual(t.shape);
        expect(fromFile.outputs[name]!.data).toEqual(t.data);
        expect(t.data.every(Number.isFinite)).toBe(true);
      }
    });
  }
});
