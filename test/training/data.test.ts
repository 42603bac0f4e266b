// The training-data readers against hand-made files (IDX written byte by byte
// here; .npz written by numpy's savez / savez_compressed, in data/), and the
// data set's seeded shuffle, batching and held-out split.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { NncError } from "../../compiler/core/diagnostics.js";
import { Dataset, permutation } from "../../runtime/data/dataset.js";
import { decodeIdx } from "../../runtime/data/idx.js";
import { decodeNpz } from "../../runtime/data/npz.js";

const here = join(import.meta.dirname, "data");

function idx(type: number, dims: number[], body: number[]): Uint8Array {
  const head = [0, 0, type, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...head, ...body]);
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof NncError) return `${e.diagnostics[0]!.code}: ${e.diagnostics[0]!.message}`;
    throw e;
  }
  return "no error";
}

describe("IDX", () => {
  it("reads u8 images, plain and gzipped", () => {
    const bytes = idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    for (const b of [bytes, gzipSync(bytes)]) {
      const a = decodeIdx(b, "x");
      expect(a.shape).toEqual([2, 2, 3]);
      expect(a.kind).toBe("u8");
      expect([...a.data]).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });
  it("reads big-endian i32 and f32", () => {
    const a = decodeIdx(idx(0x0c, [2], [0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe]), "x");
    expect([...a.data]).toEqual([258, -2]);
    const f = decodeIdx(idx(0x0d, [1], [0x3f, 0xc0, 0, 0]), "x");
    expect([...f.data]).toEqual([1.5]);
  });
  it("refuses a wrong magic, a truncated file, trailing bytes and a broken gzip", () => {
    expect(code(() => decodeIdx(Uint8Array.from([1, 2, 3, 4, 5]), "bad"))).toMatch(
      /^NN8104: bad: not an IDX file: magic number 01 02 03 04/,
    );
    const ok = idx(0x08, [3, 2], [1, 2, 3, 4, 5, 6]);
    expect(code(() => decodeIdx(ok.subarray(0, ok.length - 1), "t"))).toMatch(
      /NN8104: t: truncated: dims \[3, 2\] of u8 need 18 bytes, the file has 17/,
    );
    expect(code(() => decodeIdx(Uint8Array.from([...ok, 0]), "t"))).toMatch(/trailing bytes/);
    expect(code(() => decodeIdx(ok.subarray(0, 6), "t"))).toMatch(
      /truncated: the header of a rank-2 IDX file needs 12 bytes/,
    );
    const gz = gzipSync(ok);
    expect(code(() => decodeIdx(gz.subarray(0, gz.length - 6), "g"))).toMatch(
      /NN8104: g: not a valid gzip stream/,
    );
  });
});

describe(".npz", () => {
  it("reads numpy's stored and deflated archives (zip64 local headers), keeping u8", () => {
    for (const f of ["small.npz", "small-deflated.npz"]) {
      const m = decodeNpz(readFileSync(join(here, f)), f);
      const img = m.get("input")!;
      expect(img.shape).toEqual([2, 3, 2]);
      expect(img.kind).toBe("u8");
      expect([...img.data]).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220]);
      expect([...m.get("target")!.data]).toEqual([1, 0]);
    }
    const w = decodeNpz(readFileSync(join(here, "small-deflated.npz")), "d").get("w")!;
    expect(w.kind).toBe("float");
    expect([...w.data]).toEqual([0.5, -1.25]);
  });
  it("refuses a truncated archive and a corrupted entry", () => {
    const b = readFileSync(join(here, "small.npz"));
    expect(code(() => decodeNpz(b.subarray(0, 300), "cut.npz"))).toMatch(
      /^NN8104: cut.npz: not a zip archive/,
    );
    const bad = Uint8Array.from(b);
    bad[192] = bad[192]! ^ 0xff; // a pixel of the first entry (stored)
    expect(code(() => decodeNpz(bad, "c.npz"))).toMatch(
      /NN8104: c.npz: entry `input.npy`: fails its CRC-32 check/,
    );
    const d = Uint8Array.from(readFileSync(join(here, "small-deflated.npz")));
    d[80] = d[80]! ^ 0x55;
    expect(code(() => decodeNpz(d, "d.npz"))).toMatch(
      /NN8104: d.npz: entry `input.npy`: (does not inflate|fails its CRC-32|is \d+ bytes)/,
    );
  });
});

describe("Dataset", () => {
  const n = 10;
  const data = () =>
    new Dataset(
      new Map([
        [
          "x",
          {
            shape: [n, 2],
            data: Float32Array.from({ length: 2 * n }, (_, i) => i),
            kind: "float" as const,
          },
        ],
        [
          "y",
          { shape: [n], data: Int32Array.from({ length: n }, (_, i) => i), kind: "int" as const },
        ],
      ]),
    );

  it("shuffles by (seed, epoch): a permutation, the same each time, another next epoch", () => {
    const p = [...permutation(n, 7, 0)];
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    expect([...permutation(n, 7, 0)]).toEqual(p);
    expect([...permutation(n, 7, 1)]).not.toEqual(p);
    expect([...permutation(n, 8, 0)]).not.toEqual(p);
  });

  it("batches every example once, rows kept together, the last partial batch kept unless dropLast", () => {
    const d = data();
    const bs = [...d.batches(4, { seed: 3, epoch: 2, shuffle: true })];
    expect(bs.map((b) => b.size)).toEqual([4, 4, 2]);
    const ys = bs.flatMap((b) => [...b.arrays.get("y")!.data].map(Number));
    expect(ys).toEqual([...permutation(n, 3, 2)]);
    for (const b of bs) {
      const x = b.arrays.get("x")!.data;
      [...b.arrays.get("y")!.data].forEach((y, i) => {
        expect([x[2 * i], x[2 * i + 1]]).toEqual([2 * Number(y), 2 * Number(y) + 1]);
      });
    }
    expect(
      [...d.batches(4, { seed: 3, epoch: 2, shuffle: true, dropLast: true })].map((b) => b.size),
    ).toEqual([4, 4]);
    expect(d.batchCount(4)).toBe(3);
  });

  it("splits off a held-out set, disjoint and complete, the same for the same seed", () => {
    const { train, held } = data().split(3, 5);
    const t = [...train.arrays.get("y")!.data].map(Number);
    const h = [...held.arrays.get("y")!.data].map(Number);
    expect(h).toHaveLength(3);
    expect([...t, ...h].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    expect([...data().split(3, 5).held.arrays.get("y")!.data].map(Number)).toEqual(h);
  });

  it("refuses arrays that disagree on the number of examples", () => {
    expect(
      code(
        () =>
          new Dataset(
            new Map([
              ["a", { shape: [3], data: new Int32Array(3), kind: "int" as const }],
              ["b", { shape: [4], data: new Int32Array(4), kind: "int" as const }],
            ]),
          ),
      ),
    ).toMatch(/NN8104: b: has 4 examples but `a` has 3/);
  });
});
