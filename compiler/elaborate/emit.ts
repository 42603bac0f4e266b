// Small helpers that turn values into Graph IR nodes: scalar constants typed
// after the tensor they meet, binary ops, reshapes with -1, slices. Shared by
// the expression evaluator and the builtins.

import type { Span } from "../core/span.js";
import { type DType, formatType, numel } from "../core/types.js";
import type { GraphBuilder } from "./builder.js";
import { type Ctx, raise } from "./context.js";
import { describe, type TensorValue, type Value } from "./values.js";

/** One primitive node in the graph under construction (GraphBuilder.add). */
export function node(...args: Parameters<GraphBuilder["add"]>): TensorValue {
  return args[0].session.builder.add(...args);
}

export function scalar(ctx: Ctx, x: number, dtype: DType, span: Span): TensorValue {
  return ctx.session.builder.constant(ctx, dtype, [], [x], span);
}

/** A number meeting a tensor becomes a constant of the tensor's dtype (ints stay exact). */
export function toTensor(ctx: Ctx, v: Value, like: DType, span: Span): TensorValue {
  if (v.k === "tensor") return v;
  if (v.k === "int" || v.k === "float" || v.k === "bool") {
    const x = v.k === "bool" ? (v.v ? 1 : 0) : v.v;
    if (like === "i32" && v.k === "float" && !Number.isInteger(x)) {
      raise(
        ctx,
        "NN4003",
        `cannot combine an i32 tensor with float ${x}; cast the tensor first`,
        span,
      );
    }
    if (like === "bool" && v.k !== "bool") {
      raise(ctx, "NN4003", `cannot combine a bool tensor with ${describe(v)}`, span);
    }
    return scalar(ctx, x, like, span);
  }
  raise(ctx, "NN3004", `expected a tensor or a number, got ${describe(v)}`, span);
}

/** The dtype a group of operands computes in: the first tensor's, f32 if all are numbers. */
export function commonDtype(vals: Value[]): DType {
  for (const v of vals) if (v.k === "tensor") return v.type.dtype;
  return "f32";
}

export function binary(
  ctx: Ctx,
  op: string,
  a: Value,
  b: Value,
  span: Span,
  attrs = {},
): TensorValue {
  const dt = commonDtype([a, b]);
  return node(ctx, op, [toTensor(ctx, a, dt, span), toTensor(ctx, b, dt, span)], attrs, span);
}

export function unary(ctx: Ctx, op: string, x: TensorValue, span: Span, attrs = {}): TensorValue {
  return node(ctx, op, [x], attrs, span);
}

/** Reshape with at most one -1 inferred from the element count. */
export function reshape(ctx: Ctx, x: TensorValue, shape: number[], span: Span): TensorValue {
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) raise(ctx, "NN4002", "reshape: at most one dimension may be -1", span);
  const bad = shape.find((d) => d < -1 || !Number.isInteger(d));
  if (bad !== undefined) raise(ctx, "NN4002", `reshape: invalid dimension ${bad}`, span);
  let dims = shape;
  if (holes === 1) {
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    const total = numel(x.type.shape);
    if (known === 0 || total % known !== 0) {
      raise(
        ctx,
        "NN4002",
        `reshape: cannot reshape ${formatType(x.type)} (${total} elements) into [${shape.join(", ")}]`,
        span,
      );
    }
    dims = shape.map((d) => (d === -1 ? total / known : d));
  }
  if (dims.length === x.type.shape.length && dims.every((d, i) => d === x.type.shape[i])) return x;
  return node(ctx, "reshape", [x], { shape: dims }, span);
}

/** Slices one axis; other axes are kept whole. */
export function sliceAxis(
  ctx: Ctx,
  x: TensorValue,
  axis: number,
  start: number,
  end: number,
  step: number,
  span: Span,
): TensorValue {
  const shape = x.type.shape;
  const starts = shape.map(() => 0);
  const ends = [...shape];
  const steps = shape.map(() => 1);
  starts[axis] = start;
  ends[axis] = end;
  steps[axis] = step;
  if (start === 0 && end === shape[axis] && step === 1) return x;
  return node(ctx, "slice", [x], { starts, ends, steps }, span);
}

export function permute(ctx: Ctx, x: TensorValue, perm: number[], span: Span): TensorValue {
  if (perm.every((p, i) => p === i)) return x;
  return node(ctx, "permute", [x], { perm }, span);
}

/** Swaps two axes. */
export function transpose(ctx: Ctx, x: TensorValue, a: number, b: number, span: Span): TensorValue {
  const perm = x.type.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(ctx, x, perm, span);
}
