// The optimizer and training-step fixtures (SPEC.md §12.4): the fixture's
// model as an objective (test/training/objectives.nn), seeded parameters,
// the recorded batch, and each step's loss, the global gradient norm (clip),
// the parameters after each step and the loss after the last step, on the
// CPU and WebGPU at -O1 and -O0.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import type { OptimizerSpec } from "../../compiler/training/step-graph.js";
import { Trainer } from "../../compiler/training/trainer.js";
import { seededInput } from "../../runtime/weights/seeded.js";
import { compareOutput, type Fixture, type FixtureTensor } from "../fixture-compare.js";
import { optLevels } from "../fixture-suite.js";
import { fixturePath } from "../fixtures-path.js";

interface Scalar {
  value: number;
  atol: number;
}

interface TrainFixture {
  optimizer: { hyperparameters: Record<string, number | boolean> };
  clip_grad_norm: { max_norm: number } | null;
  steps: number;
  inputs: FixtureTensor[];
  losses: (Scalar & { step: number })[];
  loss_after: Scalar;
  grad_norms?: { step: number; total_norm: Scalar }[];
  params_after: { step: number; params: Record<string, FixtureTensor & { atol: number }> }[];
  tolerance: { rtol: number };
}

const source = fileURLToPath(new URL("./objectives.nn", import.meta.url));

const cases = [
  { fixture: "optim_sgd", entry: "mlp", kind: "sgd" },
  { fixture: "optim_sgd_momentum_wd", entry: "mlp", kind: "sgd" },
  { fixture: "optim_adam", entry: "mlp", kind: "adam" },
  { fixture: "optim_adamw", entry: "mlp", kind: "adamw" },
  { fixture: "optim_clip_sgd", entry: "mlp", kind: "sgd" },
  { fixture: "train_lenet5_sgd", entry: "lenet5", kind: "sgd" },
  { fixture: "train_lstm_classifier_sgd", entry: "lstm_classifier", kind: "sgd" },
] as const;

function optimizerOf(kind: OptimizerSpec["kind"], fx: TrainFixture): OptimizerSpec {
  const h = fx.optimizer.hyperparameters as Record<string, number>;
  const spec: OptimizerSpec =
    kind === "sgd"
      ? {
          kind,
          momentum: h.momentum ?? 0,
          dampening: h.dampening ?? 0,
          nesterov: Boolean(fx.optimizer.hyperparameters.nesterov),
          weightDecay: h.weight_decay ?? 0,
        }
      : { kind, beta1: h.beta1!, beta2: h.beta2!, eps: h.eps!, weightDecay: h.weight_decay ?? 0 };
  if (fx.clip_grad_norm) spec.clipNorm = fx.clip_grad_norm.max_norm;
  return spec;
}

const near = (got: number, want: Scalar, rtol: number) =>
  expect(Math.abs(got - want.value)).toBeLessThanOrEqual(want.atol + rtol * Math.abs(want.value));

for (const backend of ["cpu", "webgpu"] as const) {
  describe.skipIf(backend === "webgpu" && !inject("gpu").ok)(
    `training fixtures on ${backend}`,
    () => {
      for (const opt of optLevels) {
        for (const c of cases) {
          it(`${c.fixture} -O${opt}`, async () => {
            const fx = JSON.parse(
              readFileSync(fixturePath(`grad/${c.fixture}.json`), "utf8"),
            ) as TrainFixture;
            const model = compile({ file: source }, { entry: c.entry, optimize: { level: opt } });
            const batch = new Map<string, Tensor>();
            for (const t of fx.inputs) {
              const rule = t.rule ?? { kind: "uniform" as const, scale: 1 };
              batch.set(t.name, seededInput(t.name, t.shape, rule));
            }
            const lr = fx.optimizer.hyperparameters.lr as number;
            const trainer = new Trainer(model, {
              optimizer: optimizerOf(c.kind, fx),
              lr,
              backend,
            });
            for (let s = 1; s <= fx.steps; s++) {
              const r = await trainer.run(batch);
              near(r.loss, fx.losses[s - 1]!, fx.tolerance.rtol);
              const norm = fx.grad_norms?.find((g) => g.step === s);
              if (norm) near(r.gradNorm!, norm.total_norm, fx.tolerance.rtol);
              const after = fx.params_after.find((p) => p.step === s);
              for (const [name, want] of Object.entries(after?.params ?? {})) {
                const got = trainer.params.get(name)!;
                // params_after: |ts − torch| ≤ atol only (SPEC.md §12.4).
                const tol: Fixture = { tolerance: { atol: want.atol, rtol: 0 } } as Fixture;
                const bad = compareOutput(
                  tol,
                  { ...want, name },
                  got.data as Float32Array,
                  got.shape,
                );
                expect({ step: s, name, bad: bad.slice(0, 3) }).toEqual({
                  step: s,
                  name,
                  bad: [],
                });
              }
            }
            const loss = ((await trainer.evaluate(batch)).get("loss")!.data as Float32Array)[0]!;
            near(loss, fx.loss_after, fx.tolerance.rtol);
          }, 300_000);
        }
      }
    },
  );
}
