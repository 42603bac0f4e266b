// Cross-backend property of scan: a recurrence written in .nn (as the stdlib
// writes its RNNs) over either axis, forwards or reversed, with a tensor state
// or a record of two, weights captured from the enclosing graph, alone or with
// a second scan stacked on it or running the other way; one cell is the LSTM
// step the scan passes recognise. The body's own ops are
// the ones the other properties cover; here the question is the stepping: time
// order, state hand-over, where each row lands, and scans feeding scans. WebGPU
// runs the plan `nnc run` makes at -O0 or -O1 (scan hoisting, fusion).

import fc from "fast-check";
import { compile } from "../../compiler/compile.js";
import { dim } from "./arbitraries.js";
import { type CrossCase, close, crossProperty } from "./harness.js";

const source = `
def gated(w, u)(x, state) {
  let z = x @ w.T + state.h @ u.T
  let h = prim.tanh(z) * sigmoid(z)
  {out: h * 2.0, h: h, s: state.s + z}
}

def running(w)(x, h) {
  h + x @ w.T
}

// PyTorch's LSTM step (gates i, f, g, o), the shape the scan passes look for.
def lstm_cell(w, u, b)(x, state) {
  let gates = x @ w.T + state.h @ u.T + b
  let i, f, g, o = split(gates, 4, axis=-1)
  let c = sigmoid(f) * state.c + sigmoid(i) * prim.tanh(g)
  let h = sigmoid(o) * prim.tanh(c)
  {out: h, h: h, c: c}
}

// cell: 0 running (a tensor state), 1 gated ({h, s}), 2 lstm ({h, c}).
layer recur(k: int, hidden: int, axis: int, reverse: bool, cell: int)(x, h0, s0) {
  let g = if cell == 2 then 4 else 1
  let w = param "w{k}": [g * hidden, x.shape[-1]]
  let u = param "u{k}": [g * hidden, hidden]
  let b = param "b{k}": [g * hidden]
  if cell == 0 then scan(running(w=w), x, init=h0, axis=axis, reverse=reverse)
  else if cell == 1 then scan(gated(w=w, u=u), x, init={h: h0, s: s0}, axis=axis, reverse=reverse)
  else scan(lstm_cell(w=w, u=u, b=b), x, init={h: h0, c: s0}, axis=axis, reverse=reverse)
}

// second: 0 one scan; 1 a second stacked on the first's outputs; 2 a second
// over x in the other direction (bidirectional).
layer scanned(hidden: int, axis: int, reverse: bool, cell: int, second: int)(x, h0, s0) {
  let a = recur(0, hidden, axis, reverse, cell)(x, h0, s0)
  if second == 0 then a
  else if second == 1 then recur(1, hidden, axis, reverse, cell)(a.out, h0, s0)
  else {out: a.out, back: recur(1, hidden, axis, reverse == false, cell)(x, h0, s0).out}
}
`;

const scan = crossProperty({
  name: "scan over either axis, reversed, RNN/gated/LSTM cells, stacked or bidirectional",
  ops: ["scan"],
  numRuns: 5,
  arbitrary: fc.record({
    steps: dim(5),
    batch: dim(3),
    features: dim(5),
    hidden: dim(5),
    axis: fc.constantFrom(0, 1),
    reverse: fc.boolean(),
    cell: fc.constantFrom(0, 1, 2),
    second: fc.constantFrom(0, 1, 2),
    level: fc.constantFrom<0 | 1>(0, 1),
  }),
  build(c): CrossCase {
    const model = compile(source, {
      entry: "scanned",
      args: {
        hidden: c.hidden,
        axis: c.axis,
        reverse: c.reverse,
        cell: c.cell,
        second: c.second,
      },
      optimize: { level: c.level },
    });
    const x = c.axis === 0 ? [c.steps, c.batch, c.features] : [c.batch, c.steps, c.features];
    const state = { shape: [c.batch, c.hidden] };
    const shapes = { x: { shape: x }, h0: state, s0: state };
    // The CPU runs the elaborated graph; WebGPU what `nnc run -O<level>` runs.
    const graph = model.elaborate(shapes).graph;
    const compiled = { graph: model.optimized(shapes), plan: model.plan(shapes) };
    // Errors compound over the steps through tanh and sigmoid: looser than one op.
    return { graph, compiled, tolerance: close(1e-5, 1e-4) };
  },
});

/**
 * The stdlib's recurrent layers, initial states given or zero, through what
 * `nnc run` does at -O1 (scan hoisting, fused and persistent step kernels);
 * the custom cells above cover -O0.
 */
const recurrent = crossProperty({
  name: "stdlib rnn/lstm/gru at -O1: layers, directions, initial states, small sizes",
  ops: ["scan"],
  numRuns: 3,
  // Structure varies more than size: each new size is a new persistent step kernel to compile.
  arbitrary: fc.record({
    kind: fc.constantFrom("rnn", "lstm", "gru"),
    hidden: fc.constantFrom(3, 5),
    steps: fc.constantFrom(2, 3),
    batch: fc.constantFrom(1, 2),
    features: fc.constantFrom(2, 4),
    // Two layers or two directions: enough to feed a scan from a scan, or run one reversed.
    stack: fc.constantFrom("one", "two layers", "bidirectional"),
    initial: fc.boolean(),
  }),
  build(c): CrossCase {
    const model = compile(
      { stdlib: "rnn" },
      {
        entry: c.kind,
        args: {
          hidden: c.hidden,
          layers: c.stack === "two layers" ? 2 : 1,
          bidirectional: c.stack === "bidirectional",
        },
      },
    );
    const state = { shape: [c.stack === "one" ? 1 : 2, c.batch, c.hidden] };
    const shapes: Record<string, { shape: number[] }> = {
      input: { shape: [c.batch, c.steps, c.features] },
    };
    if (c.initial) {
      shapes.h0 = state;
      if (c.kind === "lstm") shapes.c0 = state;
    }
    const graph = model.elaborate(shapes).graph;
    const compiled = { graph: model.optimized(shapes), plan: model.plan(shapes) };
    return { graph, compiled, tolerance: close(1e-5, 1e-4) };
  },
});

export const scanProperties = [scan, recurrent];
