// scan: a recurrence. The body graph runs once per step along `axis` of the
// sequence input (forward, or backward with `reverse`), carrying state from
// step to step. Its result is one f32 tensor [T, total]: row t holds every body
// output at time t (input-aligned also when reversed), each flattened and laid
// side by side — the new states first, then the per-step outputs. Elaboration
// slices the stacked outputs and the final states back out of it, so the Graph
// IR keeps one result per node.

import { z } from "zod";
import type { Tensor } from "../core/tensor.js";
import { formatType, numel, sameShape, type TensorType } from "../core/types.js";
import type { Graph } from "../graph/graph.js";
import { nonNegInt } from "./attrs.js";
import { defineOp, OpError } from "./op.js";
import { getOp } from "./registry.js";

const graphAttr = z.custom<Graph>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as Graph).nodes) &&
    Array.isArray((v as Graph).outputs),
  "expected a body graph",
);

const attrs = z
  .object({
    body: graphAttr,
    axis: nonNegInt,
    reverse: z.boolean().default(false),
    /** Inputs: nSeq sequences, then nState initial states, then the captured tensors the body reads. */
    nSeq: z.number().int().min(1),
    nState: nonNegInt,
    /** The time axis of each sequence where it differs from `axis` (a hoisted input projection is time-major). */
    seqAxes: z.array(nonNegInt).optional(),
    /**
     * How kernel backends run the recurrence, set by the optimizer's scan passes
     * (absent: one kernel per body node, dispatched once per step). `fused`: the
     * whole step in one kernel; `persistent`: every step in one dispatch.
     */
    schedule: z
      .object({
        fused: z.boolean(),
        persistent: z.boolean().default(false),
        why: z.string().optional(),
      })
      .optional(),
  })
  .strict();

export type ScanAttrs = z.infer<typeof attrs>;

/** The time axis of sequence `i` of a scan. */
export function seqAxis(a: { axis: number; seqAxes?: number[] | undefined }, i: number): number {
  return a.seqAxes?.[i] ?? a.axis;
}

/** Sizes of the body's outputs, in the order they are laid out in a row. */
export function scanLayout(body: Graph): { type: TensorType; offset: number; size: number }[] {
  let offset = 0;
  return body.outputs.map((o) => {
    const type = body.nodes[o.node]!.type;
    const size = numel(type.shape);
    const slot = { type, offset, size };
    offset += size;
    return slot;
  });
}

function stepType(seq: TensorType, axis: number): TensorType {
  return { dtype: seq.dtype, shape: seq.shape.filter((_, i) => i !== axis) };
}

