// IDX files (the MNIST format: LeCun's train-images-idx3-ubyte and friends),
// gzipped or not: a 4-byte magic number (0, 0, element type, rank), the rank's
// dims as big-endian u32, then the values big-endian in row-major order.

import { gunzipSync } from "node:zlib";
import { MAX_WEIGHT_BYTES, readRegularFile } from "../../compiler/core/files.js";
import { badData, type DataArray } from "./array.js";

const types: Record<number, { size: number; name: string }> = {
  8: { size: 1, name: "u8" },
  9: { size: 1, name: "i8" },
  11: { size: 2, name: "i16" },
  12: { size: 4, name: "i32" },
  13: { size: 4, name: "f32" },
  14: { size: 8, name: "f64" },
};

/** Un-gzips when the bytes start with gzip's magic (1f 8b). */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    return badData(file, `not a valid gzip stream (${(e as Error).message})`);
  }
}

export function decodeIdx(raw: Uint8Array, file: string): DataArray {
  const bytes = maybeGunzip(raw, file);
  if (bytes.length < 4) badData(file, `${bytes.length} bytes is too short for an IDX header`);
  const type = types[bytes[2]!];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined)
    badData(
      file,
      `not an IDX file: magic number ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")} (expected 00 00 TYPE RANK, TYPE one of 08 09 0b 0c 0d 0e)`,
    );
  const rank = bytes[3]!;
  if (rank === 0) badData(file, "an IDX file of rank 0 holds no examples");
  const header = 4 + 4 * rank;
  if (bytes.length < header)
    badData(file, `truncated: the header of a rank-${rank} IDX file needs ${header} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, d) => a * d, 1);
  const want = header + n * type.size;
  if (bytes.length !== want)
    badData(
      file,
      `${bytes.length < want ? "truncated" : "trailing bytes"}: dims [${shape.join(", ")}] of ${type.name} need ${want} bytes, the file has ${bytes.length}`,
    );
  const at = (i: number) => header + i * type.size;
  switch (type.name) {
    case "u8":
      return { shape, data: bytes.slice(header, want), kind: "u8" };
    case "i8":
      return { shape, data: new Int8Array(bytes.slice(header, want).buffer), kind: "int" };
    case "i16":
      return {
        shape,
        data: Int16Array.from({ length: n }, (_, i) => view.getInt16(at(i))),
        kind: "int",
      };
    case "i32":
      return {
        shape,
        data: Int32Array.from({ length: n }, (_, i) => view.getInt32(at(i))),
        kind: "int",
      };
    case "f32":
      return {
        shape,
        data: Float32Array.from({ length: n }, (_, i) => view.getFloat32(at(i))),
        kind: "float",
      };
    default:
      return {
        shape,
        data: Float64Array.from({ length: n }, (_, i) => view.getFloat64(at(i))),
        kind: "float",
      };
  }
}

export function readIdx(path: string): DataArray {
  return decodeIdx(readRegularFile(path, { what: "IDX file", maxBytes: MAX_WEIGHT_BYTES }), path);
}
