// argmax and topk (stdlib/nn.nn) against a plain JavaScript oracle, on the CPU and on
// WebGPU; and greedy decoding on the CPU (seq2seq:greedy), whose tokens must be what the
// teacher-forced seq2seq model itself predicts when fed those same tokens.

import { afterAll, describe, expect, inject, it } from "vitest";
import { closeGpu, compile, type Source, type Tensor } from "../../compiler/index.js";
import { seededInput } from "../../runtime/weights/seeded.js";

const f32 = (shape: number[], data: number[]): Tensor => ({
  dtype: "f32",
  shape,
  data: Float32Array.from(data),
});

async function run(
  source: Source,
  inputs: Record<string, Tensor>,
  backend: "cpu" | "webgpu",
  opts: { entry?: string; args?: Record<string, string> } = {},
): Promise<Map<string, Tensor>> {
  const m = compile(source, { file: "t.nn", ...opts });
  return (await m.run(new Map(Object.entries(inputs)), { backend })).outputs;
}

/** torch.argmax along the last axis of a [rows, n] array: the first largest (NaN largest). */
function argmaxRows(data: ArrayLike<number>, n: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.length / n; r++) {
    let best = 0;
    for (let i = 1; i < n; i++) {
      const v = data[r * n + i]!;
      const b = data[r * n + best]!;
      if (Number.isNaN(b)) break;
      if (v > b || Number.isNaN(v)) best = i;
    }
    out.push(best);
  }
  return out;
}

/** The k largest of each row with their positions, largest first, ties by position. */
function topkRows(data: ArrayLike<number>, n: number, k: number) {
  const values: number[] = [];
  const indices: number[] = [];
  for (let r = 0; r < data.length / n; r++) {
    const row = Array.from({ length: n }, (_, i) => [data[r * n + i]!, i] as const);
    row.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [v, i] of row.slice(0, k)) {
      values.push(v);
      indices.push(i);
    }
  }
  return { values, indices };
}

const model = `model m()(x: f32[3, 6]) {
  {last: argmax(x), first: argmax(x, axis=0, keepdims=true), top: topk(x, 3)}
}`;
// Ties (row 0), a NaN (row 1) and a plain row.
const x = f32([3, 6], [1, 5, 5, -2, 5, 0, 0.5, 2, Number.NaN, 9, 1, 2, -1, -3, 4, 0.25, -8, 3]);
// WGSL's max drops a NaN where the CPU (like torch) keeps it, so WebGPU gets no NaN.
const finite = f32([3, 6], [1, 5, 5, -2, 5, 0, 0.5, 2, -7, 9, 1, 2, -1, -3, 4, 0.25, -8, 3]);

function checkSelection(out: Map<string, Tensor>, x: Tensor, last: number[]) {
  expect(out.get("last")!.dtype).toBe("i32");
  expect([...out.get("last")!.data]).toEqual(argmaxRows(x.data as Float32Array, 6));
  expect([...out.get("last")!.data]).toEqual(last);
  // Column-wise: transpose, then the same oracle.
  const cols = Array.from(
    { length: 18 },
    (_, i) => x.data[(i % 3) * 6 + Math.floor(i / 3)] as number,
  );
  expect(out.get("first")!.shape).toEqual([1, 6]);
  expect([...out.get("first")!.data]).toEqual(argmaxRows(cols, 3));
  // topk on the rows without a NaN (torch's order for NaN is its own).
  const want = topkRows(x.data as Float32Array, 6, 3);
  const got = {
    values: [...out.get("top.values")!.data],
    indices: [...out.get("top.indices")!.data],
  };
  for (const r of [0, 2]) {
    expect(got.values.slice(r * 3, r * 3 + 3)).toEqual(want.values.slice(r * 3, r * 3 + 3));
    expect(got.indices.slice(r * 3, r * 3 + 3)).toEqual(want.indices.slice(r * 3, r * 3 + 3));
  }
}

describe("argmax and topk on the CPU", () => {
  it("match the oracle: first of ties, NaN largest, keepdims, any axis", async () => {
    checkSelection(await run(model, { x }, "cpu"), x, [1, 2, 2]);
    checkSelection(await run(model, { x: finite }, "cpu"), finite, [1, 3, 2]);
  });

  it("a bad k or axis is a stdlib require at the caller", async () => {
    const bad = "model m()(x: f32[2, 4]) { topk(x, 5) }";
    await expect(run(bad, { x: f32([2, 4], [0, 0, 0, 0, 0, 0, 0, 0]) }, "cpu")).rejects.toThrow(
      "NN4005: topk: k=5 must be in 1..4 for f32[2, 4] along axis -1",
    );
  });
});

describe("greedy decoding (seq2seq:greedy)", () => {
  it("each token is the teacher-forced model's argmax after the tokens before it", async () => {
    const steps = 6;
    const bos = 1;
    const src = seededInput("src_tokens", [2, 7], { kind: "tokens", vocab: 50 });
    const greedy = await run({ stdlib: "seq2seq" }, { src_tokens: src }, "cpu", {
      entry: "greedy",
      args: { steps: String(steps), bos: String(bos) },
    });
    const tokens = greedy.get("tokens")!;
    expect(tokens.shape).toEqual([2, steps]);
    // Teacher forcing on [bos, y_1 … y_{T-1}] with the same (seeded) weights.
    const fed = new Int32Array(2 * steps);
    for (let b = 0; b < 2; b++) {
      fed[b * steps] = bos;
      for (let t = 1; t < steps; t++) fed[b * steps + t] = tokens.data[b * steps + t - 1] as number;
    }
    const forced = await run(
      { stdlib: "seq2seq" },
      { src_tokens: src, tgt_tokens: { dtype: "i32", shape: [2, steps], data: fed } },
      "cpu",
      { entry: "seq2seq" },
    );
    const logits = forced.get("logits")!;
    expect([...tokens.data]).toEqual(argmaxRows(logits.data as Float32Array, 50));
  });
});

// Greedy decoding stays on the CPU: its scan kernel binds 12 storage buffers, more
// than lavapipe's 8 (NN5006), so `nnc run` falls back to the CPU for it.
describe.skipIf(!inject("gpu").ok)("argmax and topk on WebGPU", () => {
  afterAll(() => closeGpu());

  it("agree with the oracle", async () => {
    checkSelection(await run(model, { x: finite }, "webgpu"), finite, [1, 3, 2]);
  }, 300_000);
});
