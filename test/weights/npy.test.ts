// .npy reading and writing: numpy's exact bytes, hand-built headers of every version,
// and the files the strict reader refuses.

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NncError } from "../../compiler/core/diagnostics.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { decodeNpy, encodeNpy, readNpy, writeNpy } from "../../runtime/weights/npy.js";

const dir = mkdtempSync(join(tmpdir(), "nnc-npy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE = "input.npy";

/** A .npy file from a header dict text, padded the way numpy pads (or not, with `pad: false`). */
function npy(
  dict: string,
  data: Uint8Array | number[],
  { major = 1, pad = true }: { major?: number; pad?: boolean } = {},
): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  let text = `${dict}\n`;
  if (pad) text = `${dict}${" ".repeat(63 - ((prefix + dict.length) % 64))}\n`;
  const header = new TextEncoder().encode(text);
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, prefix);
  out.set(data, prefix + header.length);
  return out;
}

const bytesOf = (a: Float32Array | Float64Array | Int32Array | BigInt64Array) =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function expectFailure(bytes: Uint8Array, ...mentions: string[]): void {
  let error: unknown;
  try {
    decodeNpy(bytes, FILE);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NncError);
  const e = error as NncError;
  expect(e.code).toBe("NN6008");
  expect(e.message).toContain(FILE);
  for (const m of mentions) expect(e.message).toContain(m);
}

describe("npy writing", () => {
  it("writes the bytes np.save writes", () => {
    // np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)): 118-byte header, growth padding included.
    const t: Tensor = { dtype: "f32", shape: [2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) };
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const header = `${dict}${" ".repeat(118 - dict.length - 1)}\n`;
    const expected = [
      ...[0x93, ...new TextEncoder().encode("NUMPY"), 1, 0, 118, 0],
      ...new TextEncoder().encode(header),
      ...bytesOf(new Float32Array([0, 1, 2, 3, 4, 5])),
    ];
    expect([...encodeNpy(t)]).toEqual(expected);
    expect(encodeNpy(t).length).toBe(152);
  });

  it("writes 1-tuples and 0-d shapes as Python does, data 64-byte aligned", () => {
    const text = (t: Tensor) => {
      const b = encodeNpy(t);
      expect((10 + (b[8]! | (b[9]! << 8))) % 64).toBe(0);
      return new TextDecoder().decode(b.subarray(10, 10 + (b[8]! | (b[9]! << 8)))).trimEnd();
    };
    expect(text({ dtype: "bool", shape: [5], data: new Uint8Array(5) })).toBe(
      "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }",
    );
    expect(text({ dtype: "i32", shape: [], data: new Int32Array([7]) })).toBe(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (), }",
    );
    expect(text({ dtype: "i64", shape: [0, 4], data: new BigInt64Array(0) })).toBe(
      "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 4), }",
    );
  });

  it("round trips every dtype through a file (i64 reads back as i32)", () => {
    const cases: Tensor[] = [
      { dtype: "f32", shape: [2, 2], data: new Float32Array([1.5, -0, Number.NaN, -Infinity]) },
      { dtype: "i32", shape: [3], data: new Int32Array([-2147483648, 0, 2147483647]) },
      { dtype: "bool", shape: [1, 3], data: new Uint8Array([1, 0, 1]) },
      { dtype: "f32", shape: [], data: new Float32Array([3]) },
    ];
    for (const [i, t] of cases.entries()) {
      const path = join(dir, `t${i}.npy`);
      writeNpy(path, t);
      expect(readNpy(path)).toEqual(t);
    }
    const path = join(dir, "wide.npy");
    writeNpy(path, { dtype: "i64", shape: [2], data: new BigInt64Array([-5n, 2147483647n]) });
    expect(readNpy(path)).toEqual({
      dtype: "i32",
      shape: [2],
      data: new Int32Array([-5, 2147483647]),
    });
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("npy reading hand-built headers", () => {
  it("version 1.0, minimal header without trailing comma or padding", () => {
    const t = decodeNpy(
      npy(
        "{'descr':'<f8','fortran_order':False,'shape':(3,)}",
        bytesOf(new Float64Array([0.1, 1 + 2 ** -24, -2])),
        {
          pad: false,
        },
      ),
      FILE,
    );
    expect(t).toEqual({
      dtype: "f32",
      shape: [3],
      data: new Float32Array([Math.fround(0.1), 1, -2]),
    });
  });

  it("version 2.0 with keys in another order and double quotes", () => {
    const t = decodeNpy(
      npy(
        '{"shape": (2, 1), "fortran_order": False, "descr": "<i4", }',
        bytesOf(new Int32Array([4, -4])),
        {
          major: 2,
        },
      ),
      FILE,
    );
    expect(t).toEqual({ dtype: "i32", shape: [2, 1], data: new Int32Array([4, -4]) });
  });

  it("version 3.0 (UTF-8 header), u1 and b1", () => {
    const u = decodeNpy(
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", [0, 255, 9], { major: 3 }),
      FILE,
    );
    expect(u).toEqual({ dtype: "i32", shape: [3], data: new Int32Array([0, 255, 9]) });
    const b = decodeNpy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", [1]), FILE);
    expect(b).toEqual({ dtype: "bool", shape: [], data: new Uint8Array([1]) });
  });

  it("i8 narrows to i32 and refuses values out of range", () => {
    const ok = npy(
      "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
      bytesOf(new BigInt64Array([-7n, 9n])),
    );
    expect(decodeNpy(ok, FILE)).toEqual({
      dtype: "i32",
      shape: [2],
      data: new Int32Array([-7, 9]),
    });
    const big = npy(
      "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
      bytesOf(new BigInt64Array([1n, 2n ** 31n])),
    );
    expectFailure(big, "2147483648", "index 1");
  });
});

describe("npy refusals", () => {
  const f4 = (dict: string, data: number[] = [0, 0, 0, 0]) => npy(dict, data);

  it("fortran order", () => {
    const bytes = npy(
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
      bytesOf(new Float32Array(4)),
    );
    expectFailure(bytes, "fortran_order", "C-order");
  });

  it("truncated data and truncated headers", () => {
    const bytes = npy(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
      bytesOf(new Float32Array(4)),
    );
    expectFailure(bytes.subarray(0, bytes.length - 3), "truncated", "16 bytes", "13");
    expectFailure(bytes.subarray(0, 40), "truncated");
    expectFailure(bytes.subarray(0, 7), "truncated");
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expectFailure(longer, "2 unexpected bytes");
  });

  it("bad magic and unknown versions", () => {
    const bytes = f4("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }");
    const wrongMagic = bytes.slice();
    wrongMagic[1] = 0x4f;
    expectFailure(wrongMagic, "magic");
    const v4 = bytes.slice();
    v4[6] = 4;
    expectFailure(v4, "version 4.0");
  });

  it.each([
    ["{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "'>f4'"],
    ["{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", "'<f2'"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", "trailing comma"],
    [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1, }",
      "expected a string, a tuple",
    ],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 'y', }", "'x'"],
    ["{'descr': '<f4', 'shape': (1,), }", "fortran_order"],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", "malformed"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "non-negative integer"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", "after the closing brace"],
    ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "twice"],
    ["{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }", "expected `,`"],
    ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "malformed"],
  ])("%s", (dict, mention) => {
    expectFailure(f4(dict), mention);
  });
});
