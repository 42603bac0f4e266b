// `nnc train OBJECTIVE --data ...`: trains an objective (a model whose output
// `loss` is a scalar) with the Trainer, epoch by epoch: progress on stderr,
// metrics as JSON lines (--log), a checkpoint after each epoch (--save; the
// optimizer's state beside it in CKPT.optim.safetensors), --resume, and Ctrl-C
// that saves before exiting 130. A non-finite loss stops training and leaves
// the last checkpoint as it was.

import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import type { DataArray } from "../../runtime/data/array.js";
import type { Dataset } from "../../runtime/data/dataset.js";
import { readDataFile } from "../../runtime/data/load.js";
import type { ProbeResult } from "../../runtime/webgpu/probe.js";
import {
  parseSafetensorsHeader,
  readSafetensors,
  writeSafetensors,
} from "../../runtime/weights/safetensors.js";
import type { CompiledModel } from "../compile.js";
import { fail } from "../core/diagnostics.js";
import { MAX_WEIGHT_BYTES, readRegularFile } from "../core/files.js";
import type { Tensor } from "../core/tensor.js";
import { bindData, correct, findLabels, type Labels, toTensors } from "../training/feed.js";
import type { OptimizerSpec } from "../training/step-graph.js";
import { Trainer } from "../training/trainer.js";
import type { Parsed } from "./args.js";
import { UsageError } from "./inputs.js";
import { type Io, pickBackend } from "./run-command.js";
import { parseSchedule } from "./schedule.js";

const optimSidecar = (ckpt: string) => ckpt.replace(/\.safetensors$/, ".optim.safetensors");

function num(
  v: string | undefined,
  flag: string,
  dflt: number,
  ok: (x: number) => boolean,
): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === "" || !ok(x)) throw new UsageError(`--${flag}: invalid value \`${v}\``);
  return x;
}
const posInt = (x: number) => Number.isInteger(x) && x > 0;

/** `--data NAME=FILE[#ARRAY]` or `--data FILE` (arrays named like the inputs). */
export function readData(specs: string[] | undefined, flag: string): Map<string, DataArray> {
  const files = new Map<string, Map<string, DataArray>>();
  const read = (path: string) => {
    const hit = files.get(path) ?? readDataFile(path);
    files.set(path, hit);
    return hit;
  };
  const out = new Map<string, DataArray>();
  const put = (name: string, a: DataArray) => {
    if (out.has(name)) throw new UsageError(`--${flag}: \`${name}\` is given twice`);
    out.set(name, a);
  };
  for (const spec of specs ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0 || /[/\\]/.test(spec.slice(0, eq))) {
      for (const [k, a] of read(spec)) {
        if (k === "")
          throw new UsageError(
            `--${flag} ${spec} holds one unnamed array: write --${flag} NAME=${spec}`,
          );
        put(k, a);
      }
      continue;
    }
    const name = spec.slice(0, eq);
    const [path, pick] = spec.slice(eq + 1).split("#") as [string, string | undefined];
    const arrays = read(path);
    if (pick !== undefined) {
      const a = arrays.get(pick);
      if (!a)
        fail(
          "NN8104",
          `${path} has no array \`${pick}\`; it holds ${[...arrays.keys()].join(", ")}`,
        );
      put(name, a);
    } else if (arrays.size === 1) put(name, [...arrays.values()][0]!);
    else
      throw new UsageError(
        `--${flag} ${spec}: ${path} holds ${arrays.size} arrays (${[...arrays.keys()].join(", ")}); pick one with ${name}=${path}#ARRAY`,
      );
  }
  return out;
}

function optimizer(v: Parsed): OptimizerSpec {
  const kind = v.optimizer ?? "adam";
  if (kind !== "sgd" && kind !== "adam" && kind !== "adamw")
    throw new UsageError(`--optimizer must be sgd, adam or adamw, got \`${kind}\``);
  const momentum = num(v.momentum, "momentum", 0, (x) => x >= 0 && x < 1);
  if (kind !== "sgd" && (v.momentum !== undefined || v.nesterov))
    throw new UsageError("--momentum and --nesterov are SGD's; drop them or use --optimizer sgd");
  if (v.nesterov && momentum === 0) throw new UsageError("--nesterov needs --momentum > 0");
  const wd = num(v["weight-decay"], "weight-decay", 0, (x) => x >= 0);
  const clip =
    v["clip-norm"] === undefined ? undefined : num(v["clip-norm"], "clip-norm", 0, (x) => x > 0);
  return {
    kind,
    ...(momentum ? { momentum } : {}),
    ...(v.nesterov ? { nesterov: true } : {}),
    ...(wd ? { weightDecay: wd } : {}),
    ...(clip !== undefined ? { clipNorm: clip } : {}),
  };
}

