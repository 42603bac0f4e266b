// ONNX LSTM, GRU and RNN as nnc scans: one scan per direction whose body is
// the cell's equations (ONNX's gate order: LSTM i,o,f,c; GRU z,r,h), the
// states carried as scan states; Y, Y_h and Y_c are sliced from the result.

import type { GraphImporter, Val } from "./import.js";
import { Attrs, bin, fail, need, type Rule, reshape, scalar } from "./import-util.js";

type Cell = "LSTM" | "GRU" | "RNN";
const gateCount: Record<Cell, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const defaultActs: Record<Cell, string[]> = {
  LSTM: ["Sigmoid", "Tanh", "Tanh"],
  GRU: ["Sigmoid", "Tanh"],
  RNN: ["Tanh"],
};

/** Row `d` of a [dirs, ...] tensor, without its leading axis. */
function dirRow(b: GraphImporter, v: Val, d: number): Val {
  const s = v.type.shape;
  const starts = s.map((_, i) => (i === 0 ? d : 0));
  const ends = s.map((x, i) => (i === 0 ? d + 1 : x));
  return reshape(b, b.op("slice", [v], { starts, ends }), s.slice(1));
}

/** Columns [k·H, (k+1)·H) of a [B, G·H] tensor: gate k. */
function gate(b: GraphImporter, v: Val, k: number, H: number): Val {
  const B = v.type.shape[0]!;
  return b.op("slice", [v], { starts: [0, k * H], ends: [B, (k + 1) * H] });
}

interface DirWeights {
  /** [in, G·H] and [H, G·H]: transposed for x @ W. */
  wt: Val;
  rt: Val;
  /** [G·H] each, or undefined without B. */
  wb: Val | undefined;
  rb: Val | undefined;
}

/** The body of one direction's scan: x_t, h (and c) in; new h (and c) out. */
function cellBody(
  parent: GraphImporter,
  cell: Cell,
  w: DirWeights,
  H: number,
  xType: Val["type"],
  B: number,
  lbr: boolean,
): GraphImporter {
  const c = parent.child();
  const input = (name: string, type: Val["type"]): Val => {
    const node = c.addNode("input", [], { name, dtype: type.dtype, shape: type.shape });
    c.graph.inputs.push({ name, node, type });
    return { type, node };
  };
  const x = input("x_t", xType);
  const h = input("h", { dtype: "f32", shape: [B, H] });
  const cPrev = cell === "LSTM" ? input("c", { dtype: "f32", shape: [B, H] }) : undefined;
  const wt = c.capture(w.wt);
  const rt = c.capture(w.rt);
  const wb = w.wb && c.capture(w.wb);
  const rb = w.rb && c.capture(w.rb);
  const xw = wb ? bin(c, "add", c.op("matmul", [x, wt]), wb) : c.op("matmul", [x, wt]);
  const hr = rb ? bin(c, "add", c.op("matmul", [h, rt]), rb) : c.op("matmul", [h, rt]);
  const sig = (v: Val) => c.op("sigmoid", [v]);
  const tanh = (v: Val) => c.op("tanh", [v]);
  const outs: Val[] = [];
  if (cell === "RNN") outs.push(tanh(bin(c, "add", xw, hr)));
  if (cell === "LSTM") {
    const g = bin(c, "add", xw, hr);
    const [i, o, f, cc] = [0, 1, 2, 3].map((k) => gate(c, g, k, H));
    const cNew = bin(c, "add", bin(c, "mul", sig(f!), cPrev!), bin(c, "mul", sig(i!), tanh(cc!)));
    outs.push(bin(c, "mul", sig(o!), tanh(cNew)), cNew);
  }
  if (cell === "GRU") {
    const z = sig(bin(c, "add", gate(c, xw, 0, H), gate(c, hr, 0, H)));
    const r = sig(bin(c, "add", gate(c, xw, 1, H), gate(c, hr, 1, H)));
    let cand: Val;
    if (lbr) cand = tanh(bin(c, "add", gate(c, xw, 2, H), bin(c, "mul", r, gate(c, hr, 2, H))));
    else {
      // (r ⊙ h)·Rhᵀ + Rbh: the reset gate applied before the recurrent product.
      const rh = bin(c, "mul", r, h);
      const rtH = c.op("slice", [rt], { starts: [0, 2 * H], ends: [H, 3 * H] });
      let proj = c.op("matmul", [rh, rtH]);
      if (rb) proj = bin(c, "add", proj, c.op("slice", [rb], { starts: [2 * H], ends: [3 * H] }));
      cand = tanh(bin(c, "add", gate(c, xw, 2, H), proj));
    }
    outs.push(
      bin(c, "add", bin(c, "mul", bin(c, "sub", scalar(c, 1), z), cand), bin(c, "mul", z, h)),
    );
  }
  for (const [k, v] of outs.entries()) c.graph.outputs.push({ name: `state${k}`, node: c.use(v) });
  return c;
}

