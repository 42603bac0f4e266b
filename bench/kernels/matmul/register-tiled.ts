// Register tiling without workgroup memory, the shape that wins on llvmpipe:
// each invocation keeps a TM × (4·TN4) block of C in vec4 accumulators, reads
// A as vec4 along K (4 k-steps per load) and B as vec4 along N. An
// invocation's TN4 vec4 columns lie WX apart, so neighbouring lanes touch
// neighbouring vec4s of B and C. Rows and columns past the edge are clamped
// for the loads (the K loop stays branch-free) and skipped for the stores, so
// any M and N work; N and K must be multiples of 4.

import { bindings, cdiv, type MatmulKernel, type MatmulShape } from "./kernel.js";

export interface RegisterTile {
  /** Rows of C per invocation. */
  tm: number;
  /** vec4 columns of C per invocation (4·tn4 columns). */
  tn4: number;
  wx: number;
  wy: number;
}

export function registerTiledWgsl({ M, N, K }: MatmulShape, t: RegisterTile): string {
  const { tm, tn4, wx, wy } = t;
  const N4 = N / 4;
  const K4 = K / 4;
  const L: string[] = [bindings("vec4f")];
  L.push(`@compute @workgroup_size(${wx}, ${wy})`);
  L.push(`fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {`);
  L.push(`  let r0 = (wg.y * ${wy}u + lid.y) * ${tm}u;`);
  L.push(`  let c0 = wg.x * ${wx * tn4}u + lid.x;`);
  for (let i = 0; i < tm; i++) L.push(`  let ra${i} = min(r0 + ${i}u, ${M - 1}u) * ${K4}u;`);
  for (let j = 0; j < tn4; j++) L.push(`  let cb${j} = min(c0 + ${j * wx}u, ${N4 - 1}u);`);
  for (let i = 0; i < tm; i++)
    for (let j = 0; j < tn4; j++) L.push(`  var acc${i}_${j} = vec4f(0.0);`);
  L.push(`  for (var k4 = 0u; k4 < ${K4}u; k4++) {`);
  L.push(`    let kb = k4 * ${4 * N4}u;`);
  for (let q = 0; q < 4; q++)
    for (let j = 0; j < tn4; j++) L.push(`    let b${q}_${j} = B[kb + ${q * N4}u + cb${j}];`);
  for (let i = 0; i < tm; i++) {
    L.push(`    let a${i} = A[ra${i} + k4];`);
    for (let j = 0; j < tn4; j++)
      L.push(
        `    acc${i}_${j} = fma(vec4f(a${i}.x), b0_${j}, fma(vec4f(a${i}.y), b1_${j}, fma(vec4f(a${i}.z), b2_${j}, fma(vec4f(a${i}.w), b3_${j}, acc${i}_${j}))));`,
      );
  }
  L.push(`  }`);
  for (let i = 0; i < tm; i++)
    for (let j = 0; j < tn4; j++)
      L.push(
        `  if (r0 + ${i}u < ${M}u && c0 + ${j * wx}u < ${N4}u) { C[(r0 + ${i}u) * ${N4}u + c0 + ${j * wx}u] = acc${i}_${j}; }`,
      );
  L.push(`}`);
  return L.join("\n");
}

export function registerTiledMatmul(t: RegisterTile): MatmulKernel {
  return {
    variant: `register ${t.tm}x${4 * t.tn4}`,
    config: `wg ${t.wx}x${t.wy}`,
    outputsPerInvocation: t.tm * 4 * t.tn4,
    supports: ({ N, K }) => N % 4 === 0 && K % 4 === 0,
    wgsl: (s) => registerTiledWgsl(s, t),
    grid: ({ M, N }) => [cdiv(N / 4, t.wx * t.tn4), cdiv(M, t.wy * t.tm), 1],
  };
}
