// Elaboration: parameter naming (state_dict paths), calling conventions,
// hyperparameter arithmetic, the layer tier, and values checked against
// hand-computed results on the CPU backend.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../compiler/core/tensor.js";
import { compile } from "../../compiler/index.js";

function paramNames(
  source: string | { file: string } | { stdlib: string },
  opts: Parameters<typeof compile>[1] = {},
): string[] {
  return compile(source, { file: "model.nn", ...opts }).graph.params.map((p) => p.name);
}

async function run(
  source: string,
  inputs: Record<string, Tensor>,
  weights?: Map<string, Tensor>,
): Promise<Map<string, Tensor>> {
  const m = compile(source, { file: "model.nn" });
  const r = await m.run(new Map(Object.entries(inputs)), {
    backend: "cpu",
    weights: weights ?? "seeded",
  });
  return r.outputs;
}

const f32 = (shape: number[], values: number[]): Tensor => ({
  dtype: "f32",
  shape,
  data: Float32Array.from(values),
});

describe("parameter names", () => {
  it("follow torchvision's paths through labels, sequences and comprehensions", () => {
    const names = paramNames({ file: "examples/resnet_small.nn" });
    expect(names.slice(0, 6)).toEqual([
      "conv1.weight",
      "bn1.weight",
      "bn1.bias",
      "bn1.running_mean",
      "bn1.running_var",
      "bn1.num_batches_tracked",
    ]);
    expect(names).toContain("layer1.0.conv1.weight");
    expect(names).toContain("layer1.1.bn2.running_var");
    expect(names).toContain("layer2.0.downsample.0.weight");
    expect(names).toContain("layer2.0.downsample.1.num_batches_tracked");
    expect(names).not.toContain("layer1.0.downsample.0.weight");
    expect(names.at(-1)).toBe("fc.bias");
  });

  it("name unlabelled stages of a point-free def by position, like nn.Sequential", () => {
    const src =
      "def cbr(c: int) = conv(c, 3, bias=false) -> batchnorm -> relu\nmodel m()(x: f32[1, 3, 8, 8]) { x -> stem: cbr(4) -> head: cbr(2) }";
    expect(paramNames(src).filter((n) => n.endsWith("weight"))).toEqual([
      "stem.0.weight",
      "stem.1.weight",
      "head.0.weight",
      "head.1.weight",
    ]);
  });

  it("add no level for calls on a value (residual, f(x))", () => {
    const src = "model m()(x: f32[2, 4]) { x -> block: residual(linear(4)) }";
    expect(paramNames(src)).toEqual(["block.weight", "block.bias"]);
  });

  it("give a layer entry's params no prefix", () => {
    expect(
      paramNames(
        { stdlib: "nn" },
        { entry: "batchnorm", inputs: { input: { shape: [1, 3, 2, 2] } } },
      ),
    ).toEqual(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
  });

  it("fill string templates in param names", () => {
    const src = `layer stack(n: int)(x) {
  let ws = [for i in 0..n: param "w_{i}": [x.shape[-1]]]
  ws[0] * x + ws[n - 1]
}
model m()(x: f32[3]) { x -> s: stack(3) }`;
    expect(paramNames(src)).toEqual(["s.w_0", "s.w_1", "s.w_2"]);
  });
});

describe("values", () => {
  it("compute hand-checked arithmetic with broadcasting and scalars", async () => {
    const out = await run("model m()(x: f32[2, 2], b: f32[2]) { (x + b) * 2.0 - 1 }", {
      x: f32([2, 2], [1, 2, 3, 4]),
      b: f32([2], [10, 20]),
    });
    expect([...out.get("output")!.data]).toEqual([21, 43, 25, 47]);
  });

  it("divide two ints to an int (floored) and floats exactly", async () => {
    const src = "model m(k: int = 7)(x: f32[1]) { x * (k / 2) + k / 2.0 * 0.0 + (0 - k) / 2 }";
    // 7/2 = 3 (int), (0-7)/2 = -4 (floored), 7/2.0*0 = 0
    expect([...(await run(src, { x: f32([1], [5]) })).get("output")!.data]).toEqual([11]);
  });

  it("choose branches with if on hyperparameters and shapes", async () => {
    const src = `def pick(mode: double | halve = double)(x) { if mode == double then x * 2.0 else x / 2.0 }
model m()(x: f32[2]) { let a = x -> pick(halve)\n let b = pick(x)\n if x.shape[0] == 2 then a + b else a }`;
    expect([...(await run(src, { x: f32([2], [4, 8]) })).get("output")!.data]).toEqual([10, 20]);
  });

  it("build lists with comprehensions, filters, nested loops and destructuring", async () => {
    const src = `let table = [[1, 2], [3, 4]]
model m()(x: f32[1]) {
  let xs = [for a, b in table for k in 0..b if k > 0: a * k]
  x * (xs[0] + xs[1] + xs[2] + xs[3] + len(xs))
}`;
    // table rows (1,2): k=1 -> 1; (3,4): k=1,2,3 -> 3,6,9; sum 19 + len 4 = 23
    expect([...(await run(src, { x: f32([1], [1]) })).get("output")!.data]).toEqual([23]);
  });

  it("pass a record's first field along a pipeline and read fields by name", async () => {
    const src = `def two()(x) { {first: x + 1.0, second: x * 10.0} }
model m()(x: f32[1]) { let r = two(x)\n let p = x -> two -> two\n {p: p, s: r.second} }`;
    const out = await run(src, { x: f32([1], [1]) });
    // The last stage's whole record comes out; nested records flatten to dotted output names.
    expect([...out.keys()]).toEqual(["p.first", "p.second", "s"]);
    expect([...out.get("p.first")!.data]).toEqual([3]);
    expect([...out.get("p.second")!.data]).toEqual([20]);
    expect([...out.get("s")!.data]).toEqual([10]);
  });

  it("split, slice and index tensors", async () => {
    const src = `model m()(x: f32[2, 4]) {
  let a, b = split(x, 2, axis=1)
  {a: a, last: x[:, -1], rows: x[1:, 1:3]}
}`;
    const out = await run(src, { x: f32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]) });
    expect([...out.get("a")!.data]).toEqual([1, 2, 5, 6]);
    expect(out.get("last")!.shape).toEqual([2]);
    expect([...out.get("last")!.data]).toEqual([4, 8]);
    expect([...out.get("rows")!.data]).toEqual([6, 7]);
  });

  it("run linear on given weights: y = x Wᵀ + b", async () => {
    const w = new Map<string, Tensor>([
      ["fc.weight", f32([2, 3], [1, 0, -1, 2, 1, 0])],
      ["fc.bias", f32([2], [0.5, -1])],
    ]);
    const out = await run(
      "model m()(x: f32[1, 3]) { x -> fc: linear(2) }",
      { x: f32([1, 3], [1, 2, 3]) },
      w,
    );
    expect([...out.get("output")!.data]).toEqual([1 - 3 + 0.5, 2 + 2 - 1]);
  });

  it("imports files relative to the importer and stdlib modules as namespaces", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-imp-"));
    writeFileSync(join(dir, "blocks.nn"), "def twice()(x) { x * 2.0 }");
    writeFileSync(
      join(dir, "model.nn"),
      'import "./blocks.nn"\nimport nn\nmodel m()(x: f32[2]) { x -> twice -> nn.relu }',
    );
    const m = compile({ file: join(dir, "model.nn") });
    const r = await m.run(new Map([["x", f32([2], [-1, 3])]]), { backend: "cpu" });
    expect([...r.outputs.get("output")!.data]).toEqual([0, 6]);
  });
});
