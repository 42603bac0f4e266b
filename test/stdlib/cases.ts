// Shared by the stdlib CNN suites: compiling a fixture case through the public
// API, and the models of the CNN families with what torchvision says of them.

import { type CompiledModel, compile } from "../../compiler/index.js";
import type { Case } from "../fixture-cases.js";

/** Compiles `MODULE:ENTRY` with the case's `k=v` arguments, as the CLI would. */
export function compileCase(c: Pick<Case, "source" | "args">): CompiledModel {
  const [module, entry] = c.source.split(":");
  const args = Object.fromEntries(
    (c.args ?? []).map((a) => {
      const i = a.indexOf("=");
      return [a.slice(0, i), a.slice(i + 1)];
    }),
  );
  return compile({ stdlib: module! }, { entry, args });
}

export interface ModelInfo {
  module: string;
  entry: string;
  /** Trainable parameters with 1000 classes, as torchvision 0.14 counts them. */
  torchvisionParams?: number;
}

/** Every image classifier of the CNN families; all take `input: f32[N, 3, H, W]` and `classes`. */
export const imageModels: ModelInfo[] = [
  { module: "resnet", entry: "resnet18", torchvisionParams: 11_689_512 },
  { module: "resnet", entry: "resnet34", torchvisionParams: 21_797_672 },
  { module: "resnet", entry: "resnet50", torchvisionParams: 25_557_032 },
  { module: "resnet", entry: "resnet101", torchvisionParams: 44_549_160 },
  { module: "resnet", entry: "resnet152", torchvisionParams: 60_192_808 },
  { module: "resnet", entry: "resnext50_32x4d", torchvisionParams: 25_028_904 },
  { module: "resnet", entry: "resnext101_32x8d", torchvisionParams: 88_791_336 },
  { module: "densenet", entry: "densenet121", torchvisionParams: 7_978_856 },
  { module: "densenet", entry: "densenet169", torchvisionParams: 14_149_480 },
  { module: "densenet", entry: "densenet201", torchvisionParams: 20_013_928 },
  { module: "mobilenet", entry: "mobilenet_v1" },
  { module: "mobilenet", entry: "mobilenet_v2", torchvisionParams: 3_504_872 },
  { module: "mobilenet", entry: "mobilenet_v3_small", torchvisionParams: 2_542_856 },
  { module: "mobilenet", entry: "mobilenet_v3_large", torchvisionParams: 5_483_032 },
  { module: "convnext", entry: "convnext_tiny", torchvisionParams: 28_589_128 },
  { module: "convnext", entry: "convnext_small", torchvisionParams: 50_223_688 },
  { module: "convnext", entry: "convnext_base", torchvisionParams: 88_591_464 },
];
