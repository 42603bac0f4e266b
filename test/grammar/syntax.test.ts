// The grammar, construct by construct: tokens, precedence, pipelines and
// labels, the newline rule, declarations and statements, and spans.

import { describe, expect, it } from "vitest";
import type { CallableDecl, Expr, LetStmt, ParamStmt, RequireStmt } from "../../grammar/ast.js";
import { parse } from "../../grammar/parser.js";
import { text } from "../../grammar/print-ast.js";
import { as, errors, expr, parseOk, stmts, strip } from "./helpers.js";

/** An expression's shape as fully parenthesised source. */
function shape(e: Expr): string {
  switch (e.kind) {
    case "Binary":
      return `(${shape(e.left)} ${e.op} ${shape(e.right)})`;
    case "Range":
      return `(${shape(e.start)}..${shape(e.end)})`;
    case "Unary":
      return `(${e.op}${shape(e.operand)})`;
    default:
      return text(e);
  }
}

describe("lexical", () => {
  it("reads ints and floats, recording isInt", () => {
    const list = as(expr("[3, 0.5, 1e-5, 2.5e3, 3.0, 10]"), "List");
    expect(list.items.map((n) => strip(n))).toEqual([
      { kind: "Number", value: 3, isInt: true },
      { kind: "Number", value: 0.5, isInt: false },
      { kind: "Number", value: 1e-5, isInt: false },
      { kind: "Number", value: 2500, isInt: false },
      { kind: "Number", value: 3, isInt: false },
      { kind: "Number", value: 10, isInt: true },
    ]);
  });

  it("decodes string escapes", () => {
    expect(strip(expr('"a\\"b\\\\c\\nd"'))).toEqual({ kind: "String", value: 'a"b\\c\nd' });
  });

  it("skips both comment forms; `//` always starts a comment, even glued to an operand", () => {
    const m = parseOk(
      "/* block\n comment */ def f(k: int) = k/2 // comment\n// whole line\ndef g = (k)//2",
    );
    const [f, g] = m.decls as CallableDecl[];
    expect(shape(f!.body as Expr)).toBe("(k / 2)");
    expect(shape(g!.body as Expr)).toBe("k");
  });

  it("keeps keywords apart from identifiers that start with them", () => {
    expect(strip(expr("[iffy, init_w, format, layers, returned]"))).toMatchObject({
      items: [
        { name: "iffy" },
        { name: "init_w" },
        { name: "format" },
        { name: "layers" },
        { name: "returned" },
      ],
    });
  });
});

