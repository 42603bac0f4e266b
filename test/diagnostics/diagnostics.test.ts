// The diagnostics suite: malformed and ill-shaped sources, each asserting the
// stable code, the line:col of the primary span and the exact message, in the
// style of TypeScript's baselines. Cases run through the public compile() API.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";
import type { InputSpec } from "../../compiler/elaborate/entry.js";
import { compile, formatDiagnostics, NncError, SourceMap } from "../../compiler/index.js";
import { encodeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";

interface Case {
  name: string;
  source: string;
  /** `line:col CODE message` for each diagnostic, in order. */
  expect: string[];
}

/** Compiles and elaborates; returns the diagnostics as `line:col CODE message`. */
function diagnose(
  source: string,
  opts: { entry?: string; args?: Record<string, string>; inputs?: Record<string, InputSpec> } = {},
): string[] {
  try {
    compile(source, {
      file: "model.nn",
      sources: new SourceMap(),
      entry: opts.entry,
      args: opts.args,
    }).elaborate(opts.inputs);
  } catch (e) {
    if (!(e instanceof NncError)) throw e;
    return e.diagnostics.map(
      (d) => `${d.span ? `${d.span.line}:${d.span.col}` : "-"} ${d.code} ${d.message}`,
    );
  }
  return [];
}

const cases: Case[] = [
  {
    name: "call missing paren",
    source: "model m()(x: f32[1, 4]) {\n  linear(3, bias=false\n}",
    expect: ["3:1 NN1001 expected `)` to close the call opened at 2:9, found `}`"],
  },
  {
    name: "stray token",
    source: "model m()(x: f32[1, 4]) {\n  x -> linear(3) )\n}",
    expect: ["2:18 NN1001 expected `}` to close the block opened at 1:25, found `)`"],
  },
  {
    name: "two syntax errors",
    source: "def a(c: int) = linear(c -> relu\n\nmodel m()(x: f32[1, 4]) {\n  x -> ]\n}",
    expect: [
      "1:26 NN1001 expected `)` to close the call opened at 1:23, found `->`",
      "4:8 NN1001 expected an expression, found `]`",
    ],
  },
  {
    name: "unterminated string",
    source: 'import "./blocks.nn\nmodel m()(x) { x }',
    expect: ['1:8 NN1002 unterminated string: missing the closing `"`'],
  },
  {
    name: "unterminated comment",
    source: "model m()(x: f32[1]) { x }\n/* never closed",
    expect: ["2:1 NN1003 unterminated block comment: `/*` has no closing `*/`"],
  },
  {
    name: "invalid character",
    source: "model m()(x: f32[1]) {\n  x $ 2\n}",
    expect: [
      "2:5 NN1004 invalid character `$`",
      "2:7 NN1001 expected an operator, `->` or a new line before `2`",
    ],
  },
  {
    name: "bad number",
    source: "def f(eps: float = 1e) = relu",
    expect: ["1:20 NN1005 invalid number `1e`"],
  },
  {
    name: "missing else",
    source: "model m(a: int = 1)(x: f32[1]) {\n  if a == 1 then x\n}",
    expect: ["3:1 NN1001 expected `else` to go with the `if` at 2:3, found `}`"],
  },
  {
    name: "model point-free",
    source: "model m = relu -> tanh",
    expect: ["1:1 NN1006 a model takes the block form, not `= expression`"],
  },
  {
    name: "unknown layer",
    source: "model m()(x: f32[1, 8, 4, 4]) {\n  x -> conv(8, 3) -> batchnrom\n}",
    expect: ["2:22 NN2001 unknown name `batchnrom`; did you mean `batchnorm`?"],
  },
  {
    name: "unknown module",
    source: "import resnett\nmodel m()(x: f32[1]) { x }",
    expect: ["1:1 NN2002 no stdlib module `resnett`; did you mean `resnet`?"],
  },
  {
    name: "missing file",
    source: 'import "./nope.nn"\nmodel m()(x: f32[1]) { x }',
    expect: ["1:1 NN2003 cannot read `nope.nn`: no such file"],
  },
  {
    name: "duplicate decl",
    source: "def f() = relu\ndef f() = tanh\nmodel m()(x: f32[1]) { x }",
    expect: ["2:5 NN2005 `f` is declared twice in this file"],
  },
  {
    name: "unknown field",
    source: "model m()(x: f32[1, 4]) {\n  let r = {a: x, b: x}\n  r.c\n}",
    expect: ["3:5 NN2007 record {a, b} has no field `c`; did you mean `a`?"],
  },
  {
    name: "unknown tensor member",
    source: "model m()(x: f32[1, 4]) {\n  x.reshape(x.shpe)\n}",
    expect: ["2:15 NN2007 a tensor has no member `shpe`; did you mean `shape`?"],
  },
  {
    name: "same label twice",
    source:
      "model m()(x: f32[1, 4]) {\n  let a = x -> fc: linear(3)\n  let b = x -> fc: linear(3)\n  a + b\n}",
    expect: ["3:20 NN2008 parameter `fc.weight` is declared twice"],
  },
  {
    name: "unlabelled collision",
    source:
      "model m()(x: f32[1, 4]) {\n  let a = x -> linear(3) -> relu\n  let b = x -> linear(3) -> relu\n  a + b\n}",
    expect: ["3:16 NN2009 parameter `0.weight` is declared twice"],
  },
  {
    name: "two single-stage pipelines share a level",
    source:
      "model m()(x: f32[1, 4]) {\n  let a = x -> linear(3)\n  let b = x -> linear(3)\n  a + b\n}",
    expect: ["3:16 NN2008 parameter `weight` is declared twice"],
  },
  {
    name: "self outside layer",
    source: "def f()(x) { x + self.bias }\nmodel m()(x: f32[1, 4]) { f(x) }",
    expect: ["1:18 NN2001 `self` is only defined inside a `layer`"],
  },
  {
    name: "param outside layer",
    source: "def f()(x) {\n  param w: [4]\n  x * w\n}\nmodel m()(x: f32[1, 4]) { f(x) }",
    expect: ["2:3 NN2010 `param` declarations belong in a `layer`"],
  },
  {
    name: "unknown keyword",
    source: "model m()(x: f32[1, 3, 8, 8]) {\n  x -> conv(8, 3, strid=2)\n}",
    expect: ["2:19 NN3001 `conv` has no argument `strid`; did you mean `stride`?"],
  },
  {
    name: "missing hyper",
    source: "model m()(x: f32[1, 3, 8, 8]) {\n  x -> conv(8)\n}",
    expect: ["2:8 NN3002 `conv` needs its `k` argument"],
  },
  {
    name: "too many positional",
    source: "model m()(x: f32[1, 4]) {\n  x -> linear(3, true, 7)\n}",
    expect: ["2:24 NN3003 `linear` takes 2 hyperparameters, got 3"],
  },
  {
    name: "wrong type",
    source: "model m()(x: f32[1, 4]) {\n  x -> linear(2.5)\n}",
    expect: ["2:15 NN3004 `out` of `linear` must be an int, got float 2.5"],
  },
  {
    name: "bad enum word",
    source: "model m()(x: f32[1, 4]) {\n  x -> gelu(approximate=tan)\n}",
    expect: [
      "2:13 NN3005 `approximate` of `gelu` must be one of none, tanh; got `tan`; did you mean `tanh`?",
    ],
  },
  {
    name: "call a number",
    source: "model m()(x: f32[1, 4]) {\n  let k = 3\n  k(x)\n}",
    expect: ["3:3 NN3006 int 3 is not a layer and cannot be called"],
  },
  {
    name: "if on tensor",
    source: "model m()(x: f32[1, 4]) {\n  if x then x else x\n}",
    expect: ["2:6 NN3008 `if` needs a bool, got tensor f32[1, 4]"],
  },
  {
    name: "given twice",
    source: "model m()(x: f32[1, 3, 8, 8]) {\n  x -> conv(8, 3, k=3)\n}",
    expect: ["2:19 NN3009 `k` is given twice to `conv`"],
  },
  {
    name: "division by zero",
    source: "model m(k: int = 3)(x: f32[1, 3, 8, 8]) {\n  x -> conv(8, k, pad=k/0)\n}",
    expect: ["2:23 NN3010 division by zero in `/`"],
  },
  {
    name: "stage is tensor",
    source: "model m()(x: f32[1, 4], y: f32[1, 4]) {\n  x -> y\n}",
    expect: ["2:8 NN3011 this pipeline stage is tensor f32[1, 4], not a layer"],
  },
  {
    name: "no result",
    source: "model m()(x: f32[1, 4]) {\n  let y = relu(x)\n}",
    expect: ["1:25 NN3012 this block has no result; end it with an expression or `return`"],
  },
  {
    name: "destructure mismatch",
    source: "model m()(x: f32[1, 8]) {\n  let a, b = split(x, 4)\n  a\n}",
    expect: ["2:3 NN3013 2 names to unpack, but the value has 4 items"],
  },
  {
    name: "list index",
    source: "model m()(x: f32[1, 4]) {\n  x.reshape([x.shape[2]])\n}",
    expect: ["2:22 NN3014 index 2 is out of range for a list of 2"],
  },
  {
    name: "unused value",
    source: "model m()(x: f32[1, 4]) {\n  relu(x)\n  x\n}",
    expect: ["2:3 NN3016 this value is computed but never used"],
  },
  {
    name: "unknown hyper type",
    source: "def f(c: integer) = linear(c)\nmodel m()(x: f32[1, 4]) { x -> f(3) }",
    expect: ["1:10 NN3017 unknown hyperparameter type `integer`"],
  },
  {
    name: "operator on list and tensor",
    source: "model m()(x: f32[1, 4]) {\n  x + [1, 2]\n}",
    expect: ["2:5 NN3007 `+` is not defined for tensor f32[1, 4] and list of 2"],
  },
  {
    name: "matmul inner dims",
    source: "model m()(x: f32[2, 4], w: f32[5, 3]) {\n  x @ w\n}",
    expect: ["2:3 NN4002 matmul: inner dimensions differ: f32[2, 4] @ f32[5, 3]"],
  },
  {
    name: "broadcast",
    source: "model m()(x: f32[2, 4], y: f32[3]) {\n  x + y\n}",
    expect: ["2:3 NN4001 add: shapes f32[2, 4] and f32[3] do not broadcast"],
  },
  {
    name: "conv rank",
    source: "model m()(x: f32[1, 8, 8]) {\n  x -> conv(8, 3)\n}",
    expect: ["2:8 NN4005 conv expects an NCHW input [N, C, H, W], got f32[1, 8, 8]"],
  },
  {
    name: "conv groups",
    source: "model m()(x: f32[1, 6, 8, 8]) {\n  x -> conv(8, 3, groups=4)\n}",
    expect: ["2:8 NN4005 conv: 6 input channels do not split into 4 groups"],
  },
  {
    name: "embedding of floats",
    source: "model m()(x: f32[2, 7]) {\n  x -> embedding(50, 16)\n}",
    expect: ["2:8 NN4005 embedding looks up integer tokens (i32), got f32[2, 7]"],
  },
  {
    name: "pool too large",
    source: "model m()(x: f32[1, 3, 4, 4]) {\n  x -> maxpool(5)\n}",
    expect: [
      "2:8 NN4002 pool2d: output would be 0×0: input 4×4 is smaller than the kernel 5×5 with padding 0",
    ],
  },
  {
    name: "reshape impossible",
    source: "model m()(x: f32[2, 3]) {\n  x.reshape([4, -1])\n}",
    expect: ["2:3 NN4002 reshape: cannot reshape f32[2, 3] (6 elements) into [4, -1]"],
  },
  {
    name: "dtype mix",
    source: "model m()(t: i32[2, 3], x: f32[2, 3]) {\n  t + x\n}",
    expect: ["2:3 NN4003 add: dtypes differ: i32[2, 3] and f32[2, 3]"],
  },
  {
    name: "recursion",
    source: "def deep(n: int)(x) { deep(x, n=n + 1) }\nmodel m()(x: f32[1]) { deep(x, n=0) }",
    expect: ["1:23 NN5001 layers nest more than 100 deep (… deep -> deep -> deep -> deep -> deep)"],
  },
  {
    name: "comprehension size",
    source: "model m()(x: f32[1, 4]) {\n  x -> [for i in 0..100000: relu]\n}",
    expect: ["2:18 NN5002 the range 0..100000 has more than 10000 items"],
  },
  {
    name: "tensor size",
    source: "model m()(x: f32[1]) {\n  x + zeros([100000, 100000])\n}",
    expect: [
      "2:7 NN5003 broadcast would produce f32[100000, 100000]: more than 2147483647 elements",
    ],
  },
  {
    name: "require in user def",
    source:
      'def block(c: int)(x) {\n  require x.channels == c, "block({c}) got {x.type}"\n  x\n}\nmodel m()(x: f32[1, 3, 4, 4]) {\n  x -> block(4)\n}',
    expect: ["2:3 NN4005 block(4) got f32[1, 3, 4, 4]"],
  },
  {
    name: "nested stdlib trace",
    source:
      "def enc(c: int) = conv(c, 3) -> batchnorm -> relu\nmodel m()(x: f32[1, 3]) {\n  x -> enc(8)\n}",
    expect: ["1:19 NN4005 conv expects an NCHW input [N, C, H, W], got f32[1, 3]"],
  },
  {
    name: "shape error in user def through stage",
    source:
      "def head(n: int)(x) { x @ zeros([3, n]) }\nmodel m()(x: f32[1, 4]) {\n  x -> head(2)\n}",
    expect: ["1:23 NN4002 matmul: inner dimensions differ: f32[1, 4] @ f32[3, 2]"],
  },
  {
    name: "lstm on a rank-2 input",
    source: "import rnn\nmodel m()(x: f32[2, 16]) {\n  x -> lstm(32)\n}",
    expect: ["3:8 NN4005 lstm expects [batch, time, features] (batch_first), got f32[2, 16]"],
  },
  {
    name: "lstm h0 of the wrong shape",
    source:
      "import rnn\nmodel m()(x: f32[2, 7, 16], h: f32[2, 2, 32], c: f32[1, 2, 32]) {\n  lstm(32)(x, h0=h, c0=c)\n}",
    expect: [
      "3:3 NN4005 h0 must be [layers * directions, batch, hidden] = [1, 2, 32], got f32[2, 2, 32]",
    ],
  },
  {
    name: "attention memory of another width",
    source:
      "import attention\nmodel m()(q: f32[2, 7, 32], enc: f32[2, 9, 16]) {\n  q -> attention(general, memory=enc)\n}",
    expect: ["3:8 NN4005 luong attention: the query has width 32 but the memory has width 16"],
  },
  {
    name: "local attention window too large",
    source:
      "import rnn\nimport attention\nmodel m()(x: f32[2, 9, 16]) {\n  x -> lstm(32) -> attention(local_p, D=10)\n}",
    expect: [
      "4:20 NN4005 local attention: the window D=10 is too large for a sequence of 9 positions (needs 2D + 1 <= S)",
    ],
  },
];

describe("diagnostics", () => {
  it("has at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });
  for (const c of cases) {
    it(c.name, () => {
      expect(diagnose(c.source)).toEqual(c.expect);
    });
  }
});

describe("rendering", () => {
  it("prints file:line:col, a caret under the span, the hint and the stdlib trace", () => {
    const sources = new SourceMap();
    const src =
      "def enc(c: int) = conv(c, 3) -> batchnorm -> relu\nmodel m()(x: f32[1, 3]) {\n  x -> enc(8)\n}";
    let text = "";
    try {
      compile(src, { file: "model.nn", sources }).elaborate();
    } catch (e) {
      text = formatDiagnostics((e as NncError).diagnostics, sources);
    }
    expect(text).toBe(
      [
        "model.nn:1:19 error[NN4005]: conv expects an NCHW input [N, C, H, W], got f32[1, 3]",
        "    def enc(c: int) = conv(c, 3) -> batchnorm -> relu",
        "                      ^^^^^^^^^^",
        "  note: raised inside the standard library (stdlib/nn.nn:20:3)",
        "  in conv, called from model.nn:1:19; in enc, called from model.nn:3:8",
      ].join("\n"),
    );
  });

  it("shortens a deep recursion trace to its ends", () => {
    const sources = new SourceMap();
    try {
      compile("def deep(n: int)(x) { deep(x, n=n + 1) }\nmodel m()(x: f32[1]) { deep(x, n=0) }", {
        file: "model.nn",
        sources,
      }).elaborate();
    } catch (e) {
      const text = formatDiagnostics((e as NncError).diagnostics, sources);
      expect(text).toContain(
        "… 93 more; in deep, called from model.nn:1:23; in deep, called from model.nn:2:24",
      );
      return;
    }
    throw new Error("expected NN5001");
  });
});

describe("limits", () => {
  it("a 20,000-deep nested expression is NN5004, not a crash", () => {
    const deep = `model m()(x: f32[1]) {\n  ${"(".repeat(20_000)}x${")".repeat(20_000)}\n}`;
    const got = diagnose(deep);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^2:\d+ NN5004 nesting too deep \(more than 200 levels\)$/);
  });

  it("a 20,000-term chain is NN5004", () => {
    const chain = `model m()(x: f32[1]) {\n  x${" + x".repeat(20_000)}\n}`;
    expect(diagnose(chain)[0]).toMatch(/NN5004 nesting too deep/);
  });

  it("20,000 nested calls are NN5004", () => {
    const calls = `model m()(x: f32[1]) {\n  ${"relu(".repeat(20_000)}x${")".repeat(20_000)}\n}`;
    expect(diagnose(calls)[0]).toMatch(/NN5004 nesting too deep/);
  });
});

describe("entry points, arguments and inputs", () => {
  const lenet =
    "model lenet(classes: int = 10)(input: f32[N, 1, 32, 32]) {\n  input -> flatten -> fc: linear(classes)\n}";

  it("an unknown --arg names the entry's hyperparameters", () => {
    expect(diagnose(lenet, { args: { clases: "3" } })).toEqual([
      "- NN3001 --arg clases: `lenet` has no hyperparameter `clases`; did you mean `classes`?",
    ]);
  });

  it("an --arg of the wrong type", () => {
    expect(diagnose(lenet, { args: { classes: "ten" } })).toEqual([
      "1:13 NN3004 `classes` of `lenet` must be an int, got word `ten`",
    ]);
  });

  it("an unknown entry", () => {
    expect(diagnose(lenet, { entry: "lenett" })).toEqual([
      "- NN2006 `model.nn` has no model, def or layer `lenett`; did you mean `lenet`?",
    ]);
  });

  it("several models and no --entry", () => {
    expect(diagnose("model a()(x: f32[1]) { x }\nmodel b()(x: f32[1]) { x }")).toEqual([
      "- NN2006 `model.nn` has 2 models; choose one with --entry",
    ]);
  });

  it("an input of the wrong rank is NN4004 at the declaration", () => {
    expect(diagnose(lenet, { inputs: { input: { shape: [1, 32, 32] } } })).toEqual([
      "1:39 NN4004 input `input` of lenet must be f32[N, 1, 32, 32] (rank 4), got f32[1, 32, 32]",
    ]);
  });

  it("an input with a wrong fixed dim", () => {
    expect(diagnose(lenet, { inputs: { input: { shape: [2, 3, 32, 32] } } })).toEqual([
      "1:39 NN4004 input `input` of lenet must be f32[N, 1, 32, 32], got f32[2, 3, 32, 32] (axis 1 is 3, not 1)",
    ]);
  });

  it("an unknown input name", () => {
    expect(diagnose(lenet, { inputs: { inptu: { shape: [1, 1, 32, 32] } } })).toEqual([
      "- NN6009 `lenet` has no input `inptu`; did you mean `input`?",
    ]);
  });

  it("an untyped entry input with no shape given", () => {
    expect(diagnose("def f()(x) { relu(x) }")).toEqual([
      "1:9 NN6009 input `x` of `f` has no fixed shape; give one with --shape x=DIMS (or --input)",
    ]);
  });

  it("an import cycle names the files", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-cycle-"));
    writeFileSync(join(dir, "a.nn"), 'import "./b.nn"\ndef fa() = relu');
    writeFileSync(join(dir, "b.nn"), 'import "./a.nn"\ndef fb() = relu');
    try {
      compile({ file: join(dir, "a.nn") });
      throw new Error("expected NN2004");
    } catch (e) {
      const d = (e as NncError).diagnostics[0]!;
      expect(d.code).toBe("NN2004");
      expect(d.message).toMatch(/^import cycle: .*a\.nn -> .*b\.nn -> .*a\.nn$/);
      expect(`${d.span?.line}:${d.span?.col}`).toBe("1:1");
    }
  });
});

