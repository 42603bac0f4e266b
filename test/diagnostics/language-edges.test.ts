// The language's rough edges a new user hit (issue 17): headers with one parameter
// list, `init` clauses and their seeded values, reserved words, "did you mean" for
// PyTorch and Python spellings, the bounded edit distance, a BOM, CR-only line
// endings and the location of NN5007.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emitPlan } from "../../compiler/codegen/wgsl/emit-plan.js";
import { editDistance } from "../../compiler/core/diagnostics.js";
import { compile, formatDiagnostics, NncError, SourceMap } from "../../compiler/index.js";
import { lowerGraph } from "../../compiler/kernels/lower.js";
import { parse } from "../../grammar/parser.js";
import { fmix32, seededHashes, seededParams } from "../../runtime/weights/seeded.js";
import { errors } from "../grammar/helpers.js";

/** The diagnostics of compiling and elaborating `source`, as `line:col CODE message`. */
function diagnose(source: string, args: Record<string, string> = {}): string[] {
  try {
    compile(source, { file: "model.nn", sources: new SourceMap(), args }).elaborate();
  } catch (e) {
    if (!(e instanceof NncError)) throw e;
    return e.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code} ${d.message}`);
  }
  return [];
}

/** The full rendered text of the first error, caret lines included. */
function rendered(source: string): string {
  const sources = new SourceMap();
  try {
    compile(source, { file: "model.nn", sources }).elaborate();
  } catch (e) {
    return formatDiagnostics((e as NncError).diagnostics.slice(0, 1), sources);
  }
  return "";
}

describe("headers", () => {
  it("a model with one parameter list takes it as its inputs (no hyperparameters)", () => {
    const m = compile("model m(input: f32[N, 64]) {\n  input -> linear(10)\n}", { file: "m.nn" });
    const g = m.elaborate({ input: { shape: [2, 64] } }).graph;
    expect(g.params.map((p) => `${p.name} ${p.type.shape}`)).toEqual(["weight 10,64", "bias 10"]);
  });

  it("a def or layer with one list before a block is the same", () => {
    const r = parse("def f(x) { x }\nlayer l(x, y) { x + y }", "t.nn");
    expect(r.diagnostics).toEqual([]);
    expect(r.module.decls.map((d) => d.kind === "Callable" && d.hyper.length)).toEqual([0, 0]);
  });

  it("a header that is neither form says what it needs", () => {
    const [d] = parse("def f(c: int) ->", "t.nn").diagnostics;
    expect(d?.message).toBe(
      "expected `(` to open the input list, or `=` for a point-free def, found `->`",
    );
    expect(d?.hint).toBe(
      "the header is `NAME(hyperparameters)(inputs) { ... }` or, without hyperparameters, `NAME(inputs) { ... }`",
    );
  });
});

describe("reserved words", () => {
  it("a keyword where a name or expression goes is named as a reserved word", () => {
    const src = "model m()(x: f32[N, 8]) {\n  x -> init: linear(4)\n}";
    expect(errors(src)).toEqual([
      "2:8 NN1001 expected an expression, found the reserved word `init`",
    ]);
    expect(parse(src, "t.nn").diagnostics[0]?.hint).toContain(
      "`init` is a reserved word and cannot name a value, label or parameter",
    );
    expect(errors("def f()(x) {\n  let param = x\n  x\n}")[0]).toBe(
      "2:7 NN1001 expected a name, found the reserved word `param`",
    );
  });
});

describe("init rules", () => {
  const gate =
    "layer gate(d: int)(input) {\n" +
    "  param bias: [d] init -2.0\n" +
    "  param w: [d, d] init normal(0.5, 0.02)\n" +
    "  param k: [d, 2 * d] init kaiming\n" +
    "  param x: [d, 2 * d] init xavier\n" +
    "  param u: [d] init uniform(0.25)\n" +
    "  param c: [d] init const(3)\n" +
    "  buffer z: i64[d] init ones\n" +
    "  input @ self.w + self.bias + self.u + self.c\n" +
    "}\n";

  function seeded() {
    const g = compile(gate, { file: "g.nn", args: { d: "4" } }).elaborate({
      input: { shape: [2, 4] },
    }).graph;
    return { g, values: seededParams(g.params) };
  }

  it("parses a bare number, a call and a name, and the graph records rule and arguments", () => {
    const { g } = seeded();
    expect(g.params.map((p) => [p.name, p.init, p.initArgs])).toEqual([
      ["bias", "constant", [-2]],
      ["w", "normal", [0.5, 0.02]],
      ["k", "kaiming", undefined],
      ["x", "xavier", undefined],
      ["u", "uniform", [0.25]],
      ["c", "constant", [3]],
      ["z", "ones", undefined],
    ]);
  });

  it("seeds each rule with its own formula (hand-computed from the SPEC hash)", () => {
    const { values } = seeded();
    expect([...values.get("bias")!.data]).toEqual([-2, -2, -2, -2]);
    expect([...values.get("c")!.data]).toEqual([3, 3, 3, 3]);
    expect([...values.get("z")!.data]).toEqual([1n, 1n, 1n, 1n]);
    const t = (name: string, n: number) =>
      [...seededHashes(name, n)].map((x) => 2 * (x / 2 ** 32) - 1);
    // kaiming: bound sqrt(6 / fan_in), fan_in = 8; xavier: sqrt(6 / (8 + 4)); uniform(0.25).
    expect([...values.get("k")!.data]).toEqual(
      t("k", 32).map((v) => Math.fround(v * Math.sqrt(6 / 8))),
    );
    expect([...values.get("x")!.data]).toEqual(
      t("x", 32).map((v) => Math.fround(v * Math.sqrt(0.5))),
    );
    expect([...values.get("u")!.data]).toEqual(t("u", 4).map((v) => Math.fround(v * 0.25)));
    const w = [...seededHashes("w", 16)].map((x) => {
      const u = x / 2 ** 32;
      const v = fmix32((x ^ 0x9e3779b9) >>> 0) / 2 ** 32;
      return Math.fround(0.5 + 0.02 * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v));
    });
    expect([...values.get("w")!.data]).toEqual(w);
  });

  it("a layer without `init` keeps SPEC's default rules", () => {
    const g = compile({ stdlib: "nn" }, { entry: "linear", args: { out: "3" } }).elaborate({
      input: { shape: [1, 5] },
    }).graph;
    expect(g.params.map((p) => [p.name, p.init, p.initArgs])).toEqual([
      ["weight", "uniform", undefined],
      ["bias", "uniform", undefined],
    ]);
  });

  it("an unknown rule or a wrong argument count is an error at the rule", () => {
    const layer = (init: string) =>
      `layer l()(input) {\n  param w: [2] init ${init}\n  input * self.w\n}\nmodel m()(x: f32[2]) { l(x) }`;
    expect(diagnose(layer("normall(1.0)"))).toEqual([
      "2:21 NN3005 unknown init rule `normall`; did you mean `normal`?",
    ]);
    expect(diagnose(layer("normal"))).toEqual([
      "2:21 NN3004 init rule `normal` takes 1 or 2 numbers, got 0",
    ]);
    expect(diagnose(layer("const(true)"))).toEqual([
      "2:27 NN3004 an init rule takes numbers, got bool true",
    ]);
  });
});

describe("did you mean", () => {
  const model = (body: string) => `model m()(x: f32[N, 3, 8, 8]) {\n  ${body}\n}`;

  it("points PyTorch's class names at the stdlib layer, not the primitive", () => {
    expect(diagnose(model("x -> Conv2d(4, 3)"))).toEqual([
      "2:8 NN2001 unknown name `Conv2d`; did you mean `conv`?",
    ]);
    expect(diagnose(model("x -> BatchNorm2d"))).toEqual([
      "2:8 NN2001 unknown name `BatchNorm2d`; did you mean `batchnorm`?",
    ]);
  });

  it("points PyTorch's argument names at this language's", () => {
    expect(diagnose(model("x -> conv(4, 3, padding=1)"))).toEqual([
      "2:19 NN3001 `conv` has no argument `padding`; did you mean `pad`?",
    ]);
    expect(diagnose(model("x -> softmax(dim=1)"))).toEqual([
      "2:16 NN3001 `softmax` has no argument `dim`; did you mean `axis`?",
    ]);
  });

  it("Python's literals", () => {
    expect(diagnose(model("x -> conv(4, 3, bias=False)"))).toEqual([
      "2:24 NN2001 unknown name `False`; did you mean `false`?",
    ]);
  });

  it("a bare param name inside its layer suggests `self.`", () => {
    const src =
      "layer scale()(input) {\n  param w: [input.shape[-1]]\n  input * w\n}\nmodel m()(x: f32[N, 8]) { x -> scale }";
    expect(diagnose(src)).toEqual(["3:11 NN2001 unknown name `w`; did you mean `self.w`?"]);
  });

  it("a 300,000-character name gets an answer (the distance is banded and cut off)", () => {
    const long = "a".repeat(300_000);
    expect(diagnose(model(`x -> ${long}`))[0]).toMatch(/^2:8 NN2001 unknown name `a+`$/);
    expect(editDistance(long, "abs", 4)).toBe(5);
  });

  it("the banded distance equals the full one within the limit, and says limit + 1 beyond", () => {
    const full = (a: string, b: string) => editDistance(a, b);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12, unit: fc.constantFrom("a", "b", "c") }),
        fc.string({ maxLength: 12, unit: fc.constantFrom("a", "b", "c") }),
        fc.integer({ min: 0, max: 6 }),
        (a, b, limit) => {
          const d = naiveDistance(a, b);
          expect(full(a, b)).toBe(d);
          expect(editDistance(a, b, limit)).toBe(d <= limit ? d : limit + 1);
        },
      ),
    );
  });
});

/** Optimal string alignment distance, the textbook full matrix: the oracle for the banded one. */
function naiveDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

describe("source text", () => {
  it("a UTF-8 BOM is not an invalid character, and columns count from after it", () => {
    const src = "\uFEFFmodel m()(x: f32[N, 8]) {\n  x -> linaer(4)\n}";
    expect(diagnose(src)).toEqual(["2:8 NN2001 unknown name `linaer`; did you mean `linear`?"]);
    expect(parse("\uFEFFdef f = linaer(", "t.nn").diagnostics[0]?.span?.col).toBe(16);
  });

  it("CR-only line endings echo the offending line", () => {
    const src = "model m()(x: f32[N, 8]) {\r  x -> linaer(4)\r}\r";
    expect(rendered(src).split("\n").slice(0, 3)).toEqual([
      "model.nn:2:8 error[NN2001]: unknown name `linaer`; did you mean `linear`?",
      "      x -> linaer(4)",
      "           ^^^^^^",
    ]);
  });

  it("NN5007 points at the source op that makes the oversized tensor", () => {
    const src = "model m()(x: f32[N, 64]) {\n  let g = x @ x.T\n  g\n}";
    const graph = compile(src, { file: "model.nn" }).elaborate({ x: { shape: [4096, 64] } }).graph;
    let error: NncError | undefined;
    try {
      emitPlan(lowerGraph(graph), { maxStorageBufferBindingSize: 4 << 20 });
    } catch (e) {
      error = e as NncError;
    }
    const d = error?.diagnostics[0];
    expect(d?.code).toBe("NN5007");
    expect(`${d?.span?.file}:${d?.span?.line}:${d?.span?.col}`).toBe("model.nn:2:11");
  });
});

describe("symbolic dims of an entry", () => {
  it("a dim may declare the size it takes when no shape binds it", () => {
    const m = compile(
      "model m()(x: f32[N = 2, T = 5, 3], y: f32[N, T]) {\n  x.sum(axis=2) + y\n}",
      {
        file: "m.nn",
      },
    );
    const e = m.elaborate();
    expect(e.graph.inputs.map((i) => i.type.shape)).toEqual([
      [2, 5, 3],
      [2, 5],
    ]);
    expect(e.defaultedDims).toEqual([]);
    // A given shape still wins over the declared default.
    expect(m.elaborate({ x: { shape: [4, 7, 3] } }).graph.inputs[1]!.type.shape).toEqual([4, 7]);
  });

  it("an error at dims that defaulted to 1 carries a note that says so and how to choose", () => {
    let notes: string[] = [];
    try {
      compile('model m()(x: f32[N, T]) {\n  require x.shape[1] >= 4, "too short"\n  x\n}', {
        file: "m.nn",
      }).elaborate();
    } catch (e) {
      notes = (e as NncError).diagnostics[0]!.notes!.map((n) => n.message);
    }
    expect(notes).toEqual([
      "no shape bound the input dims N=1, T=1, so they default to 1; give shapes with --input NAME=seeded:DIMS (or --shape NAME=DIMS), or declare a default in the input's type, e.g. `f32[N = 8, ...]`",
    ]);
  });

  it("a default on a number, or one that is not a positive integer, is a syntax error", () => {
    expect(errors("model m()(x: f32[N = 0, 3 = 4]) { x }")).toEqual([
      "1:22 NN1001 a dimension's default must be a positive integer, found `0`",
    ]);
    expect(errors("model m()(x: f32[N,\n  _ = 4]) { x }")).toEqual([
      "2:7 NN1001 only a named dimension takes a default",
    ]);
  });

  it("the examples declare the sizes they are meant for", () => {
    const shape = (file: string) =>
      compile({ file })
        .elaborate()
        .graph.inputs.map((i) => i.type.shape);
    expect(shape("examples/resnet_small.nn")).toEqual([[1, 3, 32, 32]]);
    expect(shape("examples/classify.nn")).toEqual([[1, 64]]);
  });
});
