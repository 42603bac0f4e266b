// .safetensors reading and writing: round trips, the exact bytes written, and one
// malformed file per validation rule, each refused with its code, file and tensor.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NncError } from "../../compiler/core/diagnostics.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  writeSafetensors,
} from "../../runtime/weights/safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "nnc-safetensors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE = "model.safetensors";

/** A file from a header (object, raw text or raw bytes) and a data section, prefix computed. */
function build(header: unknown, data: Uint8Array | number[] = []): Uint8Array {
  const json =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The NncError `fn` throws, with a readable failure when it throws nothing or something else. */
function nncError(fn: () => unknown): NncError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NncError) return e;
    throw e;
  }
  throw new Error("expected an NncError");
}

function expectFailure(bytes: Uint8Array, code: string, ...mentions: string[]): void {
  const e = nncError(() => decodeSafetensors(bytes, FILE));
  expect(e.code).toBe(code);
  expect(e.message).toContain(FILE);
  for (const m of mentions) expect(e.message).toContain(m);
}

const sample = (): Record<string, Tensor> => ({
  "fc.weight": {
    dtype: "f32",
    shape: [2, 3],
    data: new Float32Array([1, -2, 0.5, 3.25, -0, 1e-8]),
  },
  "fc.bias": { dtype: "f32", shape: [2], data: new Float32Array([Number.NaN, Infinity]) },
  "bn.num_batches_tracked": { dtype: "i64", shape: [], data: new BigInt64Array([-(2n ** 62n)]) },
  tokens: { dtype: "i32", shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
  mask: { dtype: "bool", shape: [3], data: new Uint8Array([1, 0, 1]) },
  empty: { dtype: "f32", shape: [0, 5], data: new Float32Array(0) },
});

function expectSameTensors(got: Map<string, Tensor>, want: Record<string, Tensor>): void {
  expect([...got.keys()].sort()).toEqual(Object.keys(want).sort());
  for (const [name, t] of Object.entries(want)) {
    const g = got.get(name)!;
    expect(g.dtype).toBe(t.dtype);
    expect(g.shape).toEqual(t.shape);
    expect(g.data).toEqual(t.data);
  }
}

describe("safetensors round trip", () => {
  it("writes and reads back every dtype, bit for bit", () => {
    const path = join(dir, "round.safetensors");
    writeSafetensors(path, sample(), { format: "pt" });
    expectSameTensors(readSafetensors(path), sample());
    expect(parseSafetensorsHeader(readFileSync(path), path).metadata).toEqual({ format: "pt" });
    // The temp file was renamed into place; nothing else is left in the folder.
    expect(readdirSync(dir)).toEqual(["round.safetensors"]);
  });

  it("accepts a Map and decodes from an unaligned buffer", () => {
    const bytes = encodeSafetensors(new Map(Object.entries(sample())));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expectSameTensors(decodeSafetensors(shifted.subarray(3), FILE), sample());
  });

  it("a failed write leaves no file behind", () => {
    const path = join(dir, "no-such-folder", "x.safetensors");
    expect(() => writeSafetensors(path, sample())).toThrow();
    expect(readdirSync(dir)).not.toContain("no-such-folder");
  });
});

describe("safetensors encoding bytes", () => {
  it("matches a hand-built file: u64 length prefix, space padding to 8, raw LE data", () => {
    const bytes = encodeSafetensors({
      a: { dtype: "f32", shape: [2], data: new Float32Array([1, -2]) },
    });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(json.length).toBe(54);
    const expected = [
      ...[56, 0, 0, 0, 0, 0, 0, 0], // 54 bytes of JSON padded to 56
      ...new TextEncoder().encode(json),
      0x20,
      0x20,
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f
      ...[0x00, 0x00, 0x00, 0xc0], // -2.0f
    ];
    expect([...bytes]).toEqual(expected);
  });

  it("orders like the reference: metadata first, then dtype (largest first), then name", () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: "bool", shape: [3], data: new Uint8Array([1, 0, 1]) },
        z: { dtype: "f32", shape: [1], data: new Float32Array([1]) },
        a: { dtype: "f32", shape: [1], data: new Float32Array([2]) },
        i: { dtype: "i32", shape: [1], data: new Int32Array([7]) },
        c: { dtype: "i64", shape: [1], data: new BigInt64Array([5n]) },
      },
      { z: "1", a: "2" },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"2","z":"1"},' +
        '"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
        '"z":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
        '"i":{"dtype":"I32","shape":[1],"data_offsets":[16,20]},' +
        '"b":{"dtype":"BOOL","shape":[3],"data_offsets":[20,23]}}',
    );
    expect(bytes.length).toBe(8 + n + 23);
  });
});

