// Builtins over hyperparameter values: len, int, float, pair, prod.

import { raise } from "../context.js";
import { describe, floatV, intV, listV, type Value } from "../values.js";
import { type Builtin, register, T } from "./builtin.js";

const len: Builtin = {
  name: "len",
  hyper: [{ name: "value", type: T.any }],
  inputs: [],
  apply(call) {
    const v = call.hyper.get("value")!;
    if (v.k === "list") return intV(v.items.length);
    if (v.k === "str") return intV(v.v.length);
    if (v.k === "record") return intV(v.fields.size);
    raise(call.ctx, "NN3004", `len: expected a list, got ${describe(v)}`, call.span);
  },
};

function numberOf(v: Value): number | null {
  return v.k === "int" || v.k === "float" ? v.v : v.k === "bool" ? (v.v ? 1 : 0) : null;
}

const toInt: Builtin = {
  name: "int",
  hyper: [{ name: "value", type: T.any }],
  inputs: [],
  apply(call) {
    const x = numberOf(call.hyper.get("value")!);
    if (x === null || !Number.isFinite(x)) {
      raise(
        call.ctx,
        "NN3004",
        `int: expected a number, got ${describe(call.hyper.get("value")!)}`,
        call.span,
      );
    }
    return intV(Math.trunc(x));
  },
};

const toFloat: Builtin = {
  name: "float",
  hyper: [{ name: "value", type: T.any }],
  inputs: [],
  apply(call) {
    const x = numberOf(call.hyper.get("value")!);
    if (x === null)
      raise(
        call.ctx,
        "NN3004",
        `float: expected a number, got ${describe(call.hyper.get("value")!)}`,
        call.span,
      );
    return floatV(x);
  },
};

/** `pair(3)` is `[3, 3]`; `pair([3, 5])` stays. Kernel sizes and strides use it. */
const pair: Builtin = {
  name: "pair",
  hyper: [{ name: "value", type: T.any }],
  inputs: [],
  apply(call) {
    const v = call.hyper.get("value")!;
    if (v.k === "int") return listV([v, v]);
    if (v.k === "list" && v.items.length === 2 && v.items.every((x) => x.k === "int")) return v;
    raise(
      call.ctx,
      "NN3004",
      `pair: expected an int or a pair of ints, got ${describe(v)}`,
      call.span,
    );
  },
};

const prod: Builtin = {
  name: "prod",
  hyper: [{ name: "values", type: T.any }],
  inputs: [],
  apply(call) {
    const v = call.hyper.get("values")!;
    if (v.k !== "list" || !v.items.every((x) => x.k === "int")) {
      raise(call.ctx, "NN3004", `prod: expected a list of ints, got ${describe(v)}`, call.span);
    }
    return intV(v.items.reduce((p, x) => p * (x as { v: number }).v, 1));
  },
};

register(len, toInt, toFloat, pair, prod);
