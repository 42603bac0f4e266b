// Elementwise and reduction builtins: exp, tanh, erf, ..., pow, max/min (both
// elementwise and reducing), where, cast, sum, mean. Each works on numbers too
// where that makes sense (`sqrt(2.0)` in a hyperparameter expression).

import { binaryTable, type UnaryFn, unaryFnNames, unaryTable } from "../../ops/scalar.js";
import { raise } from "../context.js";
import { binary, commonDtype, node, toTensor, unary } from "../emit.js";
import { describe, NONE, type TensorValue } from "../values.js";
import {
  type Builtin,
  type BuiltinCall,
  boolHyper,
  dtypeHyper,
  intList,
  normAxis,
  register,
  T,
  tensorArg,
} from "./builtin.js";

/** A unary function of the scalar table: an op on tensors, the table's float64 function on numbers. */
function unaryBuiltin(name: UnaryFn): Builtin {
  const f = unaryTable[name].f;
  return {
    name,
    hyper: [],
    inputs: ["input"],
    numeric: (a) => f(a[0]!),
    apply: (call) => unary(call.ctx, name, tensorArg(call, 0, "input"), call.span),
  };
}

function binaryBuiltin(name: string, numeric: (a: number, b: number) => number): Builtin {
  return {
    name,
    hyper: [],
    inputs: ["a", "b"],
    positionalHyper: false,
    numeric: (a) => numeric(a[0]!, a[1]!),
    apply: (call) => binary(call.ctx, name, call.inputs[0]!, call.inputs[1]!, call.span),
  };
}

/** Axes from `axis=` (int, list, or none for all), normalised and sorted. */
function axesOf(call: BuiltinCall, x: TensorValue): number[] {
  const v = call.hyper.get("axis")!;
  const rank = x.type.shape.length;
  if (v.k === "none") return x.type.shape.map((_, i) => i);
  const axes = intList(call.ctx, v, "axis", call.span).map((a) => normAxis(call, a, rank));
  const uniq = [...new Set(axes)].sort((p, q) => p - q);
  if (uniq.length !== axes.length)
    raise(call.ctx, "NN3015", "`axis` lists an axis twice", call.span);
  return uniq;
}

function reduce(call: BuiltinCall, op: string, x: TensorValue): TensorValue {
  const axes = axesOf(call, x);
  if (axes.length === 0) return x;
  return node(call.ctx, op, [x], { axes, keepdims: boolHyper(call, "keepdims") }, call.span);
}

function reduceBuiltin(name: string, op: string): Builtin {
  return {
    name,
    hyper: [
      { name: "axis", type: T.any, default: NONE },
      { name: "keepdims", type: T.bool, default: { k: "bool", v: false } },
    ],
    inputs: ["input"],
    apply: (call) => reduce(call, op, tensorArg(call, 0, "input")),
  };
}

/** `max(a, b)` elementwise, `max(x, axis=1)` reducing, `max(3, 4)` on numbers. */
function extremum(name: "max" | "min"): Builtin {
  const pick = name === "max" ? Math.max : Math.min;
  return {
    name,
    hyper: [
      { name: "axis", type: T.any, default: NONE },
      { name: "keepdims", type: T.bool, default: { k: "bool", v: false } },
    ],
    inputs: ["a", "b"],
    optionalInputs: 1,
    positionalHyper: false,
    numeric: (a) => pick(...a),
    apply(call) {
      if (call.inputs.length === 2) {
        if (call.hyper.get("axis")!.k !== "none") {
          raise(
            call.ctx,
            "NN3015",
            `${name}(a, b) is elementwise; \`axis\` applies to ${name}(x, axis=...)`,
            call.span,
          );
        }
        return binary(call.ctx, name, call.inputs[0]!, call.inputs[1]!, call.span);
      }
      const x = tensorArg(call, 0, "input");
      if (name === "max") return reduce(call, "reduce_max", x);
      // min over axes is -max(-x): the primitive set has one reducing extremum.
      const negated = unary(call.ctx, "neg", x, call.span);
      return unary(call.ctx, "neg", reduce(call, "reduce_max", negated), call.span);
    },
  };
}

const where: Builtin = {
  name: "where",
  hyper: [],
  inputs: ["cond", "a", "b"],
  positionalHyper: false,
  apply(call) {
    const cond = tensorArg(call, 0, "cond");
    if (cond.type.dtype !== "bool") {
      raise(
        call.ctx,
        "NN4003",
        `where: the condition must be a bool tensor, got ${describe(cond)}`,
        call.span,
      );
    }
    const [a, b] = [call.inputs[1]!, call.inputs[2]!];
    const dt = commonDtype([a, b]);
    return node(
      call.ctx,
      "where",
      [cond, toTensor(call.ctx, a, dt, call.span), toTensor(call.ctx, b, dt, call.span)],
      {},
      call.span,
    );
  },
};

const cast: Builtin = {
  name: "cast",
  hyper: [{ name: "dtype", type: T.dtype }],
  inputs: ["input"],
  apply(call) {
    const x = tensorArg(call, 0, "input");
    const to = dtypeHyper(call, "dtype");
    return to === x.type.dtype ? x : unary(call.ctx, "cast", x, call.span, { to });
  },
};

register(
  ...unaryFnNames.filter((name) => unaryTable[name].builtin !== undefined).map(unaryBuiltin),
  binaryBuiltin("pow", (a, b) => binaryTable.pow.f(a, b, "f32")),
  extremum("max"),
  extremum("min"),
  reduceBuiltin("sum", "reduce_sum"),
  reduceBuiltin("mean", "reduce_mean"),
  where,
  cast,
);
