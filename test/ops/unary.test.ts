import { describe, expect, it } from "vitest";
import { erf } from "../../compiler/ops/erf.js";
import {
  bool,
  expectClose,
  expectOpError,
  f32,
  fround,
  i32,
  infer,
  run,
  ty,
  values,
} from "./helpers.js";

describe("unary f32 ops", () => {
  const x = [-1.5, 0, 0.5, 2];
  const cases: [string, number[]][] = [
    ["neg", [1.5, -0, -0.5, -2]],
    ["abs", [1.5, 0, 0.5, 2]],
    ["relu", [0, 0, 0.5, 2]],
    ["exp", [Math.exp(-1.5), 1, Math.exp(0.5), Math.exp(2)]],
    ["tanh", [Math.tanh(-1.5), 0, Math.tanh(0.5), Math.tanh(2)]],
    ["sigmoid", [1 / (1 + Math.exp(1.5)), 0.5, 1 / (1 + Math.exp(-0.5)), 1 / (1 + Math.exp(-2))]],
    ["floor", [-2, 0, 0, 2]],
    ["ceil", [-1, 0, 1, 2]],
  ];
  for (const [op, expected] of cases) {
    it(`${op} computes in float64 and rounds once`, () => {
      expect(values(run(op, [f32([2, 2], x)]))).toEqual(fround(expected));
    });
  }

  it("log, sqrt and rsqrt", () => {
    const pos = f32([4], [0.25, 1, 4, 0]);
    expect(values(run("log", [pos]))).toEqual(fround([Math.log(0.25), 0, Math.log(4), -Infinity]));
    expect(values(run("sqrt", [pos]))).toEqual([0.5, 1, 2, 0]);
    expect(values(run("rsqrt", [pos]))).toEqual([2, 1, 0.5, Infinity]);
    expect(Number.isNaN(values(run("sqrt", [f32([1], [-1])]))[0])).toBe(true);
  });

  it("sigmoid is stable at the extremes", () => {
    expect(values(run("sigmoid", [f32([3], [-1000, 1000, -80])]))).toEqual([
      0,
      1,
      Math.fround(Math.exp(-80) / (1 + Math.exp(-80))),
    ]);
  });

  it("relu keeps NaN, like torch", () => {
    expect(Number.isNaN(values(run("relu", [f32([1], [Number.NaN])]))[0])).toBe(true);
  });

  it("neg, abs and relu accept i32 (and wrap like two's complement)", () => {
    const v = i32([4], [-3, 0, 7, -2147483648]);
    expect(values(run("neg", [v]))).toEqual([3, 0, -7, -2147483648]);
    expect(values(run("abs", [v]))).toEqual([3, 0, 7, -2147483648]);
    expect(values(run("relu", [v]))).toEqual([0, 0, 7, 0]);
    expect(run("neg", [v]).dtype).toBe("i32");
  });

  it("not flips bools", () => {
    const out = run("not", [bool([3], [1, 0, 1])]);
    expect(out.dtype).toBe("bool");
    expect(values(out)).toEqual([0, 1, 0]);
  });

  it("keeps the input type", () => {
    expect(infer("tanh", [ty("f32", [2, 8, 13, 13])])).toEqual(ty("f32", [2, 8, 13, 13]));
    expect(infer("abs", [ty("i32", [])])).toEqual(ty("i32", []));
  });

  it("rejects dtypes outside its row", () => {
    expectOpError(
      () => infer("exp", [ty("i32", [2, 3])]),
      "NN4003",
      "exp: expects f32, got i32[2, 3]",
    );
    expectOpError(
      () => infer("neg", [ty("bool", [2])]),
      "NN4003",
      "neg: expects f32 or i32, got bool[2]",
    );
    expectOpError(() => infer("not", [ty("f32", [2])]), "NN4003", "not: expects bool, got f32[2]");
  });
});

describe("cast", () => {
  it("f32 → i32 truncates toward zero and saturates at the extremes both types hold, as WGSL does (NaN → 0)", () => {
    const x = f32([7], [1.7, -1.7, 0.5, -0.5, Number.NaN, 3e9, -3e9]);
    const out = run("cast", [x], { to: "i32" });
    expect(out.dtype).toBe("i32");
    expect(values(out)).toEqual([1, -1, 0, 0, 0, 2147483520, -2147483648]);
  });

  it("i32 → f32 rounds to the nearest f32", () => {
    expect(values(run("cast", [i32([3], [-5, 16777217, 0])], { to: "f32" }))).toEqual([
      -5, 16777216, 0,
    ]);
  });

  it("bool → f32/i32 is 0/1; anything → bool is != 0", () => {
    expect(values(run("cast", [bool([2], [0, 1])], { to: "f32" }))).toEqual([0, 1]);
    expect(values(run("cast", [bool([2], [0, 1])], { to: "i32" }))).toEqual([0, 1]);
    expect(values(run("cast", [f32([5], [0, -0, 0.5, -2, Number.NaN])], { to: "bool" }))).toEqual([
      0, 0, 1, 1, 1,
    ]);
    expect(values(run("cast", [i32([3], [0, 3, -1])], { to: "bool" }))).toEqual([0, 1, 1]);
  });

  it("infers the target dtype", () => {
    expect(infer("cast", [ty("f32", [2, 3])], { to: "bool" })).toEqual(ty("bool", [2, 3]));
  });

  it("rejects an unknown target", () => {
    expectOpError(
      () => infer("cast", [ty("f32", [2])], { to: "f16" }),
      "NN4006",
      /^cast: invalid to: /,
    );
  });
});

describe("erf", () => {
  // Reference values from mpmath at 40 digits, rounded to double.
  const table: [number, number][] = [
    [1e-300, 1.1283791670955126e-300],
    [1e-10, 1.1283791670955126e-10],
    [0.01, 0.011283415555849618],
    [0.1, 0.1124629160182849],
    [0.25, 0.27632639016823696],
    [0.5, 0.5204998778130465],
    [0.84375, 0.7672256612323416],
    [1, 0.8427007929497149],
    [1.25, 0.9229001282564583],
    [1.5, 0.9661051464753108],
    [1.9999, 0.9953201979070294],
    [2, 0.9953222650189527],
    [2.0001, 0.9953243313041966],
    [2.5, 0.999593047982555],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
    [5.9, 0.9999999999999999],
    [-0.3, -0.3286267594591274],
    [-2, -0.9953222650189527],
    [-4.5, -0.9999999998033839],
  ];
  for (const [x, y] of table) {
    it(`erf(${x}) = ${y} to 1.5e-15 relative`, () => {
      expect(Math.abs(erf(x) - y) / Math.abs(y)).toBeLessThanOrEqual(1.5e-15);
    });
  }

  it("is odd, saturates and keeps NaN", () => {
    for (const x of [0.3, 1.7, 2.2, 4.1]) expect(erf(-x)).toBe(-erf(x));
    expect(erf(0)).toBe(0);
    expect(erf(6)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(Infinity)).toBe(1);
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
  });

  it("as an op rounds to f32", () => {
    const out = run("erf", [f32([3], [0.5, 1, -2])]);
    expectClose(
      values(out),
      fround([0.5204998778130465, 0.8427007929497149, -0.9953222650189527]),
      0,
    );
  });
});
