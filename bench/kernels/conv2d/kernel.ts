// What every conv2d variant provides: Y = conv2d(X, W), NCHW f32, stride 1,
// square kernel with zero padding; X @binding(0), the weight @binding(1) in
// the layout the variant asks for (`weightLayout`), Y @binding(2).

import type { ConvShape } from "../reference.js";

export interface ConvKernel {
  variant: string;
  config: string;
  outputsPerInvocation: number;
  /** OIHW as PyTorch stores it, or IHWO (output channels innermost, for vec4 loads). */
  weightLayout: "OIHW" | "IHWO";
  supports(s: ConvShape): boolean;
  wgsl(s: ConvShape): string;
  grid(s: ConvShape): [number, number, number];
}

export const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** OIHW → IHWO: the compile-time weight transform the register-tiled kernel needs. */
export function toIHWO(w: Float32Array, s: ConvShape): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < s.cout; o++)
    for (let i = 0; i < s.cin; i++)
      for (let y = 0; y < s.k; y++)
        for (let x = 0; x < s.k; x++)
          out[((i * s.k + y) * s.k + x) * s.cout + o] = w[((o * s.cin + i) * s.k + y) * s.k + x]!;
  return out;
}
