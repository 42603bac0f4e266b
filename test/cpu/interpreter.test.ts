import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type Tensor, tensorOf, toNumbers } from "../../compiler/core/tensor.js";
import type { Graph } from "../../compiler/graph/graph.js";
import { cpuEvalContext, runGraph } from "../../compiler/graph/interpret.js";
import { defineOp } from "../../compiler/ops/op.js";
import { GraphBuilder } from "./graph-builder.js";

const f32 = (shape: number[], values: number[]) => tensorOf("f32", shape, values);

/** x → conv(x, w) + (−6) → relu → flatten, with the conv output exposed too. */
function smallNet(): Graph {
  const b = new GraphBuilder();
  const x = b.input("x", "f32", [1, 1, 3, 3]);
  const w = b.param("conv.weight", "f32", [1, 1, 2, 2]);
  const conv = b.op("conv2d", [x, w]); // attrs left to their defaults
  const c = b.op("const", [], { dtype: "f32", shape: [], value: [-6] });
  const sum = b.op("add", [conv, c]);
  const act = b.op("relu", [sum]);
  const flat = b.op("reshape", [act], { shape: [4] });
  b.output("y", flat);
  b.output("pre", conv);
  return b.graph;
}

describe("runGraph", () => {
  const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // w picks the bottom-right tap: conv(x)[i, j] = x[i+1, j+1] = [5, 6, 8, 9]
  const w = f32([1, 1, 2, 2], [0, 0, 0, 1]);

  it("evaluates nodes in order and returns outputs by name", () => {
    const out = runGraph(smallNet(), new Map([["x", x]]), new Map([["conv.weight", w]]));
    expect([...out.keys()]).toEqual(["y", "pre"]);
    expect(toNumbers(out.get("pre")!)).toEqual([5, 6, 8, 9]);
    // relu([5, 6, 8, 9] − 6)
    expect(out.get("y")!.shape).toEqual([4]);
    expect(toNumbers(out.get("y")!)).toEqual([0, 0, 2, 3]);
  });

  it("keeps a value alive until its last use", () => {
    const b = new GraphBuilder();
    const a = b.input("a", "f32", [2]);
    const e = b.op("neg", [a]);
    const s = b.op("add", [e, e]);
    const m = b.op("mul", [s, e]);
    b.output("m", m);
    b.output("a", a);
    const out = runGraph(b.graph, new Map([["a", f32([2], [1, 2])]]), new Map());
    // e = [−1, −2]; s = [−2, −4]; m = [2, 8]
    expect(toNumbers(out.get("m")!)).toEqual([2, 8]);
    expect(toNumbers(out.get("a")!)).toEqual([1, 2]);
  });

  it("checks every input and param is supplied with its exact type", () => {
    const g = smallNet();
    const params = new Map([["conv.weight", w]]);
    expect(() => runGraph(g, new Map(), params)).toThrow("runGraph: input `x` was not supplied");
    expect(() =>
      runGraph(g, new Map([["x", f32([1, 1, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9])]]), params),
    ).toThrow("runGraph: input `x` is f32[1, 1, 9] but the graph expects f32[1, 1, 3, 3]");
    expect(() => runGraph(g, new Map([["x", x]]), new Map())).toThrow(
      "runGraph: param `conv.weight` was not supplied",
    );
    const intW = tensorOf("i32", [1, 1, 2, 2], [0, 0, 0, 1]);
    expect(() => runGraph(g, new Map([["x", x]]), new Map([["conv.weight", intW]]))).toThrow(
      "runGraph: param `conv.weight` is i32[1, 1, 2, 2] but the graph expects f32[1, 1, 2, 2]",
    );
    const short: Tensor = { dtype: "f32", shape: [1, 1, 3, 3], data: new Float32Array(4) };
    expect(() => runGraph(g, new Map([["x", short]]), params)).toThrow(
      "runGraph: input `x` holds 4 values for f32[1, 1, 3, 3]",
    );
  });

  it("guards against a node whose value does not match its declared type", () => {
    const g = smallNet();
    g.nodes[6]!.type = { dtype: "f32", shape: [2, 2] };
    expect(() => runGraph(g, new Map([["x", x]]), new Map([["conv.weight", w]]))).toThrow(
      "runGraph: %6 (reshape) evaluated to f32[4] but is typed f32[2, 2]",
    );
  });

  it("surfaces run-time op errors (gather out of range)", () => {
    const b = new GraphBuilder();
    const table = b.param("emb.weight", "f32", [3, 2]);
    const ids = b.input("ids", "i32", [2]);
    b.output("e", b.op("gather", [table, ids], { axis: 0 }));
    const run = (idx: number[]) =>
      runGraph(
        b.graph,
        new Map([["ids", tensorOf("i32", [2], idx)]]),
        new Map([["emb.weight", f32([3, 2], [0, 1, 2, 3, 4, 5])]]),
      );
    expect(toNumbers(run([2, 0]).get("e")!)).toEqual([4, 5, 0, 1]);
    expect(() => run([0, 3])).toThrow(expect.objectContaining({ code: "NN7001" }));
  });
});

describe("cpuEvalContext", () => {
  /** body(h, x; w) = h·w + x */
  function body(): Graph {
    const b = new GraphBuilder();
    const h = b.input("h", "f32", [2]);
    const x = b.input("x", "f32", [2]);
    const w = b.param("w", "f32", [2]);
    b.output("h_next", b.op("add", [b.op("mul", [h, w]), x]));
    return b.graph;
  }

  it("runs a body graph positionally (inputs, params and outputs in graph order)", () => {
    const [h] = cpuEvalContext.runGraph(
      body(),
      [f32([2], [1, 2]), f32([2], [10, 20])],
      [f32([2], [3, 4])],
    );
    expect(toNumbers(h!)).toEqual([13, 28]);
    expect(() => cpuEvalContext.runGraph(body(), [f32([2], [1, 2])], [])).toThrow(
      "runGraph: the graph takes 2 inputs and 1 params, got 1 and 0",
    );
  });

  it("lets an op evaluate a body graph (the hook scan uses)", () => {
    // A toy recurrence op: folds the body over the rows of xs.
    const fold = defineOp({
      name: "toy_fold",
      category: "opaque",
      arity: 3,
      attrs: z.strictObject({}),
      infer: ([h]) => h!,
      evaluate([h0, xs, w], _attrs, ctx) {
        const g = body();
        let h = h0!;
        for (let t = 0; t < xs!.shape[0]!; t++) {
          const row = tensorOf("f32", [2], (xs!.data as Float32Array).slice(2 * t, 2 * t + 2));
          [h] = ctx.runGraph(g, [h, row], [w!]) as [Tensor];
        }
        return h;
      },
    });
    const out = fold.evaluate(
      [f32([2], [0, 0]), f32([3, 2], [1, 1, 2, 2, 3, 3]), f32([2], [2, 1])],
      {},
      cpuEvalContext,
    );
    // lane 0: h = 0·2+1 = 1 → 1·2+2 = 4 → 4·2+3 = 11; lane 1: 1 → 1+2 = 3 → 3+3 = 6
    expect(toNumbers(out)).toEqual([11, 6]);
  });
});
