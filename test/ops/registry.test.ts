import { describe, expect, it } from "vitest";
import { cpuEvalContext } from "../../compiler/graph/interpret.js";
import { checkArity, getOp, inferOp, ops, parseAttrs } from "../../compiler/ops/index.js";
import { OpError } from "../../compiler/ops/op.js";
import { expectOpError, infer, run, ty, values } from "./helpers.js";

describe("the op registry", () => {
  const expected: Record<string, string> = {
    input: "source",
    param: "source",
    const: "source",
    neg: "elementwise",
    abs: "elementwise",
    exp: "elementwise",
    log: "elementwise",
    sqrt: "elementwise",
    rsqrt: "elementwise",
    tanh: "elementwise",
    sigmoid: "elementwise",
    erf: "elementwise",
    relu: "elementwise",
    floor: "elementwise",
    ceil: "elementwise",
    hash32: "elementwise",
    not: "elementwise",
    cast: "elementwise",
    add: "broadcast",
    sub: "broadcast",
    mul: "broadcast",
    div: "broadcast",
    pow: "broadcast",
    max: "broadcast",
    min: "broadcast",
    cmp: "broadcast",
    and: "broadcast",
    or: "broadcast",
    where: "broadcast",
    reduce_sum: "reduction",
    reduce_max: "reduction",
    reduce_mean: "reduction",
    pool2d: "reduction",
    matmul: "out-elementwise-fusable",
    conv2d: "out-elementwise-fusable",
    conv_transpose2d: "out-elementwise-fusable",
    reshape: "injective",
    permute: "injective",
    slice: "injective",
    pad: "injective",
    concat: "injective",
    broadcast: "injective",
    gather: "injective",
    iota: "injective",
    scan: "opaque",
  };

  it("holds exactly the primitive op set with its fusion categories", () => {
    expect(Object.fromEntries([...ops].map(([name, op]) => [name, op.category]))).toEqual(expected);
    for (const [name, op] of ops) expect(op.name).toBe(name);
  });

  it("declares arities", () => {
    const arity = (n: string) => getOp(n).arity;
    expect([arity("input"), arity("const"), arity("iota")]).toEqual([0, 0, 0]);
    expect([arity("exp"), arity("cast"), arity("reduce_sum"), arity("pool2d")]).toEqual([
      1, 1, 1, 1,
    ]);
    expect([arity("add"), arity("cmp"), arity("matmul"), arity("conv2d"), arity("gather")]).toEqual(
      [2, 2, 2, 2, 2],
    );
    expect(arity("where")).toBe(3);
    expect(arity("concat")).toEqual({ min: 1 });
  });

  it("counts flops only for contractions (a scan: its body's, once per step)", () => {
    const counted = [...ops.values()].filter((op) => op.flops !== undefined).map((op) => op.name);
    expect(counted.sort()).toEqual(["conv2d", "conv_transpose2d", "matmul", "scan"]);
  });

  it("getOp throws for an unknown op, with a suggestion", () => {
    expect(() => getOp("conv2")).toThrow("unknown op `conv2`; did you mean `conv2d`?");
    expect(() => getOp("softmax")).toThrow("unknown op `softmax`");
  });

  it("parseAttrs fills defaults and reports bad attributes as NN4006", () => {
    expect(parseAttrs("reduce_sum", { axes: [1] })).toEqual({ axes: [1], keepdims: false });
    expect(parseAttrs("pool2d", { kind: "avg", kernel: [2, 2], stride: [2, 2] })).toEqual({
      kind: "avg",
      kernel: [2, 2],
      stride: [2, 2],
      pad: [0, 0],
      count_include_pad: true,
    });
    expectOpError(() => parseAttrs("conv2d", { groups: 0 }), "NN4006", /^conv2d: invalid groups: /);
    expectOpError(() => parseAttrs("reduce_sum", {}), "NN4006", /^reduce_sum: invalid axes: /);
    expectOpError(
      () => parseAttrs("add", { axis: 1 }),
      "NN4006",
      /^add: invalid attributes: .*axis/,
    );
  });

  it("inferOp checks the arity (an internal error)", () => {
    expectOpError(
      () => inferOp("add", [ty("f32", [1])], {}),
      "NN9001",
      "add: takes 2 inputs, got 1",
    );
    expectOpError(
      () => inferOp("concat", [], { axis: 0 }),
      "NN9001",
      "concat: takes at least 1 input, got 0",
    );
    expect(() => checkArity(getOp("where"), 3)).not.toThrow();
  });

  it("OpError carries a code and an optional hint", () => {
    const error = (() => {
      try {
        infer("matmul", [ty("f32", [2, 3]), ty("f32", [4, 5])]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OpError);
    expect((error as OpError).hint).toBe(
      "the last dim of the left operand (3) must equal the second-to-last dim of the right operand (4)",
    );
  });
});

describe("source ops", () => {
  it("input and param take their type from attrs and are bound by the interpreter", () => {
    expect(infer("input", [], { name: "x", dtype: "f32", shape: [1, 3] })).toEqual(
      ty("f32", [1, 3]),
    );
    expect(infer("param", [], { name: "fc.weight", dtype: "f32", shape: [10, 4] })).toEqual(
      ty("f32", [10, 4]),
    );
    const op = getOp("input");
    expect(() =>
      op.evaluate([], op.attrs.parse({ name: "x", dtype: "f32", shape: [1] }), cpuEvalContext),
    ).toThrow(/bound by the interpreter/);
  });

  it("const broadcast-fills one value or takes numel values", () => {
    expect(values(run("const", [], { dtype: "f32", shape: [2, 2], value: [0.5] }))).toEqual([
      0.5, 0.5, 0.5, 0.5,
    ]);
    expect(values(run("const", [], { dtype: "i32", shape: [3], value: [1, 2, 3] }))).toEqual([
      1, 2, 3,
    ]);
    expect(values(run("const", [], { dtype: "f32", shape: [], value: [-Infinity] }))).toEqual([
      -Infinity,
    ]);
    expect(values(run("const", [], { dtype: "f32", shape: [1], value: [0.1] }))).toEqual([
      Math.fround(0.1),
    ]);
    expect(values(run("const", [], { dtype: "bool", shape: [2], value: [0, 2] }))).toEqual([0, 1]);
    const i64 = run("const", [], { dtype: "i64", shape: [1], value: [7] });
    expect(i64.data).toEqual(new BigInt64Array([7n]));
  });

  it("const rejects a wrong number of values and fractional integers", () => {
    expectOpError(
      () => infer("const", [], { dtype: "f32", shape: [2, 2], value: [1, 2, 3] }),
      "NN4006",
      "const: 3 values for shape [2, 2] (need 1 or 4)",
    );
    expectOpError(
      () => infer("const", [], { dtype: "i32", shape: [1], value: [1.5] }),
      "NN4006",
      "const: i32 values must be integers",
    );
  });

  it("source ops are arity 0", () => {
    expect(values(run("const", [], { dtype: "f32", shape: [1], value: [3] }))).toEqual([3]);
    expectOpError(
      () => inferOp("const", [ty("f32", [1])], { dtype: "f32", shape: [1], value: [3] }),
      "NN9001",
      "const: takes 0 inputs, got 1",
    );
  });
});
