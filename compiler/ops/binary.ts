// Binary ops with NumPy broadcasting: one per row of the scalar table
// (scalar.ts), which gives the accepted dtypes (both operands share one, the
// result has it) and the semantics. Comparisons are one op, `cmp`.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { type DType, sameShape, type TensorType } from "../core/types.js";
import { type IExpr, vbinary, vcmp } from "../kernels/expr.js";
import { broadcastIndex, computeType } from "../kernels/index-maps.js";
import { defineOp, type LowerOperand, type OpDef, OpError } from "./op.js";
import {
  type BinaryFn,
  type BinaryGrad,
  binaryFnNames,
  binaryTable,
  cmpFnNames,
  evalBinary,
  evalCmp,
} from "./scalar.js";
import {
  broadcastIndexMap,
  broadcastShapes,
  expectDTypes,
  expectSameDType,
  formatTypeList,
} from "./shape-utils.js";
import { readAt, tensorFrom } from "./tensor-data.js";

/** The broadcast result type of same-dtype operands (NN4003 / NN4001 otherwise). */
export function inferBroadcast(
  op: string,
  inputs: TensorType[],
  dtypes: readonly DType[],
): number[] {
  expectDTypes(op, inputs, dtypes);
  expectSameDType(op, inputs);
  const shape = broadcastShapes(inputs.map((t) => t.shape));
  if (shape === undefined) {
    throw new OpError("NN4001", `${op}: shapes ${formatTypeList(inputs)} do not broadcast`);
  }
  return shape;
}

/** For each output element, a reader of the broadcast input element. */
export function broadcastReaders(inputs: Tensor[], shape: number[]): ((i: number) => number)[] {
  return inputs.map((t) => {
    if (sameShape(t.shape, shape)) return (i: number) => readAt(t, i);
    const map = broadcastIndexMap(t.shape, shape);
    return (i: number) => readAt(t, map[i]!);
  });
}

/** Reads each operand at the broadcast of the output index. */
export function broadcastOperands(inputs: LowerOperand[], index: IExpr[]) {
  return inputs.map((x) => x.at(broadcastIndex(index, x.type.shape)));
}

function binaryOp(name: BinaryFn): OpDef {
  const dtypes = [...binaryTable[name].dtypes];
  return defineOp({
    name,
    category: "broadcast",
    arity: 2,
    attrs: z.strictObject({}),
    infer(inputs) {
      const shape = inferBroadcast(name, inputs, dtypes);
      return { dtype: inputs[0]!.dtype, shape };
    },
    evaluate(inputs) {
      const dtype = inputs[0]!.dtype;
      const t = computeType(dtype);
      const shape = broadcastShapes(inputs.map((t) => t.shape))!;
      const [a, b] = broadcastReaders(inputs, shape);
      return tensorFrom(dtype, shape, (i) => evalBinary(name, a!(i), b!(i), t));
    },
    lower: (inputs) => (index) => {
      const [a, b] = broadcastOperands(inputs, index);
      return vbinary(name, a!, b!);
    },
    ...binaryVjp(binaryTable[name].grad),
  });
}

function binaryVjp(grad: BinaryGrad | undefined): Pick<OpDef, "vjp"> {
  if (!grad) return {};
  return {
    vjp(g, node, cot) {
      const [a, b] = node.inputs as [number, number];
      const [ca, cb] = grad(g, a, b, node.output, cot);
      return [g.unbroadcast(ca, g.type(a).shape), g.unbroadcast(cb, g.type(b).shape)];
    },
  };
}

export const cmp = defineOp({
  name: "cmp",
  category: "broadcast",
  arity: 2,
  attrs: z.strictObject({ op: z.enum(cmpFnNames) }),
  infer(inputs) {
    return { dtype: "bool", shape: inferBroadcast("cmp", inputs, ["f32", "i32", "bool"]) };
  },
  evaluate(inputs, attrs) {
    const shape = broadcastShapes(inputs.map((t) => t.shape))!;
    const [a, b] = broadcastReaders(inputs, shape);
    return tensorFrom("bool", shape, (i) => evalCmp(attrs.op, a!(i), b!(i)));
  },
  lower: (inputs, attrs) => (index) => {
    const [a, b] = broadcastOperands(inputs, index);
    return vcmp(attrs.op, a!, b!);
  },
});

export const binaryOps: OpDef[] = [...binaryFnNames.map(binaryOp), cmp];
