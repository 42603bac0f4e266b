import { describe, expect, it } from "vitest";
import { bool, expectOpError, f32, fround, i32, infer, range, run, ty, values } from "./helpers.js";

describe("binary arithmetic", () => {
  const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);

  it("adds same shapes", () => {
    expect(values(run("add", [a, f32([2, 3], [10, 20, 30, 40, 50, 60])]))).toEqual([
      11, 22, 33, 44, 55, 66,
    ]);
  });

  it("broadcasts a trailing vector over rows", () => {
    expect(values(run("sub", [a, f32([3], [1, 1, 2])]))).toEqual([0, 1, 1, 3, 4, 4]);
  });

  it("broadcasts [2, 1] against [1, 3] to [2, 3]", () => {
    const out = run("mul", [f32([2, 1], [2, 3]), f32([1, 3], [1, 10, 100])]);
    expect(out.shape).toEqual([2, 3]);
    expect(values(out)).toEqual([2, 20, 200, 3, 30, 300]);
  });

  it("broadcasts a scalar and grows rank", () => {
    expect(values(run("div", [a, f32([], [2])]))).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    const out = run("add", [f32([2, 1, 1], [0, 100]), f32([3, 1], [1, 2, 3])]);
    expect(out.shape).toEqual([2, 3, 1]);
    expect(values(out)).toEqual([1, 2, 3, 101, 102, 103]);
  });

  it("pow, max and min", () => {
    const x = f32([4], [2, -8, 9, 0]);
    const y = f32([4], [3, 1 / 3, 0.5, 0]);
    const p = values(run("pow", [x, y]));
    expect(p[0]).toBe(8);
    expect(Number.isNaN(p[1])).toBe(true); // negative base, fractional exponent
    expect(p[2]).toBe(3);
    expect(p[3]).toBe(1);
    expect(values(run("max", [x, y]))).toEqual(fround([3, 1 / 3, 9, 0]));
    expect(values(run("min", [x, y]))).toEqual(fround([2, -8, 0.5, 0]));
  });

  it("max and min propagate NaN", () => {
    const out = values(run("max", [f32([2], [Number.NaN, 1]), f32([2], [5, Number.NaN])]));
    expect(out.every(Number.isNaN)).toBe(true);
    expect(values(run("min", [f32([1], [Number.NaN]), f32([1], [0])])).every(Number.isNaN)).toBe(
      true,
    );
  });

  it("rounds the float64 result once into f32", () => {
    const x = Math.fround(0.1);
    const y = Math.fround(0.2);
    expect(values(run("add", [f32([1], [0.1]), f32([1], [0.2])]))).toEqual([Math.fround(x + y)]);
    expect(values(run("div", [f32([1], [1]), f32([1], [3])]))).toEqual([Math.fround(1 / 3)]);
  });

  it("i32 arithmetic wraps like int32", () => {
    const big = i32([2], [2147483647, 65536]);
    expect(values(run("add", [big, i32([2], [1, 1])]))).toEqual([-2147483648, 65537]);
    expect(values(run("mul", [big, i32([2], [2, 65536])]))).toEqual([-2, 0]);
    expect(values(run("sub", [i32([1], [-2147483648]), i32([1], [1])]))).toEqual([2147483647]);
    expect(values(run("max", [i32([2], [-4, 9]), i32([], [0])]))).toEqual([0, 9]);
    expect(run("max", [i32([2], [-4, 9]), i32([], [0])]).dtype).toBe("i32");
  });

  it("infers broadcast shapes", () => {
    expect(infer("add", [ty("f32", [8, 1, 6, 1]), ty("f32", [7, 1, 5])])).toEqual(
      ty("f32", [8, 7, 6, 5]),
    );
    expect(infer("add", [ty("f32", [0, 3]), ty("f32", [1, 3])])).toEqual(ty("f32", [0, 3]));
  });

  it("rejects shapes that do not broadcast", () => {
    expectOpError(
      () => infer("add", [ty("f32", [2, 3]), ty("f32", [4])]),
      "NN4001",
      "add: shapes f32[2, 3] and f32[4] do not broadcast",
    );
    expectOpError(
      () => infer("mul", [ty("f32", [2, 1, 3]), ty("f32", [3, 2])]),
      "NN4001",
      "mul: shapes f32[2, 1, 3] and f32[3, 2] do not broadcast",
    );
  });

  it("rejects mixed or unsupported dtypes", () => {
    expectOpError(
      () => infer("add", [ty("f32", [2, 3]), ty("i32", [2, 3])]),
      "NN4003",
      "add: dtypes differ: f32[2, 3] and i32[2, 3]",
    );
    expectOpError(
      () => infer("div", [ty("i32", [2]), ty("i32", [2])]),
      "NN4003",
      "div: expects f32, got i32[2] and i32[2]",
    );
    expectOpError(
      () => infer("pow", [ty("i32", [2]), ty("i32", [2])]),
      "NN4003",
      "pow: expects f32, got i32[2] and i32[2]",
    );
    expectOpError(
      () => infer("add", [ty("bool", [2]), ty("bool", [2])]),
      "NN4003",
      "add: expects f32 or i32, got bool[2] and bool[2]",
    );
  });

  it("rejects attributes it does not have", () => {
    expectOpError(
      () => infer("add", [ty("f32", [1]), ty("f32", [1])], { axis: 0 }),
      "NN4006",
      /^add: /,
    );
  });
});

