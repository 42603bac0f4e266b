// permute: output axis i is input axis perm[i].

import { z } from "zod";
import { formatType, numel, stridesOf } from "../core/types.js";
import type { IExpr } from "../kernels/expr.js";
import { nonNegInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { forEachIndex, formatShape } from "./shape-utils.js";
import { gatherElements } from "./tensor-data.js";

export const permute = defineOp({
  name: "permute",
  category: "injective",
  arity: 1,
  attrs: z.strictObject({ perm: z.array(nonNegInt) }),
  infer([x], a) {
    const rank = x!.shape.length;
    const seen = new Set(a.perm);
    if (a.perm.length !== rank || seen.size !== rank || a.perm.some((p) => p >= rank)) {
      throw new OpError(
        "NN4006",
        `permute: ${formatShape(a.perm)} is not a permutation of the ${rank} axes of ${formatType(x!)}`,
      );
    }
    return { dtype: x!.dtype, shape: a.perm.map((p) => x!.shape[p]!) };
  },
  evaluate([x], a) {
    const shape = a.perm.map((p) => x!.shape[p]!);
    const inStrides = stridesOf(x!.shape);
    const map = new Int32Array(numel(shape));
    forEachIndex(shape, (idx, flat) => {
      let src = 0;
      for (let i = 0; i < idx.length; i++) src += idx[i]! * inStrides[a.perm[i]!]!;
      map[flat] = src;
    });
    return gatherElements(x!, shape, map);
  },
  lower:
    ([x], a) =>
    (index) => {
      const at = new Array<IExpr>(index.length);
      a.perm.forEach((p, i) => {
        at[p] = index[i]!;
      });
      return x!.at(at);
    },
  vjp(g, node, cot) {
    const inverse: number[] = [];
    node.attrs.perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [g.emit("permute", [cot], { perm: inverse })];
  },
});
