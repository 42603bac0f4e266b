// reshape: the same elements in row-major order under a new concrete shape.

import { z } from "zod";
import { formatType, numel } from "../core/types.js";
import { delinearize, linearize } from "../kernels/index-maps.js";
import { shapeAttr } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { formatShape } from "./shape-utils.js";
import { gatherElements } from "./tensor-data.js";

export const reshape = defineOp({
  name: "reshape",
  category: "injective",
  arity: 1,
  attrs: z.strictObject({ shape: shapeAttr }),
  infer([x], a) {
    const from = numel(x!.shape);
    const to = numel(a.shape);
    if (from !== to) {
      throw new OpError(
        "NN4002",
        `reshape: cannot reshape ${formatType(x!)} (${from} elements) to ${formatShape(a.shape)} (${to} elements)`,
      );
    }
    return { dtype: x!.dtype, shape: [...a.shape] };
  },
  evaluate([x], a) {
    const map = Array.from({ length: numel(a.shape) }, (_, i) => i);
    return gatherElements(x!, [...a.shape], map);
  },
  lower:
    ([x], a) =>
    (index) =>
      x!.at(delinearize(linearize(index, a.shape), x!.type.shape)),
  vjp: (g, node, cot) => [g.emit("reshape", [cot], { shape: [...g.type(node.inputs[0]!).shape] })],
});
