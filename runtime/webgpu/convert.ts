// Host tensors ↔ device bytes. On the device bool is u32 (0/1) and there is
// no i64; f32 and i32 are copied as they are. Every upload is a fresh
// ArrayBuffer: Dawn's writeBuffer crashes on SharedArrayBuffer-backed views.

import type { BufferSpec } from "../../compiler/codegen/plan.js";
import { diagnostic, NncError } from "../../compiler/core/diagnostics.js";
import { allocData, type Tensor } from "../../compiler/core/tensor.js";
import { numel } from "../../compiler/core/types.js";

/** The bytes to upload for `t` into a buffer stored as `spec.dtype`. */
export function deviceBytes(spec: BufferSpec, t: Tensor): ArrayBufferView<ArrayBuffer> {
  const src = t.data;
  if (src instanceof BigInt64Array) {
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v > 2147483647n || v < -2147483648n)
        throw new NncError(
          diagnostic("NN6011", `\`${spec.name}\` holds ${v}, which does not fit the device's i32`),
        );
      out[i] = Number(v);
    }
    return out;
  }
  if (spec.dtype === "u32" && src instanceof Uint8Array) return Uint32Array.from(src);
  if (spec.dtype === "f32" && src instanceof Float32Array) return copyOf(src);
  if (spec.dtype === "i32" && src instanceof Int32Array) return copyOf(src);
  if (spec.dtype === "u32" && src instanceof Int32Array) return new Uint32Array(copyOf(src).buffer);
  throw new NncError(
    diagnostic(
      "NN6011",
      `\`${spec.name}\` is stored as ${spec.dtype} on the device but came as ${t.dtype} data`,
    ),
  );
}

/** A copy on a plain ArrayBuffer unless `a` already owns one exactly. */
function copyOf<T extends Float32Array | Int32Array>(a: T): T & ArrayBufferView<ArrayBuffer> {
  const plain =
    a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return (plain ? a : a.slice()) as T & ArrayBufferView<ArrayBuffer>;
}

/** The host tensor for the bytes read back from a buffer. */
export function hostTensor(spec: BufferSpec, bytes: ArrayBuffer): Tensor {
  const n = numel(spec.shape);
  const data = allocData(spec.hostDtype, n);
  const words =
    spec.dtype === "f32"
      ? new Float32Array(bytes, 0, n)
      : spec.dtype === "i32"
        ? new Int32Array(bytes, 0, n)
        : new Uint32Array(bytes, 0, n);
  if (data instanceof BigInt64Array) for (let i = 0; i < n; i++) data[i] = BigInt(words[i]!);
  else if (data instanceof Uint8Array) for (let i = 0; i < n; i++) data[i] = words[i] ? 1 : 0;
  else data.set(words);
  return { dtype: spec.hostDtype, shape: [...spec.shape], data };
}
