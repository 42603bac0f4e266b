// The baseline: one output per invocation, the full (channel, ky, kx) sum
// with a bounds test per tap. What a direct lowering of conv2d produces.

import type { ConvShape } from "../reference.js";
import { convOut } from "../reference.js";
import { type ConvKernel, cdiv } from "./kernel.js";

export function naiveConv(wx: number, wy: number): ConvKernel {
  return {
    variant: "naive",
    config: `wg ${wx}x${wy}`,
    outputsPerInvocation: 1,
    weightLayout: "OIHW",
    supports: () => true,
    wgsl: (s: ConvShape) => {
      const { ho, wo } = convOut(s);
      return `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> Wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let ox = g.x;
  let oy = g.y;
  let o = g.z % ${s.cout}u;
  let n = g.z / ${s.cout}u;
  if (ox >= ${wo}u || oy >= ${ho}u) { return; }
  var acc = 0.0;
  for (var c = 0u; c < ${s.cin}u; c++) {
    for (var ky = 0u; ky < ${s.k}u; ky++) {
      let iy = i32(oy + ky) - ${s.pad};
      if (iy < 0 || iy >= ${s.h}) { continue; }
      for (var kx = 0u; kx < ${s.k}u; kx++) {
        let ix = i32(ox + kx) - ${s.pad};
        if (ix < 0 || ix >= ${s.w}) { continue; }
        acc = fma(X[((n * ${s.cin}u + c) * ${s.h}u + u32(iy)) * ${s.w}u + u32(ix)],
                  Wt[((o * ${s.cin}u + c) * ${s.k}u + ky) * ${s.k}u + kx], acc);
      }
    }
  }
  Y[((n * ${s.cout}u + o) * ${ho}u + oy) * ${wo}u + ox] = acc;
}`;
    },
    grid: (s) => {
      const { ho, wo } = convOut(s);
      return [cdiv(wo, wx), cdiv(ho, wy), s.n * s.cout];
    },
  };
}
