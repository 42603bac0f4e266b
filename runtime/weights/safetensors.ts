// The Hugging Face .safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON header, then the raw little-endian data. Reading validates the header fully
// before any tensor is built; writing follows the reference (Rust) implementation.

import { z } from "zod";
import {
  type Diagnostic,
  type DiagnosticCode,
  diagnostic,
  fail,
  NncError,
} from "../../compiler/core/diagnostics.js";
import { MAX_WEIGHT_BYTES, readRegularFile } from "../../compiler/core/files.js";
import type { Tensor, TensorData } from "../../compiler/core/tensor.js";
import { type DType, numel } from "../../compiler/core/types.js";
import {
  bf16ToF32,
  f16ToF32,
  f32FromLE,
  f64FromLE,
  i32FromLE,
  i64FromLE,
  plainBytes,
  toLEBytes,
  u16FromLE,
  writeFileAtomic,
} from "./bytes.js";

/**
 * Element sizes of the safetensors dtypes we can lay out, in the reference's enum order
 * (the writer sorts by that order, largest first). Only some of them convert to a Tensor.
 */
const itemSizes = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDType = keyof typeof itemSizes;
const dtypeOrder = Object.keys(itemSizes) as SafetensorsDType[];

/** The reference refuses headers above 100 MB; a length beyond that is garbage, not a header. */
const MAX_HEADER_BYTES = 100_000_000;

const offset = z.number().int().nonnegative();
const tensorInfoSchema = z
  .object({
    dtype: z.enum(dtypeOrder as [SafetensorsDType, ...SafetensorsDType[]]),
    shape: z.array(z.number().int().nonnegative()),
    data_offsets: z.tuple([offset, offset]),
  })
  .refine((t) => t.data_offsets[0] <= t.data_offsets[1], {
    message: "data_offsets begin is after end",
    path: ["data_offsets"],
  });
const metadataSchema = z.record(z.string(), z.string());

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** In header order. */
  entries: SafetensorsEntry[];
  /** Where the data section starts in the file: 8 + N. */
  dataStart: number;
}

function problem(code: DiagnosticCode, file: string, message: string): never {
  fail(code, `${file}: ${message}`);
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const at = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return `${at}${issue.message}`;
}

/** Reads and validates the header and the layout of every tensor; builds no tensor. */
export function parseSafetensorsHeader(bytes: Uint8Array, file: string): SafetensorsHeader {
  bytes = plainBytes(bytes);
  if (bytes.length < 8) {
    problem("NN6002", file, `${bytes.length} bytes is too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    problem(
      "NN6001",
      file,
      `header length ${declared} is implausible (over ${MAX_HEADER_BYTES} bytes)`,
    );
  }
  const n = Number(declared);
  if (8 + n > bytes.length) {
    problem(
      "NN6002",
      file,
      `header length ${n} runs past the end of the ${bytes.length}-byte file`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    problem("NN6001", file, "header is not valid UTF-8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    problem("NN6001", file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    problem("NN6001", file, "header is not a JSON object");
  }

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === "__metadata__") {
      const parsed = metadataSchema.safeParse(value);
      if (!parsed.success) problem("NN6001", file, `__metadata__ must map strings to strings`);
      metadata = parsed.data;
      continue;
    }
    const parsed = tensorInfoSchema.safeParse(value);
    if (!parsed.success) problem("NN6001", file, `tensor \`${name}\`: ${zodMessage(parsed.error)}`);
    const { dtype, shape, data_offsets } = parsed.data;
    const [begin, end] = data_offsets;
    const bytesNeeded = numel(shape) * itemSizes[dtype];
    if (!Number.isSafeInteger(bytesNeeded) || end - begin !== bytesNeeded) {
      problem(
        "NN6001",
        file,
        `tensor \`${name}\`: ${dtype}[${shape.join(", ")}] needs ${bytesNeeded} bytes, ` +
          `but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const pastEnd = entries.find((e) => e.end > dataLength);
  if (pastEnd) {
    problem(
      "NN6002",
      file,
      `tensor \`${pastEnd.name}\` ends at byte ${pastEnd.end} of the data section, ` +
        `which has only ${dataLength} bytes (file truncated?)`,
    );
  }
  // Empty tensors occupy no bytes, so they cannot overlap anything.
  const byOffset = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    if (cur.begin < prev.end) {
      problem(
        "NN6010",
        file,
        `tensor \`${cur.name}\` [${cur.begin}, ${cur.end}) overlaps ` +
          `tensor \`${prev.name}\` [${prev.begin}, ${prev.end})`,
      );
    }
  }
  const last = byOffset[byOffset.length - 1];
  const maxEnd = last?.end ?? 0;
  if (dataLength > maxEnd) {
    const after = last ? `after the last tensor \`${last.name}\`` : "in a file with no tensor data";
    problem("NN6002", file, `${dataLength - maxEnd} trailing bytes ${after}`);
  }
  return { metadata, entries, dataStart };
}

