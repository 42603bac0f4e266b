// The Trainer runs steps in train mode: batchnorm's running statistics and
// batch counter carry from step to step like params (checked against torch's
// update rule computed here by hand), dropout draws per step from rng:seed and
// rng:step, and evaluate() is the eval-mode function.

import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { getNumber, type Tensor, toNumbers } from "../../compiler/core/tensor.js";
import { Trainer } from "../../compiler/training/trainer.js";
import { seededInput } from "../../runtime/weights/seeded.js";

const src = `
model bn_objective()(x: f32[6, 3]) {
  let y = x -> bn: batchnorm
  {loss: mean(y * y * y)}
}
model drop_objective()(x: f32[4, 64]) {
  let y = x -> fc: linear(8) -> dropout(0.5)
  {loss: mean(y * y)}
}`;

/** torch's update of running_mean/running_var from a [N, C] batch (momentum 0.1, unbiased var). */
function torchUpdate(x: Tensor, mean: number[], variance: number[]): [number[], number[]] {
  const [n, c] = x.shape as [number, number];
  const m = [...Array(c)].map((_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += getNumber(x, i * c + j);
    return s / n;
  });
  const v = m.map((mj, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (getNumber(x, i * c + j) - mj) ** 2;
    return s / (n - 1);
  });
  return [mean.map((r, j) => 0.9 * r + 0.1 * m[j]!), variance.map((r, j) => 0.9 * r + 0.1 * v[j]!)];
}

describe("Trainer in train mode", () => {
  it("carries batchnorm's running statistics and counter from step to step", async () => {
    const model = compile(src, { entry: "bn_objective" });
    const trainer = new Trainer(model, { optimizer: { kind: "sgd" }, lr: 0.1 });
    const x = seededInput("x", [6, 3], { kind: "uniform", scale: 2 });
    const batch = new Map([["x", x]]);
    trainer.compiled(batch);
    let mean = toNumbers(trainer.params.get("bn.running_mean")!);
    let variance = toNumbers(trainer.params.get("bn.running_var")!);
    for (let step = 1; step <= 2; step++) {
      await trainer.run(batch);
      [mean, variance] = torchUpdate(x, mean, variance);
      const gotMean = toNumbers(trainer.params.get("bn.running_mean")!);
      const gotVar = toNumbers(trainer.params.get("bn.running_var")!);
      for (const [j, g] of gotMean.entries()) expect(g).toBeCloseTo(mean[j]!, 5);
      for (const [j, g] of gotVar.entries()) expect(g).toBeCloseTo(variance[j]!, 5);
      expect(toNumbers(trainer.params.get("bn.num_batches_tracked")!)).toEqual([step]);
    }
  });

  it("feeds dropout a new mask each step and none in evaluate()", async () => {
    const model = compile(src, { entry: "drop_objective" });
    const lossAt = async (seed: number) => {
      // lr 0: the parameters stay, so the loss differs only by the mask.
      const trainer = new Trainer(model, { optimizer: { kind: "sgd" }, lr: 0, seed });
      const batch = new Map([["x", seededInput("x", [4, 64], { kind: "uniform", scale: 1 })]]);
      const losses = [(await trainer.run(batch)).loss, (await trainer.run(batch)).loss];
      const evals = [0, 1].map(async () =>
        getNumber((await trainer.evaluate(batch)).get("loss")!, 0),
      );
      return { losses, evals: await Promise.all(evals) };
    };
    const a = await lossAt(1);
    const again = await lossAt(1);
    expect(again.losses).toEqual(a.losses);
    expect(a.losses[0]).not.toBe(a.losses[1]);
    expect((await lossAt(2)).losses[0]).not.toBe(a.losses[0]);
    expect(a.evals[0]).toBe(a.evals[1]);
  });
});
