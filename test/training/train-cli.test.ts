// `nnc train` end to end on the CPU, on a tiny synthetic data set: training
// lowers the loss, the checkpoint runs in `nnc run --weights` (its logits
// checked against the MLP computed by hand from the checkpoint's tensors),
// --resume continues exactly where a run stopped, and each bad input is a
// clear error with its code.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../../compiler/core/tensor.js";
import { readNpy, writeNpy } from "../../runtime/weights/npy.js";
import { readSafetensors } from "../../runtime/weights/safetensors.js";
import { cli, tempDir } from "../cli/helpers.js";

const dir = tempDir("train");
const src = join(dir, "tiny.nn");
writeFileSync(
  src,
  `model tiny()(input: f32[N, 4], target: i32[N]) {
  let logits = input -> fc1: linear(8) -> relu -> fc2: linear(3)
  {loss: cross_entropy(logits, target), logits: logits}
}
model unreduced()(input: f32[N, 4], target: i32[N]) {
  let logits = input -> fc: linear(3)
  {loss: logits, logits: logits}
}
model fixed()(input: f32[N, 3], target: i32[N]) {
  {loss: cross_entropy(input, target), logits: input}
}
`,
);

const N = 48;
// A fixed LCG, so the data is the same everywhere; the class is the largest of x0, x1, x2 + x3.
let s = 12345;
const rand = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 2 ** 32 - 0.5;
};
const x = Float32Array.from({ length: N * 4 }, rand);
const y = Int32Array.from({ length: N }, (_, i) => {
  const v = [x[4 * i]!, x[4 * i + 1]!, x[4 * i + 2]! + x[4 * i + 3]!];
  return v.indexOf(Math.max(...v));
});
const file = (name: string, t: Tensor) => {
  const p = join(dir, name);
  writeNpy(p, t);
  return p;
};
const xs = file("x.npy", { dtype: "f32", shape: [N, 4], data: x });
const ys = file("y.npy", { dtype: "i32", shape: [N], data: y });
const data = ["--data", `input=${xs}`, "--data", `target=${ys}`];
const base = ["train", src, "--entry", "tiny", ...data, "--backend", "cpu", "--batch", "8"];
const lines = (p: string) =>
  readFileSync(p, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number>);