describe("cmp, and, or", () => {
  const x = f32([3], [1, 2, 3]);
  const y = f32([], [2]);
  const cases: [string, number[]][] = [
    ["eq", [0, 1, 0]],
    ["ne", [1, 0, 1]],
    ["lt", [1, 0, 0]],
    ["le", [1, 1, 0]],
    ["gt", [0, 0, 1]],
    ["ge", [0, 1, 1]],
  ];
  for (const [op, expected] of cases) {
    it(`cmp ${op} broadcasts and gives bool`, () => {
      const out = run("cmp", [x, y], { op });
      expect(out.dtype).toBe("bool");
      expect(values(out)).toEqual(expected);
    });
  }

  it("cmp with NaN is false except ne", () => {
    const n = f32([1], [Number.NaN]);
    expect(values(run("cmp", [n, n], { op: "eq" }))).toEqual([0]);
    expect(values(run("cmp", [n, n], { op: "ne" }))).toEqual([1]);
    expect(values(run("cmp", [n, n], { op: "le" }))).toEqual([0]);
  });

  it("cmp on i32 with a column against a row", () => {
    const out = run("cmp", [range("i32", [3, 1]), range("i32", [1, 3])], { op: "ge" });
    expect(out.shape).toEqual([3, 3]);
    expect(values(out)).toEqual([1, 0, 0, 1, 1, 0, 1, 1, 1]);
  });

  it("cmp rejects a bad op and mixed dtypes", () => {
    expectOpError(
      () => infer("cmp", [ty("f32", [1]), ty("f32", [1])], { op: "lte" }),
      "NN4006",
      /^cmp: invalid op/,
    );
    expectOpError(
      () => infer("cmp", [ty("f32", [1]), ty("i32", [1])], { op: "lt" }),
      "NN4003",
      "cmp: dtypes differ: f32[1] and i32[1]",
    );
  });

  it("and / or on bools", () => {
    const p = bool([4], [0, 0, 1, 1]);
    const q = bool([4], [0, 1, 0, 1]);
    expect(values(run("and", [p, q]))).toEqual([0, 0, 0, 1]);
    expect(values(run("or", [p, q]))).toEqual([0, 1, 1, 1]);
    expect(values(run("or", [p, bool([], [1])]))).toEqual([1, 1, 1, 1]);
    expectOpError(
      () => infer("and", [ty("f32", [1]), ty("f32", [1])]),
      "NN4003",
      "and: expects bool, got f32[1] and f32[1]",
    );
  });
});

describe("where", () => {
  it("selects with broadcasting of all three operands", () => {
    const cond = bool([2, 1], [1, 0]);
    const a = f32([3], [1, 2, 3]);
    const b = f32([], [-1]);
    const out = run("where", [cond, a, b]);
    expect(out.shape).toEqual([2, 3]);
    expect(values(out)).toEqual([1, 2, 3, -1, -1, -1]);
  });

  it("works on i32 branches", () => {
    const out = run("where", [bool([3], [0, 1, 0]), i32([3], [1, 2, 3]), i32([3], [7, 8, 9])]);
    expect(out.dtype).toBe("i32");
    expect(values(out)).toEqual([7, 2, 9]);
  });

  it("keeps -inf (attention masks)", () => {
    const out = run("where", [bool([2], [1, 0]), f32([2], [0.5, 0.5]), f32([], [-Infinity])]);
    expect(values(out)).toEqual([0.5, -Infinity]);
  });

  it("rejects a non-bool condition, mixed branches and non-broadcasting shapes", () => {
    expectOpError(
      () => infer("where", [ty("f32", [2]), ty("f32", [2]), ty("f32", [2])]),
      "NN4003",
      "where: the condition must be bool, got f32[2]",
    );
    expectOpError(
      () => infer("where", [ty("bool", [2]), ty("f32", [2]), ty("i32", [2])]),
      "NN4003",
      "where: dtypes differ: f32[2] and i32[2]",
    );
    expectOpError(
      () => infer("where", [ty("bool", [2]), ty("f32", [3]), ty("f32", [2])]),
      "NN4001",
      "where: shapes bool[2], f32[3] and f32[2] do not broadcast",
    );
  });
});