describe("expressions", () => {
  it("folds binary operators by precedence, left-associatively", () => {
    expect(shape(expr("a || b && c == d + e * f"))).toBe("(a || (b && (c == (d + (e * f)))))");
    expect(shape(expr("a - b - c / d % f @ g"))).toBe("((a - b) - (((c / d) % f) @ g))");
    expect(shape(expr("a < b != c >= d"))).toBe("(((a < b) != c) >= d)");
    expect(shape(expr("0..n + 1"))).toBe("(0..(n + 1))");
    expect(shape(expr("-x.shape[-1] * !a"))).toBe("((-x.shape[-1]) * (!a))");
    expect(shape(expr("- -x"))).toBe("(-(-x))");
  });

  it("makes a Pipeline only from two or more stages, each optionally labelled", () => {
    expect(expr("relu").kind).toBe("Ident");
    expect(strip(expr("fc: linear"))).toEqual({
      kind: "Labeled",
      label: "fc",
      expr: { kind: "Ident", name: "linear" },
    });
    const p = as(expr("x -> 0: conv(3) -> bn: batchnorm -> relu"), "Pipeline");
    expect(
      p.stages.map((s) => (s.kind === "Labeled" ? `${s.label}: ${text(s.expr)}` : text(s))),
    ).toEqual(["x", "0: conv(3)", "bn: batchnorm", "relu"]);
  });

  it("lets `if … then … else …` take full expressions, the else part extending right", () => {
    const e = as(expr("if a then x -> f else y -> g"), "If");
    expect(e.then.kind).toBe("Pipeline");
    expect(as(e.else, "Pipeline").stages).toHaveLength(2);
    expect(shape(expr("1 + if c then 2 else 3 * 4"))).toBe("(1 + if c then 2 else 3 * 4)");
    const call = as(expr("block(c, if i == 0 then stride else 1)"), "Call");
    expect(call.args[1]!.value.kind).toBe("If");
  });

  it("parses calls with positional and keyword arguments, members and indexing", () => {
    const call = as(expr("conv(64, 7, stride=2, bias=false,)"), "Call");
    expect(call.args.map((a) => `${a.name?.name ?? ""}=${text(a.value)}`)).toEqual([
      "=64",
      "=7",
      "stride=2",
      "bias=false",
    ]);
    expect(text(expr("self.weight.T"))).toBe("self.weight.T");
    expect(shape(expr("(a -> b)(x)"))).toBe("(a -> b)(x)");
  });

  it("parses slices", () => {
    const idx = as(expr("x[:, 0:5, ::2, 1:, :n, i]"), "Index");
    expect(strip(idx.items)).toEqual([
      { kind: "Slice", start: null, end: null, step: null },
      {
        kind: "Slice",
        start: { kind: "Number", value: 0, isInt: true },
        end: { kind: "Number", value: 5, isInt: true },
        step: null,
      },
      { kind: "Slice", start: null, end: null, step: { kind: "Number", value: 2, isInt: true } },
      { kind: "Slice", start: { kind: "Number", value: 1, isInt: true }, end: null, step: null },
      { kind: "Slice", start: null, end: { kind: "Ident", name: "n" }, step: null },
      { kind: "IndexExpr", value: { kind: "Ident", name: "i" } },
    ]);
  });

  it("parses lists with labelled items and comprehensions with for/if clauses", () => {
    const list = as(expr("[a: conv(3), 1: relu, pool,]"), "List");
    expect(list.items.map((i) => i.kind)).toEqual(["Labeled", "Labeled", "Ident"]);
    const c = as(
      expr("[for t, c, n, s in cfg for i in 0..n if i > 0: block(c, s)]"),
      "Comprehension",
    );
    expect(
      c.clauses.map((cl) =>
        cl.kind === "For"
          ? `for ${cl.names.map((n) => n.name).join(",")} in ${shape(cl.iter)}`
          : `if ${shape(cl.cond)}`,
      ),
    ).toEqual(["for t,c,n,s in cfg", "for i in (0..n)", "if (i > 0)"]);
    expect(text(c.body)).toBe("block(c, s)");
  });

  it("parses records, with shorthand fields and a trailing comma", () => {
    const r = as(expr("{logits: a -> b, h, c,}"), "Record");
    expect(r.fields.map((f) => `${f.name.name}=${text(f.value)}`)).toEqual([
      "logits=a -> b",
      "h=h",
      "c=c",
    ]);
    expect(as(expr("{}"), "Record").fields).toEqual([]);
  });
});

describe("the newline rule", () => {
  it("starts a new statement at a `(` or `[` that begins a line", () => {
    const s = stmts("let c = [1, 2]\n(a - b) * c\nlet d = f\n[x, y]");
    expect(s.map((x) => x.kind)).toEqual(["Let", "ExprStmt", "Let", "ExprStmt"]);
    expect(as((s[2] as LetStmt).value, "Ident").name).toBe("f");
  });

  it("continues across lines after binary operators, `->`, `then` and `else`, and before `.`", () => {
    const s = stmts(
      "let y = a\n  -> b\n  -> c\nlet z = a +\n b\n * c\nlet w = if p\n then q\n else r\nlet v = x\n  .shape",
    );
    expect(s.map((x) => text((x as LetStmt).value))).toEqual([
      "a -> b -> c",
      "a + b * c",
      "if p then q else r",
      "x.shape",
    ]);
  });

  it("reads a param's `if` condition only on its own line", () => {
    const s = stmts("param w: [3]\nif b then x else y");
    expect(s.map((x) => x.kind)).toEqual(["Param", "ExprStmt"]);
    expect((s[0] as ParamStmt).cond).toBeNull();
  });
});

