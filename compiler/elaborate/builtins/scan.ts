// scan(cell, x, init=state, axis=1, reverse=false): runs a step layer along an
// axis of x, carrying state. The step is elaborated once into the body graph of
// a `scan` node; tensors it reads from outside (parameters, memories) become
// captured inputs. The result is a record: each per-step output of the step,
// stacked along `axis`, then each state field's final value.

import type { Span } from "../../core/span.js";
import { formatType, numel, sameShape } from "../../core/types.js";
import { type Ctx, raise } from "../context.js";
import { node, permute, reshape } from "../emit.js";
import {
  type CallableValue,
  describe,
  intV,
  type RecordValue,
  type TensorValue,
  type Value,
} from "../values.js";
import { type Builtin, boolHyper, intHyper, normAxis, register, T, tensorArg } from "./builtin.js";

function stateFields(ctx: Ctx, init: Value, span: Span): [string, TensorValue][] {
  if (init.k === "tensor") return [["state", init]];
  if (init.k === "record" && [...init.fields.values()].every((v) => v.k === "tensor")) {
    return [...init.fields] as [string, TensorValue][];
  }
  raise(
    ctx,
    "NN3004",
    `scan: \`init\` must be a tensor or a record of tensors, got ${describe(init)}`,
    span,
  );
}

/** Splits the step's result into new state (matching init's fields) and per-step outputs. */
function stepResults(
  ctx: Ctx,
  result: Value,
  state: [string, TensorValue][],
  span: Span,
): { next: TensorValue[]; outputs: [string, TensorValue][] } {
  const byName = new Map<string, Value>();
  if (state.length === 1 && state[0]![0] === "state" && result.k === "tensor") {
    // A single-tensor state: the step's result is both the new state and the output.
    return { next: [result], outputs: [["out", result]] };
  }
  if (result.k !== "record") {
    raise(
      ctx,
      "NN3004",
      `scan: the step must return a record with the state fields {${state.map(([k]) => k).join(", ")}}, got ${describe(result)}`,
      span,
    );
  }
  for (const [k, v] of result.fields) byName.set(k, v);
  const next = state.map(([k, init]) => {
    const v = byName.get(k);
    if (v?.k !== "tensor")
      raise(
        ctx,
        "NN3004",
        `scan: the step's result has no tensor field \`${k}\` for the state`,
        span,
      );
    if (!sameShape(v.type.shape, init.type.shape) || v.type.dtype !== init.type.dtype) {
      raise(
        ctx,
        "NN4002",
        `scan: state \`${k}\` starts as ${formatType(init.type)} but the step returns ${formatType(v.type)}`,
        span,
      );
    }
    return v;
  });
  const outputs: [string, TensorValue][] = [];
  for (const [k, v] of result.fields) {
    if (state.some(([s]) => s === k)) continue;
    if (v.k !== "tensor")
      raise(
        ctx,
        "NN3004",
        `scan: output \`${k}\` of the step is ${describe(v)}, not a tensor`,
        span,
      );
    outputs.push([k, v]);
  }
  return { next, outputs };
}

const scanB: Builtin = {
  name: "scan",
  hyper: [
    { name: "cell", type: T.any },
    { name: "axis", type: T.int, default: intV(1) },
    { name: "reverse", type: T.bool, default: { k: "bool", v: false } },
  ],
  inputs: ["input", "init"],
  apply(call) {
    const { ctx, span } = call;
    const cell = call.hyper.get("cell")!;
    if (cell.k !== "callable")
      raise(ctx, "NN3004", `scan: \`cell\` must be a layer, got ${describe(cell)}`, span);
    const x = tensorArg(call, 0, "input");
    const axis = normAxis(call, intHyper(call, "axis"), x.type.shape.length);
    const reverse = boolHyper(call, "reverse");
    const T = x.type.shape[axis]!;
    const state = stateFields(ctx, call.inputs[1]!, span);

    // Elaborate one step into the body graph.
    const outer = ctx.session.builder;
    const body = outer.child();
    const bodyCtx: Ctx = { ...ctx, session: { ...ctx.session, builder: body } };
    const xt = body.input(
      bodyCtx,
      "x",
      { dtype: x.type.dtype, shape: x.type.shape.filter((_, i) => i !== axis) },
      span,
    );
    const stateIn = state.map(
      ([k, v]) => [k, body.input(bodyCtx, `state.${k}`, v.type, span)] as [string, TensorValue],
    );
    const stateArg: Value =
      state.length === 1 && state[0]![0] === "state"
        ? stateIn[0]![1]
        : ({ k: "record", fields: new Map(stateIn) } as RecordValue);
    const result = call.applyLayer(bodyCtx, cell as CallableValue, [xt, stateArg], span);
    const { next, outputs } = stepResults(ctx, result, state, span);
    body.graph.outputs = [
      ...next.map((v, j) => ({ name: `state.${state[j]![0]}`, node: v.node })),
      ...outputs.map(([k, v]) => ({ name: k, node: v.node })),
    ];

    const stacked = node(
      ctx,
      "scan",
      [x, ...state.map(([, v]) => v), ...body.captures],
      { body: body.graph, axis, reverse, nSeq: 1, nState: state.length },
      span,
    );

    // Slice the results back out of the stacked [T, total] rows.
    const fields = new Map<string, Value>();
    let offset = 0;
    const take = (v: TensorValue, rows: [number, number]): TensorValue => {
      const size = numel(v.type.shape);
      const s = node(
        ctx,
        "slice",
        [stacked],
        { starts: [rows[0], offset], ends: [rows[1], offset + size], steps: [1, 1] },
        span,
      );
      offset += size;
      return s;
    };
    const last = reverse ? 0 : T - 1;
    const finals = next.map((v) => reshape(ctx, take(v, [last, last + 1]), v.type.shape, span));
    for (const [k, v] of outputs) {
      const rows = reshape(ctx, take(v, [0, T]), [T, ...v.type.shape], span);
      // [T, ...step shape] -> the time axis back where it was in the input.
      const perm = [...v.type.shape.keys()].map((i) => i + 1);
      perm.splice(Math.min(axis, v.type.shape.length), 0, 0);
      fields.set(k, permute(ctx, rows, perm, span));
    }
    state.forEach(([k], j) => {
      fields.set(k, finals[j]!);
    });
    return { k: "record", fields };
  },
};

register(scanB);
