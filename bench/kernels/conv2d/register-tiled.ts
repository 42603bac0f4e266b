// Register-tiled direct convolution, the conv analogue of the winning matmul:
// each invocation computes 4·TC4 output channels × TX adjacent pixels of one
// output row, in vec4 accumulators along the channels. The weight is stored
// IHWO (a compile-time transform of PyTorch's OIHW) so one vec4 load gives 4
// output channels; every lane of a workgroup uses the same channels, so those
// loads are uniform. Per (input channel, ky) the TX + k − 1 input pixels the
// row needs are loaded once (zero outside the image) and reused for every kx.
// Lanes walk pixels (x fastest), so neighbouring lanes read neighbouring input.

import type { ConvShape } from "../reference.js";
import { convOut } from "../reference.js";
import { type ConvKernel, cdiv } from "./kernel.js";

export interface ConvTile {
  /** vec4s of output channels per invocation. */
  tc4: number;
  /** Adjacent output pixels per invocation. */
  tx: number;
  wx: number;
}

export function registerTiledConvWgsl(s: ConvShape, t: ConvTile): string {
  const { ho, wo } = convOut(s);
  const { tc4, tx, wx } = t;
  const xb = cdiv(wo, tx); // pixel blocks per output row
  const cout4 = s.cout / 4;
  const span = tx + s.k - 1;
  const L: string[] = [];
  L.push(`@group(0) @binding(0) var<storage, read> X: array<f32>;`);
  L.push(`@group(0) @binding(1) var<storage, read> Wt: array<vec4f>; // [cin][k][k][cout/4]`);
  L.push(`@group(0) @binding(2) var<storage, read_write> Y: array<f32>;`);
  L.push(`@compute @workgroup_size(${wx})`);
  L.push(`fn main(@builtin(global_invocation_id) g: vec3u, @builtin(workgroup_id) wg: vec3u) {`);
  L.push(`  let blk = min(g.x, ${xb * ho - 1}u);`);
  L.push(`  let oy = blk / ${xb}u;`);
  L.push(`  let x0 = (blk % ${xb}u) * ${tx}u;`);
  L.push(`  let c40 = wg.y * ${tc4}u;`);
  L.push(`  let n = wg.z;`);
  for (let p = 0; p < tx; p++)
    for (let j = 0; j < tc4; j++) L.push(`  var acc${p}_${j} = vec4f(0.0);`);
  L.push(`  for (var c = 0u; c < ${s.cin}u; c++) {`);
  L.push(`    let xc = (n * ${s.cin}u + c) * ${s.h}u;`);
  L.push(`    for (var ky = 0u; ky < ${s.k}u; ky++) {`);
  L.push(`      let iy = i32(oy + ky) - ${s.pad};`);
  L.push(`      let rowOk = iy >= 0 && iy < ${s.h};`);
  L.push(`      let row = (xc + u32(clamp(iy, 0, ${s.h - 1}))) * ${s.w}u;`);
  for (let q = 0; q < span; q++) {
    L.push(`      let ix${q} = i32(x0) + ${q - s.pad};`);
    L.push(
      `      let v${q} = select(0.0, X[row + u32(clamp(ix${q}, 0, ${s.w - 1}))], rowOk && ix${q} >= 0 && ix${q} < ${s.w});`,
    );
  }
  L.push(`      let wrow = (c * ${s.k}u + ky) * ${s.k * cout4}u + c40;`);
  for (let kx = 0; kx < s.k; kx++) {
    for (let j = 0; j < tc4; j++) L.push(`      let w${kx}_${j} = Wt[wrow + ${kx * cout4 + j}u];`);
    for (let p = 0; p < tx; p++)
      for (let j = 0; j < tc4; j++)
        L.push(`      acc${p}_${j} = fma(vec4f(v${p + kx}), w${kx}_${j}, acc${p}_${j});`);
  }
  L.push(`    }`);
  L.push(`  }`);
  L.push(`  if (g.x >= ${xb * ho}u) { return; }`);
  for (let j = 0; j < tc4; j++) {
    for (let e = 0; e < 4; e++) {
      L.push(
        `  let y${j}_${e} = ((n * ${s.cout}u + (c40 + ${j}u) * 4u + ${e}u) * ${ho}u + oy) * ${wo}u + x0;`,
      );
      const comp = "xyzw"[e];
      for (let p = 0; p < tx; p++) {
        const store = `Y[y${j}_${e} + ${p}u] = acc${p}_${j}.${comp};`;
        L.push(wo % tx === 0 ? `  ${store}` : `  if (x0 + ${p}u < ${wo}u) { ${store} }`);
      }
    }
  }
  L.push(`}`);
  return L.join("\n");
}

export function registerTiledConv(t: ConvTile): ConvKernel {
  return {
    variant: `register ${4 * t.tc4}ch x ${t.tx}px`,
    config: `wg ${t.wx}`,
    outputsPerInvocation: 4 * t.tc4 * t.tx,
    weightLayout: "IHWO",
    supports: (s) => s.cout % (4 * t.tc4) === 0,
    wgsl: (s) => registerTiledConvWgsl(s, t),
    grid: (s) => {
      const { ho, wo } = convOut(s);
      return [cdiv(cdiv(wo, t.tx) * ho, t.wx), s.cout / (4 * t.tc4), s.n];
    },
  };
}
