// A data set of named arrays sharing their first axis (the examples): seeded
// shuffling, batching and a held-out split. The order of epoch e under seed s
// is a Fisher–Yates shuffle driven by mulberry32 seeded with hash(s, e), so a
// run, a resumed run and a test all see the same batches.

import { badData, type DataArray, type DataValues } from "./array.js";

/** mulberry32: a small, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The permutation of 0..n-1 for (seed, epoch). */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  const rand = mulberry32(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b));
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

function gather(a: DataArray, rows: ArrayLike<number>): DataArray {
  const per = a.shape.slice(1).reduce((x, d) => x * d, 1);
  const ctor = a.data.constructor as new (n: number) => DataValues;
  const out = new ctor(rows.length * per);
  for (let r = 0; r < rows.length; r++) {
    const from = rows[r]! * per;
    // biome-ignore lint/suspicious/noExplicitAny: the same typed-array kind on both sides.
    (out as any).set((a.data as any).subarray(from, from + per), r * per);
  }
  return { shape: [rows.length, ...a.shape.slice(1)], data: out, kind: a.kind };
}

export class Dataset {
  readonly size: number;

  constructor(readonly arrays: Map<string, DataArray>) {
    let size: number | undefined;
    let first = "";
    for (const [name, a] of arrays) {
      if (a.shape.length === 0)
        badData(name, "a scalar holds no examples (the first axis counts them)");
      if (size === undefined) {
        size = a.shape[0]!;
        first = name;
      } else if (a.shape[0] !== size)
        badData(
          name,
          `has ${a.shape[0]} examples but \`${first}\` has ${size}: every array's first axis counts the same examples`,
        );
    }
    if (size === undefined || size === 0) badData("data", "the data set is empty");
    this.size = size;
  }

  /** The examples at these indices, in that order. */
  take(rows: ArrayLike<number>): Dataset {
    return new Dataset(new Map([...this.arrays].map(([k, a]) => [k, gather(a, rows)])));
  }

  /**
   * A held-out split: `count` examples picked by the seeded permutation of epoch −1
   * go to `held`, the rest (in their original order) to `train`.
   */
  split(count: number, seed: number): { train: Dataset; held: Dataset } {
    if (!Number.isInteger(count) || count <= 0 || count >= this.size)
      badData(
        "data",
        `a held-out split of ${count} of ${this.size} examples leaves nothing on one side`,
      );
    const p = permutation(this.size, seed, -2);
    const held = Uint32Array.from(p.subarray(0, count)).sort();
    const rest = Uint32Array.from(p.subarray(count)).sort();
    return { train: this.take(rest), held: this.take(held) };
  }

  /**
   * The batches of one epoch: shuffled by (seed, epoch) when `shuffle`, else in
   * order. The last partial batch is kept (like torch's DataLoader's default
   * drop_last=False) unless `dropLast`.
   */
  *batches(
    size: number,
    o: { seed: number; epoch: number; shuffle: boolean; dropLast?: boolean },
  ): Generator<Dataset> {
    const order = o.shuffle ? permutation(this.size, o.seed, o.epoch) : undefined;
    for (let at = 0; at < this.size; at += size) {
      const end = Math.min(this.size, at + size);
      if (end - at < size && o.dropLast) return;
      const rows = order
        ? order.subarray(at, end)
        : Uint32Array.from({ length: end - at }, (_, i) => at + i);
      yield this.take(rows);
    }
  }

  /** How many batches an epoch has. */
  batchCount(size: number, dropLast = false): number {
    return dropLast ? Math.floor(this.size / size) : Math.ceil(this.size / size);
  }
}
