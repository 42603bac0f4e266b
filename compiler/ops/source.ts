// Source ops: graph inputs, parameters and constants (arity 0). The CPU
// interpreter binds input and param values itself; a const evaluates from its
// attrs, which also lets constant folding run it like any other op.

import { z } from "zod";
import { numel } from "../core/types.js";
import { icmp, type VExpr, vconst, vselect, vtest } from "../kernels/expr.js";
import { computeType, linearize } from "../kernels/index-maps.js";
import { anyNumber, dtypeAttr, shapeAttr } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { formatShape } from "./shape-utils.js";
import { tensorFrom } from "./tensor-data.js";

function boundByInterpreter(op: string): never {
  throw new Error(`${op}: values of ${op} nodes are bound by the interpreter, not evaluated`);
}

export const input = defineOp({
  name: "input",
  category: "source",
  arity: 0,
  attrs: z.strictObject({ name: z.string(), dtype: dtypeAttr, shape: shapeAttr }),
  infer: (_inputs, a) => ({ dtype: a.dtype, shape: [...a.shape] }),
  evaluate: () => boundByInterpreter("input"),
});

export const param = defineOp({
  name: "param",
  category: "source",
  arity: 0,
  attrs: z.strictObject({ name: z.string(), dtype: dtypeAttr, shape: shapeAttr }),
  infer: (_inputs, a) => ({ dtype: a.dtype, shape: [...a.shape] }),
  evaluate: () => boundByInterpreter("param"),
});

export const constant = defineOp({
  name: "const",
  category: "source",
  arity: 0,
  attrs: z.strictObject({ dtype: dtypeAttr, shape: shapeAttr, value: z.array(anyNumber) }),
  infer(_inputs, a) {
    const n = numel(a.shape);
    if (a.value.length !== 1 && a.value.length !== n) {
      throw new OpError(
        "NN4006",
        `const: ${a.value.length} values for shape ${formatShape(a.shape)} (need 1 or ${n})`,
      );
    }
    if ((a.dtype === "i32" || a.dtype === "i64") && !a.value.every(Number.isInteger)) {
      throw new OpError("NN4006", `const: ${a.dtype} values must be integers`);
    }
    return { dtype: a.dtype, shape: [...a.shape] };
  },
  evaluate(_inputs, a) {
    const v = a.value;
    return tensorFrom(a.dtype, [...a.shape], v.length === 1 ? () => v[0]! : (i) => v[i]!);
  },
  lower(_inputs, a) {
    // A splat is a literal; a few values become a select chain (the lowering
    // pass gives larger constants a buffer instead).
    const dtype = computeType(a.dtype);
    const v = a.value;
    if (v.length === 1) return () => vconst(v[0]!, dtype);
    return (index) => {
      const flat = linearize(index, a.shape);
      let e: VExpr = vconst(v[v.length - 1]!, dtype);
      for (let i = v.length - 2; i >= 0; i--)
        e = vselect(vtest(icmp("eq", flat, i)), vconst(v[i]!, dtype), e);
      return e;
    };
  },
});

export const sourceOps = [input, param, constant];
