// Unary elementwise ops: one per row of the scalar table (scalar.ts), which
// gives the dtypes it accepts (the output has the input's dtype) and its
// semantics; a new unary op is one row there. The cast op is here too.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { vcast, vunary } from "../kernels/expr.js";
import { computeType } from "../kernels/index-maps.js";
import { dtypeAttr } from "./attrs.js";
import { defineOp, type OpDef } from "./op.js";
import {
  castScalar,
  evalUnary,
  type UnaryFn,
  type UnaryGrad,
  unaryFnNames,
  unaryTable,
} from "./scalar.js";
import { expectDTypes } from "./shape-utils.js";
import { readAt, tensorFrom } from "./tensor-data.js";

function unaryOp(name: UnaryFn): OpDef {
  const dtypes = [...unaryTable[name].dtypes];
  return defineOp({
    name,
    category: "elementwise",
    arity: 1,
    attrs: z.strictObject({}),
    infer([x]) {
      expectDTypes(name, [x!], dtypes);
      return { dtype: x!.dtype, shape: [...x!.shape] };
    },
    evaluate([x]) {
      const t = computeType(x!.dtype);
      return tensorFrom(x!.dtype, [...x!.shape], (i) => evalUnary(name, readAt(x!, i), t));
    },
    lower:
      ([x]) =>
      (index) =>
        vunary(name, x!.at(index)),
    ...gradOf(unaryTable[name].grad),
  });
}

function gradOf(grad: UnaryGrad | undefined): Pick<OpDef, "vjp"> {
  return grad ? { vjp: (b, node, cot) => [grad(b, node.inputs[0]!, node.output, cot)] } : {};
}

export const unaryOps: OpDef[] = unaryFnNames.map(unaryOp);

export const cast = defineOp({
  name: "cast",
  category: "elementwise",
  arity: 1,
  attrs: z.strictObject({ to: dtypeAttr }),
  infer: ([x], a) => ({ dtype: a.to, shape: [...x!.shape] }),
  evaluate([x], a): Tensor {
    return tensorFrom(a.to, [...x!.shape], (i) => castScalar(readAt(x!, i), x!.dtype, a.to));
  },
  lower([x], a) {
    const to = computeType(a.to);
    return (index) => vcast(x!.at(index), to);
  },
  // Only a float → float cast carries a gradient (the identity); the rest are piecewise constant.
  vjp: (b, node, cot) => [
    b.type(node.inputs[0]!).dtype === "f32" && node.attrs.to === "f32" ? cot : undefined,
  ],
});