describe("safetensors conversions", () => {
  const u16 = (values: number[]) => new Uint8Array(new Uint16Array(values).buffer);
  const f64 = (values: number[]) => new Uint8Array(new Float64Array(values).buffer);

  it("F16 widens exactly", () => {
    const bits = [0x3c00, 0xc000, 0x0001, 0x7c00, 0xfc00, 0x7bff, 0x8000, 0x3555];
    const t = decodeSafetensors(
      build({ h: { dtype: "F16", shape: [8], data_offsets: [0, 16] } }, u16(bits)),
      FILE,
    ).get("h")!;
    expect(t.dtype).toBe("f32");
    expect([...t.data]).toEqual([1, -2, 2 ** -24, Infinity, -Infinity, 65504, -0, 0.333251953125]);
    const nan = decodeSafetensors(
      build({ h: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, u16([0x7e00])),
      FILE,
    ).get("h")!;
    expect(Number.isNaN(nan.data[0])).toBe(true);
  });

  it("BF16 widens exactly", () => {
    const t = decodeSafetensors(
      build(
        { h: { dtype: "BF16", shape: [3], data_offsets: [0, 6] } },
        u16([0x3f80, 0x4049, 0xc2f7]),
      ),
      FILE,
    ).get("h")!;
    expect([...t.data]).toEqual([1, 3.140625, -123.5]);
  });

  it("F64 narrows with one rounding, ties to even", () => {
    const values = [0.1, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1e300];
    const t = decodeSafetensors(
      build({ d: { dtype: "F64", shape: [2, 2], data_offsets: [0, 32] } }, f64(values)),
      FILE,
    ).get("d")!;
    expect(t.dtype).toBe("f32");
    expect(t.shape).toEqual([2, 2]);
    expect([...t.data]).toEqual([Math.fround(0.1), 1, 1 + 2 ** -22, Infinity]);
  });
});

describe("safetensors validation", () => {
  const valid = () => encodeSafetensors(sample());
  const header = (name: string, dtype: string, shape: number[], offsets: number[]) => ({
    [name]: { dtype, shape, data_offsets: offsets },
  });

  it("a header that lies about a shape", () => {
    const bytes = build(header("fc.weight", "F32", [2, 4], [0, 24]), new Uint8Array(24));
    expectFailure(bytes, "NN6001", "`fc.weight`", "[2, 4]", "32 bytes", "[0, 24]");
  });

  it("a truncated file names the tensor cut off", () => {
    const bytes = valid();
    expectFailure(bytes.subarray(0, bytes.length - 4), "NN6002", "truncated");
    // The last tensor in the data section is the bool `mask` (3 bytes): cut 2 of them.
    expectFailure(bytes.subarray(0, bytes.length - 2), "NN6002", "`mask`");
  });

  it("a file cut inside the header or the length prefix", () => {
    expectFailure(valid().subarray(0, 40), "NN6002", "header length");
    expectFailure(valid().subarray(0, 5), "NN6002", "5 bytes");
  });

  it("overlapping offsets", () => {
    const bytes = build(
      {
        ...header("a", "F32", [4], [0, 16]),
        ...header("b", "F32", [2], [8, 16]),
      },
      new Uint8Array(16),
    );
    expectFailure(bytes, "NN6010", "`a`", "`b`");
  });

  it("zero-sized tensors never overlap", () => {
    const bytes = build(
      {
        ...header("a", "F32", [1], [0, 4]),
        ...header("e1", "F32", [0], [0, 0]),
        ...header("e2", "I64", [3, 0], [4, 4]),
      },
      new Uint8Array(4),
    );
    expect([...decodeSafetensors(bytes, FILE).keys()].sort()).toEqual(["a", "e1", "e2"]);
  });

  it("trailing bytes after the last tensor", () => {
    const bytes = valid();
    const longer = new Uint8Array(bytes.length + 5);
    longer.set(bytes);
    expectFailure(longer, "NN6002", "5 trailing bytes", "`mask`");
  });

  it("garbage header JSON", () => {
    expectFailure(build("{not json"), "NN6001", "not valid JSON");
    expectFailure(build("[1, 2]"), "NN6001", "not a JSON object");
    expectFailure(build(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), "NN6001", "UTF-8");
  });

  it("a header length that is not a header", () => {
    const bytes = new Uint8Array(64).fill(0x41);
    expectFailure(bytes, "NN6001", "implausible");
  });

  it("malformed tensor entries name the tensor", () => {
    expectFailure(build(header("w", "F32", [-1], [0, 0])), "NN6001", "`w`", "shape");
    expectFailure(build(header("w", "F32", [1.5], [0, 0])), "NN6001", "`w`");
    expectFailure(build(header("w", "F32", [1], [4, 0])), "NN6001", "`w`", "begin is after end");
    expectFailure(build(header("w", "F32", [1], [0])), "NN6001", "`w`", "data_offsets");
    expectFailure(build(header("w", "Q7", [1], [0, 4])), "NN6001", "`w`", "dtype");
    expectFailure(build({ w: 3 }), "NN6001", "`w`");
    expectFailure(build({ __metadata__: { a: 1 } }), "NN6001", "__metadata__");
  });

  it("an unsupported dtype names every such tensor", () => {
    const bytes = build(
      {
        ...header("ok", "F32", [1], [0, 4]),
        ...header("short", "I16", [2], [4, 8]),
        ...header("byte", "U8", [4], [8, 12]),
      },
      new Uint8Array(12),
    );
    const e = nncError(() => decodeSafetensors(bytes, FILE));
    expect(e.diagnostics.map((d) => d.code)).toEqual(["NN6006", "NN6006"]);
    expect(e.diagnostics[0]!.message).toContain("`short`");
    expect(e.diagnostics[0]!.message).toContain("I16");
    expect(e.diagnostics[1]!.message).toContain("`byte`");
    expect(e.message).toContain(FILE);
  });
});
