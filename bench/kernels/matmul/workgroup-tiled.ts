// Workgroup-memory tiling, the textbook GPU matmul, for comparison: the
// workgroup stages tiles of A and B in var<workgroup> between barriers. On
// llvmpipe barriers are coroutine switches and the CPU caches already tile,
// so these lose to register tiling there; on a discrete GPU they may not.

import { bindings, cdiv, type MatmulKernel, type MatmulShape } from "./kernel.js";

/** 16×16 tiles, one output per invocation; loads past the edges read zero. */
export function tiled16Matmul(): MatmulKernel {
  return {
    variant: "workgroup-memory 1x1",
    config: "wg 16x16, tile 16",
    outputsPerInvocation: 1,
    supports: () => true,
    wgsl: ({ M, N, K }: MatmulShape) => `${bindings("f32")}
var<workgroup> As: array<array<f32, 16>, 16>;
var<workgroup> Bs: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(local_invocation_id) l: vec3u) {
  var acc = 0.0;
  for (var t = 0u; t < ${K}u; t += 16u) {
    let ak = t + l.x;
    let bk = t + l.y;
    As[l.y][l.x] = select(0.0, A[min(g.y, ${M - 1}u) * ${K}u + min(ak, ${K - 1}u)], g.y < ${M}u && ak < ${K}u);
    Bs[l.y][l.x] = select(0.0, B[min(bk, ${K - 1}u) * ${N}u + min(g.x, ${N - 1}u)], bk < ${K}u && g.x < ${N}u);
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) { acc = fma(As[l.y][k], Bs[k][l.x], acc); }
    workgroupBarrier();
  }
  if (g.y < ${M}u && g.x < ${N}u) { C[g.y * ${N}u + g.x] = acc; }
}`,
    grid: ({ M, N }) => [cdiv(N, 16), cdiv(M, 16), 1],
  };
}

export interface SharedTile {
  tm: number;
  tn4: number;
  wx: number;
  wy: number;
  /** K step staged per barrier pair. */
  tk: number;
}

/** Register tiles fed from workgroup memory: a (wy·tm)×tk tile of A and a tk×(wx·tn4) vec4 tile of B. */
export function sharedRegisterMatmul(t: SharedTile): MatmulKernel {
  const { tm, tn4, wx, wy, tk } = t;
  return {
    variant: `workgroup-memory ${tm}x${4 * tn4}`,
    config: `wg ${wx}x${wy}, tile k ${tk}`,
    outputsPerInvocation: tm * 4 * tn4,
    supports: ({ M, N, K }) => M % (wy * tm) === 0 && N % (4 * wx * tn4) === 0 && K % tk === 0,
    wgsl: ({ K, N }: MatmulShape) => {
      const N4 = N / 4;
      const K4 = K / 4;
      const cols = wx * tn4;
      const aVec = (wy * tm * tk) / 4;
      const bVec = tk * cols;
      const threads = wx * wy;
      const L: string[] = [bindings("vec4f")];
      L.push(`var<workgroup> As: array<vec4f, ${aVec}>;`);
      L.push(`var<workgroup> Bs: array<vec4f, ${bVec}>;`);
      L.push(`@compute @workgroup_size(${wx}, ${wy})`);
      L.push(
        `fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {`,
      );
      L.push(`  let r0 = (wg.y * ${wy}u + lid.y) * ${tm}u;`);
      L.push(`  let c0 = wg.x * ${cols}u + lid.x;`);
      for (let i = 0; i < tm; i++)
        for (let j = 0; j < tn4; j++) L.push(`  var acc${i}_${j} = vec4f(0.0);`);
      L.push(`  for (var t = 0u; t < ${K}u; t += ${tk}u) {`);
      L.push(
        `    for (var e = li; e < ${aVec}u; e += ${threads}u) { As[e] = A[(wg.y * ${wy * tm}u + e / ${tk / 4}u) * ${K4}u + t / 4u + e % ${tk / 4}u]; }`,
      );
      L.push(
        `    for (var e = li; e < ${bVec}u; e += ${threads}u) { Bs[e] = B[(t + e / ${cols}u) * ${N4}u + wg.x * ${cols}u + e % ${cols}u]; }`,
      );
      L.push(`    workgroupBarrier();`);
      L.push(`    for (var k4 = 0u; k4 < ${tk / 4}u; k4++) {`);
      for (let q = 0; q < 4; q++)
        for (let j = 0; j < tn4; j++)
          L.push(`      let b${q}_${j} = Bs[(k4 * 4u + ${q}u) * ${cols}u + lid.x + ${j * wx}u];`);
      for (let i = 0; i < tm; i++) {
        L.push(`      let a${i} = As[(lid.y * ${tm}u + ${i}u) * ${tk / 4}u + k4];`);
        for (let j = 0; j < tn4; j++)
          L.push(
            `      acc${i}_${j} = fma(vec4f(a${i}.x), b0_${j}, fma(vec4f(a${i}.y), b1_${j}, fma(vec4f(a${i}.z), b2_${j}, fma(vec4f(a${i}.w), b3_${j}, acc${i}_${j}))));`,
          );
      }
      L.push(`    }`);
      L.push(`    workgroupBarrier();`);
      L.push(`  }`);
      for (let i = 0; i < tm; i++)
        for (let j = 0; j < tn4; j++)
          L.push(`  C[(r0 + ${i}u) * ${N4}u + c0 + ${j * wx}u] = acc${i}_${j};`);
      L.push(`}`);
      return L.join("\n");
    },
    grid: ({ M, N }) => [N / 4 / (wx * tn4), M / (wy * tm), 1],
  };
}
