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
});
