// The workloads nnc is measured on against its peers (bench/peers.ts) and
// against an earlier commit of itself (bench/ab.ts): the harness's shapes.

export interface Workload {
  label: string;
  /** `nnc bench` arguments after the command. */
  nnc: string[];
  /** The harness's workload name (run.sh -w, meta.json). */
  peer: string;
  roofline?: boolean;
}

/** Same shapes as the harness's models (export_models.py). */
export const workloads: Record<string, Workload> = {
  matmul: {
    label: "matmul 1024³",
    nnc: ["bench/workloads/matmul.nn"],
    peer: "matmul",
    roofline: true,
  },
  resnet224: {
    label: "ResNet-18 1×3×224×224",
    nnc: ["resnet:resnet18", "--input", "input=seeded:1x3x224x224"],
    peer: "resnet224",
  },
  lstm: {
    label: "LSTM 256→512, T=64",
    nnc: ["rnn:lstm", "--arg", "hidden=512", "--input", "input=seeded:1x64x256"],
    peer: "lstm",
  },
  gru2: {
    label: "GRU 2 layers 256→512, T=64",
    nnc: [
      "rnn:gru",
      "--arg",
      "hidden=512",
      "--arg",
      "layers=2",
      "--input",
      "input=seeded:1x64x256",
    ],
    peer: "gru2",
  },
};
export const aliases: Record<string, string> = {
  resnet18: "resnet224",
  resnet: "resnet224",
  gru: "gru2",
};
