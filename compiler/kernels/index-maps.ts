// Index maps shared by the op lowerings: NumPy broadcasting, row-major
// linearisation and its inverse, and storage types. Each is a small function
// over index expressions, so a chain of movement ops composes into one.

import { type DType, stridesOf } from "../core/types.js";
import { OpError } from "../ops/op.js";
import { type IExpr, iadd, ic, idiv, imod, imul, rangeOf, type VType } from "./expr.js";

/** The index of a broadcast operand of shape `inShape` read by output element `out` (right-aligned; size-1 dims read 0). */
export function broadcastIndex(out: readonly IExpr[], inShape: readonly number[]): IExpr[] {
  const offset = out.length - inShape.length;
  return inShape.map((d, i) => {
    const x = out[offset + i]!;
    // an output index that is 0 anyway stays as written (`n` reads better than `0`)
    return d !== 1 || rangeOf(x)[1] === 0 ? x : ic(0);
  });
}

/** Σ index[d] · stride[d] over a row-major shape. */
export function linearize(index: readonly IExpr[], shape: readonly number[]): IExpr {
  const strides = stridesOf(shape);
  return index.reduce<IExpr>((acc, x, d) => iadd(acc, imul(x, strides[d]!)), ic(0));
}

/** The multi-index of row-major position `flat` in `shape`. */
export function delinearize(flat: IExpr, shape: readonly number[]): IExpr[] {
  const strides = stridesOf(shape);
  return shape.map((d, i) => imod(idiv(flat, strides[i]!), Math.max(d, 1)));
}

/** The type a kernel computes a tensor of this dtype in; i64 is storage-only. */
export function computeType(dtype: DType): VType {
  if (dtype === "i64") {
    throw new OpError(
      "NN4003",
      "i64 tensors are storage only (PyTorch's num_batches_tracked); no kernel can compute with them",
    );
  }
  return dtype;
}