describe("CLI exit codes and weight files", () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  }

  it("exit 2 on usage errors, 1 on diagnostics", async () => {
    expect((await cli(["frobnicate", "examples/lenet5.nn"])).code).toBe(2);
    expect(
      (await cli(["run", "examples/lenet5.nn", "--input", "input=random:1x1x32x32"])).code,
    ).toBe(2);
    expect((await cli(["run", "examples/lenet5.nn", "--bogus"])).code).toBe(2);
    expect((await cli(["check", "no/such/file.nn"])).code).toBe(2);
    const bad = await cli([
      "check",
      "nn:conv",
      "--arg",
      "out=8",
      "--arg",
      "k=3",
      "--shape",
      "input=1x3x8",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(
      "error[NN4005]: conv expects an NCHW input [N, C, H, W], got f32[1, 3, 8]",
    );
  });

  it("a truncated weight file names the tensor and nothing runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-w-"));
    const graph = compile({ file: "examples/lenet5.nn" }).graph;
    const bytes = encodeSafetensors(seededParams(graph.params));
    const file = join(dir, "cut.safetensors");
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    const r = await cli(["run", "examples/lenet5.nn", "--weights", file, "--json"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/NN6002/);
    expect(r.err).toMatch(/`fc\d\.(weight|bias)`|`conv\d\.(weight|bias)`/);
  });

  it("missing, unexpected and mis-shaped weights are all listed by name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnc-w-"));
    const graph = compile({ file: "examples/lenet5.nn" }).graph;
    const w = seededParams(graph.params);
    w.delete("fc3.bias");
    w.set("fc4.bias", w.get("fc2.bias")!);
    w.set("fc1.weight", { dtype: "f32", shape: [120, 401], data: new Float32Array(120 * 401) });
    const file = join(dir, "bad.safetensors");
    writeFileSync(file, encodeSafetensors(w));
    const r = await cli(["run", "examples/lenet5.nn", "--weights", file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NN6003.*`fc3\.bias`/);
    expect(r.err).toMatch(/NN6004.*`fc4\.bias`/);
    expect(r.err).toMatch(/NN6005.*`fc1\.weight`.*\[120, 400\].*\[120, 401\]/);
  });
});
