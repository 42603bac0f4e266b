// pad: constant padding, [before, after] elements per axis (≥ 0; cropping is
// a slice). value may be ±inf (max-pooling style padding).

import { z } from "zod";
import { formatType, numel, stridesOf, type TensorType } from "../core/types.js";
import { cand, ctrue, inBounds, isub, vconst, vselect, vtest } from "../kernels/expr.js";
import { computeType } from "../kernels/index-maps.js";
import { anyNumber, nonNegInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { forEachIndex } from "./shape-utils.js";
import { gatherElements } from "./tensor-data.js";

const padAttrs = z.strictObject({
  pads: z.array(z.tuple([nonNegInt, nonNegInt])),
  value: anyNumber.default(0),
});

function paddedShape(x: TensorType, a: z.output<typeof padAttrs>): number[] {
  if (a.pads.length !== x.shape.length) {
    throw new OpError(
      "NN4006",
      `pad: needs one [before, after] pair per axis of ${formatType(x)}, got ${a.pads.length}`,
    );
  }
  if ((x.dtype === "i32" || x.dtype === "i64") && !Number.isInteger(a.value)) {
    throw new OpError(
      "NN4006",
      `pad: value ${a.value} is not an integer but the input is ${formatType(x)}`,
    );
  }
  return x.shape.map((d, i) => d + a.pads[i]![0] + a.pads[i]![1]);
}

export const pad = defineOp({
  name: "pad",
  category: "injective",
  arity: 1,
  attrs: padAttrs,
  infer: ([x], a) => ({ dtype: x!.dtype, shape: paddedShape(x!, a) }),
  evaluate([x], a) {
    const shape = paddedShape(x!, a);
    const inStrides = stridesOf(x!.shape);
    const map = new Int32Array(numel(shape));
    forEachIndex(shape, (idx, flat) => {
      let src = 0;
      for (let i = 0; i < idx.length; i++) {
        const j = idx[i]! - a.pads[i]![0];
        if (j < 0 || j >= x!.shape[i]!) {
          src = -1;
          break;
        }
        src += j * inStrides[i]!;
      }
      map[flat] = src;
    });
    return gatherElements(x!, shape, map, a.value);
  },
  lower([x], a) {
    const fill = vconst(a.value, computeType(x!.type.dtype));
    return (index) => {
      const at = index.map((i, d) => isub(i, a.pads[d]![0]));
      const inside = at.reduce((c, j, d) => cand(c, inBounds(j, x!.type.shape[d]!)), ctrue);
      return vselect(vtest(inside), x!.at(at), fill);
    };
  },
  // The cotangent of the unpadded region.
  vjp(g, node, cot) {
    const shape = g.type(node.inputs[0]!).shape;
    const starts = node.attrs.pads.map((p) => p[0]);
    return [g.emit("slice", [cot], { starts, ends: starts.map((s, d) => s + shape[d]!) })];
  },
});
