// matmul with NumPy semantics: a 1-D left operand is a row vector and a 1-D
// right operand a column vector (the added dim is dropped from the result);
// batch dims broadcast. Dot products accumulate in float64.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { formatType, numel, type TensorType } from "../core/types.js";
import { type IExpr, vbinary, vreduce } from "../kernels/expr.js";
import { broadcastIndex } from "../kernels/index-maps.js";
import { defineOp, OpError } from "./op.js";
import { broadcastIndexMap, broadcastShapes, expectDTypes } from "./shape-utils.js";

interface MatmulPlan {
  batch: number[];
  aBatch: number[];
  bBatch: number[];
  m: number;
  k: number;
  n: number;
  out: number[];
}

function plan(a: TensorType, b: TensorType): MatmulPlan {
  for (const t of [a, b]) {
    if (t.shape.length === 0) {
      throw new OpError("NN4002", `matmul: operands must have rank ≥ 1, got ${formatType(t)}`);
    }
  }
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const [m, k] = as.slice(-2) as [number, number];
  const [k2, n] = bs.slice(-2) as [number, number];
  if (k !== k2) {
    throw new OpError(
      "NN4002",
      `matmul: inner dimensions differ: ${formatType(a)} @ ${formatType(b)}`,
      `the last dim of the left operand (${k}) must equal the ${b.shape.length === 1 ? "length" : "second-to-last dim"} of the right operand (${k2})`,
    );
  }
  const aBatch = as.slice(0, -2);
  const bBatch = bs.slice(0, -2);
  const batch = broadcastShapes([aBatch, bBatch]);
  if (batch === undefined) {
    throw new OpError(
      "NN4001",
      `matmul: batch dimensions do not broadcast: ${formatType(a)} @ ${formatType(b)}`,
    );
  }
  const out = [...batch];
  if (a.shape.length > 1) out.push(m);
  if (b.shape.length > 1) out.push(n);
  return { batch, aBatch, bBatch, m, k, n, out };
}

export const matmul = defineOp({
  name: "matmul",
  category: "out-elementwise-fusable",
  arity: 2,
  attrs: z.strictObject({}),
  infer([a, b]) {
    expectDTypes("matmul", [a!, b!], ["f32"]);
    return { dtype: "f32", shape: plan(a!, b!).out };
  },
  evaluate([a, b]): Tensor {
    const { batch, aBatch, bBatch, m, k, n, out } = plan(a!, b!);
    const x = a!.data as Float32Array;
    const y = b!.data as Float32Array;
    const aMap = broadcastIndexMap(aBatch, batch);
    const bMap = broadcastIndexMap(bBatch, batch);
    const z = new Float32Array(numel(out));
    for (let p = 0; p < aMap.length; p++) {
      const aBase = aMap[p]! * m * k;
      const bBase = bMap[p]! * k * n;
      const zBase = p * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let t = 0; t < k; t++) acc += x[aBase + i * k + t]! * y[bBase + t * n + j]!;
          z[zBase + i * n + j] = acc;
        }
      }
    }
    return { dtype: "f32", shape: out, data: z };
  },
  lower([a, b], _attrs, _out, ctx) {
    const { batch, aBatch, bBatch, k } = plan(a!.type, b!.type);
    return (index) => {
      const batchIndex = index.slice(0, batch.length);
      let next = batch.length;
      const kv = ctx.fresh("k", k);
      const aIndex: IExpr[] =
        a!.type.shape.length === 1
          ? [kv]
          : [...broadcastIndex(batchIndex, aBatch), index[next++]!, kv];
      const bIndex: IExpr[] =
        b!.type.shape.length === 1
          ? [kv]
          : [...broadcastIndex(batchIndex, bBatch), kv, index[next]!];
      return vreduce("sum", [kv], vbinary("mul", a!.at(aIndex), b!.at(bIndex)));
    };
  },
  flops: ([a], out) => {
    const k = a!.shape[a!.shape.length - 1]!;
    return 2 * numel(out.shape) * k;
  },
  // dA = C·Bᵀ, dB = Aᵀ·C on rank ≥ 2 views (a vector operand is a 1-row or
  // 1-column matrix), each summed over the batch dims its operand was broadcast along.
  vjp(g, node, cot) {
    const [a, b] = node.inputs as [number, number];
    const as = g.type(a).shape;
    const bs = g.type(b).shape;
    const a2 = as.length === 1 ? g.emit("reshape", [a], { shape: [1, as[0]!] }) : a;
    const b2 = bs.length === 1 ? g.emit("reshape", [b], { shape: [bs[0]!, 1] }) : b;
    const { batch, m, n } = plan(g.type(a2), g.type(b2));
    const c2 = g.emit("reshape", [cot], { shape: [...batch, m, n] });
    const t = (x: number) => {
      const r = g.type(x).shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      return g.emit("permute", [x], { perm });
    };
    const da = g.unbroadcast(g.emit("matmul", [c2, t(b2)]), g.type(a2).shape);
    const db = g.unbroadcast(g.emit("matmul", [t(a2), c2]), g.type(b2).shape);
    return [
      g.emit("reshape", [da], { shape: [...as] }),
      g.emit("reshape", [db], { shape: [...bs] }),
    ];
  },
});
