// `random_bits(x)`: the counter-based RNG of train-mode dropout. Each element
// is hash32 of its flat index mixed with a key from the graph's scalar i32
// inputs `rng:seed` and `rng:step` and the call's position, so the CPU and
// WebGPU draw the same bits and a new step needs new inputs, not a recompile.

import { numel } from "../../core/types.js";
import type { Ctx } from "../context.js";
import { binary, node, reshape, scalar, unary } from "../emit.js";
import type { TensorValue } from "../values.js";
import { type Builtin, register, tensorArg } from "./builtin.js";

/** The graph inputs that key the RNG; the trainer sets them each step. */
export const RNG_SEED = "rng:seed";
export const RNG_STEP = "rng:step";

/** The scalar i32 input `name`, declared on first use. */
function rngInput(ctx: Ctx, name: string, span: Parameters<typeof scalar>[3]): TensorValue {
  const b = ctx.session.builder;
  const found = b.graph.inputs.find((i) => i.name === name);
  if (found) return { k: "tensor", node: found.node, type: found.type, owner: b };
  return b.input(ctx, name, { dtype: "i32", shape: [] }, span);
}

const randomBits: Builtin = {
  name: "random_bits",
  hyper: [],
  inputs: ["like"],
  apply(call) {
    const { ctx, span } = call;
    const like = tensorArg(call, 0, "like");
    // The call's position keeps two dropouts of one step apart.
    const salt = ctx.session.draws++;
    const h = (x: TensorValue) => unary(ctx, "hash32", x, span);
    const step = binary(
      ctx,
      "add",
      rngInput(ctx, RNG_STEP, span),
      scalar(ctx, salt, "i32", span),
      span,
    );
    const key = h(binary(ctx, "add", rngInput(ctx, RNG_SEED, span), h(step), span));
    const n = numel(like.type.shape);
    const index = node(ctx, "iota", [], { shape: [n], axis: 0, dtype: "i32" }, span);
    // Weyl-spread indices so neighbouring elements differ in many bits before the mix.
    const spread = binary(ctx, "mul", index, scalar(ctx, 0x9e3779b9 | 0, "i32", span), span);
    const bits = h(binary(ctx, "add", spread, key, span));
    return reshape(ctx, bits, [...like.type.shape], span);
  },
};

register(randomBits);
