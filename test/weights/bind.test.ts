// Binding loaded weights to a graph's params: every problem reported at once, by name.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NncError } from "../../compiler/core/diagnostics.js";
import { type Tensor, zerosTensor } from "../../compiler/core/tensor.js";
import type { DType } from "../../compiler/core/types.js";
import type { GraphParam } from "../../compiler/graph/graph.js";
import { bindWeights } from "../../runtime/weights/bind.js";
import { readSafetensors, writeSafetensors } from "../../runtime/weights/safetensors.js";
import { seededParams } from "../../runtime/weights/seeded.js";

const dir = mkdtempSync(join(tmpdir(), "nnc-bind-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = "lenet.safetensors";

function param(name: string, shape: number[], dtype: DType = "f32"): GraphParam {
  const init = dtype === "f32" ? "uniform" : "untouched";
  return {
    name,
    node: 0,
    kind: dtype === "i64" ? "buffer" : "parameter",
    init,
    type: { dtype, shape },
  };
}

const params: GraphParam[] = [
  param("conv1.weight", [6, 1, 5, 5]),
  param("conv1.bias", [6]),
  param("bn.num_batches_tracked", [], "i64"),
  param("fc.weight", [10, 84]),
  param("fc.bias", [10]),
];

const zeros = (shape: number[], dtype: DType = "f32"): Tensor => zerosTensor({ dtype, shape });

function bindError(loaded: Map<string, Tensor>): NncError {
  try {
    bindWeights(params, loaded, SOURCE);
  } catch (e) {
    if (e instanceof NncError) return e;
    throw e;
  }
  throw new Error("expected an NncError");
}

describe("bindWeights", () => {
  it("binds a complete file and returns tensors by param name", () => {
    const loaded = seededParams(params);
    const bound = bindWeights(params, loaded, SOURCE);
    expect([...bound.keys()]).toEqual(params.map((p) => p.name));
    expect(bound.get("fc.weight")).toBe(loaded.get("fc.weight"));
  });

  it("reports missing, unexpected and mis-shaped weights together", () => {
    const loaded = new Map<string, Tensor>([
      ["conv1.weight", zeros([6, 1, 5, 5])],
      ["conv1.bais", zeros([6])], // a typo of the missing conv1.bias
      ["bn.num_batches_tracked", zeros([], "i64")],
      ["fc.weight", zeros([10, 80])],
      ["classifier.weight", zeros([3])],
      // fc.bias missing too
    ]);
    const e = bindError(loaded);
    expect(e.diagnostics.map((d) => d.code)).toEqual([
      "NN6003",
      "NN6003",
      "NN6004",
      "NN6004",
      "NN6005",
    ]);
    const messages = e.diagnostics.map((d) => d.message);
    expect(messages[0]).toBe(`${SOURCE}: missing weight \`conv1.bias\` (f32[6])`);
    expect(messages[1]).toBe(`${SOURCE}: missing weight \`fc.bias\` (f32[10])`);
    expect(messages[2]).toContain("unexpected weight `conv1.bais`");
    expect(messages[2]).toContain("did you mean `conv1.bias`?");
    expect(messages[3]).toContain("unexpected weight `classifier.weight`");
    expect(messages[3]).not.toContain("did you mean");
    expect(messages[4]).toBe(`${SOURCE}: \`fc.weight\`: expected [10, 84], file has [10, 80]`);
  });

  it("refuses a float param stored as I64 and a counter stored as float", () => {
    const loaded = seededParams(params);
    loaded.set("fc.bias", zeros([10], "i64"));
    loaded.set("bn.num_batches_tracked", zeros([], "f32"));
    const e = bindError(loaded);
    expect(e.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["NN6006", `${SOURCE}: \`bn.num_batches_tracked\`: expected i64, file has f32`],
      ["NN6006", `${SOURCE}: \`fc.bias\`: expected f32, file has i64`],
    ]);
  });

  it("converts between i32 and i64 when the values fit", () => {
    const counters: GraphParam[] = [param("n", [2], "i64"), param("m", [1], "i32")];
    const bound = bindWeights(
      counters,
      new Map<string, Tensor>([
        ["n", { dtype: "i32", shape: [2], data: new Int32Array([3, -1]) }],
        ["m", { dtype: "i64", shape: [1], data: new BigInt64Array([7n]) }],
      ]),
      SOURCE,
    );
    expect(bound.get("n")).toEqual({
      dtype: "i64",
      shape: [2],
      data: new BigInt64Array([3n, -1n]),
    });
    expect(bound.get("m")).toEqual({ dtype: "i32", shape: [1], data: new Int32Array([7]) });
    expect(() =>
      bindWeights(
        [param("m", [1], "i32")],
        new Map([
          ["m", { dtype: "i64", shape: [1], data: new BigInt64Array([2n ** 40n]) } as Tensor],
        ]),
        SOURCE,
      ),
    ).toThrow(/NN6006.*do not fit i32/);
  });

  it("binds seeded weights written to and read from a .safetensors file", () => {
    const path = join(dir, "lenet.safetensors");
    writeSafetensors(path, seededParams(params));
    const bound = bindWeights(params, readSafetensors(path), path);
    expect(bound).toEqual(seededParams(params));
  });
});
