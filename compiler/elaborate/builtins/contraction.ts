// Contraction and window builtins: matmul, conv2d, conv_transpose2d, pool2d.
// Attribute values are checked here with the user's words; shapes are checked
// by the ops' own rules.

import { raise } from "../context.js";
import { node } from "../emit.js";
import { intV, NONE } from "../values.js";
import {
  type Builtin,
  type BuiltinCall,
  boolHyper,
  intHyper,
  pairHyper,
  register,
  T,
  tensorArg,
} from "./builtin.js";

function positivePair(call: BuiltinCall, name: string): [number, number] {
  const p = pairHyper(call, name);
  if (p.some((x) => x < 1))
    raise(call.ctx, "NN3015", `\`${name}\` must be at least 1, got [${p.join(", ")}]`, call.span);
  return p;
}

function nonNegativePair(call: BuiltinCall, name: string): [number, number] {
  const p = pairHyper(call, name);
  if (p.some((x) => x < 0))
    raise(call.ctx, "NN3015", `\`${name}\` must not be negative, got [${p.join(", ")}]`, call.span);
  return p;
}

function groups(call: BuiltinCall): number {
  const g = intHyper(call, "groups");
  if (g < 1) raise(call.ctx, "NN3015", `\`groups\` must be at least 1, got ${g}`, call.span);
  return g;
}

const matmulB: Builtin = {
  name: "matmul",
  hyper: [],
  inputs: ["a", "b"],
  apply: (call) =>
    node(call.ctx, "matmul", [tensorArg(call, 0, "a"), tensorArg(call, 1, "b")], {}, call.span),
};

const convHyper: Builtin["hyper"] = [
  { name: "stride", type: T.any, default: intV(1) },
  { name: "pad", type: T.any, default: intV(0) },
  { name: "dilation", type: T.any, default: intV(1) },
  { name: "groups", type: T.int, default: intV(1) },
];

const conv2dB: Builtin = {
  name: "conv2d",
  hyper: convHyper,
  inputs: ["input", "weight"],
  apply: (call) =>
    node(
      call.ctx,
      "conv2d",
      [tensorArg(call, 0, "input"), tensorArg(call, 1, "weight")],
      {
        stride: positivePair(call, "stride"),
        pad: nonNegativePair(call, "pad"),
        dilation: positivePair(call, "dilation"),
        groups: groups(call),
      },
      call.span,
    ),
};

const convTranspose2dB: Builtin = {
  name: "conv_transpose2d",
  hyper: [...convHyper, { name: "output_padding", type: T.any, default: intV(0) }],
  inputs: ["input", "weight"],
  apply: (call) =>
    node(
      call.ctx,
      "conv_transpose2d",
      [tensorArg(call, 0, "input"), tensorArg(call, 1, "weight")],
      {
        stride: positivePair(call, "stride"),
        pad: nonNegativePair(call, "pad"),
        output_padding: nonNegativePair(call, "output_padding"),
        dilation: positivePair(call, "dilation"),
        groups: groups(call),
      },
      call.span,
    ),
};

const pool2dB: Builtin = {
  name: "pool2d",
  hyper: [
    { name: "kind", type: T.enumOf("max", "avg") },
    { name: "kernel", type: T.any },
    { name: "stride", type: T.any, default: NONE },
    { name: "pad", type: T.any, default: intV(0) },
    { name: "count_include_pad", type: T.bool, default: { k: "bool", v: true } },
  ],
  inputs: ["input"],
  apply(call) {
    const kernel = positivePair(call, "kernel");
    const stride = call.hyper.get("stride")!.k === "none" ? kernel : positivePair(call, "stride");
    return node(
      call.ctx,
      "pool2d",
      [tensorArg(call, 0, "input")],
      {
        kind: (call.hyper.get("kind") as { v: string }).v,
        kernel,
        stride,
        pad: nonNegativePair(call, "pad"),
        count_include_pad: boolHyper(call, "count_include_pad"),
      },
      call.span,
    );
  },
};

register(matmulB, conv2dB, convTranspose2dB, pool2dB);
