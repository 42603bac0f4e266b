// Which kernels share a pipeline: the driver compiles each distinct one once
// (on lavapipe with LLVM, at its first dispatch), so kernels that differ only
// in the comments naming their source ops must map to the same key.

import type { KernelSpec } from "../../compiler/codegen/plan.js";

/** WGSL without its comments (`//` to the end of the line, nested block comments), blanks collapsed. */
export function wgslCode(wgsl: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < wgsl.length; i++) {
    const two = wgsl.slice(i, i + 2);
    if (depth === 0 && two === "//") {
      while (i < wgsl.length && wgsl[i] !== "\n") i++;
      out += "\n";
    } else if (two === "/*") {
      depth++;
      i++;
    } else if (depth > 0 && two === "*/") {
      depth--;
      i++;
      if (depth === 0) out += " ";
    } else if (depth === 0) out += wgsl[i];
  }
  // Blank runs only separate tokens in WGSL.
  return out.replace(/\s+/g, " ").trim();
}

/**
 * What makes two kernels one pipeline: their code, entry point and binding
 * layout. Comments are left out, so kernels that differ only in the header
 * naming their source ops (the same conv in two blocks) share a pipeline, and
 * the driver compiles it once.
 */
export function pipelineKey(k: KernelSpec): string {
  const layout = k.bindings.map((b) => `${b.binding}:${b.access}${b.dynamicOffset ? "+" : ""}`);
  return `${k.entryPoint}\n${layout.join(",")}\n${wgslCode(k.wgsl)}`;
}
