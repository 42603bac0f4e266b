// `--target auto|lavapipe|gpu` for the CLI: a named target, or `auto`, built
// from the WebGPU adapter's facts (compiler/target targetFromAdapter) where
// one is asked for and present, else lavapipe.

import { didYouMean } from "../core/diagnostics.js";
import {
  type AdapterFacts,
  defaultTarget,
  namedTarget,
  type Target,
  type TargetName,
  targetFromAdapter,
  targetNames,
} from "../target/target.js";
import { UsageError } from "./inputs.js";

export type TargetChoice = "auto" | TargetName;
export const targetChoices: readonly TargetChoice[] = ["auto", ...targetNames];

/** Commands that run on the adapter default to `auto`; the others compile for lavapipe and open no device. */
const autoByDefault = new Set(["run", "bench", "grad", "train"]);

export function targetFlag(command: string, flag: string | undefined): TargetChoice {
  const t = flag ?? (autoByDefault.has(command) ? "auto" : defaultTarget.name);
  if (t === "cpu")
    throw new UsageError(
      "--target cpu is now --target lavapipe (the software adapter); --target takes auto, lavapipe or gpu",
    );
  if (!(targetChoices as readonly string[]).includes(t))
    throw new UsageError(
      `--target takes auto, lavapipe or gpu, got \`${t}\`${didYouMean(t, targetChoices)}`,
    );
  return t as TargetChoice;
}

/**
 * The target of a choice. `auto` asks `facts` (undefined: no adapter is
 * asked, lavapipe); without an adapter it says so on stderr unless `quiet`
 * (`run` says it already, falling back to the CPU backend).
 */
export async function targetFor(
  choice: TargetChoice,
  facts: (() => Promise<AdapterFacts | string>) | undefined,
  io: { err: (text: string) => void },
  opts: { quiet?: boolean } = {},
): Promise<Target> {
  if (choice !== "auto") return namedTarget(choice);
  if (!facts) return defaultTarget;
  const f = await facts();
  if (typeof f !== "string") return targetFromAdapter(f);
  if (!opts.quiet)
    io.err(`nnc: --target auto: no WebGPU adapter (${f}); compiling for ${defaultTarget.name}`);
  return defaultTarget;
}
