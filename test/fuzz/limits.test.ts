// The language's resource limits (issue 17): each fires with its own code at
// the expression that crossed it, before the work or memory runs away, and a
// zero-size dimension is refused at elaboration instead of failing in the
// kernels. The fuzz corpus holds the same programs at their full size.

import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { NncError } from "../../compiler/core/diagnostics.js";

/** The diagnostic compile → summary → plan raises for `body` inside `model m()(x: f32[N, 4])`. */
function failure(body: string, shape = [2, 4]): { code: string; line: number; message: string } {
  const text = `model m()(x: f32[N, 4]) {\n${body}\n}\n`;
  try {
    const m = compile(text, { inputs: { x: { shape } } });
    m.summary();
    m.plan();
  } catch (e) {
    if (!(e instanceof NncError)) throw e;
    const d = e.diagnostics[0]!;
    const line = d.span ? text.slice(0, d.span.start).split("\n").length : 0;
    return { code: d.code, line, message: d.message };
  }
  throw new Error("compiled");
}

describe("resource limits", () => {
  it("list `+` is bounded like list `*`", () => {
    const body = "  let a = [0] * 10000\n  let b = a + a\n  x";
    expect(failure(body)).toMatchObject({ code: "NN5002", line: 3 });
  });

  it("string `+` stops at the string limit instead of V8's", () => {
    const lets = ['  let s0 = "0123456789abcdef"'];
    for (let i = 1; i <= 24; i++) lets.push(`  let s${i} = s${i - 1} + s${i - 1}`);
    const f = failure(`${lets.join("\n")}\n  x`);
    expect(f.code).toBe("NN5009");
    // 16 · 2^12 = 65,536 fits; the 13th doubling is the first too long.
    expect(f.line).toBe(2 + 13);
  });

  it("a template cannot show a list whose shared items multiply out", () => {
    const body = '  let a = [0] * 10000\n  let b = [a] * 10000\n  let s = "{b}"\n  x';
    expect(failure(body)).toMatchObject({ code: "NN5009", line: 4 });
  });

  it("a nested comprehension runs out of work budget, filtered or not", () => {
    const big = "  let a = [for i in 0..10000: [for j in 0..10000: i + j]]\n  x";
    expect(failure(big)).toMatchObject({ code: "NN5008", line: 2 });
    const filtered = "  let a = [for i in 0..10000 for j in 0..10000 if i < 0: i]\n  x";
    expect(failure(filtered)).toMatchObject({ code: "NN5008", line: 2 });
  });

  it("the graph-node limit fires at 40,000 nodes", () => {
    const stage = "[for i in 0..10000: relu]";
    const f = failure(`  x -> ${Array(5).fill(stage).join(" -> ")}`);
    expect(f.code).toBe("NN5005");
  });

  it("a chain of 5,000 linear layers elaborates and counts its parameters", () => {
    // Quadratic before (every layer call re-summed every parameter): 10,000 layers took 185 s.
    const m = compile("model m()(x: f32[N, 4]) {\n  x -> [for i in 0..5000: linear(4)]\n}\n");
    // Each linear(4) on 4 features: a 4×4 weight and 4 biases.
    expect(m.summary().params).toBe(5000 * 20);
  });

  it("a chain of 10,000 linear layers is over the graph-node limit", () => {
    expect(failure("  x -> [for i in 0..10000: linear(4)]").code).toBe("NN5005");
  });
});

describe("zero-size dimensions", () => {
  it("an empty slice is refused where it is written", () => {
    expect(failure("  x[:, 0:0] -> relu")).toMatchObject({ code: "NN4009", line: 2 });
  });

  it("an input shape with a zero is refused", () => {
    expect(failure("  x -> relu", [0, 4]).code).toBe("NN4009");
  });

  it("a layer with zero features is refused", () => {
    expect(failure("  x -> linear(0)").code).toBe("NN4009");
  });
});
