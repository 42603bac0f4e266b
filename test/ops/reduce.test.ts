import { describe, expect, it } from "vitest";
import { expectOpError, f32, i32, infer, range, run, ty, values } from "./helpers.js";

describe("reductions", () => {
  // [[1, 2, 3], [4, 5, 6]]
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);

  it("reduce_sum over each axis and both", () => {
    expect(values(run("reduce_sum", [x], { axes: [0] }))).toEqual([5, 7, 9]);
    expect(values(run("reduce_sum", [x], { axes: [1] }))).toEqual([6, 15]);
    const all = run("reduce_sum", [x], { axes: [0, 1] });
    expect(all.shape).toEqual([]);
    expect(values(all)).toEqual([21]);
  });

  it("keepdims keeps reduced axes as 1", () => {
    const out = run("reduce_sum", [x], { axes: [1], keepdims: true });
    expect(out.shape).toEqual([2, 1]);
    expect(values(out)).toEqual([6, 15]);
    const mean = run("reduce_mean", [x], { axes: [0], keepdims: true });
    expect(mean.shape).toEqual([1, 3]);
    expect(values(mean)).toEqual([2.5, 3.5, 4.5]);
  });

  it("reduce_max and reduce_mean over each axis", () => {
    expect(values(run("reduce_max", [x], { axes: [0] }))).toEqual([4, 5, 6]);
    expect(values(run("reduce_max", [x], { axes: [1] }))).toEqual([3, 6]);
    expect(values(run("reduce_mean", [x], { axes: [1] }))).toEqual([2, 5]);
    expect(values(run("reduce_max", [f32([3], [-7, -2, -5])], { axes: [0] }))).toEqual([-2]);
  });

  it("reduces inner and non-adjacent axes of a 3-D tensor", () => {
    // x[i, j, k] = 4i + 2j + k
    const y = range("f32", [2, 2, 2]);
    // sum over i, k: j=0: 0+1+4+5, j=1: 2+3+6+7
    expect(values(run("reduce_sum", [y], { axes: [0, 2] }))).toEqual([10, 18]);
    // sum over j: [[0+2, 1+3], [4+6, 5+7]]
    expect(values(run("reduce_sum", [y], { axes: [1] }))).toEqual([2, 4, 10, 12]);
    // max over k, keepdims: [2, 2, 1]
    const m = run("reduce_max", [y], { axes: [2], keepdims: true });
    expect(m.shape).toEqual([2, 2, 1]);
    expect(values(m)).toEqual([1, 3, 5, 7]);
    // mean over i, j, k
    expect(values(run("reduce_mean", [y], { axes: [0, 1, 2] }))).toEqual([3.5]);
  });

  it("sums in float64 and rounds once", () => {
    // 1 + 2^-24 + 2^-24 is not representable step by step in f32 but the sum 1 + 2^-23 is.
    const e = 2 ** -24;
    expect(values(run("reduce_sum", [f32([3], [1, e, e])], { axes: [0] }))).toEqual([1 + 2 * e]);
  });

  it("i32 sum and max stay i32", () => {
    const out = run("reduce_sum", [i32([2, 2], [1, -2, 3, 4])], { axes: [1] });
    expect(out.dtype).toBe("i32");
    expect(values(out)).toEqual([-1, 7]);
    expect(values(run("reduce_max", [i32([2, 2], [1, -2, 3, 4])], { axes: [0] }))).toEqual([3, 4]);
  });

  it("reduce_max propagates NaN", () => {
    expect(
      values(run("reduce_max", [f32([3], [1, Number.NaN, 2])], { axes: [0] })).every(Number.isNaN),
    ).toBe(true);
  });

  it("infers shapes", () => {
    expect(
      infer("reduce_mean", [ty("f32", [1, 64, 7, 7])], { axes: [2, 3], keepdims: true }),
    ).toEqual(ty("f32", [1, 64, 1, 1]));
    expect(infer("reduce_mean", [ty("f32", [1, 64, 7, 7])], { axes: [2, 3] })).toEqual(
      ty("f32", [1, 64]),
    );
  });

  it("rejects bad axes and dtypes", () => {
    expectOpError(
      () => infer("reduce_sum", [ty("f32", [2, 3])], { axes: [2] }),
      "NN4006",
      "reduce_sum: axis 2 is out of range for f32[2, 3] (rank 2)",
    );
    expectOpError(
      () => infer("reduce_sum", [ty("f32", [2, 3])], { axes: [1, 0] }),
      "NN4006",
      /^reduce_sum: invalid axes: axes must be sorted and unique/,
    );
    expectOpError(
      () => infer("reduce_sum", [ty("f32", [2, 3])], { axes: [] }),
      "NN4006",
      /^reduce_sum: invalid axes/,
    );
    expectOpError(
      () => infer("reduce_sum", [ty("f32", [2, 3])], { axes: [-1] }),
      "NN4006",
      /^reduce_sum: invalid axes\[0\]/,
    );
    expectOpError(
      () => infer("reduce_mean", [ty("i32", [2, 3])], { axes: [0] }),
      "NN4003",
      "reduce_mean: expects f32, got i32[2, 3]",
    );
    expectOpError(
      () => infer("reduce_max", [ty("f32", [0, 3])], { axes: [0] }),
      "NN4002",
      "reduce_max: cannot reduce an empty axis of f32[0, 3]",
    );
  });
});