interface EpochStats {
  loss: number;
  accuracy?: number;
}

async function evaluate(
  trainer: Trainer,
  data: Dataset,
  batch: number,
  labels?: Labels,
): Promise<EpochStats> {
  let loss = 0;
  let right = 0;
  for (const b of data.batches(batch, { seed: 0, epoch: 0, shuffle: false })) {
    const t = toTensors(b);
    const out = await trainer.evaluate(t);
    loss += (out.get("loss")!.data as Float32Array)[0]! * b.size;
    if (labels) right += correct(out.get("logits")!, t.get(labels.input)!);
  }
  return { loss: loss / data.size, ...(labels ? { accuracy: right / data.size } : {}) };
}

const clock = (s: number) => {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
};

export async function trainCommand(
  model: CompiledModel,
  v: Parsed,
  probe: Promise<ProbeResult> | undefined,
  io: Io,
): Promise<number> {
  if (!v.data)
    throw new UsageError("nnc train needs --data (NAME=FILE or an .npz holding the inputs)");
  const epochs = num(v.epochs, "epochs", 1, posInt);
  const batch = num(v.batch, "batch", 32, posInt);
  const lr = num(v.lr, "lr", 1e-3, (x) => x > 0 && Number.isFinite(x));
  const seed = num(v.seed, "seed", 0, (x) => Number.isInteger(x) && x >= 0);
  const save = v.save;
  if (save !== undefined && !save.endsWith(".safetensors"))
    throw new UsageError(`--save writes a .safetensors file, got \`${save}\``);
  if (v.resume !== undefined && !v.resume.endsWith(".safetensors"))
    throw new UsageError(`--resume reads a .safetensors checkpoint, got \`${v.resume}\``);
  if (v.resume !== undefined && v.weights !== undefined)
    throw new UsageError("--resume starts from the checkpoint's weights; drop --weights");
  if (v.weights !== undefined && v.weights !== "seeded" && !v.weights.endsWith(".safetensors"))
    throw new UsageError(
      `--weights must be \`seeded\` or a .safetensors file, got \`${v.weights}\``,
    );
  const opt = optimizer(v);

  let train = bindData(model, readData(v.data, "data"));
  let held: Dataset | undefined;
  if (v.val) held = bindData(model, readData(v.val, "val"));
  if (v.holdout !== undefined) {
    if (held) throw new UsageError("--holdout splits --data; with --val given, drop it");
    const h = num(v.holdout, "holdout", 0, (x) => x > 0);
    const count = h < 1 ? Math.round(h * train.size) : h;
    if (!Number.isInteger(count))
      throw new UsageError(`--holdout takes a fraction < 1 or a count, got \`${v.holdout}\``);
    ({ train, held } = train.split(count, seed));
  }
  const labels = findLabels(model, train);
  if (held) findLabels(model, held);

  const steps = train.batchCount(batch);
  const schedule = parseSchedule(v.schedule, {
    lr,
    stepsPerEpoch: steps,
    totalSteps: steps * epochs,
  });
  const { backend } = await pickBackend(v, probe, io);
  const trainer = new Trainer(model, {
    optimizer: opt,
    lr: schedule,
    backend,
    ...(v.resume
      ? { weights: { file: v.resume } }
      : v.weights !== undefined && v.weights !== "seeded"
        ? { weights: { file: v.weights } }
        : {}),
  });
  let epoch0 = 0;
  // Compiles the step (and checks the objective: a scalar loss, something to train) before any data moves.
  // At the batch size the epochs use, so this is the plan they run.
  const first = train.take(Array.from({ length: Math.min(batch, train.size) }, (_, i) => i));
  trainer.compiled(toTensors(first));
  if (v.resume) epoch0 = resume(trainer, v.resume);

  const log = v.log;
  if (log !== undefined) writeFileSync(log, "", { flag: epoch0 > 0 ? "a" : "w" });
  const record = (o: object) => {
    if (log !== undefined) appendFileSync(log, `${JSON.stringify(o)}\n`);
  };
  const checkpoint = (epoch: number) => {
    if (save === undefined) return;
    const meta = {
      format: "pt",
      producer: "nnc train",
      epoch: String(epoch),
      step: String(trainer.step),
    };
    writeSafetensors(save, trainer.params, meta);
    if (trainer.state.size > 0)
      writeSafetensors(optimSidecar(save), trainer.state, { ...meta, optimizer: opt.kind });
  };

  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  process.on("SIGINT", onInt);
  const tty = process.stderr.isTTY === true;
  try {
    for (let epoch = epoch0; epoch < epochs; epoch++) {
      const start = performance.now();
      let seen = 0;
      let loss = 0;
      let right = 0;
      let k = 0;
      for (const b of train.batches(batch, { seed, epoch, shuffle: true })) {
        const t = toTensors(b);
        const r = await trainer.run(t);
        k++;
        seen += b.size;
        loss += r.loss * b.size;
        if (labels) right += correct(r.outputs.get("logits")!, t.get(labels.input)!);
        if (tty) {
          const s = (performance.now() - start) / 1000;
          const rate = seen / s;
          const bar = "█".repeat(Math.round((20 * k) / steps)).padEnd(20, "·");
          process.stderr.write(
            `\repoch ${epoch + 1}/${epochs} ${bar} ${k}/${steps} loss ${(loss / seen).toFixed(4)}${labels ? ` acc ${((100 * right) / seen).toFixed(1)}%` : ""} ${rate.toFixed(0)} ex/s ETA ${clock((train.size - seen) / rate)}  `,
          );
        }
        // A step on the CPU never yields to the event loop: let a pending SIGINT's handler run.
        await new Promise((r) => setImmediate(r));
        if (interrupted) break;
      }
      if (tty) process.stderr.write("\n");
      const seconds = (performance.now() - start) / 1000;
      const stats: Record<string, number> = {
        epoch: epoch + 1,
        step: trainer.step,
        loss: loss / seen,
        ...(labels ? { accuracy: right / seen } : {}),
        lr: schedule(Math.max(1, trainer.step)),
        examples_per_s: seen / seconds,
        seconds,
      };
      if (interrupted) {
        // The epoch is incomplete: the checkpoint records the one before it, with this one's steps.
        checkpoint(epoch);
        record({ ...stats, interrupted: true });
        io.err(
          `interrupted in epoch ${epoch + 1} at step ${trainer.step}${save ? `; saved ${save}` : ""}`,
        );
        return 130;
      }
      if (held) {
        const h = await evaluate(trainer, held, batch, labels);
        stats.val_loss = h.loss;
        if (h.accuracy !== undefined) stats.val_accuracy = h.accuracy;
      }
      checkpoint(epoch + 1);
      record(stats);
      const pct = (x: number | undefined) => (x === undefined ? "" : ` ${(100 * x).toFixed(2)}%`);
      io.err(
        `epoch ${epoch + 1}/${epochs}: loss ${stats.loss!.toFixed(4)}${labels ? ` acc${pct(stats.accuracy)}` : ""}${held ? ` | held-out loss ${stats.val_loss!.toFixed(4)}${labels ? ` acc${pct(stats.val_accuracy)}` : ""}` : ""} | ${stats.examples_per_s!.toFixed(0)} ex/s, ${seconds.toFixed(1)} s`,
      );
    }
  } finally {
    process.off("SIGINT", onInt);
    trainer.dispose();
  }
  if (save) io.out(`saved ${save}`);
  return 0;
}

