// ONNX Scan as nnc's scan: the body imported as a nested graph (outer values it
// reads become captured inputs), states carried as scan states, and the final
// states and stacked outputs sliced back out of scan's one [T, total] result.

import { scanLayout } from "../ops/scan.js";
import type { Val } from "./import.js";
import { Attrs, fail, i32, need, type Rule, reshape } from "./import-util.js";

const scan: Rule = (b, inputs, n) => {
  if (b.opset < 9) fail("Scan before opset 9 (with sequence_lens) is not supported");
  const at = new Attrs(n);
  const body = at.graph("body") ?? fail("Scan without a body");
  const M = at.int("num_scan_inputs") ?? fail("num_scan_inputs is required");
  const N = inputs.length - M;
  const states = inputs.slice(0, N).map((v, i) => need(v, `state ${i}`));
  const seqs = inputs.slice(N).map((v, i) => need(v, `scan input ${i}`));
  const axes = (at.ints("scan_input_axes") ?? seqs.map(() => 0)).map((a, i) =>
    a < 0 ? a + seqs[i]!.type.shape.length : a,
  );
  const dirs = at.ints("scan_input_directions") ?? seqs.map(() => 0);
  if (dirs.some((d) => d !== dirs[0]))
    fail("Scan inputs read in different directions are not supported");
  const reverse = dirs[0] === 1;

  const child = b.child();
  const bodyIn = (name: string, type: Val["type"]) => {
    const node = child.addNode("input", [], { name, dtype: type.dtype, shape: type.shape });
    child.graph.inputs.push({ name, node, type });
    child.values.set(name, { type, node });
  };
  seqs.forEach((s, i) => {
    bodyIn(body.input[N + i]!.name, {
      dtype: s.type.dtype,
      shape: s.type.shape.filter((_, d) => d !== axes[i]),
    });
  });
  states.forEach((s, j) => {
    bodyIn(body.input[j]!.name, s.type);
  });
  child.importNodes(body.node);
  for (const o of body.output) {
    const v =
      child.values.get(o.name) ??
      child.get(o.name) ??
      fail(`Scan body output \`${o.name}\` is never computed`);
    child.graph.outputs.push({ name: o.name, node: child.use(v) });
  }
  const result = b.op("scan", [...seqs, ...states, ...child.captures], {
    body: child.graph,
    axis: axes[0],
    reverse,
    nSeq: M,
    nState: N,
    seqAxes: axes,
  });
  const T = result.type.shape[0]!;
  const total = result.type.shape[1]!;
  const layout = scanLayout(child.graph);
  const cols = (v: Val, from: number, size: number) =>
    b.op("slice", [v], { starts: [0, from], ends: [T, from + size] });
  const outDirs = at.ints("scan_output_directions") ?? [];
  const outAxes = at.ints("scan_output_axes") ?? [];
  return layout.map((slot, k) => {
    if (k < N) {
      const row = reverse ? 0 : T - 1;
      const last = b.op("slice", [result], {
        starts: [row, slot.offset],
        ends: [row + 1, slot.offset + slot.size],
      });
      return reshape(b, last, slot.type.shape);
    }
    let y = reshape(b, cols(result, slot.offset, slot.size), [T, ...slot.type.shape]);
    // nnc's rows follow the input order; an ONNX output stacked the other way is reversed.
    const prepend = outDirs[k - N] === 1;
    if (prepend !== reverse)
      y = b.op(
        "gather",
        [
          y,
          i32(
            b,
            Array.from({ length: T }, (_, t) => T - 1 - t),
          ),
        ],
        { axis: 0 },
      );
    const axis = outAxes[k - N] ?? 0;
    if (axis !== 0) {
      const r = y.type.shape.length;
      const a = axis < 0 ? axis + r : axis;
      const perm = Array.from({ length: r - 1 }, (_, i) => i + 1);
      perm.splice(a, 0, 0);
      y = b.op("permute", [y], { perm });
    }
    void total;
    return y;
  });
};

export const importScanRules: Record<string, Rule> = { Scan: scan };
