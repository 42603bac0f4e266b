// Movement and construction builtins: reshape, permute, transpose, squeeze,
// unsqueeze, expand, concat, stack, split, slice, pad, gather, iota/arange,
// zeros/ones/full. Each becomes one primitive (or none when it is a no-op).

import { raise } from "../context.js";
import { node, permute, reshape, sliceAxis, toTensor, transpose } from "../emit.js";
import { describe, intV, listV, type TensorValue, type Value } from "../values.js";
import {
  type Builtin,
  type BuiltinCall,
  dtypeHyper,
  floatHyper,
  intHyper,
  intList,
  intsHyper,
  normAxis,
  register,
  T,
  tensorArg,
} from "./builtin.js";

const reshapeB: Builtin = {
  name: "reshape",
  hyper: [{ name: "shape", type: T.any }],
  inputs: ["input"],
  apply: (call) =>
    reshape(call.ctx, tensorArg(call, 0, "input"), intsHyper(call, "shape"), call.span),
};

const permuteB: Builtin = {
  name: "permute",
  hyper: [{ name: "perm", type: T.any }],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const rank = x.type.shape.length;
    const perm = intsHyper(call, "perm").map((a) => normAxis(call, a, rank));
    if (perm.length !== rank || new Set(perm).size !== rank) {
      raise(
        call.ctx,
        "NN4002",
        `permute: [${perm.join(", ")}] is not a permutation of the ${rank} axes of ${describe(x)}`,
        call.span,
      );
    }
    return permute(call.ctx, x, perm, call.span);
  },
};

const transposeB: Builtin = {
  name: "transpose",
  hyper: [
    { name: "a", type: T.int, default: intV(-2) },
    { name: "b", type: T.int, default: intV(-1) },
  ],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const rank = x.type.shape.length;
    if (rank < 2)
      raise(call.ctx, "NN4002", `transpose needs at least 2 axes, got ${describe(x)}`, call.span);
    return transpose(
      call.ctx,
      x,
      normAxis(call, intHyper(call, "a"), rank),
      normAxis(call, intHyper(call, "b"), rank),
      call.span,
    );
  },
};

const unsqueezeB: Builtin = {
  name: "unsqueeze",
  hyper: [{ name: "axis", type: T.int }],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const a = normAxis(call, intHyper(call, "axis"), x.type.shape.length + 1);
    const shape = [...x.type.shape];
    shape.splice(a, 0, 1);
    return reshape(call.ctx, x, shape, call.span);
  },
};

const squeezeB: Builtin = {
  name: "squeeze",
  hyper: [{ name: "axis", type: T.int }],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const a = normAxis(call, intHyper(call, "axis"), x.type.shape.length);
    if (x.type.shape[a] !== 1) {
      raise(
        call.ctx,
        "NN4002",
        `squeeze: axis ${a} of ${describe(x)} has size ${x.type.shape[a]}, not 1`,
        call.span,
      );
    }
    const shape = [...x.type.shape];
    shape.splice(a, 1);
    return reshape(call.ctx, x, shape, call.span);
  },
};

const expandB: Builtin = {
  name: "expand",
  hyper: [{ name: "shape", type: T.any }],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const shape = intsHyper(call, "shape");
    const off = shape.length - x.type.shape.length;
    // -1 keeps the input's size, as torch's expand does.
    const target = shape.map((d, i) => (d === -1 && i >= off ? x.type.shape[i - off]! : d));
    if (target.length === x.type.shape.length && target.every((d, i) => d === x.type.shape[i]))
      return x;
    return node(call.ctx, "broadcast", [x], { shape: target }, call.span);
  },
};

/** Inputs of a variadic builtin: tensors given one by one, or one list of tensors. */
function tensorList(call: BuiltinCall, what: string): TensorValue[] {
  const flat: Value[] =
    call.inputs.length === 1 && call.inputs[0]!.k === "list" ? call.inputs[0]!.items : call.inputs;
  if (flat.length === 0) raise(call.ctx, "NN3002", `${what} needs at least one tensor`, call.span);
  return flat.map((v, i) => {
    if (v.k !== "tensor")
      raise(
        call.ctx,
        "NN3004",
        `${what}: argument ${i + 1} is ${describe(v)}, not a tensor`,
        call.span,
      );
    return v;
  });
}

const concatB: Builtin = {
  name: "concat",
  hyper: [{ name: "axis", type: T.int, default: intV(0) }],
  inputs: "variadic",
  apply(call) {
    const xs = tensorList(call, "concat");
    if (xs.length === 1) return xs[0]!;
    const axis = normAxis(call, intHyper(call, "axis"), xs[0]!.type.shape.length);
    return node(call.ctx, "concat", xs, { axis }, call.span);
  },
};

const stackB: Builtin = {
  name: "stack",
  hyper: [{ name: "axis", type: T.int, default: intV(0) }],
  inputs: "variadic",
  apply(call) {
    const xs = tensorList(call, "stack");
    const axis = normAxis(call, intHyper(call, "axis"), xs[0]!.type.shape.length + 1);
    const parts = xs.map((x) => {
      const shape = [...x.type.shape];
      shape.splice(axis, 0, 1);
      return reshape(call.ctx, x, shape, call.span);
    });
    return parts.length === 1 ? parts[0]! : node(call.ctx, "concat", parts, { axis }, call.span);
  },
};

