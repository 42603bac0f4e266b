// TensorProto ↔ host tensors for the importer: ONNX element types mapped to
// nnc's dtypes (int64 indices and shapes become i32, which nnc computes in),
// with every value range-checked rather than wrapped.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { type DType, numel } from "../core/types.js";
import type { TensorProto } from "./proto.js";

const names: Record<number, string> = {
  1: "float",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "double",
  12: "uint32",
  13: "uint64",
};

/** nnc's dtype for an ONNX element type: int64 (and the small ints) as i32, double as f32. */
export function nnDType(elem: number, what: string): DType {
  switch (elem) {
    case 1:
    case 11:
      return "f32";
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
      return "i32";
    case 9:
      return "bool";
    default:
      throw new NncError(
        diagnostic("NN8202", `${what}: element type ${names[elem] ?? elem} is not supported`),
      );
  }
}

function rawView(raw: Uint8Array): DataView {
  const copy = raw.slice(); // aligned, and detached from the decoder's buffer
  return new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** The numbers of a TensorProto, as float64 values in row-major order. */
function values(t: TensorProto, n: number, what: string): number[] {
  const raw = t.raw_data && t.raw_data.length > 0 ? rawView(t.raw_data) : undefined;
  const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 11: 8 };
  if (raw) {
    const w = width[t.data_type]!;
    if (raw.byteLength !== n * w)
      throw new NncError(
        diagnostic("NN8201", `${what}: ${raw.byteLength} bytes of data for ${n} elements`),
      );
    const read: Record<number, (i: number) => number> = {
      1: (i) => raw.getFloat32(i * 4, true),
      2: (i) => raw.getUint8(i),
      3: (i) => raw.getInt8(i),
      4: (i) => raw.getUint16(i * 2, true),
      5: (i) => raw.getInt16(i * 2, true),
      6: (i) => raw.getInt32(i * 4, true),
      7: (i) => Number(raw.getBigInt64(i * 8, true)),
      9: (i) => raw.getUint8(i),
      11: (i) => raw.getFloat64(i * 8, true),
    };
    return Array.from({ length: n }, (_, i) => read[t.data_type]!(i));
  }
  const list =
    t.data_type === 1
      ? t.float_data
      : t.data_type === 7
        ? t.int64_data
        : t.data_type === 11
          ? t.double_data
          : t.int32_data;
  const out = (list ?? []).map((v) => Number(v));
  if (out.length !== n)
    throw new NncError(
      diagnostic("NN8201", `${what}: ${out.length} values for ${n} elements`, undefined, {
        hint: "external data (a separate weights file) is not supported",
      }),
    );
  return out;
}

/** A TensorProto as a host tensor of nnc's dtype. */
export function fromTensorProto(t: TensorProto, what: string): Tensor {
  const dtype = nnDType(t.data_type, what);
  const shape = (t.dims ?? []).map(Number);
  const n = numel(shape);
  const v = values(t, n, what);
  if (dtype === "f32") return { dtype, shape, data: Float32Array.from(v) };
  if (dtype === "bool") return { dtype, shape, data: Uint8Array.from(v, (x) => (x ? 1 : 0)) };
  // Saturated, not wrapped: INT64_MAX and INT64_MIN are Slice's "to the end", and an index
  // that large is out of range either way (the op then says so).
  const lim = 2 ** 31 - 1;
  return {
    dtype: "i32",
    shape,
    data: Int32Array.from(v, (x) => Math.max(-lim - 1, Math.min(lim, x))),
  };
}