describe("declarations and statements", () => {
  it("parses hyperparameter types: named, `layer`, enums, untyped, with defaults", () => {
    const m = parseOk(
      "def f(kind: dot | general | concat = dot, block: layer, n, eps: float = 1e-5) = relu",
    );
    const hyper = (m.decls[0] as CallableDecl).hyper;
    expect(hyper.map((h) => [h.name.name, h.type?.kind ?? null, h.default?.kind ?? null])).toEqual([
      ["kind", "EnumType", "Ident"],
      ["block", "NamedType", null],
      ["n", null, null],
      ["eps", "NamedType", "Number"],
    ]);
    expect(hyper[0]!.type).toMatchObject({
      words: [{ name: "dot" }, { name: "general" }, { name: "concat" }],
    });
    expect(hyper[1]!.type).toMatchObject({ name: { name: "layer" } });
  });

  it("parses inputs: tensor types with `_` and ints, bare dtypes, records, defaults", () => {
    const m = parseOk("layer l()(x: f32[N, 3, _, W], y: f16, s: {h, c}, h0 = zeros) { x }");
    const inputs = (m.decls[0] as CallableDecl).inputs!;
    expect(strip(inputs[0]!.type)).toMatchObject({
      dims: [
        { kind: "DimName", name: "N" },
        { kind: "DimInt", value: 3 },
        { kind: "DimAny" },
        { kind: "DimName", name: "W" },
      ],
    });
    expect(strip(inputs[1]!.type)).toEqual({
      kind: "TensorType",
      dtype: { kind: "Ident", name: "f16" },
      dims: null,
    });
    expect(inputs[2]!.type!.kind).toBe("RecordType");
    expect(strip(inputs[3]!.default)).toEqual({ kind: "Ident", name: "zeros" });
  });

  it("parses a def without parentheses, top-level lets, and declarations in any order", () => {
    const m = parseOk('let width = 64\ndef act = relu\nimport rnn\nlet a, b = pair\nimport "x.nn"');
    expect(
      m.decls.map((d) => (d.kind === "Let" ? `let ${d.names.map((n) => n.name)}` : d.name.name)),
    ).toEqual(["let width", "act", "let a,b"]);
    expect(m.imports).toHaveLength(2);
    expect((m.decls[1] as CallableDecl).hyper).toEqual([]);
  });

  it("parses params: string templates, dtypes, init, conditions; and params as expressions", () => {
    const s = stmts(
      'param "weight_ih_l{k}": [4*h, n] init uniform if k > 0\nbuffer steps: i64[]\nlet w = param v: [3]',
    );
    expect(strip(s[0])).toMatchObject({
      kind: "Param",
      role: "param",
      name: { kind: "String", value: "weight_ih_l{k}" },
      dtype: null,
      init: { name: "uniform" },
      cond: { kind: "Binary", op: ">" },
    });
    expect(strip(s[1])).toMatchObject({ role: "buffer", dtype: { name: "i64" }, dims: [] });
    expect(strip((s[2] as LetStmt).value)).toMatchObject({
      kind: "ParamExpr",
      decl: { kind: "Param", name: { name: "v" } },
    });
  });

  it("parses require with a message and a hint, and return", () => {
    const s = stmts(
      'require x.channels == c, "expected {c} channels", "add a conv"\nreturn x -> relu',
    );
    const r = s[0] as RequireStmt;
    expect([text(r.cond), r.message.value, r.hint?.value]).toEqual([
      "x.channels == c",
      "expected {c} channels",
      "add a conv",
    ]);
    expect(s[1]).toMatchObject({ kind: "Return", value: { kind: "Pipeline" } });
  });
});

describe("spans", () => {
  it("covers exactly the first to the last token, parentheses included in the parent", () => {
    const src = "def f = (a + b) * c.d(1)";
    const body = (parse(src, "s.nn").module.decls[0] as CallableDecl).body as Expr;
    const mul = as(body, "Binary");
    const slice = (s: { start: number; end: number }): string => src.slice(s.start, s.end);
    expect(slice(mul.span)).toBe("(a + b) * c.d(1)");
    expect(slice(mul.opSpan)).toBe("*");
    expect(slice(mul.left.span)).toBe("a + b");
    expect(slice(mul.right.span)).toBe("c.d(1)");
    expect(mul.span).toEqual({
      file: "s.nn",
      start: 8,
      end: 24,
      line: 1,
      col: 9,
      endLine: 1,
      endCol: 25,
    });
  });

  it("gives labels their own span and multi-line nodes their end line", () => {
    const src = "def f =\n  x -> conv1: conv(3)\n    -> relu";
    const p = as((parse(src, "s.nn").module.decls[0] as CallableDecl).body as Expr, "Pipeline");
    const labeled = as(p.stages[1], "Labeled");
    expect(labeled.labelSpan).toMatchObject({ line: 2, col: 8, endLine: 2, endCol: 13 });
    expect(labeled.span).toMatchObject({ line: 2, col: 8, endLine: 2, endCol: 22 });
    expect(p.span).toMatchObject({ line: 2, col: 3, endLine: 3, endCol: 12 });
  });
});

describe("statement boundaries", () => {
  it("rejects two statements on one line", () => {
    expect(errors("model m()(x) {\n  let y = x -> conv(3) relu\n  y\n}")).toEqual([
      "2:24 NN1001 expected an operator, `->` or a new line before `relu`",
    ]);
  });
});
