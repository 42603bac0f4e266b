// where(cond, a, b): elementwise select with all three operands broadcast.

import { z } from "zod";
import { formatType } from "../core/types.js";
import { vselect } from "../kernels/expr.js";
import { broadcastOperands, broadcastReaders } from "./binary.js";
import { defineOp, OpError } from "./op.js";
import { broadcastShapes, expectSameDType, formatTypeList } from "./shape-utils.js";
import { tensorFrom } from "./tensor-data.js";

export const where = defineOp({
  name: "where",
  category: "broadcast",
  arity: 3,
  attrs: z.strictObject({}),
  infer(inputs) {
    const cond = inputs[0]!;
    const a = inputs[1]!;
    const b = inputs[2]!;
    if (cond.dtype !== "bool") {
      throw new OpError("NN4003", `where: the condition must be bool, got ${formatType(cond)}`);
    }
    expectSameDType("where", [a, b]);
    const shape = broadcastShapes(inputs.map((t) => t.shape));
    if (shape === undefined) {
      throw new OpError("NN4001", `where: shapes ${formatTypeList(inputs)} do not broadcast`);
    }
    return { dtype: a.dtype, shape };
  },
  evaluate(inputs) {
    const shape = broadcastShapes(inputs.map((t) => t.shape))!;
    const [cond, a, b] = broadcastReaders(inputs, shape);
    return tensorFrom(inputs[1]!.dtype, shape, (i) => (cond!(i) !== 0 ? a!(i) : b!(i)));
  },
  lower: (inputs) => (index) => {
    const [cond, a, b] = broadcastOperands(inputs, index);
    return vselect(cond!, a!, b!);
  },
  vjp(g, node, cot) {
    const [cond, a, b] = node.inputs as [number, number, number];
    const zero = g.scalar(0);
    return [
      undefined,
      g.unbroadcast(g.emit("where", [cond, cot, zero]), g.type(a).shape),
      g.unbroadcast(g.emit("where", [cond, zero, cot]), g.type(b).shape),
    ];
  },
});
