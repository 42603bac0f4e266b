// NumPy .npy files (format versions 1.0, 2.0 and 3.0) for single weights and inputs.
// The header is a Python dict literal; it is parsed by a small strict grammar rather
// than evaluated, and only C-order arrays of a few little-endian dtypes are accepted.

import { fail } from "../../compiler/core/diagnostics.js";
import { MAX_WEIGHT_BYTES, readRegularFile } from "../../compiler/core/files.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { type DType, numel } from "../../compiler/core/types.js";
import * as bytesLE from "./bytes.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ARRAY_ALIGN = 64;
/** numpy leaves room in the header for the growing axis to reach this many digits. */
const GROWTH_AXIS_MAX_DIGITS = 21;

const itemSizes: Record<string, number> = {
  "<f4": 4,
  "<f8": 8,
  "<i4": 4,
  "<i8": 8,
  "|b1": 1,
  "|u1": 1,
};

const descrOf: Record<DType, string> = { f32: "<f4", i32: "<i4", i64: "<i8", bool: "|b1" };

function bad(file: string, message: string): never {
  fail("NN6008", `${file}: ${message}`);
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type Value = string | boolean | number[];

/**
 * Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` followed by
 * padding: exactly these three keys, string / bool / int-tuple values, an optional
 * trailing comma, and nothing but spaces and newlines after the closing brace.
 */
function parseHeader(text: string, file: string): NpyHeader {
  let pos = 0;
  const err = (what: string): never =>
    bad(file, `malformed header at character ${pos}: ${what} in ${JSON.stringify(text.trim())}`);
  const skipSpace = () => {
    while (pos < text.length && (text[pos] === " " || text[pos] === "\t" || text[pos] === "\n")) {
      pos++;
    }
  };
  const expect = (c: string) => {
    skipSpace();
    if (text[pos] !== c) err(`expected \`${c}\``);
    pos++;
  };
  const peek = (): string | undefined => {
    skipSpace();
    return text[pos];
  };
  const str = (): string => {
    const q = peek();
    if (q !== "'" && q !== '"') return err("expected a string");
    const close = text.indexOf(q, pos + 1);
    if (close < 0) err("unterminated string");
    const s = text.slice(pos + 1, close);
    if (s.includes("\\") || s.includes("\n")) err("escapes are not supported in strings");
    pos = close + 1;
    return s;
  };
  const int = (): number => {
    skipSpace();
    const m = /^[0-9]+/.exec(text.slice(pos));
    if (!m) return err("expected a non-negative integer");
    pos += m[0].length;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) err(`dimension ${m[0]} is too large`);
    return n;
  };
  const value = (): Value => {
    const c = peek();
    if (c === "'" || c === '"') return str();
    if (c === "(") {
      pos++;
      const dims: number[] = [];
      if (peek() === ")") {
        pos++;
        return dims;
      }
      for (;;) {
        dims.push(int());
        const sep = peek();
        if (sep === ")") {
          // In Python `(3)` is an int, not a tuple: one element needs the trailing comma.
          if (dims.length === 1) err("a 1-tuple needs a trailing comma");
          pos++;
          return dims;
        }
        expect(",");
        if (peek() === ")") {
          pos++;
          return dims;
        }
      }
    }
    for (const [word, v] of [
      ["True", true],
      ["False", false],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
    }
    return err("expected a string, a tuple, True or False");
  };

  const fields = new Map<string, Value>();
  expect("{");
  while (peek() !== "}") {
    const key = str();
    if (fields.has(key)) err(`key '${key}' appears twice`);
    expect(":");
    fields.set(key, value());
    if (peek() === "}") break;
    expect(",");
  }
  pos++;
  skipSpace();
  if (pos !== text.length) err("unexpected text after the closing brace");

  const descr = fields.get("descr");
  const fortranOrder = fields.get("fortran_order");
  const shape = fields.get("shape");
  const extra = [...fields.keys()].filter((k) => !["descr", "fortran_order", "shape"].includes(k));
  if (extra.length > 0) bad(file, `unexpected header key '${extra[0]}'`);
  if (typeof descr !== "string") bad(file, "header needs 'descr' as a string");
  if (typeof fortranOrder !== "boolean") bad(file, "header needs 'fortran_order' as True or False");
  if (!Array.isArray(shape)) bad(file, "header needs 'shape' as a tuple of integers");
  return { descr, fortranOrder, shape };
}

/** The tensor in an in-memory .npy file; `file` names it in errors. */
export function decodeNpy(bytes: Uint8Array, file: string): Tensor {
  bytes = bytesLE.plainBytes(bytes);
  if (bytes.length < 10) bad(file, `truncated: ${bytes.length} bytes is shorter than the preamble`);
  if (!MAGIC.every((b, i) => bytes[i] === b)) bad(file, "not a .npy file (bad magic string)");
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) {
    bad(file, `unsupported .npy format version ${major}.${minor}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthSize) bad(file, "truncated inside the header length");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthSize + headerLength;
  if (dataStart > bytes.length) {
    bad(file, `truncated: the header needs ${headerLength} bytes, the file ends before`);
  }
  const headerBytes = bytes.subarray(8 + lengthSize, dataStart);
  // Versions 1.0 and 2.0 are latin1; every header this reader accepts is plain ASCII.
  if (major !== 3 && headerBytes.some((b) => b > 0x7f)) bad(file, "header is not ASCII");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    bad(file, "header is not valid UTF-8");
  }
  const header = parseHeader(text, file);
  if (header.fortranOrder) {
    bad(
      file,
      "fortran_order is True; only C-order arrays are supported (save with np.ascontiguousarray)",
    );
  }
  const itemSize = itemSizes[header.descr];
  if (itemSize === undefined) {
    bad(
      file,
      `unsupported dtype '${header.descr}' (supported: ${Object.keys(itemSizes).join(" ")})`,
    );
  }
  const shape = header.shape;
  const n = numel(shape);
  const need = n * itemSize;
  const raw = bytes.subarray(dataStart);
  if (raw.length < need) {
    bad(
      file,
      `truncated: shape [${shape.join(", ")}] needs ${need} bytes of data, the file has ${raw.length}`,
    );
  }
  if (raw.length > need) {
    bad(
      file,
      `${raw.length - need} unexpected bytes after the data of shape [${shape.join(", ")}]`,
    );
  }
  switch (header.descr) {
    case "<f4":
      return { dtype: "f32", shape, data: bytesLE.f32FromLE(raw) };
    case "<f8":
      // float64 narrows to float32 with one rounding (to nearest, ties to even).
      return { dtype: "f32", shape, data: Float32Array.from(bytesLE.f64FromLE(raw)) };
    case "<i4":
      return { dtype: "i32", shape, data: bytesLE.i32FromLE(raw) };
    case "<i8": {
      const wide = bytesLE.i64FromLE(raw);
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = wide[i]!;
        if (v < -2147483648n || v > 2147483647n) {
          bad(file, `int64 value ${v} at flat index ${i} does not fit int32`);
        }
        data[i] = Number(v);
      }
      return { dtype: "i32", shape, data };
    }
    case "|u1":
      return { dtype: "i32", shape, data: Int32Array.from(raw) };
    default:
      return { dtype: "bool", shape, data: raw.map((b) => (b === 0 ? 0 : 1)) };
  }
}

export function readNpy(path: string): Tensor {
  return decodeNpy(readRegularFile(path, { what: ".npy file", maxBytes: MAX_WEIGHT_BYTES }), path);
}

/** The bytes numpy itself writes for this array (`np.save`, format 1.0 unless the header needs 2.0). */
export function encodeNpy(t: Tensor): Uint8Array {
  if (t.data.length !== numel(t.shape)) {
    fail("NN9001", `encodeNpy: ${t.data.length} values for shape [${t.shape.join(", ")}]`);
  }
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  let dict = `{'descr': '${descrOf[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  if (t.shape.length > 0) {
    dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(t.shape[0]).length));
  }
  const text = new TextEncoder().encode(dict);
  const withNewline = text.length + 1;
  // numpy pads with 1..64 spaces so the data starts on a 64-byte boundary; version 2.0
  // (a 4-byte length) only when the padded header overflows version 1.0's 2-byte one.
  const padded = (prefix: number) =>
    withNewline + ARRAY_ALIGN - ((prefix + withNewline) % ARRAY_ALIGN);
  const major = padded(10) <= 0xffff ? 1 : 2;
  const prefix = major === 1 ? 10 : 12;
  const headerLength = padded(prefix);
  const data = bytesLE.toLEBytes(t.data);

  const out = new Uint8Array(prefix + headerLength + data.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.set(text, prefix);
  out.fill(0x20, prefix + text.length, prefix + headerLength - 1);
  out[prefix + headerLength - 1] = 0x0a;
  out.set(data, prefix + headerLength);
  return out;
}

/** Writes a .npy file atomically (temp file in the same folder, then rename). */
export function writeNpy(path: string, t: Tensor): void {
  bytesLE.writeFileAtomic(path, encodeNpy(t));
}
