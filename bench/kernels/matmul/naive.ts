// The baseline: one output per invocation, a K loop of scalar loads, no
// workgroup memory. What a straightforward lowering of matmul produces.

import { bindings, cdiv, type MatmulKernel, type MatmulShape } from "./kernel.js";

export function naiveMatmul(wx: number, wy: number): MatmulKernel {
  return {
    variant: "naive",
    config: `wg ${wx}x${wy}`,
    outputsPerInvocation: 1,
    supports: () => true,
    wgsl: ({ M, N, K }: MatmulShape) => `${bindings("f32")}
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.x;
  let row = g.y;
  if (row >= ${M}u || col >= ${N}u) { return; }
  var acc = 0.0;
  for (var k = 0u; k < ${K}u; k++) {
    acc = fma(A[row * ${K}u + k], B[k * ${N}u + col], acc);
  }
  C[row * ${N}u + col] = acc;
}`,
    grid: ({ M, N }) => [cdiv(N, wx), cdiv(M, wy), 1],
  };
}
