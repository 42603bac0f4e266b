// How each golden fixture is run through the CLI's JSON contract: the .nn
// entry and arguments that build the same module PyTorch built, and a runner
// that calls `nnc run ... --json` in process. These tables are the only lists
// of cases: the fixture suites run each on every backend at -O1 and -O0.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../compiler/cli/main.js";
import { type Fixture, seededSpec } from "./fixture-compare.js";

export interface Case {
  fixture: string;
  source: string;
  args?: string[];
  /** Fixture input name → the entry's input name, where they differ. */
  rename?: Record<string, string>;
  /** Set when the fixture is also reached through a second entry: names that route in test titles. */
  via?: string;
}

const conv = (out: number, extra: string[]) => [`out=${out}`, "k=3", "stride=2", "pad=1", ...extra];

export const nnCases: Case[] = [
  { fixture: "adaptive_avgpool2d_1", source: "nn:global_avgpool" },
  { fixture: "avgpool2d_k2_s2", source: "nn:avgpool", args: ["k=2", "stride=2"] },
  { fixture: "avgpool2d_k3_s2_p1", source: "nn:avgpool", args: ["k=3", "stride=2", "pad=1"] },
  { fixture: "maxpool2d_k2_s2", source: "nn:maxpool", args: ["k=2", "stride=2"] },
  { fixture: "maxpool2d_k3_s2_p1", source: "nn:maxpool", args: ["k=3", "stride=2", "pad=1"] },
  { fixture: "batchnorm2d_eval", source: "nn:batchnorm" },
  { fixture: "layernorm_channels_last", source: "nn:layernorm", args: ["eps=1e-6"] },
  { fixture: "layernorm2d_nchw", source: "nn:layernorm2d", args: ["eps=1e-6"] },
  { fixture: "conv2d_k1_pointwise", source: "nn:conv", args: ["out=24", "k=1"] },
  { fixture: "conv2d_k3_s1_p1", source: "nn:conv", args: ["out=16", "k=3", "stride=1", "pad=1"] },
  {
    fixture: "conv2d_k3_s2_p1_d1_g1",
    source: "nn:conv",
    args: conv(16, ["dilation=1", "groups=1"]),
  },
  {
    fixture: "conv2d_k3_s2_p1_d1_g4",
    source: "nn:conv",
    args: conv(16, ["dilation=1", "groups=4"]),
  },
  {
    fixture: "conv2d_k3_s2_p1_d1_dw",
    source: "nn:conv",
    args: conv(8, ["dilation=1", "groups=8"]),
  },
  {
    fixture: "conv2d_k3_s2_p1_d2_g1",
    source: "nn:conv",
    args: conv(16, ["dilation=2", "groups=1"]),
  },
  {
    fixture: "conv2d_k3_s2_p1_d2_g4",
    source: "nn:conv",
    args: conv(16, ["dilation=2", "groups=4"]),
  },
  {
    fixture: "conv2d_k3_s2_p1_d2_dw",
    source: "nn:conv",
    args: conv(8, ["dilation=2", "groups=8"]),
  },
  {
    fixture: "conv2d_k7_s2_p3_nobias",
    source: "nn:conv",
    args: ["out=16", "k=7", "stride=2", "pad=3", "bias=false"],
  },
  {
    fixture: "convtranspose2d_k2_s2",
    source: "nn:conv_transpose",
    args: ["out=4", "k=2", "stride=2"],
  },
  {
    fixture: "convtranspose2d_k3_s2_p1_op1",
    source: "nn:conv_transpose",
    args: ["out=4", "k=3", "stride=2", "pad=1", "output_padding=1"],
  },
  {
    fixture: "embedding",
    source: "nn:embedding",
    args: ["num=50", "dim=16"],
    rename: { tokens: "input" },
  },
  { fixture: "linear", source: "nn:linear", args: ["out=24"] },
  { fixture: "gelu", source: "nn:gelu" },
  { fixture: "gelu_tanh", source: "nn:gelu", args: ["approximate=tanh"] },
  { fixture: "relu6", source: "nn:relu6" },
  { fixture: "hardswish", source: "nn:hardswish" },
  { fixture: "hardsigmoid", source: "nn:hardsigmoid" },
  { fixture: "softmax", source: "nn:softmax" },
  { fixture: "log_softmax", source: "nn:log_softmax" },
  { fixture: "lenet5", source: "examples/lenet5.nn" },
];

