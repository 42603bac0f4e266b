// broadcast: expands size-1 axes (and prepends axes) to a target shape,
// NumPy rules.

import { z } from "zod";
import { formatType } from "../core/types.js";
import { broadcastIndex } from "../kernels/index-maps.js";
import { shapeAttr } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { broadcastIndexMap, broadcastsTo, formatShape } from "./shape-utils.js";
import { gatherElements } from "./tensor-data.js";

export const broadcast = defineOp({
  name: "broadcast",
  category: "injective",
  arity: 1,
  attrs: z.strictObject({ shape: shapeAttr }),
  infer([x], a) {
    if (!broadcastsTo(x!.shape, a.shape)) {
      throw new OpError(
        "NN4001",
        `broadcast: cannot broadcast ${formatType(x!)} to ${formatShape(a.shape)}`,
      );
    }
    return { dtype: x!.dtype, shape: [...a.shape] };
  },
  evaluate([x], a) {
    return gatherElements(x!, [...a.shape], broadcastIndexMap(x!.shape, a.shape));
  },
  lower:
    ([x]) =>
    (index) =>
      x!.at(broadcastIndex(index, x!.type.shape)),
  vjp: (g, node, cot) => [g.unbroadcast(cot, g.type(node.inputs[0]!).shape)],
});