/**
 * Converts one entry's bytes. F16/BF16 widen to f32 exactly; F64 narrows to f32 with one
 * rounding (to nearest, ties to even). Integer widths other than I32/I64 are refused
 * rather than silently reinterpreted.
 */
function toTensor(entry: SafetensorsEntry, raw: Uint8Array): Tensor | undefined {
  const shape = [...entry.shape];
  const make = (dtype: DType, data: TensorData): Tensor => ({ dtype, shape, data });
  switch (entry.dtype) {
    case "F32":
      return make("f32", f32FromLE(raw));
    case "F16":
      return make("f32", f16ToF32(u16FromLE(raw)));
    case "BF16":
      return make("f32", bf16ToF32(u16FromLE(raw)));
    case "F64":
      return make("f32", Float32Array.from(f64FromLE(raw)));
    case "I64":
      return make("i64", i64FromLE(raw));
    case "I32":
      return make("i32", i32FromLE(raw));
    case "BOOL":
      return make(
        "bool",
        raw.map((b) => (b === 0 ? 0 : 1)),
      );
    default:
      return undefined;
  }
}

/** Every tensor of an in-memory .safetensors file; `file` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, file: string): Map<string, Tensor> {
  bytes = plainBytes(bytes);
  const header = parseSafetensorsHeader(bytes, file);
  const out = new Map<string, Tensor>();
  const unsupported: Diagnostic[] = [];
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    const t = toTensor(e, raw);
    if (t) out.set(e.name, t);
    else {
      unsupported.push(
        diagnostic(
          "NN6006",
          `${file}: tensor \`${e.name}\` has dtype ${e.dtype}, which nnc does not load ` +
            "(supported: F32, F16, BF16, F64, I64, I32, BOOL)",
        ),
      );
    }
  }
  if (unsupported.length > 0) throw new NncError(unsupported);
  return out;
}

export function readSafetensors(path: string): Map<string, Tensor> {
  return decodeSafetensors(
    readRegularFile(path, { what: "--weights file", maxBytes: MAX_WEIGHT_BYTES }),
    path,
  );
}

const dtypeToSafetensors: Record<DType, SafetensorsDType> = {
  f32: "F32",
  i32: "I32",
  i64: "I64",
  bool: "BOOL",
};

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * The bytes of a .safetensors file, laid out as the reference writes them: tensors
 * sorted by dtype (largest first, so each is aligned to its element size) then by
 * name, header keys in that same order after `__metadata__`, the header padded with
 * spaces to a multiple of 8 bytes.
 */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = [...(tensors instanceof Map ? tensors : Object.entries(tensors))].map(
    ([name, t]) => {
      if (name === "__metadata__") fail("NN9001", "`__metadata__` is reserved in .safetensors");
      if (t.data.length !== numel(t.shape)) {
        fail(
          "NN9001",
          `tensor \`${name}\`: ${t.data.length} values for shape [${t.shape.join(", ")}]`,
        );
      }
      return { name, t, dtype: dtypeToSafetensors[t.dtype] };
    },
  );
  list.sort(
    (a, b) =>
      dtypeOrder.indexOf(b.dtype) - dtypeOrder.indexOf(a.dtype) || byteCompare(a.name, b.name),
  );

  // A null prototype, so a tensor called `__proto__` is an ordinary key.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    header.__metadata__ = Object.fromEntries(
      Object.keys(metadata)
        .sort(byteCompare)
        .map((k) => [k, metadata[k]]),
    );
  }
  let at = 0;
  for (const { name, t, dtype } of list) {
    const size = t.data.length * itemSizes[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [at, at + size] };
    at += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = json.length + ((8 - (json.length % 8)) % 8);

  const out = new Uint8Array(8 + n + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let pos = 8 + n;
  for (const { t } of list) {
    const bytes = toLEBytes(t.data);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  return out;
}

/** Writes a .safetensors file atomically (temp file in the same folder, then rename). */
export function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