/** The recurrent layers (RNN, LSTM, GRU in their layer/direction/state variants) and the highway network. */
export const recurrentCases: Case[] = [
  { fixture: "rnn_tanh", source: "rnn:rnn", args: ["hidden=32"] },
  { fixture: "rnn_tanh_zero_state", source: "rnn:rnn", args: ["hidden=32"] },
  { fixture: "lstm_1layer", source: "rnn:lstm", args: ["hidden=32"] },
  { fixture: "lstm_1layer_zero_state", source: "rnn:lstm", args: ["hidden=32"] },
  { fixture: "lstm_2layer", source: "rnn:lstm", args: ["hidden=32", "layers=2"] },
  { fixture: "lstm_bidir", source: "rnn:lstm", args: ["hidden=32", "bidirectional=true"] },
  {
    fixture: "lstm_bidir_2layer",
    source: "rnn:lstm",
    args: ["hidden=32", "layers=2", "bidirectional=true"],
  },
  { fixture: "gru", source: "rnn:gru", args: ["hidden=32"] },
  { fixture: "gru_zero_state", source: "rnn:gru", args: ["hidden=32"] },
  { fixture: "gru_2layer", source: "rnn:gru", args: ["hidden=32", "layers=2"] },
  { fixture: "highway_3layer", source: "rnn:highway", args: ["layers=3"] },
];

/**
 * The attention variants and the seq2seq translator; the last three reach
 * fixtures again through the one-name `attention(kind, ...)` entry.
 */
export const attentionCases: Case[] = [
  { fixture: "attention_luong_dot", source: "attention:luong", args: ["score=dot"] },
  { fixture: "attention_luong_general", source: "attention:luong", args: ["score=general"] },
  { fixture: "attention_luong_concat", source: "attention:luong", args: ["score=concat"] },
  { fixture: "attention_bahdanau", source: "attention:bahdanau" },
  { fixture: "attention_local_m", source: "attention:luong_local", args: ["mode=m", "D=2", "t=4"] },
  {
    fixture: "attention_local_m_edge",
    source: "attention:luong_local",
    args: ["mode=m", "D=2", "t=1"],
  },
  { fixture: "attention_local_p", source: "attention:luong_local", args: ["mode=p", "D=2"] },
  { fixture: "seq2seq", source: "seq2seq:seq2seq" },
  {
    fixture: "attention_luong_concat",
    source: "attention:attention",
    args: ["kind=concat"],
    via: "attention(kind)",
  },
  {
    fixture: "attention_local_p",
    source: "attention:attention",
    args: ["kind=local_p", "D=2"],
    via: "attention(kind)",
  },
  {
    fixture: "attention_local_m_edge",
    source: "attention:attention",
    args: ["kind=local_m", "D=2", "t=1"],
    via: "attention(kind)",
  },
];

/**
 * The CNN families of the stdlib (lenet, resnet, mobilenet, unet) against their
 * whole-model fixtures, each built exactly as the fixture's `torch_module`.
 */
export const cnnCases: Case[] = [
  { fixture: "lenet5", source: "lenet:lenet5" },
  { fixture: "resnet18", source: "resnet:resnet18", args: ["classes=10"] },
  { fixture: "mobilenet_v2", source: "mobilenet:mobilenet_v2", args: ["classes=10"] },
  {
    fixture: "unet",
    source: "unet:unet",
    args: ["in_channels=1", "classes=2", "base=8", "depth=2"],
  },
];

/** Every table by name: a fixture suite runs one or more of them. */
export const caseTables = {
  nn: nnCases,
  recurrent: recurrentCases,
  attention: attentionCases,
  cnn: cnnCases,
} as const;

export type CaseTable = keyof typeof caseTables;

/** A case's test title: the fixture name, and the entry it goes through when that is a second route. */
export const caseTitle = (c: Case): string => (c.via ? `${c.fixture} via ${c.via}` : c.fixture);

export interface JsonOut {
  outputs: Record<string, { shape: number[]; dtype: string; data: number[] }>;
  backend: string;
}

/** Runs `nnc run ... --json` (or `nnc grad`) in process and parses its one JSON object. */
export async function runFixture<T = JsonOut>(
  c: Case,
  fx: Fixture,
  extra: string[] = [],
  command: "run" | "grad" = "run",
): Promise<T> {
  const argv = [command, c.source, "--json", "--weights", "seeded", ...extra];
  for (const a of c.args ?? []) argv.push("--arg", a);
  let dir: string | undefined;
  for (const inp of fx.inputs) {
    const name = c.rename?.[inp.name] ?? inp.name;
    if (name === inp.name) {
      argv.push("--input", `${name}=${seededSpec(inp)}`);
    } else {
      // The seed is keyed by the fixture's own input name, so pass its stored data instead.
      dir ??= mkdtempSync(join(tmpdir(), "nnc-fx-"));
      const file = join(dir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          shape: inp.shape,
          dtype: inp.rule?.kind === "tokens" ? "i32" : "f32",
          data: inp.data,
        }),
      );
      argv.push("--input", `${name}=${file}`);
    }
  }
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  if (code !== 0) throw new Error(`nnc ${argv.join(" ")} exited ${code}:\n${err}`);
  return JSON.parse(out) as T;
}
