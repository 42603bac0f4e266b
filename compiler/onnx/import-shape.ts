// The ONNX movement and shape ops as nnc primitives: Slice (with ONNX's index
// clamping), Reshape (0 and -1), Split, Pad (constant, reflect, edge; negative
// pads crop), Squeeze/Unsqueeze, Tile, Expand, Gather, and Shape/Size/
// ConstantOfShape, which fold to constants since every shape is static.

import { broadcastShapes } from "../ops/shape-utils.js";
import type { GraphImporter, Val } from "./import.js";
import {
  Attrs,
  axesOf,
  axisOf,
  fail,
  i32,
  known,
  need,
  type Rule,
  reshape,
} from "./import-util.js";
import { fromTensorProto } from "./tensors.js";

const x0 = (inputs: (Val | undefined)[]) => need(inputs[0], "input 0");

function sliceAlong(
  b: GraphImporter,
  x: Val,
  axis: number,
  start: number,
  end: number,
  step = 1,
): Val {
  const starts = x.type.shape.map(() => 0);
  const ends = [...x.type.shape];
  const steps = x.type.shape.map(() => 1);
  starts[axis] = start;
  ends[axis] = end;
  steps[axis] = step;
  return b.op("slice", [x], { starts, ends, steps });
}

/** ONNX Slice's clamping of one axis: negative from the end, then into [0, dim]. */
function clampIndex(v: number, dim: number): number {
  const r = v < 0 ? v + dim : v;
  return Math.max(0, Math.min(dim, r));
}

const sliceRule: Rule = (b, inputs, n) => {
  const x = x0(inputs);
  const at = new Attrs(n);
  const rank = x.type.shape.length;
  const old = b.opset < 10;
  const starts = old ? (at.ints("starts") ?? []) : known(inputs[1], "starts");
  const ends = old ? (at.ints("ends") ?? []) : known(inputs[2], "ends");
  const axes =
    (old ? at.ints("axes") : inputs[3] ? known(inputs[3], "axes") : undefined) ??
    starts.map((_, i) => i);
  const steps = !old && inputs[4] ? known(inputs[4], "steps") : starts.map(() => 1);
  const s = x.type.shape.map(() => 0);
  const e = [...x.type.shape];
  const st = x.type.shape.map(() => 1);
  axes.forEach((a0, i) => {
    const a = axisOf(a0, rank);
    const dim = x.type.shape[a]!;
    if (steps[i]! <= 0) fail(`Slice with step ${steps[i]} is not supported (only positive steps)`);
    s[a] = clampIndex(starts[i]!, dim);
    e[a] = Math.max(s[a]!, clampIndex(ends[i]!, dim));
    st[a] = steps[i]!;
  });
  return [b.op("slice", [x], { starts: s, ends: e, steps: st })];
};

const reshapeRule: Rule = (b, inputs, n) => {
  const x = x0(inputs);
  const target = b.opset < 5 ? (new Attrs(n).ints("shape") ?? []) : known(inputs[1], "the shape");
  const allowzero = new Attrs(n).int("allowzero", 0);
  const shape = target.map((d, i) => (d === 0 && !allowzero ? x.type.shape[i]! : d));
  const total = x.type.shape.reduce((p, d) => p * d, 1);
  const k = shape.indexOf(-1);
  if (k >= 0) {
    const rest = shape.reduce((p, d, i) => (i === k ? p : p * d), 1);
    shape[k] = rest === 0 ? 0 : total / rest;
  }
  return [reshape(b, x, shape)];
};

const splitRule: Rule = (b, inputs, n) => {
  const x = x0(inputs);
  const at = new Attrs(n);
  const axis = axisOf(at.int("axis", 0), x.type.shape.length);
  const dim = x.type.shape[axis]!;
  let sizes = at.ints("split") ?? (inputs[1] ? known(inputs[1], "split") : undefined);
  if (!sizes) {
    const parts = at.int("num_outputs") ?? n.output.length;
    const each = Math.ceil(dim / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.min(each, dim - i * each));
  }
  let start = 0;
  return sizes.map((sz) => {
    const v = sliceAlong(b, x, axis, start, start + sz);
    start += sz;
    return v;
  });
};

/** Pads: [begin of each axis..., end of each axis...]; negative pads crop. */
function padRule(b: GraphImporter, inputs: (Val | undefined)[], n: Parameters<Rule>[2]): Val[] {
  let x = x0(inputs);
  const at = new Attrs(n);
  const rank = x.type.shape.length;
  const old = b.opset < 11;
  const mode = at.str("mode", "constant");
  let pads = old ? (at.ints("pads") ?? at.ints("paddings") ?? []) : known(inputs[1], "pads");
  const value = old ? at.float("value", 0) : inputs[2] ? known(inputs[2], "constant_value")[0]! : 0;
  if (!old && inputs[3]) {
    const axes = known(inputs[3], "axes").map((a) => axisOf(a, rank));
    const full = new Array<number>(2 * rank).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i]!;
      full[a + rank] = pads[i + axes.length]!;
    });
    pads = full;
  }
  // Crops first (negative pads), then the padding proper.
  for (let a = 0; a < rank; a++) {
    const lo = Math.max(0, -pads[a]!);
    const hi = Math.max(0, -pads[a + rank]!);
    if (lo || hi) x = sliceAlong(b, x, a, lo, x.type.shape[a]! - hi);
  }
  const before = Array.from({ length: rank }, (_, a) => Math.max(0, pads[a]!));
  const after = Array.from({ length: rank }, (_, a) => Math.max(0, pads[a + rank]!));
  if (mode === "constant")
    return [b.op("pad", [x], { pads: before.map((p, a) => [p, after[a]!]), value })];
  if (mode !== "reflect" && mode !== "edge")
    fail(`Pad mode \`${mode}\` is not supported (constant, reflect, edge)`);
  // reflect / edge: a gather of source indices along each padded axis.
  for (let a = 0; a < rank; a++) {
    const dim = x.type.shape[a]!;
    if (!before[a] && !after[a]) continue;
    const src = (i: number) => {
      if (mode === "edge") return Math.max(0, Math.min(dim - 1, i));
      if (before[a]! >= dim || after[a]! >= dim)
        fail(`reflect padding ${Math.max(before[a]!, after[a]!)} needs a dim larger than ${dim}`);
      return i < 0 ? -i : i >= dim ? 2 * (dim - 1) - i : i;
    };
    const idx = Array.from({ length: before[a]! + dim + after[a]! }, (_, k) => src(k - before[a]!));
    x = b.op("gather", [x, i32(b, idx)], { axis: a });
  }
  return [x];
}

