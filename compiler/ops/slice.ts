// slice: per axis, the elements start, start+step, … below end. One entry
// per axis; 0 ≤ start ≤ end ≤ dim and step ≥ 1 (no negative indices: the
// elaborator resolves those). steps default to all ones.

import { z } from "zod";
import { formatType, numel, stridesOf, type TensorType } from "../core/types.js";
import { iadd, imul } from "../kernels/expr.js";
import { nonNegInt, posInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { ceilDiv, forEachIndex } from "./shape-utils.js";
import { gatherElements } from "./tensor-data.js";

const sliceAttrs = z.strictObject({
  starts: z.array(nonNegInt),
  ends: z.array(nonNegInt),
  steps: z.array(posInt).optional(),
});

type SliceAttrs = z.output<typeof sliceAttrs>;

function stepsOf(a: SliceAttrs, rank: number): number[] {
  return a.steps ?? new Array<number>(rank).fill(1);
}

function sliceShape(x: TensorType, a: SliceAttrs): number[] {
  const rank = x.shape.length;
  const steps = stepsOf(a, rank);
  if (a.starts.length !== rank || a.ends.length !== rank || steps.length !== rank) {
    throw new OpError(
      "NN4006",
      `slice: needs one start, end and step per axis of ${formatType(x)}, got ${a.starts.length} starts, ${a.ends.length} ends and ${steps.length} steps`,
    );
  }
  return x.shape.map((dim, i) => {
    const start = a.starts[i]!;
    const end = a.ends[i]!;
    if (start > end || end > dim) {
      throw new OpError(
        "NN4006",
        `slice: axis ${i} of ${formatType(x)}: need 0 ≤ start ≤ end ≤ ${dim}, got start ${start}, end ${end}`,
      );
    }
    return ceilDiv(end - start, steps[i]!);
  });
}

export const slice = defineOp({
  name: "slice",
  category: "injective",
  arity: 1,
  attrs: sliceAttrs,
  infer: ([x], a) => ({ dtype: x!.dtype, shape: sliceShape(x!, a) }),
  evaluate([x], a) {
    const shape = sliceShape(x!, a);
    const steps = stepsOf(a, shape.length);
    const inStrides = stridesOf(x!.shape);
    const map = new Int32Array(numel(shape));
    forEachIndex(shape, (idx, flat) => {
      let src = 0;
      for (let i = 0; i < idx.length; i++)
        src += (a.starts[i]! + idx[i]! * steps[i]!) * inStrides[i]!;
      map[flat] = src;
    });
    return gatherElements(x!, shape, map);
  },
  lower([x], a) {
    const steps = stepsOf(a, x!.type.shape.length);
    return (index) => x!.at(index.map((i, d) => iadd(imul(i, steps[d]!), a.starts[d]!)));
  },
  // Scatter the cotangent back: strided axes interleave zeros (reshape + pad),
  // then every axis is padded out to the input's extent.
  vjp(g, node, cot) {
    const inShape = g.type(node.inputs[0]!).shape;
    const steps = stepsOf(node.attrs, inShape.length);
    let c = cot;
    for (let d = 0; d < inShape.length; d++) {
      const shape = g.type(c).shape;
      const L = shape[d]!;
      const s = steps[d]!;
      if (s > 1 && L > 0) {
        const split = [...shape.slice(0, d + 1), 1, ...shape.slice(d + 1)];
        const pads = split.map((_, k): [number, number] => (k === d + 1 ? [0, s - 1] : [0, 0]));
        const spaced = g.emit("pad", [g.emit("reshape", [c], { shape: split })], { pads });
        c = g.emit("reshape", [spaced], { shape: shape.map((n, k) => (k === d ? n * s : n)) });
      }
      const cur = g.type(c).shape;
      const start = node.attrs.starts[d]!;
      const after = inShape[d]! - start - cur[d]!;
      if (after < 0) {
        const ends = cur.map((n, k) => (k === d ? n + after : n));
        c = g.emit("slice", [c], { starts: cur.map(() => 0), ends });
      }
      if (start > 0 || after > 0) {
        const pads = cur.map((_, k): [number, number] =>
          k === d ? [start, Math.max(0, after)] : [0, 0],
        );
        c = g.emit("pad", [c], { pads });
      }
    }
    return [c];
  },
});
