// Shape helpers shared by the op modules: NumPy broadcasting, index maps from
// an output element to the input element it reads, and the common checks
// whose failure messages quote tensor types (`f32[2, 3]`).

import { type DType, formatType, numel, stridesOf, type TensorType } from "../core/types.js";
import { OpError } from "./op.js";

/** NumPy broadcasting of several shapes; undefined when they do not broadcast. */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const offset = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[offset + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[offset + i] = d;
      else return undefined;
    }
  }
  return out;
}

/** Whether `from` broadcasts to exactly `to` (NumPy rules, rank may grow). */
export function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const offset = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[offset + i]);
}

/** Calls fn with every multi-index of `shape` in row-major order (the index array is reused). */
export function forEachIndex(
  shape: readonly number[],
  fn: (idx: number[], flat: number) => void,
): void {
  const n = numel(shape);
  if (n === 0) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(idx, flat);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

/** For each element of `outShape`, the flat index of the element of `inShape` it reads under broadcasting. */
export function broadcastIndexMap(
  inShape: readonly number[],
  outShape: readonly number[],
): Int32Array {
  const strides = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  const map = new Int32Array(numel(outShape));
  forEachIndex(outShape, (idx, flat) => {
    let src = 0;
    for (let a = 0; a < inShape.length; a++) {
      if (inShape[a] !== 1) src += idx[offset + a]! * strides[a]!;
    }
    map[flat] = src;
  });
  return map;
}

/** "f32[2, 3] and i32[4]" / "a, b and c" */
export function formatTypeList(types: readonly TensorType[]): string {
  const parts = types.map(formatType);
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** "f32" / "f32 or i32" / "f32, i32 or bool" */
export function formatDTypes(ds: readonly DType[]): string {
  if (ds.length <= 1) return ds.join("");
  return `${ds.slice(0, -1).join(", ")} or ${ds[ds.length - 1]}`;
}

/** Throws NN4003 unless every input has one of the allowed dtypes. */
export function expectDTypes(
  op: string,
  inputs: readonly TensorType[],
  allowed: readonly DType[],
): void {
  if (inputs.every((t) => allowed.includes(t.dtype))) return;
  throw new OpError(
    "NN4003",
    `${op}: expects ${formatDTypes(allowed)}, got ${formatTypeList(inputs)}`,
  );
}

/** Throws NN4003 unless all inputs share one dtype. */
export function expectSameDType(op: string, inputs: readonly TensorType[]): void {
  if (inputs.every((t) => t.dtype === inputs[0]!.dtype)) return;
  throw new OpError("NN4003", `${op}: dtypes differ: ${formatTypeList(inputs)}`);
}

/** Throws NN4002 unless `t` has the given rank. */
export function expectRank(op: string, t: TensorType, rank: number, what: string): void {
  if (t.shape.length === rank) return;
  throw new OpError("NN4002", `${op}: expects ${what}, got ${formatType(t)}`);
}

/** Throws NN4006 unless `axis` is a valid axis of `t`. */
export function expectAxis(op: string, axis: number, t: TensorType, attr = "axis"): void {
  if (axis < t.shape.length) return;
  throw new OpError(
    "NN4006",
    `${op}: ${attr} ${axis} is out of range for ${formatType(t)} (rank ${t.shape.length})`,
  );
}

/** Whole-number ceiling division for non-negative operands. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}
