// Dtype-generic element access for the CPU reference semantics. Ops compute in
// JS numbers (float64) and store once into the typed array of the output
// dtype, which rounds f32 and wraps i32 exactly as the typed arrays do.

import { allocData, type Tensor, type TensorData, zerosTensor } from "../core/tensor.js";
import type { DType } from "../core/types.js";

type NumberData = Float32Array | Int32Array | Uint8Array;

/** Element i as a JS number (i64 converted). */
export function readAt(t: Tensor, i: number): number {
  const v = t.data[i]!;
  return typeof v === "bigint" ? Number(v) : v;
}

/** A tensor of `dtype`/`shape` with element i = f(i), converted to the dtype (bool as != 0). */
export function tensorFrom(dtype: DType, shape: number[], f: (i: number) => number): Tensor {
  const out = zerosTensor({ dtype, shape });
  const n = out.data.length;
  if (out.data instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) out.data[i] = BigInt(Math.trunc(f(i)));
  } else if (dtype === "bool") {
    const d = out.data as Uint8Array;
    for (let i = 0; i < n; i++) d[i] = f(i) !== 0 ? 1 : 0;
  } else {
    const d = out.data as NumberData;
    for (let i = 0; i < n; i++) d[i] = f(i);
  }
  return out;
}

/**
 * The movement-op workhorse: out[i] = src[map[i]], or `fill` where map[i] < 0.
 * Copies the stored values bit for bit (no rounding, i64 preserved).
 */
export function gatherElements(
  src: Tensor,
  shape: number[],
  map: ArrayLike<number>,
  fill = 0,
): Tensor {
  const data = allocData(src.dtype, map.length);
  if (data instanceof BigInt64Array) {
    const s = src.data as BigInt64Array;
    const f = BigInt(Math.trunc(fill));
    for (let i = 0; i < map.length; i++) data[i] = map[i]! < 0 ? f : s[map[i]!]!;
  } else {
    const s = src.data as NumberData;
    const f = src.dtype === "bool" ? (fill !== 0 ? 1 : 0) : fill;
    for (let i = 0; i < map.length; i++) data[i] = map[i]! < 0 ? f : s[map[i]!]!;
  }
  return { dtype: src.dtype, shape: [...shape], data };
}

/** dst[di] = src[si] for two arrays of one dtype. */
export function copyElement(dst: TensorData, di: number, src: TensorData, si: number): void {
  if (dst instanceof BigInt64Array) dst[di] = (src as BigInt64Array)[si]!;
  else dst[di] = (src as NumberData)[si]!;
}
