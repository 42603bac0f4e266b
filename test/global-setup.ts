// Runs once before the suites: decides whether the GPU suites can run here.
// With NNC_REQUIRE_GPU=1 (CI) a missing adapter fails the run; otherwise GPU
// suites are skipped with one loud line saying so.

import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { probeAdapter } from "../runtime/webgpu/probe.js";

export default function setup(project: TestProject): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const probe = probeAdapter(root);
  const required = process.env.NNC_REQUIRE_GPU === "1";
  if (!probe.ok && required) {
    throw new Error(
      `NNC_REQUIRE_GPU=1 but there is no WebGPU adapter: ${probe.detail}\n` +
        "On Debian 12 without a GPU run `bash scripts/install-vulkan.sh` (Mesa lavapipe from bookworm-backports).",
    );
  }
  if (!probe.ok) {
    process.stderr.write(
      `\n!!! nnc: NO WEBGPU ADAPTER (${probe.detail}) — GPU SUITES ARE SKIPPED. ` +
        "Run `bash scripts/install-vulkan.sh`, or set NNC_REQUIRE_GPU=1 to make this a failure. !!!\n\n",
    );
  }
  project.provide("gpu", { ok: probe.ok, detail: probe.detail });
}

declare module "vitest" {
  export interface ProvidedContext {
    gpu: { ok: boolean; detail: string };
  }
}