export const shapeRules: Record<string, Rule> = {
  Concat: (b, inputs, n) => {
    const xs = inputs.filter((v): v is Val => v !== undefined);
    const axis = axisOf(new Attrs(n).int("axis", 0), xs[0]!.type.shape.length);
    return [xs.length === 1 ? xs[0]! : b.op("concat", xs, { axis })];
  },
  Split: splitRule,
  Slice: sliceRule,
  Reshape: reshapeRule,
  Flatten: (b, inputs, n) => {
    const x = x0(inputs);
    const r = x.type.shape.length;
    const a = new Attrs(n).int("axis", 1);
    const axis = a < 0 ? a + r : a;
    const prod = (s: number[]) => s.reduce((p, d) => p * d, 1);
    return [reshape(b, x, [prod(x.type.shape.slice(0, axis)), prod(x.type.shape.slice(axis))])];
  },
  Transpose: (b, inputs, n) => {
    const x = x0(inputs);
    const perm =
      new Attrs(n).ints("perm") ?? x.type.shape.map((_, i) => x.type.shape.length - 1 - i);
    return [b.op("permute", [x], { perm })];
  },
  Squeeze: (b, inputs, n) => {
    const x = x0(inputs);
    const axes =
      axesOf(inputs, n, x.type.shape.length) ??
      x.type.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes)
      if (x.type.shape[a] !== 1) fail(`cannot squeeze axis ${a} of size ${x.type.shape[a]}`);
    return [
      reshape(
        b,
        x,
        x.type.shape.filter((_, i) => !axes.includes(i)),
      ),
    ];
  },
  Unsqueeze: (b, inputs, n) => {
    const x = x0(inputs);
    const raw = new Attrs(n).ints("axes") ?? known(inputs[1], "axes");
    const rank = x.type.shape.length + raw.length;
    const axes = raw.map((a) => axisOf(a, rank));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.type.shape[k++]!);
    return [reshape(b, x, shape)];
  },
  Expand: (b, inputs) => {
    const x = x0(inputs);
    const shape = broadcastShapes([x.type.shape, known(inputs[1], "shape")]);
    if (!shape) fail(`cannot expand ${x.type.shape} to ${known(inputs[1], "shape")}`);
    return [b.op("broadcast", [x], { shape })];
  },
  Tile: (b, inputs) => {
    let x = x0(inputs);
    const reps = known(inputs[1], "repeats");
    reps.forEach((r, a) => {
      if (r === 1) return;
      const s = x.type.shape;
      const lifted = reshape(b, x, [...s.slice(0, a), 1, ...s.slice(a)]);
      const wide = b.op("broadcast", [lifted], { shape: [...s.slice(0, a), r, ...s.slice(a)] });
      x = reshape(b, wide, [...s.slice(0, a), r * s[a]!, ...s.slice(a + 1)]);
    });
    return [x];
  },
  Gather: (b, inputs, n) => {
    const data = x0(inputs);
    const axis = axisOf(new Attrs(n).int("axis", 0), data.type.shape.length);
    let idx = need(inputs[1], "indices");
    if (idx.value && !idx.param) {
      const dim = data.type.shape[axis]!;
      const v = Array.from(idx.value.data, Number).map((i) => (i < 0 ? i + dim : i));
      idx = i32(b, v, [...idx.type.shape]);
    }
    return [b.op("gather", [data, idx], { axis })];
  },
  Shape: (b, inputs, n) => {
    const s = x0(inputs).type.shape;
    const at = new Attrs(n);
    const start = at.int("start", 0);
    const end = at.int("end", s.length);
    const clampI = (v: number) => Math.max(0, Math.min(s.length, v < 0 ? v + s.length : v));
    return [i32(b, s.slice(clampI(start), clampI(end)))];
  },
  Size: (b, inputs) => [i32(b, [x0(inputs).type.shape.reduce((p, d) => p * d, 1)], [])],
  ConstantOfShape: (b, inputs, n) => {
    const shape = known(inputs[0], "shape");
    const t = new Attrs(n).tensor("value");
    const v = t
      ? fromTensorProto(t, "ConstantOfShape value")
      : { dtype: "f32" as const, shape: [1], data: Float32Array.of(0) };
    const count = shape.reduce((p, d) => p * d, 1);
    const data = new (v.data.constructor as new (n: number) => typeof v.data)(count);
    (data as Float32Array).fill(Number(v.data[0]));
    return [b.constant({ dtype: v.dtype, shape, data })];
  },
  Pad: padRule,
};
