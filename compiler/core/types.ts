// Element types and tensor types shared by the Graph IR, the ops and the runtimes.

export const dtypes = ["f32", "i32", "bool", "i64"] as const;
/** f32 and i32 compute; bool is what comparisons give; i64 is storage only (PyTorch's num_batches_tracked). */
export type DType = (typeof dtypes)[number];

export interface TensorType {
  dtype: DType;
  shape: number[];
}

export function isDType(s: string): s is DType {
  return (dtypes as readonly string[]).includes(s);
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** `f32[1, 3, 224, 224]`, the form shapes are printed in everywhere. */
export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(", ")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
