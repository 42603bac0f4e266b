import { describe, expect, it } from "vitest";
import type { Span } from "../../compiler/core/span.js";
import { printGraph } from "../../compiler/graph/print-graph.js";
import { GraphBuilder } from "../cpu/graph-builder.js";

function span(line: number, col: number): Span {
  return { file: "lenet.nn", start: 0, end: 1, line, col, endLine: line, endCol: col + 1 };
}

describe("printGraph", () => {
  it("prints one node per line with attrs, types, scopes and spans", () => {
    const b = new GraphBuilder();
    const x = b.input("input", "f32", [1, 1, 32, 32]);
    const w = b.param("conv1.weight", "f32", [6, 1, 5, 5]);
    const conv = b.op(
      "conv2d",
      [x, w],
      { stride: [1, 1], pad: [0, 0], dilation: [1, 1], groups: 1 },
      {
        scope: "conv1",
        span: span(4, 12),
      },
    );
    const half = b.op("const", [], { dtype: "f32", shape: [], value: [0.5] });
    const scaled = b.op("mul", [conv, half], {}, { span: span(5, 3) });
    const pooled = b.op("pool2d", [scaled], {
      kind: "max",
      kernel: [2, 2],
      stride: [2, 2],
      pad: [0, 0],
      count_include_pad: true,
    });
    b.op("const", [], { dtype: "f32", shape: [10], value: [1, 2, 3, 4, 5, 6, 7, 8, 9, -Infinity] });
    const small = b.op("const", [], { dtype: "i32", shape: [3], value: [1, 2, 3] });
    const mask = b.op("cmp", [small, small], { op: "lt" });
    b.output("logits", pooled);
    b.output("mask", mask);
    expect(printGraph(b.graph)).toBe(
      [
        '%0 = input "input" : f32[1, 1, 32, 32]',
        '%1 = param "conv1.weight" : f32[6, 1, 5, 5]  (parameter, uniform)',
        "%2 = conv2d(%0, %1) {stride=[1, 1], pad=[0, 0], dilation=[1, 1], groups=1} : f32[1, 6, 28, 28]   # conv1  lenet.nn:4:12",
        "%3 = const 0.5 : f32[]",
        "%4 = mul(%2, %3) : f32[1, 6, 28, 28]   # lenet.nn:5:3",
        '%5 = pool2d(%4) {kind="max", kernel=[2, 2], stride=[2, 2], pad=[0, 0], count_include_pad=true} : f32[1, 6, 14, 14]',
        "%6 = const [1, 2, 3, 4, 5, 6, 7, 8, … 2 more] : f32[10]",
        "%7 = const [1, 2, 3] : i32[3]",
        '%8 = cmp(%7, %7) {op="lt"} : bool[3]',
        "outputs: logits = %5, mask = %8",
      ].join("\n"),
    );
  });

  it("prints nested attrs and special numbers", () => {
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [2]);
    const p = b.op("pad", [x], { pads: [[1, 0]], value: -Infinity }, { scope: "layer1.0" });
    b.output("y", p);
    expect(printGraph(b.graph)).toBe(
      [
        '%0 = input "x" : f32[2]',
        "%1 = pad(%0) {pads=[[1, 0]], value=-inf} : f32[3]   # layer1.0",
        "outputs: y = %1",
      ].join("\n"),
    );
  });
});
