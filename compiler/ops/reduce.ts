// Reductions over a set of axes (sum, max, mean), keepdims optional. Sums
// accumulate in float64 and round once into the output.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { type DType, formatType, numel, stridesOf, type TensorType } from "../core/types.js";
import { type IExpr, type ReduceKind, vbinary, vconst, vreduce } from "../kernels/expr.js";
import { axesAttr } from "./attrs.js";
import { defineOp, type OpDef, OpError } from "./op.js";
import { expectAxis, expectDTypes, forEachIndex } from "./shape-utils.js";
import { readAt, tensorFrom } from "./tensor-data.js";

interface ReduceRow {
  name: string;
  /** The Kernel IR reduction; mean is a sum divided by the count. */
  kind: ReduceKind;
  dtypes: DType[];
  init: number;
  step: (acc: number, x: number) => number;
  finish: (acc: number, count: number) => number;
}

const rows: ReduceRow[] = [
  {
    name: "reduce_sum",
    kind: "sum",
    dtypes: ["f32", "i32"],
    init: 0,
    step: (a, x) => a + x,
    finish: (a) => a,
  },
  {
    name: "reduce_max",
    kind: "max",
    dtypes: ["f32", "i32"],
    init: Number.NEGATIVE_INFINITY,
    // NaN wins and stays, like torch.amax.
    step: (a, x) => (x > a || Number.isNaN(x) ? x : a),
    finish: (a) => a,
  },
  {
    name: "reduce_mean",
    kind: "sum",
    dtypes: ["f32"],
    init: 0,
    step: (a, x) => a + x,
    finish: (a, n) => a / n,
  },
];

const reduceAttrs = z.strictObject({ axes: axesAttr, keepdims: z.boolean().default(false) });

function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean) {
  const out: number[] = [];
  shape.forEach((d, a) => {
    if (!axes.includes(a)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function reduceOp(row: ReduceRow): OpDef {
  return defineOp({
    name: row.name,
    category: "reduction",
    arity: 1,
    attrs: reduceAttrs,
    infer([x], a): TensorType {
      expectDTypes(row.name, [x!], row.dtypes);
      for (const axis of a.axes) expectAxis(row.name, axis, x!);
      if (row.name === "reduce_max" && a.axes.some((axis) => x!.shape[axis] === 0)) {
        throw new OpError(
          "NN4002",
          `${row.name}: cannot reduce an empty axis of ${formatType(x!)}`,
        );
      }
      return { dtype: x!.dtype, shape: reducedShape(x!.shape, a.axes, a.keepdims) };
    },
    evaluate([x], a): Tensor {
      // Output element of each input element: the input index with reduced axes dropped.
      const kept = reducedShape(x!.shape, a.axes, true);
      const keptStrides = stridesOf(kept);
      const acc = new Float64Array(numel(kept)).fill(row.init);
      forEachIndex(x!.shape, (idx, flat) => {
        let o = 0;
        for (let d = 0; d < idx.length; d++)
          if (!a.axes.includes(d)) o += idx[d]! * keptStrides[d]!;
        acc[o] = row.step(acc[o]!, readAt(x!, flat));
      });
      const count = a.axes.reduce((n, axis) => n * x!.shape[axis]!, 1);
      const shape = reducedShape(x!.shape, a.axes, a.keepdims);
      return tensorFrom(x!.dtype, shape, (i) => row.finish(acc[i]!, count));
    },
    lower:
      ([x], a, _out, ctx) =>
      (index) => {
        // Kept axes read the output index in order (skipping keepdims' 1s); reduced axes get a variable each.
        const vars = a.axes.map((axis) => ctx.fresh("r", x!.type.shape[axis]!));
        let next = 0;
        const at: IExpr[] = x!.type.shape.map((_, d) => {
          const r = a.axes.indexOf(d);
          if (r < 0) return index[next++]!;
          if (a.keepdims) next++;
          return vars[r]!;
        });
        const total = vreduce(row.kind, vars, x!.at(at));
        if (row.name !== "reduce_mean") return total;
        const count = a.axes.reduce((n, axis) => n * x!.type.shape[axis]!, 1);
        return vbinary("div", total, vconst(count, "f32"));
      },
    vjp(g, node, cot) {
      const x = node.inputs[0]!;
      const shape = g.type(x).shape;
      const kept = reducedShape(shape, node.attrs.axes, true);
      const spread = (t: number) =>
        g.emit("broadcast", [g.emit("reshape", [t], { shape: kept })], { shape: [...shape] });
      const c = spread(cot);
      if (row.name === "reduce_sum") return [c];
      if (row.name === "reduce_mean") {
        const count = node.attrs.axes.reduce((n, axis) => n * shape[axis]!, 1);
        return [g.emit("div", [c, g.scalar(count)])];
      }
      // max: to the maxima, split evenly among ties (torch.amax).
      const hit = g.emit("cast", [g.emit("cmp", [x, spread(node.output)], { op: "eq" })], {
        to: "f32",
      });
      const ties = spread(g.emit("reduce_sum", [hit], { axes: node.attrs.axes, keepdims: true }));
      return [g.emit("div", [g.emit("mul", [c, hit]), ties])];
    },
  });
}

export const reduceOps: OpDef[] = rows.map(reduceOp);
