// Shared test helpers: build tensors, run one op through its schema, shape
// rule and reference evaluation, and assert OpErrors by code and message.

import { expect } from "vitest";
import { type Tensor, tensorOf, toNumbers } from "../../compiler/core/tensor.js";
import type { DType, TensorType } from "../../compiler/core/types.js";
import { cpuEvalContext } from "../../compiler/graph/interpret.js";
import { getOp, inferOp } from "../../compiler/ops/index.js";
import { OpError } from "../../compiler/ops/op.js";

export function t(dtype: DType, shape: number[], values: ArrayLike<number>): Tensor {
  return tensorOf(dtype, shape, values);
}

export const f32 = (shape: number[], values: ArrayLike<number>) => t("f32", shape, values);
export const i32 = (shape: number[], values: ArrayLike<number>) => t("i32", shape, values);
export const bool = (shape: number[], values: ArrayLike<number>) => t("bool", shape, values);

/** 0, 1, 2, … in the given shape. */
export function range(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return t(
    dtype,
    shape,
    Array.from({ length: n }, (_, i) => i),
  );
}

export function ty(dtype: DType, shape: number[]): TensorType {
  return { dtype, shape };
}

/** Parses attrs, infers the type, evaluates; checks the value has the inferred type. */
export function run(op: string, inputs: Tensor[], attrs: Record<string, unknown> = {}): Tensor {
  const { attrs: parsed, type } = inferOp(
    op,
    inputs.map((x) => ({ dtype: x.dtype, shape: x.shape })),
    attrs,
  );
  const out = getOp(op).evaluate(inputs, parsed, cpuEvalContext);
  expect(out.dtype).toBe(type.dtype);
  expect(out.shape).toEqual(type.shape);
  expect(out.data.length).toBe(type.shape.reduce((a, b) => a * b, 1));
  return out;
}

/** The inferred output type of `op` on input types. */
export function infer(
  op: string,
  inputs: TensorType[],
  attrs: Record<string, unknown> = {},
): TensorType {
  return inferOp(op, inputs, attrs).type;
}

export function values(x: Tensor): number[] {
  return toNumbers(x);
}

/** Asserts fn throws an OpError with exactly this code and message. */
export function expectOpError(fn: () => unknown, code: string, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected an OpError").toBeInstanceOf(OpError);
  const err = caught as OpError;
  expect(err.code).toBe(code);
  if (typeof message === "string") expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}

/** Each value rounded to f32, as the ops store results. */
export function fround(xs: number[]): number[] {
  return xs.map(Math.fround);
}

/** Element-wise closeness with a relative+absolute tolerance. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-6,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `element ${i}: ${a} is not NaN`).toBe(true);
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `element ${i}`).toBe(e);
      continue;
    }
    const ok = Math.abs(a - e) <= tol * (1 + Math.abs(e));
    expect(ok, `element ${i}: got ${a}, expected ${e}`).toBe(true);
  }
}
