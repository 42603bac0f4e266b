// The scalar table (compiler/ops/scalar.ts) against hand-computed values: the
// f32 → i32 saturation bounds WGSL defines, i32 wrapping, f32 rounding, and
// that every consumer (ops, Kernel IR folding, the IR schema, the WGSL
// emitter's helpers, the `.nn` builtins) is generated from the table's rows.

import { describe, expect, it } from "vitest";
import { helperText } from "../../compiler/codegen/wgsl/wgsl-expr.js";
import { builtins, tensorMethods } from "../../compiler/elaborate/builtins/index.js";
import { vbinary, vcast, vconst, vunary } from "../../compiler/kernels/expr.js";
import { ops } from "../../compiler/ops/index.js";
import {
  binaryFnNames,
  binaryTable,
  castScalar,
  evalBinary,
  evalUnary,
  unaryFnNames,
  unaryTable,
} from "../../compiler/ops/scalar.js";

const constValue = (e: ReturnType<typeof vconst>) => {
  expect(e.op).toBe("const");
  return (e as { value: number }).value;
};

describe("f32 → i32 conversion", () => {
  it("saturates at WGSL's bounds: 2^31 − 128 above (2^31 − 1 is no f32), −2^31 below", () => {
    const cases: [number, number][] = [
      [3e9, 2147483520],
      [2147483648, 2147483520],
      [2147483520, 2147483520],
      [1e20, 2147483520], // the WGSL spec's own example
      [Infinity, 2147483520],
      [-3e9, -2147483648],
      [-2147483648, -2147483648],
      [-Infinity, -2147483648],
      [-3.9, -3], // toward zero
      [3.9, 3],
      [-0, 0],
      [Number.NaN, 0],
    ];
    for (const [x, want] of cases) expect(castScalar(x, "f32", "i32"), `${x}`).toBe(want);
  });

  it("is the same rule in constant folding and on the CPU (it was 2^31 − 1 in folding)", () => {
    expect(constValue(vcast(vconst(3e9, "f32"), "i32"))).toBe(2147483520);
    expect(castScalar(3e9, "f32", "i64")).toBe(3e9);
    expect(castScalar(1e30, "f32", "i64")).toBe(2 ** 63 - 2 ** 39);
  });

  it("wraps from integers and tests != 0 for bool", () => {
    expect(castScalar(2 ** 31, "i64", "i32")).toBe(-(2 ** 31));
    expect(castScalar(Number.NaN, "f32", "bool")).toBe(1);
    expect(castScalar(-0, "f32", "bool")).toBe(0);
    expect(castScalar(16777217, "i32", "f32")).toBe(16777216);
  });
});

describe("rounding to the result type", () => {
  it("folds i32 arithmetic with wrapping, as the ops and WGSL compute it (folding saturated before)", () => {
    expect(constValue(vbinary("add", vconst(2147483647, "i32"), vconst(1, "i32")))).toBe(
      -2147483648,
    );
    expect(constValue(vbinary("mul", vconst(65536, "i32"), vconst(65536, "i32")))).toBe(0);
    expect(constValue(vunary("neg", vconst(-2147483648, "i32")))).toBe(-2147483648);
    expect(evalUnary("abs", -2147483648, "i32")).toBe(-2147483648);
  });

  it("rounds f32 results once per function", () => {
    expect(evalBinary("add", 1, 2 ** -30, "f32")).toBe(1);
    expect(evalUnary("exp", 1, "f32")).toBe(Math.fround(Math.E));
    // sigmoid(−100) = 3.72e-44 is an f32 subnormal (27 · 2^-149), not 0.
    expect(evalUnary("sigmoid", -100, "f32")).toBe(27 * 2 ** -149);
    expect(evalUnary("sigmoid", -1000, "f32")).toBe(0);
    expect(evalUnary("relu", Number.NaN, "f32")).toBeNaN();
    expect(Object.is(evalUnary("relu", -0, "f32"), 0)).toBe(true);
  });
});

describe("the table is the one source", () => {
  it("every unary and binary row is an op accepting exactly the row's dtypes", () => {
    for (const name of [...unaryFnNames, ...binaryFnNames]) {
      const op = ops.get(name);
      expect(op, name).toBeDefined();
      expect(op!.arity).toBe(unaryFnNames.includes(name as never) ? 1 : 2);
    }
  });

  it("the `.nn` builtins and tensor methods are the rows that declare them", () => {
    for (const name of unaryFnNames) {
      const row = unaryTable[name];
      expect(builtins.has(name), name).toBe(row.builtin !== undefined);
      expect(tensorMethods.has(name), name).toBe(row.builtin === "method");
    }
    // On numbers a builtin is the row's float64 function (a hyperparameter is not rounded to f32).
    expect(builtins.get("erf")!.numeric!([0.5])).toBe(unaryTable.erf.f(0.5));
    expect(builtins.get("pow")!.numeric!([2, 0.5])).toBe(Math.SQRT2);
  });

  it("the emitter writes each row's helper, and the helpers it calls, in table order", () => {
    const text = helperText(["nnc_pow", "nnc_erf", "nnc_sigmoid"]);
    const order = ["fn nnc_bits", "fn nnc_sigmoid", "fn nnc_erf", "fn nnc_pow"].map((h) =>
      text.indexOf(h),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain(binaryTable.pow.helper!.source);
  });
});
