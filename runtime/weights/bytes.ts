// Little-endian byte views shared by the .safetensors and .npy codecs: typed arrays
// out of (possibly unaligned) file bytes, typed arrays back into bytes, and the
// widening conversions of half floats.

import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Typed = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Uint32Array;
type TypedCtor<T extends Typed> = { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number };

/**
 * A fresh typed array over a copy of `bytes` read as little-endian elements. Copying
 * makes it aligned whatever the byte offset in the file (Node pools small file buffers).
 */
function fromLE<T extends Typed>(
  bytes: Uint8Array,
  Ctor: TypedCtor<T>,
  read: (v: DataView, at: number) => number | bigint,
): T {
  // Not `bytes.slice()`: on a Node Buffer that is a view sharing the file's memory.
  const copy = new Uint8Array(bytes);
  const out = new Ctor(copy.buffer);
  if (!hostIsLittleEndian) {
    const view = new DataView(copy.buffer);
    const size = Ctor.BYTES_PER_ELEMENT;
    for (let i = 0; i < out.length; i++)
      (out as { [i: number]: number | bigint })[i] = read(view, i * size);
  }
  return out;
}

export const f32FromLE = (b: Uint8Array) =>
  fromLE(b, Float32Array, (v, at) => v.getFloat32(at, true));
export const f64FromLE = (b: Uint8Array) =>
  fromLE(b, Float64Array, (v, at) => v.getFloat64(at, true));
export const i32FromLE = (b: Uint8Array) => fromLE(b, Int32Array, (v, at) => v.getInt32(at, true));
export const i64FromLE = (b: Uint8Array) =>
  fromLE(b, BigInt64Array, (v, at) => v.getBigInt64(at, true));
export const u16FromLE = (b: Uint8Array) =>
  fromLE(b, Uint16Array, (v, at) => v.getUint16(at, true));

/** A plain Uint8Array view of `bytes`, so a Node Buffer's own `slice`/`map` never leak in. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The little-endian bytes of a typed array (a copy on big-endian hosts, a view otherwise). */
export function toLEBytes(
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array,
): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (hostIsLittleEndian || data instanceof Uint8Array) return bytes;
  const out = bytes.slice();
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

/** IEEE half-precision bits to float32; exact, since every half value is a float32. */
export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else out[i] = sign * (1024 + frac) * 2 ** (exp - 25);
  }
  return out;
}

/** bfloat16 is the top half of a float32, so widening is a shift (exact, NaN payloads kept). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

/**
 * Writes `bytes` to a temp file next to `path`, then renames it over `path`, so a
 * failure part-way never leaves a half-written weight file behind.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, bytes, { flag: "wx" });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
