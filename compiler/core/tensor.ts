// Host tensors: a dtype, a shape and a typed array in row-major order. The
// CPU interpreter, the weight loaders and the CLI all exchange these.

import { type DType, numel, type TensorType } from "./types.js";

export type TensorData = Float32Array | Int32Array | Uint8Array | BigInt64Array;

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case "f32":
      return new Float32Array(n);
    case "i32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
    case "i64":
      return new BigInt64Array(n);
  }
}

export function zerosTensor(type: TensorType): Tensor {
  return {
    dtype: type.dtype,
    shape: [...type.shape],
    data: allocData(type.dtype, numel(type.shape)),
  };
}

export function tensorOf(dtype: DType, shape: number[], values: ArrayLike<number>): Tensor {
  const t = zerosTensor({ dtype, shape });
  if (values.length !== t.data.length) {
    throw new Error(`tensorOf: ${values.length} values for shape [${shape.join(", ")}]`);
  }
  if (t.data instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) t.data[i] = BigInt(values[i]!);
  } else {
    t.data.set(values);
  }
  return t;
}

/** Reads element i as a JS number (i64 converted, bool as 0/1). */
export function getNumber(t: Tensor, i: number): number {
  const v = t.data[i]!;
  return typeof v === "bigint" ? Number(v) : v;
}

/** The values as a plain number array (for JSON output and tests). */
export function toNumbers(t: Tensor): number[] {
  const out = new Array<number>(t.data.length);
  for (let i = 0; i < t.data.length; i++) out[i] = getNumber(t, i);
  return out;
}
