// gather: picks slices of `data` along an axis by i32 indices (embedding
// lookups, local attention windows). Output shape
// data.shape[:axis] ++ indices.shape ++ data.shape[axis+1:]. An index outside
// [0, dim) is a run-time error (NN7001), never a clamp or wrap.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { formatType, numel, stridesOf, type TensorType } from "../core/types.js";
import { imax, imin, ivalue } from "../kernels/expr.js";
import { nonNegInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { expectAxis, formatShape } from "./shape-utils.js";
import { gatherElements } from "./tensor-data.js";

function gatherShape(data: TensorType, indices: TensorType, axis: number): number[] {
  expectAxis("gather", axis, data);
  if (indices.dtype !== "i32") {
    throw new OpError("NN4003", `gather: indices must be i32, got ${formatType(indices)}`);
  }
  return [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
}

/**
 * NN7001 (as an OpError) for the first index outside [0, dim) of `data`'s
 * axis. The CPU backend checks every gather; WebGPU checks indices that are
 * graph inputs on the host before they are uploaded.
 */
export function checkGatherIndices(data: TensorType, indices: Tensor, axis: number): void {
  const dim = data.shape[axis]!;
  const idx = indices.data as Int32Array;
  for (let p = 0; p < idx.length; p++) {
    const v = idx[p]!;
    if (v < 0 || v >= dim) {
      const strides = stridesOf(indices.shape);
      const position = strides.map((s, i) => Math.floor(p / s) % indices.shape[i]!);
      throw new OpError(
        "NN7001",
        `gather: index ${v} at position ${formatShape(position)} is out of range [0, ${dim}) for axis ${axis} of ${formatType(data)}`,
      );
    }
  }
}

export const gather = defineOp({
  name: "gather",
  category: "injective",
  arity: 2,
  attrs: z.strictObject({ axis: nonNegInt }),
  infer: ([data, indices], a) => ({
    dtype: data!.dtype,
    shape: gatherShape(data!, indices!, a.axis),
  }),
  evaluate([data, indices], a): Tensor {
    const shape = gatherShape(data!, indices!, a.axis);
    const dim = data!.shape[a.axis]!;
    const inner = numel(data!.shape.slice(a.axis + 1));
    const count = numel(indices!.shape);
    const idx = indices!.data as Int32Array;
    checkGatherIndices(data!, indices!, a.axis);
    // Output element (outer o, index p, inner e) reads data[o, idx[p], e].
    const map = new Int32Array(numel(shape));
    let m = 0;
    const outer = numel(data!.shape.slice(0, a.axis));
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < count; p++) {
        const base = (o * dim + idx[p]!) * inner;
        for (let e = 0; e < inner; e++) map[m++] = base + e;
      }
    }
    return gatherElements(data!, shape, map);
  },
  lower([data, indices], a) {
    // A load whose index is another load's value. A kernel cannot report an
    // out-of-range index, so it clamps to [0, dim); indices that are graph
    // inputs are checked on the host first (compiler/graph/check-indices.ts).
    const dim = data!.type.shape[a.axis]!;
    const rank = indices!.type.shape.length;
    return (index) => {
      const position = index.slice(a.axis, a.axis + rank);
      const i = imin(imax(ivalue(indices!.at(position)), 0), Math.max(dim - 1, 0));
      return data!.at([...index.slice(0, a.axis), i, ...index.slice(a.axis + rank)]);
    };
  },
  // The data's cotangent is a scatter-add of the output's: as a one-hot matrix
  // product, onehot(indices)ᵀ · cot, so repeated indices add up (embedding rows).
  vjp(g, node, cot) {
    const [data, indices] = node.inputs as [number, number];
    const dShape = g.type(data).shape;
    const iShape = g.type(indices).shape;
    const axis = node.attrs.axis;
    const D = dShape[axis]!;
    const P = numel(iShape);
    const pre = numel(dShape.slice(0, axis));
    const post = numel(dShape.slice(axis + 1));
    const flat = g.emit("reshape", [indices], { shape: [P, 1] });
    const ids = g.emit("iota", [], { shape: [P, D], axis: 1, dtype: "i32" });
    const hit = g.emit("cmp", [flat, ids], { op: "eq" });
    const onehotT = g.emit("permute", [g.emit("cast", [hit], { to: "f32" })], { perm: [1, 0] });
    const c = g.emit("reshape", [cot], { shape: [pre, P, post] });
    const scattered = g.emit("matmul", [onehotT, c]);
    return [g.emit("reshape", [scattered], { shape: [...dShape] }), undefined];
  },
});
