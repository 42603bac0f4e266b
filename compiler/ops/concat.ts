// concat: joins one or more tensors of one dtype and rank along an axis;
// every other dim must match.

import { z } from "zod";
import { allocData, type Tensor } from "../core/tensor.js";
import { formatType, numel, type TensorType } from "../core/types.js";
import { icmp, isub, type VExpr, vselect, vtest } from "../kernels/expr.js";
import { nonNegInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { expectAxis, expectSameDType } from "./shape-utils.js";
import { copyElement } from "./tensor-data.js";

function concatShape(inputs: TensorType[], axis: number): number[] {
  const first = inputs[0]!;
  expectSameDType("concat", inputs);
  expectAxis("concat", axis, first);
  inputs.forEach((t, i) => {
    const same =
      t.shape.length === first.shape.length &&
      t.shape.every((d, a) => a === axis || d === first.shape[a]);
    if (!same) {
      throw new OpError(
        "NN4002",
        `concat: input ${i} is ${formatType(t)} but input 0 is ${formatType(first)}; all dims except axis ${axis} must match`,
      );
    }
  });
  const shape = [...first.shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis]!, 0);
  return shape;
}

export const concat = defineOp({
  name: "concat",
  category: "injective",
  arity: { min: 1 },
  attrs: z.strictObject({ axis: nonNegInt }),
  infer: (inputs, a) => ({ dtype: inputs[0]!.dtype, shape: concatShape(inputs, a.axis) }),
  evaluate(inputs, a): Tensor {
    // Each input is a sequence of `outer` blocks of dim·inner elements; the
    // output takes block b of every input in turn.
    const shape = concatShape(inputs, a.axis);
    const outer = numel(shape.slice(0, a.axis));
    const inner = numel(shape.slice(a.axis + 1));
    const data = allocData(inputs[0]!.dtype, numel(shape));
    let o = 0;
    for (let b = 0; b < outer; b++) {
      for (const t of inputs) {
        const block = t.shape[a.axis]! * inner;
        for (let e = 0; e < block; e++) copyElement(data, o++, t.data, b * block + e);
      }
    }
    return { dtype: inputs[0]!.dtype, shape, data };
  },
  lower(inputs, a) {
    // Input i covers [start_i, start_i + dim_i) of the axis: a chain of selects, last input innermost.
    const starts: number[] = [];
    let s = 0;
    for (const x of inputs) {
      starts.push(s);
      s += x.type.shape[a.axis]!;
    }
    return (index) => {
      const shifted = (i: number) =>
        inputs[i]!.at(index.map((x, d) => (d === a.axis ? isub(x, starts[i]!) : x)));
      const parts = inputs.map((_, i) => i).filter((i) => inputs[i]!.type.shape[a.axis]! > 0);
      let v: VExpr = shifted(parts[parts.length - 1]!);
      for (let p = parts.length - 2; p >= 0; p--) {
        const i = parts[p]!;
        v = vselect(vtest(icmp("lt", index[a.axis]!, starts[parts[p + 1]!]!)), shifted(i), v);
      }
      return v;
    };
  },
  // Each input's cotangent is its slab of the output's.
  vjp(g, node, cot) {
    const shape = g.type(cot).shape;
    let at = 0;
    return node.inputs.map((x) => {
      const d = g.type(x).shape[node.attrs.axis]!;
      const starts = shape.map((_, k) => (k === node.attrs.axis ? at : 0));
      const ends = shape.map((n, k) => (k === node.attrs.axis ? at + d : n));
      at += d;
      return g.emit("slice", [cot], { starts, ends });
    });
  },
});
