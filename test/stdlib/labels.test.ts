// Template labels, `"denselayer{i}": layer`: the stdlib's way to name children
// by a computed index (torchvision's DenseNet and U-Net names), filled from the
// scope like a param-name template.

import { describe, expect, it } from "vitest";
import { compile, NncError, SourceMap } from "../../compiler/index.js";

function paramNames(source: string, shape = [1, 4]): string[] {
  return compile(source, { file: "model.nn", sources: new SourceMap() })
    .elaborate({ x: { shape } })
    .graph.params.map((p) => p.name);
}

function diagnose(source: string): string[] {
  try {
    paramNames(source);
  } catch (e) {
    if (!(e instanceof NncError)) throw e;
    return e.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code} ${d.message}`);
  }
  return [];
}

describe("template labels", () => {
  it("name comprehension items", () => {
    const src = `model m()(x: f32[N, 4]) {
  x -> body: [for i in 1..3: "layer{i}": linear(4, bias=false)]
}`;
    expect(paramNames(src)).toEqual(["body.layer1.weight", "body.layer2.weight"]);
  });

  it("name pipeline stages and list items from hyperparameters", () => {
    const src = `def block(i: int)(x) {
  x -> "fc{i}": linear(4, bias=false) -> ["out{i}": linear(2, bias=false)]
}
model m()(x: f32[N, 4]) { block(7)(x) }`;
    expect(paramNames(src)).toEqual(["fc7.weight", "1.out7.weight"]);
  });

  it("reject a filled label that is not a name or an integer", () => {
    const src = `model m(tag: string = "a.b")(x: f32[N, 4]) {
  x -> "fc{tag}": linear(4)
}`;
    expect(diagnose(src)).toEqual([
      "2:8 NN2010 `fca.b` is not a valid label: a label is a name or an integer",
    ]);
  });

  it("report an unknown name in the template", () => {
    const src = `model m()(x: f32[N, 4]) {
  x -> "fc{j}": linear(4)
}`;
    expect(diagnose(src)[0]).toMatch(/^2:8 NN2001 unknown name `j`/);
  });
});
