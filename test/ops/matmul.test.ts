import { describe, expect, it } from "vitest";
import { getOp } from "../../compiler/ops/index.js";
import { expectOpError, f32, infer, run, ty, values } from "./helpers.js";

describe("matmul", () => {
  // a = [[1, 2, 3], [4, 5, 6]], b = [[7, 8], [9, 10], [11, 12]]
  const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = f32([3, 2], [7, 8, 9, 10, 11, 12]);

  it("multiplies matrices", () => {
    // [1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12]
    const out = run("matmul", [a, b]);
    expect(out.shape).toEqual([2, 2]);
    expect(values(out)).toEqual([58, 64, 139, 154]);
  });

  it("promotes 1-D operands and drops the added dim", () => {
    const v = f32([3], [1, 2, 3]);
    const vb = run("matmul", [v, b]);
    expect(vb.shape).toEqual([2]);
    expect(values(vb)).toEqual([58, 64]);
    const av = run("matmul", [a, f32([3], [1, 1, 1])]);
    expect(av.shape).toEqual([2]);
    expect(values(av)).toEqual([6, 15]);
    const dot = run("matmul", [v, f32([3], [4, 5, 6])]);
    expect(dot.shape).toEqual([]);
    expect(values(dot)).toEqual([32]);
  });

  it("broadcasts batch dims", () => {
    // a: batch 2 of [1, 2] rows [1, 2] and [3, 4]; b: batch 3 of [2, 1] columns [1, 0], [0, 1], [1, 1]
    const x = f32([2, 1, 1, 2], [1, 2, 3, 4]);
    const y = f32([3, 2, 1], [1, 0, 0, 1, 1, 1]);
    const out = run("matmul", [x, y]);
    expect(out.shape).toEqual([2, 3, 1, 1]);
    expect(values(out)).toEqual([1, 2, 3, 3, 4, 7]);
  });

  it("a vector against a batch of matrices, and a batch against a vector", () => {
    const m = f32([3, 2, 2], [1, 2, 3, 4, 0, 1, 1, 0, 2, 0, 0, 2]);
    const colSums = run("matmul", [f32([2], [1, 1]), m]);
    expect(colSums.shape).toEqual([3, 2]);
    expect(values(colSums)).toEqual([4, 6, 1, 1, 2, 2]);
    const rowSums = run("matmul", [m, f32([2], [1, 1])]);
    expect(rowSums.shape).toEqual([3, 2]);
    expect(values(rowSums)).toEqual([3, 7, 1, 1, 2, 2]);
  });

  it("a shared weight against a batch (linear layer)", () => {
    // x [2, 2, 2] @ w [2, 3]: w = [[1, 0, 1], [0, 1, 1]] → [x0, x1, x0 + x1] per row
    const x = f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const w = f32([2, 3], [1, 0, 1, 0, 1, 1]);
    expect(values(run("matmul", [x, w]))).toEqual([1, 2, 3, 3, 4, 7, 5, 6, 11, 7, 8, 15]);
  });

  it("accumulates in float64", () => {
    const e = 2 ** -24;
    expect(values(run("matmul", [f32([3], [1, e, e]), f32([3], [1, 1, 1])]))).toEqual([1 + 2 * e]);
  });

  it("infers shapes", () => {
    expect(infer("matmul", [ty("f32", [5, 1, 3, 4]), ty("f32", [6, 4, 2])])).toEqual(
      ty("f32", [5, 6, 3, 2]),
    );
    expect(infer("matmul", [ty("f32", [4]), ty("f32", [7, 4, 2])])).toEqual(ty("f32", [7, 2]));
  });

  it("counts 2·numel(out)·K flops", () => {
    const op = getOp("matmul");
    expect(op.flops!([ty("f32", [2, 3, 16]), ty("f32", [16, 17])], ty("f32", [2, 3, 17]), {})).toBe(
      2 * 2 * 3 * 17 * 16,
    );
    expect(op.flops!([ty("f32", [16]), ty("f32", [16])], ty("f32", []), {})).toBe(32);
  });

  it("rejects bad operands", () => {
    expectOpError(
      () => infer("matmul", [ty("f32", [2, 3, 16]), ty("f32", [24, 17])]),
      "NN4002",
      "matmul: inner dimensions differ: f32[2, 3, 16] @ f32[24, 17]",
    );
    expectOpError(
      () => infer("matmul", [ty("f32", [3]), ty("f32", [4])]),
      "NN4002",
      "matmul: inner dimensions differ: f32[3] @ f32[4]",
    );
    expectOpError(
      () => infer("matmul", [ty("f32", [2, 3, 4]), ty("f32", [3, 4, 5])]),
      "NN4001",
      "matmul: batch dimensions do not broadcast: f32[2, 3, 4] @ f32[3, 4, 5]",
    );
    expectOpError(
      () => infer("matmul", [ty("f32", []), ty("f32", [4])]),
      "NN4002",
      "matmul: operands must have rank ≥ 1, got f32[]",
    );
    expectOpError(
      () => infer("matmul", [ty("i32", [2, 2]), ty("i32", [2, 2])]),
      "NN4003",
      "matmul: expects f32, got i32[2, 2] and i32[2, 2]",
    );
  });
});
