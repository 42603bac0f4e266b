import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bool, expectOpError, f32, i32, infer, range, run, t, ty, values } from "./helpers.js";

describe("reshape", () => {
  it("keeps row-major order", () => {
    const out = run("reshape", [range("f32", [2, 3])], { shape: [3, 1, 2] });
    expect(out.shape).toEqual([3, 1, 2]);
    expect(values(out)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("preserves i64 storage exactly", () => {
    const big = { dtype: "i64" as const, shape: [1], data: new BigInt64Array([2n ** 60n + 1n]) };
    const out = run("reshape", [big], { shape: [] });
    expect(out.data).toEqual(new BigInt64Array([2n ** 60n + 1n]));
  });

  it("rejects a different element count and -1", () => {
    expectOpError(
      () => infer("reshape", [ty("f32", [2, 3])], { shape: [4, 2] }),
      "NN4002",
      "reshape: cannot reshape f32[2, 3] (6 elements) to [4, 2] (8 elements)",
    );
    expectOpError(
      () => infer("reshape", [ty("f32", [2, 3])], { shape: [-1, 3] }),
      "NN4006",
      /^reshape: invalid shape\[0\]/,
    );
  });
});

describe("permute", () => {
  it("transposes a matrix", () => {
    const out = run("permute", [range("f32", [2, 3])], { perm: [1, 0] });
    expect(out.shape).toEqual([3, 2]);
    expect(values(out)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it("moves axes of a 3-D tensor: out[a, b, c] = x[b, c, a]", () => {
    // x[i, j, k] = 12i + 4j + k, shape [2, 3, 4]; perm [2, 0, 1] → shape [4, 2, 3]
    const out = run("permute", [range("i32", [2, 3, 4])], { perm: [2, 0, 1] });
    expect(out.shape).toEqual([4, 2, 3]);
    const expected: number[] = [];
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) expected.push(12 * b + 4 * c + a);
    expect(values(out)).toEqual(expected);
  });

  it("rejects non-permutations", () => {
    for (const perm of [[0, 0], [0], [0, 2], [0, 1, 2]]) {
      expectOpError(
        () => infer("permute", [ty("f32", [2, 3])], { perm }),
        "NN4006",
        `permute: [${perm.join(", ")}] is not a permutation of the 2 axes of f32[2, 3]`,
      );
    }
  });
});

describe("slice", () => {
  // x[i, j] = 4i + j, shape [3, 4]
  const x = range("f32", [3, 4]);

  it("takes a sub-block with steps", () => {
    const out = run("slice", [x], { starts: [1, 0], ends: [3, 4], steps: [1, 2] });
    expect(out.shape).toEqual([2, 2]);
    expect(values(out)).toEqual([4, 6, 8, 10]);
  });

  it("rounds the length up: ceil((end − start) / step)", () => {
    const out = run("slice", [x], { starts: [0, 1], ends: [3, 4], steps: [2, 3] });
    expect(out.shape).toEqual([2, 1]);
    expect(values(out)).toEqual([1, 9]);
  });

  it("steps default to 1 and empty slices are allowed", () => {
    expect(values(run("slice", [x], { starts: [2, 1], ends: [3, 3] }))).toEqual([9, 10]);
    expect(run("slice", [x], { starts: [1, 2], ends: [1, 4] }).shape).toEqual([0, 2]);
  });

  it("rejects out-of-range bounds and wrong lengths", () => {
    expectOpError(
      () => infer("slice", [ty("f32", [3, 4])], { starts: [0, 2], ends: [3, 5] }),
      "NN4006",
      "slice: axis 1 of f32[3, 4]: need 0 ≤ start ≤ end ≤ 4, got start 2, end 5",
    );
    expectOpError(
      () => infer("slice", [ty("f32", [3, 4])], { starts: [2, 0], ends: [1, 4] }),
      "NN4006",
      "slice: axis 0 of f32[3, 4]: need 0 ≤ start ≤ end ≤ 3, got start 2, end 1",
    );
    expectOpError(
      () => infer("slice", [ty("f32", [3, 4])], { starts: [0], ends: [3], steps: [1] }),
      "NN4006",
      "slice: needs one start, end and step per axis of f32[3, 4], got 1 starts, 1 ends and 1 steps",
    );
    expectOpError(
      () => infer("slice", [ty("f32", [3])], { starts: [0], ends: [3], steps: [0] }),
      "NN4006",
      /^slice: invalid steps\[0\]/,
    );
  });
});

describe("pad", () => {
  it("pads before and after each axis with a value", () => {
    // [[1, 2], [3, 4]] with one row before and two columns after, value 9
    const out = run("pad", [f32([2, 2], [1, 2, 3, 4])], {
      pads: [
        [1, 0],
        [0, 2],
      ],
      value: 9,
    });
    expect(out.shape).toEqual([3, 4]);
    expect(values(out)).toEqual([9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9]);
  });

  it("defaults to zeros and accepts -inf", () => {
    expect(values(run("pad", [f32([1], [5])], { pads: [[1, 1]] }))).toEqual([0, 5, 0]);
    expect(values(run("pad", [f32([1], [5])], { pads: [[0, 1]], value: -Infinity }))).toEqual([
      5,
      -Infinity,
    ]);
  });

  it("pads i32 and bool tensors", () => {
    expect(values(run("pad", [i32([2], [7, 8])], { pads: [[1, 0]], value: -1 }))).toEqual([
      -1, 7, 8,
    ]);
    expect(values(run("pad", [bool([1], [0])], { pads: [[0, 1]], value: 1 }))).toEqual([0, 1]);
  });

  it("rejects a wrong number of pairs, negative pads and fractional i32 values", () => {
    expectOpError(
      () => infer("pad", [ty("f32", [2, 2])], { pads: [[1, 1]] }),
      "NN4006",
      "pad: needs one [before, after] pair per axis of f32[2, 2], got 1",
    );
    expectOpError(
      () => infer("pad", [ty("f32", [2])], { pads: [[-1, 0]] }),
      "NN4006",
      /^pad: invalid pads\[0\]\[0\]/,
    );
    expectOpError(
      () => infer("pad", [ty("i32", [2])], { pads: [[1, 0]], value: 0.5 }),
      "NN4006",
      "pad: value 0.5 is not an integer but the input is i32[2]",
    );
  });
});

describe("concat", () => {
  it("joins along axis 0 and axis 1", () => {
    const a = f32([1, 2], [1, 2]);
    const b = f32([2, 2], [3, 4, 5, 6]);
    const rows = run("concat", [a, b], { axis: 0 });
    expect(rows.shape).toEqual([3, 2]);
    expect(values(rows)).toEqual([1, 2, 3, 4, 5, 6]);
    const c = f32([2, 1], [7, 8]);
    const cols = run("concat", [b, c, b], { axis: 1 });
    expect(cols.shape).toEqual([2, 5]);
    expect(values(cols)).toEqual([3, 4, 7, 3, 4, 5, 6, 8, 5, 6]);
  });

  it("concatenates channels of NCHW maps (DenseNet)", () => {
    // two batch items; a has 1 channel of 2 pixels, b has 2 channels
    const a = f32([2, 1, 1, 2], [1, 2, 3, 4]);
    const b = f32([2, 2, 1, 2], [10, 11, 12, 13, 14, 15, 16, 17]);
    const out = run("concat", [a, b], { axis: 1 });
    expect(out.shape).toEqual([2, 3, 1, 2]);
    expect(values(out)).toEqual([1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17]);
  });

  it("accepts one input", () => {
    expect(values(run("concat", [f32([2], [1, 2])], { axis: 0 }))).toEqual([1, 2]);
  });

  it("rejects mismatched inputs", () => {
    expectOpError(
      () => infer("concat", [ty("f32", [2, 3]), ty("f32", [2, 4])], { axis: 0 }),
      "NN4002",
      "concat: input 1 is f32[2, 4] but input 0 is f32[2, 3]; all dims except axis 0 must match",
    );
    expectOpError(
      () => infer("concat", [ty("f32", [2, 3]), ty("f32", [2, 3, 1])], { axis: 1 }),
      "NN4002",
      "concat: input 1 is f32[2, 3, 1] but input 0 is f32[2, 3]; all dims except axis 1 must match",
    );
    expectOpError(
      () => infer("concat", [ty("f32", [2]), ty("i32", [2])], { axis: 0 }),
      "NN4003",
      "concat: dtypes differ: f32[2] and i32[2]",
    );
    expectOpError(
      () => infer("concat", [ty("f32", [2]), ty("f32", [2])], { axis: 1 }),
      "NN4006",
      "concat: axis 1 is out of range for f32[2] (rank 1)",
    );
  });
});

describe("broadcast", () => {
  it("expands size-1 axes and prepends axes", () => {
    const out = run("broadcast", [f32([3, 1], [1, 2, 3])], { shape: [2, 3, 2] });
    expect(out.shape).toEqual([2, 3, 2]);
    expect(values(out)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expect(values(run("broadcast", [f32([], [7])], { shape: [2] }))).toEqual([7, 7]);
  });

  it("rejects incompatible targets", () => {
    expectOpError(
      () => infer("broadcast", [ty("f32", [3, 2])], { shape: [3, 4] }),
      "NN4001",
      "broadcast: cannot broadcast f32[3, 2] to [3, 4]",
    );
    expectOpError(
      () => infer("broadcast", [ty("f32", [2, 3])], { shape: [3] }),
      "NN4001",
      "broadcast: cannot broadcast f32[2, 3] to [3]",
    );
  });
});

describe("gather", () => {
  it("looks up embedding rows (axis 0)", () => {
    // table rows [0, 1], [2, 3], [4, 5], [6, 7]; indices [[3, 0], [1, 1]]
    const out = run("gather", [range("f32", [4, 2]), i32([2, 2], [3, 0, 1, 1])], { axis: 0 });
    expect(out.shape).toEqual([2, 2, 2]);
    expect(values(out)).toEqual([6, 7, 0, 1, 2, 3, 2, 3]);
  });

  it("gathers along an inner axis", () => {
    // [[1, 2, 3], [4, 5, 6]] columns [2, 0]
    const out = run("gather", [f32([2, 3], [1, 2, 3, 4, 5, 6]), i32([2], [2, 0])], { axis: 1 });
    expect(out.shape).toEqual([2, 2]);
    expect(values(out)).toEqual([3, 1, 6, 4]);
  });

  it("a scalar index drops the axis", () => {
    const out = run("gather", [f32([2, 3], [1, 2, 3, 4, 5, 6]), i32([], [1])], { axis: 0 });
    expect(out.shape).toEqual([3]);
    expect(values(out)).toEqual([4, 5, 6]);
  });

  it("fails at run time for an index out of range (NN7001)", () => {
    expectOpError(
      () => run("gather", [range("f32", [4, 3]), i32([1, 2], [0, 5])], { axis: 0 }),
      "NN7001",
      "gather: index 5 at position [0, 1] is out of range [0, 4) for axis 0 of f32[4, 3]",
    );
    expectOpError(
      () => run("gather", [range("f32", [4, 3]), i32([2], [-1, 0])], { axis: 1 }),
      "NN7001",
      "gather: index -1 at position [0] is out of range [0, 3) for axis 1 of f32[4, 3]",
    );
  });

  it("rejects non-i32 indices and a bad axis", () => {
    expectOpError(
      () => infer("gather", [ty("f32", [4, 3]), ty("f32", [2])], { axis: 0 }),
      "NN4003",
      "gather: indices must be i32, got f32[2]",
    );
    expectOpError(
      () => infer("gather", [ty("f32", [4, 3]), ty("i32", [2])], { axis: 2 }),
      "NN4006",
      "gather: axis 2 is out of range for f32[4, 3] (rank 2)",
    );
  });
});

describe("iota", () => {
  it("counts along the axis", () => {
    expect(values(run("iota", [], { shape: [2, 3], axis: 1, dtype: "i32" }))).toEqual([
      0, 1, 2, 0, 1, 2,
    ]);
    const rows = run("iota", [], { shape: [2, 3], axis: 0, dtype: "f32" });
    expect(rows.dtype).toBe("f32");
    expect(values(rows)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(values(run("iota", [], { shape: [2, 2, 2], axis: 1, dtype: "i32" }))).toEqual([
      0, 0, 1, 1, 0, 0, 1, 1,
    ]);
  });

  it("rejects an axis outside the shape and bool", () => {
    expectOpError(
      () => infer("iota", [], { shape: [4], axis: 1, dtype: "i32" }),
      "NN4006",
      "iota: axis 1 is out of range for shape [4] (rank 1)",
    );
    expectOpError(
      () => infer("iota", [], { shape: [4], axis: 0, dtype: "bool" }),
      "NN4006",
      /^iota: invalid dtype/,
    );
  });
});

// ---------------------------------------------------------------- properties

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });
const numelOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe("movement properties", () => {
  it("reshape to any factorisation and back is the identity", () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
        (shape, extra) => {
          const x = range("i32", shape);
          // flatten, then split into [numel / p, p] style shapes
          const flat = run("reshape", [x], { shape: [numelOf(shape)] });
          const target = [...extra.filter((e) => numelOf(shape) % e === 0).slice(0, 1)];
          const rest = numelOf(shape) / numelOf(target);
          const mid = run("reshape", [flat], { shape: [...target, rest] });
          const back = run("reshape", [mid], { shape });
          expect(back.shape).toEqual(shape);
          expect(values(back)).toEqual(values(x));
        },
      ),
    );
  });

  it("permute by p then by p⁻¹ is the identity", () => {
    fc.assert(
      fc.property(
        shapeArb.chain((shape) =>
          fc
            .shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: shape.length, maxLength: shape.length },
            )
            .map((perm) => ({ shape, perm })),
        ),
        ({ shape, perm }) => {
          const x = range("f32", shape);
          const inverse = perm.map((_, i) => perm.indexOf(i));
          const y = run("permute", [x], { perm });
          expect(y.shape).toEqual(perm.map((p) => shape[p]));
          const back = run("permute", [y], { perm: inverse });
          expect(values(back)).toEqual(values(x));
        },
      ),
    );
  });

  it("concat then slice recovers each part", () => {
    fc.assert(
      fc.property(
        shapeArb.chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            axis: fc.integer({ min: 0, max: shape.length - 1 }),
            sizes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
          }),
        ),
        ({ shape, axis, sizes }) => {
          let next = 0;
          const parts = sizes.map((s) => {
            const partShape = shape.map((d, i) => (i === axis ? s : d));
            const n = numelOf(partShape);
            const part = t(
              "i32",
              partShape,
              Array.from({ length: n }, () => next++),
            );
            return part;
          });
          const joined = run("concat", parts, { axis });
          let start = 0;
          for (const part of parts) {
            const starts = shape.map((_, i) => (i === axis ? start : 0));
            const ends = joined.shape.map((d, i) => (i === axis ? start + part.shape[axis]! : d));
            const back = run("slice", [joined], { starts, ends });
            expect(back.shape).toEqual(part.shape);
            expect(values(back)).toEqual(values(part));
            start += part.shape[axis]!;
          }
        },
      ),
    );
  });

  it("pad then slice recovers the input", () => {
    fc.assert(
      fc.property(
        shapeArb.chain((shape) =>
          fc
            .array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), {
              minLength: shape.length,
              maxLength: shape.length,
            })
            .map((pads) => ({ shape, pads })),
        ),
        ({ shape, pads }) => {
          const x = range("f32", shape);
          const padded = run("pad", [x], { pads, value: -1 });
          const back = run("slice", [padded], {
            starts: pads.map((p) => p[0]),
            ends: shape.map((d, i) => pads[i]![0] + d),
          });
          expect(values(back)).toEqual(values(x));
          const count = values(padded).filter((v) => v === -1).length;
          expect(count).toBe(numelOf(padded.shape) - numelOf(shape));
        },
      ),
    );
  });
});
