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
  /**
   * Multiply-adds of conv and linear at 1×3×224×224 with 1000 classes, in
   * billions to three decimals: torchvision's weights metadata (`_ops`,
   * counted by fvcore); for mobilenet_v1, 569 million from the paper's Table 1.
   */
  gmacs: number;
}

/** Every image classifier of the CNN families; all take `input: f32[N, 3, H, W]` and `classes`. */
export const imageModels: ModelInfo[] = [
  { module: "resnet", entry: "resnet18", torchvisionParams: 11_689_512, gmacs: 1.814 },
  { module: "resnet", entry: "resnet34", torchvisionParams: 21_797_672, gmacs: 3.664 },
  { module: "resnet", entry: "resnet50", torchvisionParams: 25_557_032, gmacs: 4.089 },
  { module: "resnet", entry: "resnet101", torchvisionParams: 44_549_160, gmacs: 7.801 },
  { module: "resnet", entry: "resnet152", torchvisionParams: 60_192_808, gmacs: 11.514 },
  { module: "resnet", entry: "resnext50_32x4d", torchvisionParams: 25_028_904, gmacs: 4.23 },
  { module: "resnet", entry: "resnext101_32x8d", torchvisionParams: 88_791_336, gmacs: 16.414 },
  { module: "densenet", entry: "densenet121", torchvisionParams: 7_978_856, gmacs: 2.834 },
  { module: "densenet", entry: "densenet169", torchvisionParams: 14_149_480, gmacs: 3.36 },
  { module: "densenet", entry: "densenet201", torchvisionParams: 20_013_928, gmacs: 4.291 },
  { module: "mobilenet", entry: "mobilenet_v1", gmacs: 0.569 },
  { module: "mobilenet", entry: "mobilenet_v2", torchvisionParams: 3_504_872, gmacs: 0.301 },
  { module: "mobilenet", entry: "mobilenet_v3_small", torchvisionParams: 2_542_856, gmacs: 0.057 },
  { module: "mobilenet", entry: "mobilenet_v3_large", torchvisionParams: 5_483_032, gmacs: 0.217 },
  { module: "convnext", entry: "convnext_tiny", torchvisionParams: 28_589_128, gmacs: 4.456 },
  { module: "convnext", entry: "convnext_small", torchvisionParams: 50_223_688, gmacs: 8.684 },
  { module: "convnext", entry: "convnext_base", torchvisionParams: 88_591_464, gmacs: 15.355 },
];