describe("nnc train", () => {
  it("lowers the loss; the checkpoint runs in nnc run with the hand-computed logits", async () => {
    const ck = join(dir, "a.safetensors");
    const log = join(dir, "a.jsonl");
    const r = await cli(...base, "--epochs", "6", "--lr", "0.05", "--save", ck, "--log", log);
    expect(r.err).toMatch(/epoch 6\/6: loss/);
    expect(r.code).toBe(0);
    const m = lines(log);
    expect(m.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m[5]!.loss).toBeLessThan(0.8 * m[0]!.loss!);
    expect(m[5]!.accuracy).toBeGreaterThan(m[0]!.accuracy!);
    expect(existsSync(ck.replace(".safetensors", ".optim.safetensors"))).toBe(true);

    const out = join(dir, "out");
    const run = await cli(
      "run",
      src,
      "--entry",
      "tiny",
      "--weights",
      ck,
      "--backend",
      "cpu",
      "--input",
      `input=${xs}`,
      "--input",
      `target=${ys}`,
      "--save-outputs",
      out,
    );
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    const logits = readNpy(join(out, "logits.npy")).data as Float32Array;
    const w = readSafetensors(ck);
    const f = (k: string) => w.get(k)!.data as Float32Array;
    for (let i = 0; i < N; i++) {
      const h = Array.from({ length: 8 }, (_, j) => {
        let a = f("fc1.bias")[j]!;
        for (let k = 0; k < 4; k++) a += f("fc1.weight")[j * 4 + k]! * x[i * 4 + k]!;
        return Math.max(0, a);
      });
      for (let c = 0; c < 3; c++) {
        let a = f("fc2.bias")[c]!;
        for (let j = 0; j < 8; j++) a += f("fc2.weight")[c * 8 + j]! * h[j]!;
        expect(logits[i * 3 + c]).toBeCloseTo(a, 4);
      }
    }
  });

  it("--resume continues to the same parameters as one uninterrupted run", async () => {
    const opts = [
      "--optimizer",
      "adam",
      "--lr",
      "0.02",
      "--schedule",
      "warmup=3,step=1:0.5",
      "--holdout",
      "8",
    ];
    const whole = join(dir, "whole.safetensors");
    expect((await cli(...base, ...opts, "--epochs", "3", "--save", whole)).code).toBe(0);
    const part = join(dir, "part.safetensors");
    const log = join(dir, "part.jsonl");
    expect((await cli(...base, ...opts, "--epochs", "2", "--save", part, "--log", log)).code).toBe(
      0,
    );
    const r = await cli(
      ...base,
      ...opts,
      "--epochs",
      "3",
      "--save",
      part,
      "--resume",
      part,
      "--log",
      log,
    );
    expect(r.code).toBe(0);
    const m = lines(log);
    expect(m.map((l) => l.epoch)).toEqual([1, 2, 3]);
    expect(m[2]!.val_accuracy).toBeDefined();
    const a = readSafetensors(whole);
    const b = readSafetensors(part);
    for (const [k, t] of a)
      expect([...(b.get(k)!.data as Float32Array)]).toEqual([...(t.data as Float32Array)]);
  });

  it("Ctrl-C saves the parameters reached and exits 130", async () => {
    const ck = join(dir, "int.safetensors");
    const log = join(dir, "int.jsonl");
    const running = cli(...base, "--epochs", "50", "--save", ck, "--log", log);
    // process.emit reaches only the listeners: before train installs its own, nothing happens.
    const tick = setInterval(() => process.emit("SIGINT"), 1);
    const r = await running.finally(() => clearInterval(tick));
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/interrupted in epoch 1 at step \d+; saved/);
    const last = lines(log).at(-1)!;
    expect(last.interrupted).toBe(true);
    expect(last.epoch).toBeLessThan(50);
    expect(readSafetensors(ck).get("fc1.weight")!.shape).toEqual([8, 4]);
  });

  it("reads IDX files (gzipped u8 images scaled to [0, 1], reshaped 2×2 → 4) with SGD and momentum", async () => {
    const dims = (d: number[]) => d.flatMap((v) => [0, 0, 0, v]);
    const img = Uint8Array.from({ length: N * 4 }, (_, i) => Math.round((x[i]! + 0.5) * 255));
    const ip = join(dir, "img-idx3-ubyte.gz");
    writeFileSync(ip, gzipSync(Uint8Array.from([0, 0, 8, 3, ...dims([N, 2, 2]), ...img])));
    const lp = join(dir, "lab-idx1-ubyte");
    writeFileSync(lp, Uint8Array.from([0, 0, 8, 1, ...dims([N]), ...y]));
    const r = await cli(
      "train",
      src,
      "--entry",
      "tiny",
      "--data",
      `input=${ip}`,
      "--data",
      `target=${lp}`,
      "--backend",
      "cpu",
      "--optimizer",
      "sgd",
      "--momentum",
      "0.9",
      "--nesterov",
      "--lr",
      "0.05",
      "--epochs",
      "2",
    );
    expect(r.err).toMatch(/epoch 2\/2: loss \d/);
    expect(r.code).toBe(0);
  });

  it("refuses bad input, each with its code and the thing it names", async () => {
    const bad = (name: string, t: Tensor) => file(name, t);
    const err = async (...argv: string[]) => {
      const r = await cli(...argv);
      expect(r.code).toBe(1);
      return r.err;
    };
    const train = (entry: string, ...rest: string[]) => [
      "train",
      src,
      "--entry",
      entry,
      "--backend",
      "cpu",
      ...rest,
    ];
    expect(await err(...train("unreduced", ...data))).toMatch(
      /NN8102[\s\S]*`loss` must be a scalar f32, got f32\[32, 3\]/,
    );
    const x3 = bad("x3.npy", { dtype: "f32", shape: [N, 3], data: new Float32Array(N * 3) });
    expect(await err(...train("fixed", "--data", `input=${x3}`, "--data", `target=${ys}`))).toMatch(
      /NN8103[\s\S]*no trainable parameters/,
    );
    const y9 = bad("y9.npy", {
      dtype: "i32",
      shape: [N],
      data: Int32Array.from(y, (v, i) => (i === 5 ? 7 : v)),
    });
    expect(await err(...train("tiny", "--data", `input=${xs}`, "--data", `target=${y9}`))).toMatch(
      /NN8104[\s\S]*label 7 of example 5 is outside the 3 classes/,
    );
    const x5 = bad("x5.npy", { dtype: "f32", shape: [N, 5], data: new Float32Array(N * 5) });
    expect(await err(...train("tiny", "--data", `input=${x5}`, "--data", `target=${ys}`))).toMatch(
      /NN8104[\s\S]*`input` f32\[1, 4\][\s\S]*`input` \[N, 5\]/,
    );
    const yShort = bad("y-short.npy", { dtype: "i32", shape: [N - 1], data: y.slice(1) });
    expect(
      await err(...train("tiny", "--data", `input=${xs}`, "--data", `target=${yShort}`)),
    ).toMatch(/NN8104[\s\S]*has 47 examples but `input` has 48/);
    expect(await err(...train("tiny", "--data", `input=${xs}`))).toMatch(
      /NN8104[\s\S]*no data for the objective's input `target`/,
    );

    // A non-finite loss stops training and leaves the last checkpoint as it was.
    const ck = join(dir, "nan.safetensors");
    expect((await cli(...base, "--epochs", "1", "--save", ck)).code).toBe(0);
    const before = readFileSync(ck);
    const xn = bad("x-nan.npy", {
      dtype: "f32",
      shape: [N, 4],
      data: Float32Array.from(x, (v, i) => (i === 9 ? Number.NaN : v)),
    });
    expect(
      await err(...train("tiny", "--data", `input=${xn}`, "--data", `target=${ys}`, "--save", ck)),
    ).toMatch(/NN8105[\s\S]*the loss is NaN at step \d+; the parameters were not updated/);
    expect(readFileSync(ck).equals(before)).toBe(true);
  });

  it("refuses bad flags as usage errors", async () => {
    const usage = async (...rest: string[]) => {
      const r = await cli(...base, ...rest);
      expect(r.code).toBe(2);
      return r.err;
    };
    expect(await usage("--schedule", "linear")).toMatch(/--schedule: unknown part `linear`/);
    expect(await usage("--momentum", "0.9")).toMatch(/--momentum and --nesterov are SGD's/);
    expect(await usage("--save", "x.bin")).toMatch(/--save writes a .safetensors file/);
    expect(await usage("--epochs", "0")).toMatch(/--epochs: invalid value `0`/);
  });
});