/** Restores the optimizer's state and the step count; returns the epochs already done. */
function resume(trainer: Trainer, ckpt: string): number {
  const header = readSafetensorsMeta(ckpt);
  const epoch = Number(header.epoch);
  const step = Number(header.step);
  if (!Number.isInteger(epoch) || !Number.isInteger(step))
    fail("NN8104", `${ckpt}: not an nnc train checkpoint (its metadata has no epoch and step)`);
  trainer.step = step;
  if (trainer.state.size > 0) {
    const side = optimSidecar(ckpt);
    if (!existsSync(side))
      fail(
        "NN8104",
        `${side}: missing; --resume needs the optimizer's state that nnc train saves beside the checkpoint`,
      );
    const state = readSafetensors(side);
    for (const [k, t] of trainer.state) {
      const s = state.get(k);
      if (!s || s.shape.join() !== t.shape.join())
        fail(
          "NN8104",
          `${side}: no optimizer state \`${k}\` of shape [${t.shape.join(", ")}] (another optimizer or model?)`,
        );
      trainer.state.set(k, s as Tensor);
    }
  }
  return epoch;
}

function readSafetensorsMeta(path: string): Record<string, string> {
  return parseSafetensorsHeader(
    readRegularFile(path, { what: "--resume checkpoint", maxBytes: MAX_WEIGHT_BYTES }),
    path,
  ).metadata;
}
