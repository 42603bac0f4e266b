// Lexing and syntax errors: exact code, position and wording, one run
// reporting every independent error, and the nesting limits (NN5004).

import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { NnParser } from "../../grammar/nn-parser.js";
import { parse } from "../../grammar/parser.js";
import { errors } from "./helpers.js";

describe("lexical errors", () => {
  it("reports an unterminated string and keeps parsing", () => {
    const r = parse('def f = "abc\ndef g = x', "t.nn");
    expect(r.diagnostics.map((d) => [d.code, d.message, d.span?.line, d.span?.col])).toEqual([
      ["NN1002", 'unterminated string: missing the closing `"`', 1, 9],
    ]);
    expect(r.module.decls).toHaveLength(2);
  });

  it("reports an unterminated block comment at its start", () => {
    expect(errors("def f = a\n  /* never\nclosed")).toEqual([
      "2:3 NN1003 unterminated block comment: `/*` has no closing `*/`",
    ]);
  });

  it("reports an invalid character with its line and column", () => {
    expect(errors("def f = a\ndef g = b ? c")).toEqual([
      "2:11 NN1004 invalid character `?`",
      "2:13 NN1001 unexpected `c` after the end of the declaration",
    ]);
  });

  it("reports malformed numbers", () => {
    const r = parse("def f = 1e + 2\ndef g = 3x", "t.nn");
    expect(
      r.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code} ${d.message} (${d.hint})`),
    ).toEqual([
      "1:9 NN1005 invalid number `1e` (an exponent needs digits, as in `1e-5`)",
      "2:9 NN1005 invalid number `3x` (a name cannot start with a digit)",
    ]);
  });

  it("reports an unknown escape in a string", () => {
    expect(errors('def f = "a\\qb"')).toEqual(["1:11 NN1004 invalid escape `\\q` in a string"]);
  });
});

describe("syntax errors", () => {
  it("names the unclosed `(` of a call and what was found instead", () => {
    expect(errors("def f(c: int) =\n  conv(c, 3\n  -> relu")).toEqual([
      "3:3 NN1001 expected `)` to close the call opened at 2:7, found `->`",
    ]);
    const [d] = parse("def f = conv(a -> b)", "t.nn").diagnostics;
    expect(d?.hint).toBe("a pipeline inside an argument needs parentheses, as in `f((a -> b))`");
  });

  it("names the next declaration when a bracket is still open at its start", () => {
    expect(errors("def f = (a + b\ndef g = c")).toEqual([
      "2:1 NN1001 expected `)` to close the parenthesis opened at 1:9, found `def`",
    ]);
    expect(errors("model m()(x) {\n  x\n")).toEqual([
      "2:4 NN1001 expected `}` to close the block opened at 1:14, found the end of the file",
    ]);
  });

  it("reports a missing expression and a stray token", () => {
    expect(errors("def f = [a, ]]")).toEqual([
      "1:14 NN1001 unexpected `]` after the end of the declaration",
    ]);
    expect(errors("model m()(x) {\n  let y = ] + 1\n  y\n}")).toEqual([
      "2:11 NN1001 expected an expression, found `]`",
    ]);
    expect(errors("def f = conv(3,, 4)")).toEqual([
      "1:16 NN1001 expected an argument or `)`, found `,`",
    ]);
    expect(errors("def f = x[]")).toEqual(["1:11 NN1001 expected an index or a slice, found `]`"]);
  });

  it("reports errors in different declarations in one run, keeping the good ones", () => {
    const r = parse("def a = conv(3\ndef b = relu\nmodel c()(x) {\n  let y = x ->\n}\n", "t.nn");
    expect(r.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`)).toEqual([
      "2:1 expected `)` to close the call opened at 1:13, found `def`",
      "5:1 expected an expression, found `}`",
    ]);
    expect(r.module.decls.map((d) => (d.kind === "Callable" ? d.name.name : d.kind))).toEqual([
      "b",
    ]);
  });

  it("reports independent errors in different statements of one block", () => {
    expect(errors("layer l()(x) {\n  param w [3]\n  let a = (x\n  let b = f(,)\n  x\n}")).toEqual([
      "2:11 NN1001 expected `:`, found `[`",
      "4:3 NN1001 expected `)` to close the parenthesis opened at 3:11, found `let`",
    ]);
  });

  it("explains a missing `then`/`else`, and a header that is neither form", () => {
    expect(errors("def f = if a then b")).toEqual([
      "1:20 NN1001 expected `else` to go with the `if` at 1:9, found the end of the file",
    ]);
    // One list before a block is the input list (test/diagnostics/language-edges.test.ts).
    const [d] = parse("def f(c: int) x", "t.nn").diagnostics;
    expect(`${d?.span?.col} ${d?.message}`).toBe(
      "15 expected `(` to open the input list, or `=` for a point-free def, found `x`",
    );
    expect(d?.hint).toContain("without hyperparameters, `NAME(inputs) { ... }`");
  });

  it("rejects the point-free form for models and layers (NN1006), and other misplaced tokens", () => {
    expect(errors("model m = relu")).toEqual([
      "1:1 NN1006 a model takes the block form, not `= expression`",
    ]);
    expect(errors("foo\ndef f = a")).toEqual([
      "1:1 NN1001 expected a declaration (`import`, `def`, `model`, `layer` or `let`), found `foo`",
    ]);
    expect(errors("import 3")).toEqual([
      '1:8 NN1001 expected a module name (`import rnn`) or a file path in quotes (`import "./blocks.nn"`), found `3`',
    ]);
    expect(errors("model m()(x: f32[N, 1.5]) { x }")).toEqual([
      "1:21 NN1001 expected a dimension (an integer, a name or `_`), found `1.5`",
    ]);
    expect(errors("def f = 1.5: x")).toEqual([
      "1:9 NN1001 a label must be a name or an integer, found `1.5`",
    ]);
  });

  it("never throws, and places every diagnostic, whatever the input", () => {
    const vocab = [
      ...'()[]{}:,.=-!+*/<>|@%"',
      "->",
      "..",
      "//",
      "def",
      "model",
      "layer",
      "let",
      "param",
      "if",
      "then",
      "else",
      "for",
      "in",
      "x",
      "1",
      "2.5",
      "\n",
      " ",
    ];
    const soup = fc.array(fc.constantFrom(...vocab), { maxLength: 60 }).map((ts) => ts.join(" "));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), soup), (src) => {
        const { module, diagnostics } = parse(src, "fuzz.nn");
        expect(module.kind).toBe("Module");
        expect(diagnostics.filter((d) => d.code === "NN9001")).toEqual([]);
        for (const d of diagnostics) {
          expect(d.span?.line).toBeGreaterThanOrEqual(1);
          expect(d.span?.col).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("nesting limits", () => {
  // Work is bounded by counting declarations handed to the parser: input the
  // token scan rejects never reaches it.
  const parsed = (src: string): { codes: string[]; decls: number; chunks: number } => {
    const chunk = vi.spyOn(NnParser.prototype, "parseChunk");
    try {
      const r = parse(src, "deep.nn");
      return {
        codes: r.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code} ${d.message}`),
        decls: r.module.decls.length,
        chunks: chunk.mock.calls.length,
      };
    } finally {
      chunk.mockRestore();
    }
  };

  it("rejects 20 000 nested parentheses at the 201st, before parsing", () => {
    const r = parsed(`def f = ${"(".repeat(20_000)}x${")".repeat(20_000)}`);
    expect(r.codes).toEqual(["1:209 NN5004 nesting too deep (more than 200 levels)"]);
    expect(r.decls).toBe(0);
    expect(r.chunks).toBe(0);
  });

  it("rejects a 20 000-term chain by the depth of its tree, parsing it once", () => {
    const r = parsed(`def f = ${Array(20_000).fill("1").join(" + ")}`);
    expect(r.codes).toEqual(["1:9 NN5004 nesting too deep (more than 1000 levels)"]);
    expect(r.decls).toBe(0);
    expect(r.chunks).toBe(1);
  });

  it("rejects long runs of prefix operators, and deep if-chains", () => {
    expect(parsed(`def f = ${"-".repeat(20_000)}x`).codes).toEqual([
      "1:209 NN5004 nesting too deep (more than 200 levels)",
    ]);
    const ifs = parsed(`def f = ${"if a then b else ".repeat(20_000)}c`);
    expect(ifs.codes).toEqual(["1:5095 NN5004 nesting too deep (more than 300 levels)"]);
    expect(parsed(`def f = x${".a".repeat(20_000)}`).codes).toEqual([
      "1:9 NN5004 nesting too deep (more than 1000 levels)",
    ]);
  });

  it("accepts nesting up to the limit in every bracket form", () => {
    const n = 200;
    for (const src of [
      `${"(".repeat(n)}x${")".repeat(n)}`,
      `${"f(".repeat(n)}x${")".repeat(n)}`,
      `${"g(k=".repeat(n)}x${")".repeat(n)}`,
      `${"[".repeat(n)}x${"]".repeat(n)}`,
      `${"{a: ".repeat(n)}x${"}".repeat(n)}`,
      `x${"[i".repeat(n)}${"]".repeat(n)}`,
      `${"[for i in ".repeat(n)}x${": i]".repeat(n)}`,
      `${"-".repeat(n)}x`,
    ]) {
      expect(parsed(`def f = ${src}`).codes).toEqual([]);
    }
  });
});