/** `split(x, 4, axis=-1)` into equal parts, or `split(x, [2, 3], axis=0)` by sizes: a list of tensors. */
const splitB: Builtin = {
  name: "split",
  hyper: [
    { name: "parts", type: T.any },
    { name: "axis", type: T.int, default: intV(-1) },
  ],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const axis = normAxis(call, intHyper(call, "axis"), x.type.shape.length);
    const dim = x.type.shape[axis]!;
    const partsV = call.hyper.get("parts")!;
    let sizes: number[];
    if (partsV.k === "int") {
      if (partsV.v <= 0 || dim % partsV.v !== 0) {
        raise(
          call.ctx,
          "NN4002",
          `split: axis ${axis} of ${describe(x)} does not divide into ${partsV.v} equal parts`,
          call.span,
        );
      }
      sizes = new Array<number>(partsV.v).fill(dim / partsV.v);
    } else {
      sizes = intList(call.ctx, partsV, "parts", call.span);
      if (sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => s < 0)) {
        raise(
          call.ctx,
          "NN4002",
          `split: sizes [${sizes.join(", ")}] do not add up to ${dim} along axis ${axis}`,
          call.span,
        );
      }
    }
    let at = 0;
    return listV(
      sizes.map((s) => {
        const part = sliceAxis(call.ctx, x, axis, at, at + s, 1, call.span);
        at += s;
        return part;
      }),
    );
  },
};

const sliceB: Builtin = {
  name: "slice",
  hyper: [
    { name: "axis", type: T.int },
    { name: "start", type: T.int },
    { name: "end", type: T.int },
    { name: "step", type: T.int, default: intV(1) },
  ],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const axis = normAxis(call, intHyper(call, "axis"), x.type.shape.length);
    const dim = x.type.shape[axis]!;
    const norm = (i: number) => Math.min(Math.max(i < 0 ? i + dim : i, 0), dim);
    const step = intHyper(call, "step");
    if (step < 1)
      raise(call.ctx, "NN3015", `slice: step must be at least 1, got ${step}`, call.span);
    const start = norm(intHyper(call, "start"));
    const end = Math.max(start, norm(intHyper(call, "end")));
    return sliceAxis(call.ctx, x, axis, start, end, step, call.span);
  },
};

/** `pad(x, [[0, 0], [0, 0], [1, 1], [1, 1]], value=0.0)`: before/after per axis. */
const padB: Builtin = {
  name: "pad",
  hyper: [
    { name: "pads", type: T.any },
    { name: "value", type: T.float, default: { k: "float", v: 0 } },
  ],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const v = call.hyper.get("pads")!;
    const rank = x.type.shape.length;
    if (v.k !== "list" || v.items.length !== rank) {
      raise(
        call.ctx,
        "NN3004",
        `pad: \`pads\` must list [before, after] for each of the ${rank} axes`,
        call.span,
      );
    }
    const pads = v.items.map((p) => {
      const pair = intList(call.ctx, p, "pads", call.span);
      if (pair.length !== 2 || pair.some((q) => q < 0)) {
        raise(
          call.ctx,
          "NN3015",
          "pad: each entry must be [before, after] with non-negative sizes",
          call.span,
        );
      }
      return pair as [number, number];
    });
    if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
    return node(call.ctx, "pad", [x], { pads, value: floatHyper(call, "value") }, call.span);
  },
};

const gatherB: Builtin = {
  name: "gather",
  hyper: [{ name: "axis", type: T.int, default: intV(0) }],
  inputs: ["data", "indices"],
  apply(call) {
    const data = tensorArg(call, 0, "data");
    const idx = tensorArg(call, 1, "indices");
    const axis = normAxis(call, intHyper(call, "axis"), data.type.shape.length);
    return node(call.ctx, "gather", [data, idx], { axis }, call.span);
  },
};

function shapeHyper(call: BuiltinCall): number[] {
  const shape = intsHyper(call, "shape");
  if (shape.some((d) => d < 0))
    raise(call.ctx, "NN3015", `shape [${shape.join(", ")}] has a negative size`, call.span);
  return shape;
}

const iotaB: Builtin = {
  name: "iota",
  hyper: [
    { name: "shape", type: T.any },
    { name: "axis", type: T.int, default: intV(0) },
    { name: "dtype", type: T.dtype, default: { k: "word", v: "f32" } },
  ],
  inputs: [],
  apply(call) {
    const shape = shapeHyper(call);
    const axis = normAxis(call, intHyper(call, "axis"), shape.length);
    return node(call.ctx, "iota", [], { shape, axis, dtype: dtypeHyper(call, "dtype") }, call.span);
  },
};

const arangeB: Builtin = {
  name: "arange",
  hyper: [
    { name: "n", type: T.int },
    { name: "dtype", type: T.dtype, default: { k: "word", v: "f32" } },
  ],
  inputs: [],
  apply: (call) =>
    node(
      call.ctx,
      "iota",
      [],
      { shape: [intHyper(call, "n")], axis: 0, dtype: dtypeHyper(call, "dtype") },
      call.span,
    ),
};

function fillBuiltin(name: string, value: number | null): Builtin {
  const hyper: Builtin["hyper"] = [{ name: "shape", type: T.any }];
  if (value === null) hyper.push({ name: "value", type: T.float });
  hyper.push({ name: "dtype", type: T.dtype, default: { k: "word", v: "f32" } });
  return {
    name,
    hyper,
    inputs: [],
    apply(call) {
      const shape = shapeHyper(call);
      const dtype = dtypeHyper(call, "dtype");
      const x = value ?? floatHyper(call, "value");
      const s = toTensor(call.ctx, { k: "float", v: x }, dtype, call.span);
      if (shape.length === 0) return s;
      return node(call.ctx, "broadcast", [s], { shape }, call.span);
    },
  };
}

register(
  reshapeB,
  permuteB,
  transposeB,
  unsqueezeB,
  squeezeB,
  expandB,
  concatB,
  stackB,
  splitB,
  sliceB,
  padB,
  gatherB,
  iotaB,
  arangeB,
  fillBuiltin("zeros", 0),
  fillBuiltin("ones", 1),
  fillBuiltin("full", null),
);