export const scan = defineOp({
  name: "scan",
  category: "opaque",
  arity: { min: 1 },
  attrs,
  infer(inputs, a) {
    const body = a.body;
    const seqs = inputs.slice(0, a.nSeq);
    if (a.seqAxes !== undefined && a.seqAxes.length !== a.nSeq)
      throw new OpError(
        "NN9001",
        `scan: ${a.seqAxes.length} sequence axes for ${a.nSeq} sequences`,
      );
    const T = seqs[0]!.shape[seqAxis(a, 0)];
    if (T === undefined)
      throw new OpError(
        "NN4002",
        `scan: axis ${seqAxis(a, 0)} is out of range for ${formatType(seqs[0]!)}`,
      );
    if (T === 0) throw new OpError("NN4002", "scan: the sequence is empty (0 steps)");
    seqs.forEach((s, i) => {
      if (s.shape[seqAxis(a, i)] !== T)
        throw new OpError("NN4002", `scan: sequences differ in length along axis ${a.axis}`);
    });
    if (inputs.length !== body.inputs.length) {
      throw new OpError(
        "NN9001",
        `scan: the body takes ${body.inputs.length} inputs, the node has ${inputs.length}`,
      );
    }
    body.inputs.forEach((bi, i) => {
      const want = i < a.nSeq ? stepType(inputs[i]!, seqAxis(a, i)) : inputs[i]!;
      if (bi.type.dtype !== want.dtype || !sameShape(bi.type.shape, want.shape)) {
        throw new OpError(
          "NN4002",
          `scan: body input \`${bi.name}\` is ${formatType(bi.type)} but receives ${formatType(want)}`,
        );
      }
    });
    const layout = scanLayout(body);
    for (let j = 0; j < a.nState; j++) {
      const init = inputs[a.nSeq + j]!;
      const next = layout[j]!.type;
      if (init.dtype !== next.dtype || !sameShape(init.shape, next.shape)) {
        throw new OpError(
          "NN4002",
          `scan: state ${j} starts as ${formatType(init)} but the body returns ${formatType(next)}`,
          "the step must return its state in the shape it receives it",
        );
      }
    }
    for (const s of layout) {
      if (s.type.dtype !== "f32")
        throw new OpError("NN4003", `scan: body outputs must be f32, got ${formatType(s.type)}`);
    }
    return { dtype: "f32", shape: [T, layout.reduce((n, s) => n + s.size, 0)] };
  },
  // The body's contractions once per step (the fixtures' convention: 2 × multiply-adds).
  flops(inputs, _output, a) {
    const T = inputs[0]!.shape[seqAxis(a, 0)]!;
    const byId = new Map(a.body.nodes.map((n) => [n.id, n]));
    let perStep = 0;
    for (const n of a.body.nodes) {
      if (n.op === "input" || n.op === "param" || n.op === "const") continue;
      const op = getOp(n.op);
      perStep +=
        op.flops?.(
          n.inputs.map((i) => byId.get(i)!.type),
          n.type,
          n.attrs,
        ) ?? 0;
    }
    return T * perStep;
  },
  evaluate(inputs, a, ctx) {
    const layout = scanLayout(a.body);
    const seqs = inputs.slice(0, a.nSeq);
    let state = inputs.slice(a.nSeq, a.nSeq + a.nState);
    const captured = inputs.slice(a.nSeq + a.nState);
    const T = seqs[0]!.shape[seqAxis(a, 0)]!;
    const total = layout.reduce((n, s) => n + s.size, 0);
    const out = new Float32Array(T * total);
    for (let step = 0; step < T; step++) {
      const t = a.reverse ? T - 1 - step : step;
      const xs = seqs.map((s, i) => takeAlong(s, seqAxis(a, i), t));
      const results = ctx.runGraph(a.body, [...xs, ...state, ...captured], []);
      results.forEach((r, k) => {
        out.set(r.data as Float32Array, t * total + layout[k]!.offset);
      });
      state = results.slice(0, a.nState);
    }
    return { dtype: "f32", shape: [T, total], data: out };
  },
  // Backpropagation through time: a scan in the other direction over the
  // forward inputs, the states each step started from and the rows of the
  // cotangent, carrying the states' cotangents and the sums of the captured
  // tensors' gradients. Each backward step recomputes its forward step (the
  // body's gradient graph), so only the states are kept from the forward pass.
  vjp(g, node, cot) {
    const a = node.attrs;
    const body = a.body;
    const layout = scanLayout(body);
    const seqs = node.inputs.slice(0, a.nSeq);
    const inits = node.inputs.slice(a.nSeq, a.nSeq + a.nState);
    const captured = node.inputs.slice(a.nSeq + a.nState);
    const T = g.type(node.output).shape[0]!;
    const isF32 = (id: number) => g.type(id).dtype === "f32";
    const grad = g.gradOf(body);

    // The state each step starts from, time-major: the initial state, then the states of the steps before.
    const prev = inits.map((init, j) => {
      const { type, offset, size } = layout[j]!;
      const rows = g.emit("slice", [node.output], {
        starts: [0, offset],
        ends: [T, offset + size],
      });
      const states = g.emit("reshape", [rows], { shape: [T, ...type.shape] });
      const first = g.emit("reshape", [init], { shape: [1, ...type.shape] });
      if (T === 1) return first;
      const rest = (from: number) =>
        g.emit("slice", [states], {
          starts: [from, ...type.shape.map(() => 0)],
          ends: [from + T - 1, ...type.shape],
        });
      return a.reverse
        ? g.emit("concat", [rest(1), first], { axis: 0 })
        : g.emit("concat", [first, rest(0)], { axis: 0 });
    });

    const sb = g.subgraph();
    const xs = seqs.map((s, i) => sb.input(`x${i}`, stepType(g.type(s), seqAxis(a, i))));
    const sp = inits.map((s, j) => sb.input(`s${j}`, g.type(s)));
    const row = sb.input("cot", { dtype: "f32", shape: [g.type(node.output).shape[1]!] });
    const lam = inits.map((s, j) => sb.input(`dstate${j}`, g.type(s)));
    const capF = captured.filter(isF32);
    const acc = capF.map((c, k) => sb.input(`dcaptured${k}`, g.type(c)));
    const cap = captured.map((c, k) => sb.input(`c${k}`, g.type(c)));
    const cots = layout.map(({ type, offset, size }, k) => {
      const part = sb.emit("slice", [row], { starts: [offset], ends: [offset + size] });
      const c = sb.emit("reshape", [part], { shape: [...type.shape] });
      return k < a.nState ? sb.emit("add", [c, lam[k]!]) : c;
    });
    const bodyInputs = [...xs, ...sp, ...cap];
    const grads = sb.call(grad, [...bodyInputs, ...cots]);
    // grads lists the float body inputs' gradients in order.
    const gradOfInput = new Map<number, number>();
    let next = 0;
    bodyInputs.forEach((id, k) => {
      if (sb.type(id).dtype === "f32") gradOfInput.set(k, grads[next++]!);
    });
    const dState = sp.map((_, j) => gradOfInput.get(a.nSeq + j)!);
    let f = 0;
    const dCap = captured.flatMap((c, k) =>
      isF32(c) ? [sb.emit("add", [acc[f++]!, gradOfInput.get(a.nSeq + a.nState + k)!])] : [],
    );
    const floatSeqs = seqs.map((_, i) => i).filter((i) => isF32(seqs[i]!));
    const dx = floatSeqs.map((i) => gradOfInput.get(i)!);
    const back = sb.finish([...dState, ...dCap, ...dx]);

    const zeros = (id: number) =>
      g.emit("broadcast", [g.scalar(0)], { shape: [...g.type(id).shape] });
    const bwd = g.emit(
      "scan",
      [...seqs, ...prev, cot, ...inits.map(zeros), ...capF.map(zeros), ...captured],
      {
        body: back,
        axis: a.axis,
        reverse: !a.reverse,
        nSeq: seqs.length + prev.length + 1,
        nState: inits.length + capF.length,
        seqAxes: [...seqs.map((_, i) => seqAxis(a, i)), ...prev.map(() => 0), 0],
      },
    );

    // The carried sums after the last backward step: the row of the forward's first step.
    const last = a.reverse ? T - 1 : 0;
    const outLayout = scanLayout(back);
    const take = (k: number, rows: "last" | "all") => {
      const { type, offset, size } = outLayout[k]!;
      const [r0, r1] = rows === "last" ? [last, last + 1] : [0, T];
      const part = g.emit("slice", [bwd], { starts: [r0, offset], ends: [r1, offset + size] });
      return g.emit("reshape", [part], {
        shape: rows === "last" ? [...type.shape] : [T, ...type.shape],
      });
    };
    const result: (number | undefined)[] = node.inputs.map(() => undefined);
    inits.forEach((_, j) => {
      result[a.nSeq + j] = take(j, "last");
    });
    let c = 0;
    captured.forEach((id, k) => {
      if (isF32(id)) result[a.nSeq + a.nState + k] = take(inits.length + c++, "last");
    });
    floatSeqs.forEach((i, k) => {
      const timeMajor = take(inits.length + capF.length + k, "all");
      const axis = seqAxis(a, i);
      const rank = g.type(timeMajor).shape.length;
      // Move time from axis 0 back to the sequence's own axis.
      const perm = [...Array(rank).keys()].slice(1);
      perm.splice(axis, 0, 0);
      result[i] = axis === 0 ? timeMajor : g.emit("permute", [timeMajor], { perm });
    });
    return result;
  },
});

/** The slice of `x` at index t along `axis`, with that axis removed. */
function takeAlong(x: Tensor, axis: number, t: number): Tensor {
  const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const len = x.shape[axis]!;
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const shape = x.shape.filter((_, i) => i !== axis);
  const data = new (x.data.constructor as new (n: number) => typeof x.data)(outer * inner);
  for (let o = 0; o < outer; o++) {
    const from = (o * len + t) * inner;
    for (let i = 0; i < inner; i++) data[o * inner + i] = x.data[from + i]!;
  }
  return { dtype: x.dtype, shape, data };
}
