// Which kernels share a pipeline (runtime/webgpu/pipeline-key.ts): the same
// code and bindings whatever their comments say, and never two kernels that
// differ in code, entry point or binding layout.

import { describe, expect, it } from "vitest";
import { pipelineKey, wgslCode } from "../../runtime/webgpu/pipeline-key.js";
import { addWgsl, kernel } from "./plans.js";

describe("wgslCode", () => {
  it("drops line and (nested) block comments and collapses blanks", () => {
    const text = [
      "// k3_relu: %35 relu @ stdlib/nn.nn:86:21 (layer1.0)",
      "@compute @workgroup_size(64) /* one /* nested */ comment */",
      "fn main() {   let x = 1; // trailing // twice",
      "  /* // not a line comment */ let y = 2;",
      "}",
    ].join("\n");
    expect(wgslCode(text)).toBe("@compute @workgroup_size(64) fn main() { let x = 1; let y = 2; }");
  });
});

describe("pipelineKey", () => {
  const rw = ["read", "read", "read_write"] as const;
  const code = addWgsl(64);

  it("is the same for kernels whose WGSL differs only in comments and blanks", () => {
    const a = kernel("k3_relu", `// k3_relu: %35 relu (layer1.0)\n${code}`, [...rw]);
    const b = kernel(
      "k5_relu",
      `// k5_relu: %58 relu (layer1.1)\n\n${code.replace(/\n/g, "\n  ")}`,
      [...rw],
    );
    expect(pipelineKey(a)).toBe(pipelineKey(b));
  });

  it("differs with the code, the entry point or a binding's access", () => {
    const base = kernel("k", code, [...rw]);
    expect(pipelineKey(kernel("k", addWgsl(65), [...rw]))).not.toBe(pipelineKey(base));
    expect(pipelineKey({ ...base, entryPoint: "other" })).not.toBe(pipelineKey(base));
    expect(pipelineKey(kernel("k", code, ["read", "read_write", "read_write"]))).not.toBe(
      pipelineKey(base),
    );
    const dynamic = {
      ...base,
      bindings: base.bindings.map((b, i) => (i === 0 ? { ...b, dynamicOffset: true } : b)),
    };
    expect(pipelineKey(dynamic)).not.toBe(pipelineKey(base));
  });
});