const recurrent =
  (cell: Cell): Rule =>
  (b, inputs, n) => {
    const at = new Attrs(n);
    const H = at.int("hidden_size") ?? fail("hidden_size is required");
    const direction = at.str("direction", "forward");
    const dirs = direction === "bidirectional" ? 2 : 1;
    const acts = n.attribute.find((a) => a.name === "activations")?.strings;
    if (acts && acts.length > 0) {
      const names = acts.map((s) => new TextDecoder().decode(s));
      const want = [...defaultActs[cell], ...(dirs === 2 ? defaultActs[cell] : [])];
      if (names.join() !== want.join())
        fail(`${cell} with activations ${names.join(", ")} is not supported (only the defaults)`);
    }
    if (at.has("clip")) fail(`${cell} with clip is not supported`);
    if (at.int("input_forget", 0)) fail("LSTM with input_forget=1 is not supported");
    if (cell === "LSTM" && inputs[7]) fail("LSTM with peepholes (P) is not supported");
    const layout = at.int("layout", 0);
    let X = need(inputs[0], "X");
    if (layout === 1) X = b.op("permute", [X], { perm: [1, 0, 2] });
    const [T, B] = X.type.shape as [number, number, number];
    if (inputs[4]?.value) {
      const lens = Array.from(inputs[4].value.data, Number);
      if (lens.some((l) => l !== T))
        fail(`${cell} with sequence_lens shorter than the sequence is not supported`);
    } else if (inputs[4]) fail(`${cell} with a run-time sequence_lens is not supported`);
    const G = gateCount[cell];
    const W = need(inputs[1], "W");
    const R = need(inputs[2], "R");
    const Bias = inputs[3];
    const h0 = inputs[5];
    const c0 = cell === "LSTM" ? inputs[6] : undefined;
    const zeros = () => b.constant({ dtype: "f32", shape: [B, H], data: new Float32Array(B * H) });
    const Ys: Val[] = [];
    const Yh: Val[] = [];
    const Yc: Val[] = [];
    for (let d = 0; d < dirs; d++) {
      const reverse = direction === "reverse" || d === 1;
      const bias = Bias && dirRow(b, Bias, d);
      const w: DirWeights = {
        wt: b.op("permute", [dirRow(b, W, d)], { perm: [1, 0] }),
        rt: b.op("permute", [dirRow(b, R, d)], { perm: [1, 0] }),
        wb: bias && b.op("slice", [bias], { starts: [0], ends: [G * H] }),
        rb: bias && b.op("slice", [bias], { starts: [G * H], ends: [2 * G * H] }),
      };
      const body = cellBody(
        b,
        cell,
        w,
        H,
        { dtype: "f32", shape: X.type.shape.slice(1) },
        B,
        at.int("linear_before_reset", 0) === 1,
      );
      const states = [
        h0 ? dirRow(b, h0, d) : zeros(),
        ...(cell === "LSTM" ? [c0 ? dirRow(b, c0, d) : zeros()] : []),
      ];
      const res = b.op("scan", [X, ...states, ...body.captures], {
        body: body.graph,
        axis: 0,
        reverse,
        nSeq: 1,
        nState: states.length,
      });
      const slot = (k: number) =>
        b.op("slice", [res], { starts: [0, k * B * H], ends: [T, (k + 1) * B * H] });
      const last = (v: Val) => {
        const row = reverse ? 0 : T - 1;
        return reshape(b, b.op("slice", [v], { starts: [row, 0], ends: [row + 1, B * H] }), [
          1,
          B,
          H,
        ]);
      };
      const hs = slot(0);
      Ys.push(reshape(b, hs, [T, 1, B, H]));
      Yh.push(last(hs));
      if (cell === "LSTM") Yc.push(last(slot(1)));
    }
    const cat = (vs: Val[], axis: number) =>
      vs.length === 1 ? vs[0]! : b.op("concat", vs, { axis });
    let Y = cat(Ys, 1);
    let hN = cat(Yh, 0);
    let cN = Yc.length > 0 ? cat(Yc, 0) : undefined;
    if (layout === 1) {
      Y = b.op("permute", [Y], { perm: [2, 0, 1, 3] });
      hN = b.op("permute", [hN], { perm: [1, 0, 2] });
      cN = cN && b.op("permute", [cN], { perm: [1, 0, 2] });
    }
    return cN ? [Y, hN, cN] : [Y, hN];
  };

export const rnnRules: Record<string, Rule> = {
  LSTM: recurrent("LSTM"),
  GRU: recurrent("GRU"),
  RNN: recurrent("RNN"),
};
