// Training data as it comes off disk, before it meets an objective: a named
// array whose first axis counts examples, with its element kind kept (u8
// images are scaled to [0,1] when they feed an f32 input; see compiler/training/feed.ts).

export type DataValues =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array;

export interface DataArray {
  shape: number[];
  data: DataValues;
  /** "u8": bytes 0..255 (IDX images, npy |u1); "int": other integers; "float": reals. */
  kind: "u8" | "int" | "float";
}

import { fail } from "../../compiler/core/diagnostics.js";

/** NN8104 naming the file. */
export function badData(file: string, message: string): never {
  fail("NN8104", `${file}: ${message}`);
}
