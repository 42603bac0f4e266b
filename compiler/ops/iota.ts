// iota: a tensor whose every element is its own coordinate along one axis
// (position indices for local attention, masks built with cmp).

import { z } from "zod";
import { stridesOf } from "../core/types.js";
import { vindex } from "../kernels/expr.js";
import { nonNegInt, shapeAttr } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { formatShape } from "./shape-utils.js";
import { tensorFrom } from "./tensor-data.js";

export const iota = defineOp({
  name: "iota",
  category: "injective",
  arity: 0,
  attrs: z.strictObject({ shape: shapeAttr, axis: nonNegInt, dtype: z.enum(["f32", "i32"]) }),
  infer(_inputs, a) {
    if (a.axis >= a.shape.length) {
      throw new OpError(
        "NN4006",
        `iota: axis ${a.axis} is out of range for shape ${formatShape(a.shape)} (rank ${a.shape.length})`,
      );
    }
    return { dtype: a.dtype, shape: [...a.shape] };
  },
  evaluate(_inputs, a) {
    const stride = stridesOf(a.shape)[a.axis]!;
    const dim = a.shape[a.axis]!;
    return tensorFrom(a.dtype, [...a.shape], (i) => Math.floor(i / stride) % dim);
  },
  lower: (_inputs, a) => (index) => vindex(index[a.axis]!, a.dtype),
  vjp: () => [],
});
